"""The progress page's weekly trend figures and scored table rows kept in the cache under the
patient's ``ProgressVersion`` (issue 17): a second look reads neither, and every kind of write
they depend on gives the patient a new version, so what is kept is never stale."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from analysis.tests.support import run_on_embedded_sqlite, uncommitted_in_another_transaction
from patients.progress import progress_page
from patients.tests.progress_writes import (
    build_patient,
    check_every_write,
    check_writes_not_read,
    kept_and_fresh,
    version_of,
)
from sessions.models import TherapySession


def queries_read(patient) -> tuple[int, int]:
    """The queries of the progress page's figures, and how many of them are weekly
    aggregates (week buckets)."""
    with CaptureQueriesContext(connection) as captured:
        progress_page(patient)
    sqls = [q["sql"] for q in captured.captured_queries]
    return len(sqls), sum("DATE_TRUNC" in sql for sql in sqls)


@pytest.mark.django_db
def test_a_second_look_reads_no_weekly_aggregate_nor_table_row():
    cache.clear()
    patient, _ = build_patient()
    assert version_of(patient) is not None
    first, weekly = queries_read(patient)
    assert weekly == 3
    # kept: the three weekly aggregates and the table's three reads (a page of sessions,
    # their analyses and their channel results)
    assert queries_read(patient) == (first - 6, 0)


def page(client, url) -> str:
    """The page, its per-request nonces and tokens masked."""
    html = client.get(url).content.decode()
    html = re.sub(r'(csrfmiddlewaretoken" value=")[^"]+', r"\1-", html)
    return re.sub(r'(nonce=")[^"]+', r"\1-", html)


@pytest.mark.django_db
def test_the_page_with_kept_figures_is_the_page_computed_afresh(client, settings, carol):
    """Byte for byte, the whole page."""
    patient, _ = build_patient(clinic=carol.clinic)
    client.force_login(carol)
    url = reverse("patients:progress", args=[patient.pk])
    settings.CHART_CACHE_SECONDS = 0
    fresh = page(client, url)
    assert 'data-chart-unit="week"' in fresh
    settings.CHART_CACHE_SECONDS = 3600
    cache.clear()
    assert page(client, url) == fresh  # computed and kept
    assert page(client, url) == fresh  # read back
    settings.CHART_CACHE_SECONDS = 0
    second = page(client, f"{url}?page=2")
    settings.CHART_CACHE_SECONDS = 3600
    assert page(client, f"{url}?page=2") == second
    assert page(client, f"{url}?page=2") == second


@pytest.mark.django_db
def test_every_write_that_changes_the_figures_shows_at_once():
    patient, other = build_patient()
    assert check_every_write(patient, other) == 23
    check_writes_not_read(patient)


def test_on_sqlite_too(tmp_path):
    stdout = run_on_embedded_sqlite(
        "from patients.tests.progress_writes import build_patient, check_every_write\n"
        "print('checked', check_every_write(*build_patient()))\n",
        tmp_path,
    )
    assert "checked 23" in stdout, stdout


@pytest.mark.django_db(transaction=True)
def test_a_write_not_yet_committed_is_seen_once_it_commits():
    """A session written in another transaction: until it commits the page shows (and keeps)
    the figures without it; once it commits, the figures with it."""
    patient, _ = build_patient()
    before, _ = kept_and_fresh(patient)
    version = version_of(patient)
    with uncommitted_in_another_transaction(
        lambda: TherapySession.objects.create(patient=patient, started_at=timezone.now(), rpe=8)
    ):
        kept, fresh = kept_and_fresh(patient)
        assert kept == fresh == before  # not committed: not seen
        assert version_of(patient) == version
    kept, fresh = kept_and_fresh(patient)
    assert kept == fresh
    assert kept != before
