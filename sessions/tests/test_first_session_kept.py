"""Each patient's first live session (``FirstSession``) is kept by the database itself (issue
17): whatever writes the sessions (the ORM one by one, bulk inserts, queryset updates, voiding,
moving a session to another patient or time, deleting), on PostgreSQL and on SQLite, the table
always equals the earliest live session of each patient, and a patient without one has no row."""

import datetime as dt
import importlib
import threading

import psycopg
import pytest
from django.db import connection
from django.db.models import Min
from django.utils import timezone

from analysis.tests.support import run_on_embedded_sqlite
from clinic.models import Clinic
from patients.models import Patient
from sessions.models import FirstSession, TherapySession

BACKFILL = importlib.import_module("sessions.migrations.0010_first_session").BACKFILL

pytestmark = pytest.mark.django_db


def expected_firsts() -> dict:
    """The plain computation: the earliest live session of each patient."""

    live = TherapySession.objects.filter(voided_at__isnull=True).order_by()
    return dict(
        live.values("patient").annotate(first=Min("started_at")).values_list("patient", "first")
    )


def kept_firsts() -> dict:

    return dict(FirstSession.objects.values_list("patient_id", "started_at"))


def scenario() -> int:
    """Every kind of write, the table compared with the plain computation after each one;
    returns how many comparisons were made (each one also checked non-trivially)."""

    clinic = Clinic.objects.create(code="first-kept", name="First kept")
    one, two = (
        Patient.objects.create(
            clinic=clinic,
            code=f"FK{i}",
            first_name="Pat",
            last_name=f"Kept{i}",
            mrn=f"MRN-FK{i}",
            date_of_birth=dt.date(1950, 1, 1),
            sex="F",
        )
        for i in (1, 2)
    )
    now = timezone.now().replace(microsecond=0)
    day = dt.timedelta(days=1)
    checks = 0

    def check(firsts: dict):
        nonlocal checks
        kept = {k: v for k, v in kept_firsts().items() if k in (one.pk, two.pk)}
        plain = {k: v for k, v in expected_firsts().items() if k in (one.pk, two.pk)}
        assert kept == plain == firsts, (kept, plain, firsts)
        checks += 1

    check({})
    middle = TherapySession.objects.create(patient=one, started_at=now - 5 * day)
    check({one.pk: now - 5 * day})
    TherapySession.objects.create(patient=one, started_at=now - 2 * day)  # later: no change
    check({one.pk: now - 5 * day})
    earliest = TherapySession.objects.create(patient=one, started_at=now - 9 * day)
    check({one.pk: now - 9 * day})
    TherapySession.objects.create(patient=two, started_at=now - 20 * day, voided_at=now)
    check({one.pk: now - 9 * day})  # a session voided from the start does not count
    earliest.voided_at = now
    earliest.save(update_fields=["voided_at"])  # voiding the first: the next one
    check({one.pk: now - 5 * day})
    TherapySession.objects.filter(pk=earliest.pk).update(voided_at=None)  # restored
    check({one.pk: now - 9 * day})
    TherapySession.objects.filter(pk=earliest.pk).update(started_at=now - day)  # moved later
    check({one.pk: now - 5 * day})
    middle.patient = two
    middle.save()  # moved to the other patient: both recomputed
    check({one.pk: now - 2 * day, two.pk: now - 5 * day})
    middle.notes = "an edit that moves nothing"
    middle.save()
    check({one.pk: now - 2 * day, two.pk: now - 5 * day})
    TherapySession.objects.bulk_create(
        TherapySession(patient=patient, started_at=now - back * day)
        for patient in (one, two)
        for back in (3, 30, 12)
    )
    check({one.pk: now - 30 * day, two.pk: now - 30 * day})
    TherapySession.objects.filter(patient=two, started_at=now - 30 * day).delete()
    check({one.pk: now - 30 * day, two.pk: now - 12 * day})
    TherapySession.objects.filter(patient=two, voided_at__isnull=True).delete()
    check({one.pk: now - 30 * day})  # only a voided session left: no row
    TherapySession.objects.filter(patient=one).update(voided_at=now)
    check({})
    return checks


def test_the_database_keeps_each_patients_first_live_session(db):
    assert scenario() == 14


def test_the_existing_sessions_are_filled_in_by_the_migration(db):
    """The migration's backfill: the bench and the demo already have sessions when it runs."""

    scenario()
    TherapySession.objects.update(voided_at=None)  # some live sessions again
    assert kept_firsts() == expected_firsts() != {}
    FirstSession.objects.all().delete()
    assert kept_firsts() == {}
    with connection.cursor() as cursor:
        cursor.execute(BACKFILL)
    assert kept_firsts() == expected_firsts() != {}


def test_on_sqlite_too(tmp_path):
    """The embedded demo's database: the same writes in a subprocess on SQLite."""
    stdout = run_on_embedded_sqlite(
        "from sessions.tests.test_first_session_kept import scenario\n"
        "print('checked', scenario())\n",
        tmp_path,
    )
    assert "checked 14" in stdout, stdout


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_leave_the_right_first_session(db):
    """PostgreSQL, two transactions at once on one patient: voiding the first session while
    an earlier one is inserted, and the other way round; the second writer waits for the first
    (a row lock) and the table ends equal to the sessions either way."""
    if connection.vendor != "postgresql":
        pytest.skip("concurrent writers: PostgreSQL")
    scenario()  # a clinic and two patients
    patient = Patient.objects.get(code="FK1")
    now = timezone.now().replace(microsecond=0)
    live = TherapySession.objects.create(patient=patient, started_at=now - dt.timedelta(days=3))
    TherapySession.objects.create(patient=patient, started_at=now - dt.timedelta(days=1))
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("context", None)
    insert = (
        "INSERT INTO therapy_sessions_therapysession (patient_id, clinic_id, started_at, notes,"
        " void_reason, created_at, updated_at) VALUES (%s, %s, %s, '', '', now(), now())"
    )
    first_writer, second_writer = psycopg.connect(**params), psycopg.connect(**params)
    try:
        for first_sql, first_args, second_sql, second_args in (
            (  # void the first session / insert an earlier one
                "UPDATE therapy_sessions_therapysession SET voided_at = now() WHERE id = %s",
                (live.pk,),
                insert,
                (patient.pk, patient.clinic_id, now - dt.timedelta(days=10)),
            ),
            (  # insert an even earlier one / void the one just inserted
                insert,
                (patient.pk, patient.clinic_id, now - dt.timedelta(days=20)),
                "UPDATE therapy_sessions_therapysession SET voided_at = now()"
                " WHERE patient_id = %s AND started_at = %s",
                (patient.pk, now - dt.timedelta(days=10)),
            ),
        ):
            first_writer.execute(first_sql, first_args)
            second = threading.Thread(
                target=lambda sql=second_sql, args=second_args: (
                    second_writer.execute(sql, args),
                    second_writer.commit(),
                )
            )
            second.start()
            second.join(timeout=1)
            assert second.is_alive()  # waits for the first writer
            first_writer.commit()
            second.join(timeout=30)
            assert kept_firsts()[patient.pk] == expected_firsts()[patient.pk]
    finally:
        first_writer.close()
        second_writer.close()
    assert kept_firsts()[patient.pk] == now - dt.timedelta(days=20)
