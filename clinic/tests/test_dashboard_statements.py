"""A dashboard's week counts and row keys are compiled once per process and shape (issue 17:
``clinic.selectors.kept_statements``): the access policy still decides every row. Two
clinics, two therapists, a chosen therapist and a superuser never see each other's rows from a
kept statement; a kept statement is reused for its shape with each request's dates; a therapist's
(its SQL holds the time, for emergency accesses) is never kept. The week's rows and the missing
rounds, read together in one query, are the lists each definition gives on its own."""

import datetime as dt

import pytest
from django.db import connection
from django.utils import timezone

from analysis.tests.support import make_recording
from clinic.roles import CLINIC_MANAGER
from clinic.selectors import DASHBOARD_DAY_LIST, DASHBOARD_LIST, dashboard_for
from clinic.selectors import kept_statements as statements
from clinic.selectors.adherence import ADHERENCE_WINDOW_DAYS
from conftest import make_patient, make_staff
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def no_kept_statements():
    statements._STATEMENTS.clear()
    yield
    statements._STATEMENTS.clear()


def at(day: dt.date, hour=10) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour)))


@pytest.fixture
def sam(south):
    return make_staff("sam@south.test", "Sam Manager", south, CLINIC_MANAGER)


@pytest.fixture
def two_clinics(north, south, alice, bob, dave, session_of):
    """Each therapist's patients with a session today (no recording: missing rounds)."""
    today = timezone.localdate()
    patients = {
        "alice": make_patient(north, "A01", "Ann", "North", alice),
        "bob": make_patient(north, "B01", "Ben", "North", bob),
        "dave": make_patient(south, "D01", "Dot", "South", dave),
    }
    for patient in patients.values():
        session_of(patient, started_at=at(today, 9))
    return {name: patient.pk for name, patient in patients.items()}


def shown(context) -> dict[str, set[int]]:
    lists = ("todays_sessions", "week_sessions", "recent_sessions", "missing_rounds")
    return {name: {row["patient"].pk for row in context[name]} for name in lists}


def assert_sees(user, expected: set[int], **kwargs):
    for name, pks in shown(dashboard_for(user, **kwargs)).items():
        assert pks == expected, name


def test_two_clinics_never_see_each_others_rows_from_a_kept_statement(carol, sam, two_clinics):
    north = {two_clinics["alice"], two_clinics["bob"]}
    south = {two_clinics["dave"]}
    for _ in range(2):  # compiled, then kept: the second round reads the kept statements
        assert_sees(carol, north)
        assert_sees(sam, south)
    assert dashboard_for(carol)["week_count"] == 2
    assert dashboard_for(sam)["week_count"] == 1
    clinics = {key[3] for key in statements._STATEMENTS}
    assert clinics == {carol.clinic_id, sam.clinic_id}  # one shape per clinic


def test_a_chosen_therapist_never_sees_anothers_rows(carol, alice, bob, two_clinics):
    for _ in range(2):
        assert_sees(carol, {two_clinics["alice"], two_clinics["bob"]})
        assert_sees(carol, {two_clinics["bob"]}, params={"therapist": str(bob.pk)})
        assert_sees(carol, {two_clinics["alice"]}, params={"therapist": str(alice.pk)})
    assert dashboard_for(carol, params={"therapist": str(bob.pk)})["week_count"] == 1
    chosen = {key[4] for key in statements._STATEMENTS}
    assert chosen == {None, alice.pk, bob.pk}


def test_a_therapists_statements_are_never_kept(alice, bob, dave, two_clinics):
    for _ in range(2):
        assert_sees(alice, {two_clinics["alice"]})
        assert_sees(bob, {two_clinics["bob"]})
        assert_sees(dave, {two_clinics["dave"]})
    assert statements._STATEMENTS == {}


def test_a_superuser_sees_every_clinic_and_a_manager_still_only_theirs(zoe, carol, two_clinics):
    for _ in range(2):
        assert_sees(zoe, set(two_clinics.values()))
        assert_sees(carol, {two_clinics["alice"], two_clinics["bob"]})
    assert {key[2] for key in statements._STATEMENTS} == {"all", "clinic"}


def test_a_kept_statement_is_reused_with_each_requests_dates(carol, alice, session_of):
    patient = make_patient(carol.clinic, "W01", "Wes", "Week", alice)
    today = timezone.localdate()
    session = session_of(patient, started_at=at(today - dt.timedelta(days=7)))
    dashboard_for(carol)
    kept = dict(statements._STATEMENTS)
    assert sorted(key[1] for key in kept) == [
        f"row-keys-{DASHBOARD_DAY_LIST}-{DASHBOARD_LIST}",
        "week-counts",
    ]
    # a week earlier: the same statements (the same objects), that week's dates
    context = dashboard_for(carol, today=today - dt.timedelta(days=7))
    assert [row["session"].pk for row in context["week_sessions"]] == [session.pk]
    assert context["week_count"] == 1
    assert context["todays_count"] == 1
    assert all(statements._STATEMENTS[key] is statement for key, statement in kept.items())
    assert len(statements._STATEMENTS) == len(kept)
    context = dashboard_for(carol)  # this week again: not that session
    assert context["week_sessions"] == []
    assert context["week_count"] == 0


def test_a_statement_with_a_date_of_its_own_is_not_kept(carol):
    now = timezone.now()

    def build(*, week_start):
        return TherapySession.objects.filter(started_at__gte=week_start, created_at__lt=now)

    window = {"week_start": now - dt.timedelta(days=3)}
    sql, params = statements.kept_statement("test", ("clinic", 1, None), build, window)
    assert set(params) == {window["week_start"], now}
    assert statements._STATEMENTS == {
        (connection.vendor, "test", "clinic", 1, None): statements._NOT_KEPT
    }
    later = {"week_start": now - dt.timedelta(days=1)}
    assert set(statements.kept_statement("test", ("clinic", 1, None), build, later)[1]) == {
        later["week_start"],
        now,
    }

    # without it, kept, and its parameters are the window's
    def plain(*, week_start):
        return TherapySession.objects.filter(started_at__gte=week_start)

    assert list(statements.kept_statement("test", ("clinic", 2, None), plain, window)[1]) == [
        window["week_start"]
    ]
    kept = statements._STATEMENTS[(connection.vendor, "test", "clinic", 2, None)]
    assert kept[1] == (statements._STAND_INS["week_start"],)
    assert statements.kept_statement("test", ("clinic", 2, None), plain, later)[1] == [
        later["week_start"]
    ]
    assert statements._STATEMENTS[(connection.vendor, "test", "clinic", 2, None)] is kept


def test_the_kept_statements_are_bounded(carol, monkeypatch):
    monkeypatch.setattr(statements, "STATEMENT_CACHE_SIZE", 3)

    def build(*, week_start):
        return TherapySession.objects.filter(started_at__gte=week_start)

    for clinic_id in range(10):
        window = {"week_start": timezone.now()}
        statements.kept_statement("test", ("clinic", clinic_id, None), build, window)
        assert len(statements._STATEMENTS) <= 3


@pytest.mark.parametrize("therapist", [None, "bob"])
def test_the_weeks_rows_and_missing_rounds_read_together_are_each_lists_own(
    carol, alice, bob, north, session_of, therapist
):
    # More sessions this week than the week's list holds, more of them missing rounds than
    # that list holds, some complete among them, and older ones missing rounds too: the
    # two lists' keys overlap and each has rows the other has not.
    today = timezone.localdate()
    week_start = today - dt.timedelta(days=today.weekday())
    patients = [
        make_patient(north, f"R{i:02d}", "Pat", f"Row{i}", alice if i % 2 else bob)
        for i in range(6)
    ]
    for i in range(50):
        day = week_start + dt.timedelta(days=i % (today.weekday() + 1))
        session = session_of(patients[i % 6], started_at=at(day, 7 + i % 12))
        for r in range(3 if i % 4 == 0 else i % 3):
            make_recording(session, name=f"s{i}r{r}.c3d")
    for i in range(8):
        session_of(patients[i % 6], started_at=at(today - dt.timedelta(days=10 + i)))
    params = {"therapist": str(bob.pk)} if therapist else None
    context = dashboard_for(carol, params=params)

    live = TherapySession.objects.filter(patient__clinic=north)
    if therapist:
        live = live.filter(patient__therapists=bob)
    ordered = sorted(live, key=lambda s: (s.started_at, s.pk), reverse=True)
    week_end = at(week_start + dt.timedelta(days=7), 0)
    week = [s.pk for s in ordered if at(week_start, 0) <= s.started_at < week_end]
    assert [row["session"].pk for row in context["week_sessions"]] == week[:20]
    since = at(today - dt.timedelta(days=ADHERENCE_WINDOW_DAYS - 1), 0)
    missing = [
        s.pk
        for s in ordered
        if since <= s.started_at
        and Recording.objects.filter(session=s, voided_at__isnull=True).count() < 3
    ]
    assert [row["session"].pk for row in context["missing_rounds"]] == missing[:DASHBOARD_LIST]
    assert context["missing_more"] == (len(missing) > DASHBOARD_LIST)
    assert len(week) > 20
    assert len(missing) > DASHBOARD_LIST
