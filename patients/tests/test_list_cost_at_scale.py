"""The lists' SQL reads a page's worth of rows, however many sessions the clinic has.

Measured on PostgreSQL with ``EXPLAIN ANALYZE`` at two sizes (fresh statistics each time): the
rows every plan node reads do not grow when the sessions grow twentyfold, so a page costs the
same at 1,000 or 100,000 sessions. A query that joined, sorted or grouped every session would
read twenty times more. (At the small size the planner may still prefer a sequential scan of
a tiny table, hence "no more than", not "equal".)
"""

import datetime as dt

import pytest
from django.core.paginator import Paginator
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.tests.support import analyze_tables, rows_touched
from conftest import make_patient
from patients import selectors
from patients.models import Patient
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


def add_sessions(patients, per_patient):
    start = timezone.now() - dt.timedelta(days=per_patient + 1)
    TherapySession.objects.bulk_create(
        TherapySession(patient=p, started_at=start + dt.timedelta(days=i, minutes=p.pk))
        for p in patients
        for i in range(per_patient)
    )
    analyze_tables(Patient, TherapySession, Recording)


# The tables these tests grow: rows other tests may have left in any other table are not counted.
GROWN = {Patient._meta.db_table, TherapySession._meta.db_table}


def list_cost(user, params=None):
    """Rows read by the patient list's two queries: the paginator's COUNT and the page."""
    _, queryset = selectors.patients_for_list(user, params or QueryDict())
    with CaptureQueriesContext(connection) as count_query:
        assert Paginator(queryset, selectors.PAGE_SIZE).count >= 0
    return (
        rows_touched(count_query.captured_queries[-1]["sql"], tables=GROWN),
        rows_touched(queryset[:25], tables=GROWN),
    )


def test_the_patient_list_reads_no_more_rows_at_twenty_times_the_sessions(carol, north):
    patients = [make_patient(north, f"Q{i:03d}", "Pat", f"Number{i}") for i in range(60)]
    add_sessions(patients, 4)
    count_small, page_small = list_cost(carol)
    add_sessions(patients[25:], 76)  # 20x the sessions, none of them on the first page
    assert TherapySession.objects.count() == 60 * 4 + 35 * 76
    count_large, page_large = list_cost(carol)
    assert count_large <= count_small <= 2 * 60  # the COUNT never touches a session
    assert page_large <= page_small
    assert page_large <= 3 * 25 + 25 * 4 + 10  # the page, its patients' sessions, no more


def test_a_patients_session_page_reads_no_more_rows_at_twenty_times_the_sessions(
    alice, alices_patient
):
    add_sessions([alices_patient], 100)
    page = selectors.patient_sessions(alices_patient, user=alice)[:25]
    small = rows_touched(page, tables=GROWN)
    add_sessions([alices_patient], 1900)
    large = rows_touched(page, tables=GROWN)
    assert large <= small
    assert large < 100  # a page of the (patient, started_at) index, not every session
