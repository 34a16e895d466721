"""The dashboard's adherence figures are computed by the database (issue 17), exactly as the
plain per-patient computation gives them, on PostgreSQL and on SQLite; only the rows shown come
to Python, and the query reads no more rows when the clinic's history grows twentyfold."""

import datetime as dt

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analysis.tests.support import analyze_tables, rows_touched, run_on_embedded_sqlite
from clinic.selectors import ADHERENCE_WINDOW_DAYS, _adherence, dashboard_for, window_expected
from clinic.tests.adherence_world import build_world, compare
from conftest import make_patient
from patients.models import Patient
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def test_the_dashboards_adherence_equals_the_plain_computation(db):
    today = timezone.localdate()
    world = build_world(today)
    assert compare(world, today) > 20  # patients with sessions planned, over all viewers
    # another day: other windows, other programmes inside them
    assert compare(world, today - dt.timedelta(days=9)) > 0


def test_on_sqlite_too(tmp_path):
    """The embedded demo's database: the same comparison in a subprocess on SQLite, also as
    an SQLite older than 3.35 runs it (without the MATERIALIZED hint)."""
    stdout = run_on_embedded_sqlite(
        "from django.utils import timezone\n"
        "from clinic.tests.adherence_world import build_world, compare\n"
        "today = timezone.localdate()\n"
        "world = build_world(today)\n"
        "print('compared', compare(world, today))\n"
        "from django.conf import settings\n"
        "settings.DASHBOARD_CACHE_SECONDS = 0  # computed again, not the kept figures\n"
        "from clinic.selectors import adherence\n"
        "adherence._sqlite_version = lambda: (3, 31, 1)  # the oldest Django accepts\n"
        "print('compared', compare(world, today))\n",
        tmp_path,
    )
    counts = [int(line.split()[-1]) for line in stdout.splitlines() if "compared" in line]
    assert len(counts) == 2, stdout
    assert min(counts) > 20, stdout


def adherence_query(user) -> tuple[str, int]:
    """The SQL of the dashboard's adherence query and how many rows it brought to Python."""
    dashboard_for(user)  # permissions cached
    with (
        override_settings(DASHBOARD_CACHE_SECONDS=0),
        CaptureQueriesContext(connection) as captured,
    ):
        dashboard_for(user)  # computed, not the figures kept in the cache
    (sql,) = [q["sql"] for q in captured.captured_queries if "MATERIALIZED" in q["sql"]]
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return sql, len(cursor.fetchall())


def test_only_the_rows_shown_come_to_python_and_history_costs_nothing(carol, alice, bob, north):
    today = timezone.localdate()
    patients = [
        make_patient(
            north,
            f"Q{i:03d}",
            "Pat",
            f"Number{i}",
            alice if i % 2 else bob,
            treatment_start=today - dt.timedelta(days=5 + i % 5),
        )
        for i in range(120)
    ]
    now = timezone.now()

    def add(per_patient, *, days_back):
        TherapySession.objects.bulk_create(
            TherapySession(patient=p, started_at=now - dt.timedelta(days=days_back + i))
            for p in patients
            for i in range(per_patient)
        )
        analyze_tables(Patient, TherapySession)

    add(2, days_back=1)  # in the window: every patient is behind (2 of 5-8 planned)
    add(10, days_back=ADHERENCE_WINDOW_DAYS + 5)  # history
    sql, fetched = adherence_query(carol)
    # the 25 lowest, plus one row per therapist; not one per patient
    assert fetched == 25 + 2
    grown = {Patient._meta.db_table, TherapySession._meta.db_table}
    small = rows_touched(sql, tables=grown)
    add(190, days_back=ADHERENCE_WINDOW_DAYS + 20)  # twenty times the history
    sql_large, _ = adherence_query(carol)
    large = rows_touched(sql_large, tables=grown)
    assert large <= small, (small, large)
    # per patient: itself, its sessions of the window, nothing of its history
    assert large <= 120 * (1 + 2 + 2) + 50
    rows, planned, behind, therapists = _adherence(
        Patient.objects.visible_to(carol).active().filter(is_active=True),
        today=today,
        days=ADHERENCE_WINDOW_DAYS,
        limit=10,
        per_therapist=True,
    )
    assert (len(rows), planned, behind) == (10, 120, 120)

    def planned_for(parity):
        return sum(
            window_expected(start=p.treatment_start, spw=5, weeks=2, today=today, days=28)
            for i, p in enumerate(patients)
            if i % 2 == parity
        )

    assert therapists == {alice.pk: (60, 120, planned_for(1)), bob.pk: (60, 120, planned_for(0))}
