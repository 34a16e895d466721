"""The dashboard reads a bounded number of rows however many sessions the clinic has.

Every query it makes, run with ``EXPLAIN ANALYZE`` on PostgreSQL at two sizes (fresh
statistics): none reads more rows at twenty times the sessions.
"""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.tests.support import analyze_tables, rows_touched
from clinic.selectors import dashboard_for
from conftest import make_patient
from patients.models import Patient
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


def add_sessions(patients, per_patient):
    start = timezone.now() - dt.timedelta(days=per_patient + 1)
    TherapySession.objects.bulk_create(
        TherapySession(patient=p, started_at=start + dt.timedelta(hours=i, minutes=p.pk))
        for p in patients
        for i in range(per_patient)
    )
    analyze_tables(Patient, TherapySession, Recording)


# The tables this test grows: rows that other tests (servers, workers) may have left in any other
# table, which the planner scans whole while it is tiny, once per outer row, are not counted.
GROWN = {Patient._meta.db_table, TherapySession._meta.db_table}


def dashboard_cost(user) -> list[int]:
    dashboard_for(user)  # the user's permissions are cached from now on
    with CaptureQueriesContext(connection) as captured:
        dashboard = dashboard_for(user)
    assert len(dashboard["recent_sessions"]) == 10
    return [rows_touched(query["sql"], tables=GROWN) for query in captured.captured_queries]


@pytest.mark.parametrize("persona", ["carol", "alice"])
def test_the_dashboard_reads_no_more_rows_at_twenty_times_the_sessions(
    request, persona, alice, north
):
    user = request.getfixturevalue(persona)
    patients = [make_patient(north, f"Q{i:03d}", "Pat", f"Number{i}", alice) for i in range(60)]
    add_sessions(patients, 10)
    small = dashboard_cost(user)
    add_sessions(patients, 190)
    assert TherapySession.objects.count() == 60 * 200
    large = dashboard_cost(user)
    # the cards of the patients shown are one query, and none when no row is shown
    assert abs(len(large) - len(small)) <= 1
    assert sum(large) <= sum(small) + 25 * len(large), (small, large)  # about the same reads
