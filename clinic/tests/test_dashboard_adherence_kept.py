"""A dashboard's adherence figures (clinic-wide, or a therapist's own patients) are kept in
the cache under the clinic's ``AdherenceVersion`` (issue 17): a second look computes nothing,
and every write that changes the figures (sessions added, voided, moved, reassigned, deleted;
patients added, reassigned, deactivated, voided, their start or protocol changed; new clinic
settings) gives the clinic a new version, so the dashboard shows exactly what the plain
computation gives, on PostgreSQL and on SQLite; a therapist's emergency access, which opens
and lapses with no such write, is followed too."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.tests.support import run_on_embedded_sqlite, uncommitted_in_another_transaction
from clinic.selectors import PATIENT_ADHERENCE_LIST, dashboard_for
from clinic.tests.adherence_world import build_world, dashboard_adherence, plain_adherence
from clinic.tests.adherence_writes import check_every_write, version_of
from conftest import make_patient
from patients.models import EmergencyAccess
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def adherence_queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        dashboard_for(user)
    return sum("MATERIALIZED" in q["sql"] for q in captured.captured_queries)


def test_a_second_look_reads_the_kept_figures(carol, alice, bob, north):
    assert adherence_queries(carol) == 1  # a clinic never written to has no version yet
    assert adherence_queries(carol) == 1
    make_patient(north, "K001", "Pat", "Kept", alice)
    assert adherence_queries(carol) == 1
    assert adherence_queries(carol) == 0  # kept
    assert adherence_queries(alice) == 1  # a therapist's own patients: kept per therapist
    assert adherence_queries(alice) == 0
    assert adherence_queries(bob) == 1  # not alice's figures


def test_a_therapist_with_an_open_emergency_access_computes_until_it_lapses(alice, bob, north):
    """An emergency access widens a therapist's patients with no write to the clinic's data,
    and lapses the same way: while one is open nothing is kept, and once it has lapsed the
    figures are those without its patient again."""
    today = timezone.localdate()
    start = today - dt.timedelta(days=10)
    make_patient(north, "E001", "Own", "Patient", alice, treatment_start=start)
    foreign = make_patient(north, "E002", "Bob's", "Patient", bob, treatment_start=start)
    without = dashboard_adherence(alice, today=today)
    assert adherence_queries(alice) == 0  # kept
    grant = EmergencyAccess.objects.create(
        user=alice,
        patient=foreign,
        reason="Covering for Bob, patient in the ward now",
        expires_at=timezone.now() + dt.timedelta(hours=1),
    )
    opened = dashboard_adherence(alice, today=today)
    assert opened["planned"] == without["planned"] + 1
    assert opened == {**plain_adherence(alice, today=today), "clinic_wide": False} | {
        "per_patient": [],
        "per_therapist": [],
    }
    assert adherence_queries(alice) == 1  # computed each time while it is open
    assert adherence_queries(alice) == 1
    EmergencyAccess.objects.filter(pk=grant.pk).update(expires_at=timezone.now())
    assert adherence_queries(alice) == 1  # a new access since the kept figures: a new key
    assert adherence_queries(alice) == 0
    assert dashboard_adherence(alice, today=today) == without


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
    with uncommitted_in_another_transaction(
        lambda: TherapySession.objects.create(patient=patient, started_at=timezone.now())
    ):
        assert dashboard_adherence(carol, today=today) == before  # not committed: not seen
        assert version_of(north.pk) == version
    after = dashboard_adherence(carol, today=today)
    assert after != before
    want = plain_adherence(carol, today=today)
    want["per_patient"] = want["per_patient"][:PATIENT_ADHERENCE_LIST]
    assert after == {**want, "clinic_wide": True}
