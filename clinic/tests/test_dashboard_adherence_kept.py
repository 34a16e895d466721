"""A clinic-wide dashboard's adherence figures are kept in the cache under the clinic's
``AdherenceVersion`` (issue 17): a second look computes nothing, and every write that changes
the figures (sessions added, voided, moved, reassigned, deleted; patients added, reassigned,
deactivated, voided, their start or protocol changed; new clinic settings) gives the clinic a
new version, so the dashboard shows exactly what the plain computation gives, on PostgreSQL
and on SQLite."""

import datetime as dt
import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.tests.support import run_on_embedded_sqlite
from clinic.selectors import PATIENT_ADHERENCE_LIST, dashboard_for
from clinic.tests.adherence_world import build_world, dashboard_adherence, plain_adherence
from clinic.tests.adherence_writes import check_every_write, version_of
from conftest import make_patient
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def adherence_queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard_for(user)
    return sum("MATERIALIZED" in q["sql"] for q in captured.captured_queries)


def test_a_second_look_reads_the_kept_figures_and_a_therapist_always_computes(carol, alice, north):
    assert adherence_queries(carol) == 1  # a clinic never written to has no version yet
    assert adherence_queries(carol) == 1
    make_patient(north, "K001", "Pat", "Kept", alice)
    assert adherence_queries(carol) == 1
    assert adherence_queries(carol) == 0  # kept
    assert adherence_queries(alice) == 1  # a therapist's own patients: not kept
    assert adherence_queries(alice) == 1


def test_every_write_that_changes_the_figures_shows_at_once():
    today = timezone.localdate()
    world = build_world(today, patients=40)
    assert check_every_write(world, today) == 19


def test_on_sqlite_too(tmp_path):
    stdout = run_on_embedded_sqlite(
        "from django.utils import timezone\n"
        "from clinic.tests.adherence_world import build_world\n"
        "from clinic.tests.adherence_writes import check_every_write\n"
        "today = timezone.localdate()\n"
        "world = build_world(today, patients=40)\n"
        "print('checked', check_every_write(world, today))\n",
        tmp_path,
    )
    assert "checked 19" in stdout, stdout


@pytest.mark.django_db(transaction=True)
def test_a_write_not_yet_committed_is_seen_once_it_commits(carol, alice, north):
    """A session written in another transaction: until it commits the dashboard shows (and
    keeps) the figures without it; once it commits, the figures with it."""
    today = timezone.localdate()
    patient = make_patient(
        north, "C001", "Pat", "Concurrent", alice, treatment_start=today - dt.timedelta(days=3)
    )
    before = dashboard_adherence(carol, today=today)
    version = version_of(north.pk)
    written, commit, done = threading.Event(), threading.Event(), threading.Event()

    def writer():
        try:
            with transaction.atomic():
                TherapySession.objects.create(patient=patient, started_at=timezone.now())
                written.set()
                commit.wait(30)
        finally:
            connection.close()
            done.set()

    thread = threading.Thread(target=writer)
    thread.start()
    assert written.wait(30)
    assert dashboard_adherence(carol, today=today) == before  # not committed: not seen
    assert version_of(north.pk) == version
    commit.set()
    assert done.wait(30)
    thread.join()
    after = dashboard_adherence(carol, today=today)
    assert after != before
    want = plain_adherence(carol, today=today)
    want["per_patient"] = want["per_patient"][:PATIENT_ADHERENCE_LIST]
    assert after == {**want, "clinic_wide": True}
