"""A dashboard's "latest sessions" (issue 17: taken from this week's rows when they hold them,
one query fewer) are exactly the newest live sessions in the user's scope, whether this week
holds enough of them, a session is planned after this week, or the week holds few."""

import datetime as dt

import pytest
from django.utils import timezone

from clinic.selectors import DASHBOARD_LIST, dashboard_for
from conftest import make_patient
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def plain_latest(user, *, clinic_wide: bool) -> list[int]:
    rows = TherapySession.objects.filter(
        patient__clinic=user.clinic, voided_at__isnull=True, patient__voided_at__isnull=True
    )
    if not clinic_wide:
        rows = rows.filter(patient__therapists=user)
    return list(rows.order_by("-started_at", "-pk").values_list("pk", flat=True)[:DASHBOARD_LIST])


def latest(user) -> list[int]:
    return [row["session"].pk for row in dashboard_for(user)["recent_sessions"]]


@pytest.fixture
def patients(north, alice, bob):
    return [
        make_patient(north, f"L{i:02d}", "Pat", f"L{i}", alice if i % 2 else bob) for i in range(4)
    ]


def sessions_at(patients, session_of, moments):
    return [
        session_of(patients[i % len(patients)], started_at=moment)
        for i, moment in enumerate(moments)
    ]


def assert_latest_is_plain(carol, alice):
    assert latest(carol) == plain_latest(carol, clinic_wide=True)
    assert latest(alice) == plain_latest(alice, clinic_wide=False)


def test_the_latest_sessions_when_this_week_holds_them(carol, alice, patients, session_of):
    now = timezone.now()
    week_start = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    monday = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    # 24 sessions between this Monday's start and now, older ones before this week
    this_week = [monday + (now - monday) * (i + 1) / 25 for i in range(24)]
    older = [monday - dt.timedelta(days=d, hours=1) for d in range(1, 6)]
    made = sessions_at(patients, session_of, [*older, *this_week])
    made[-1].void(by=carol, reason="wrong patient")  # a voided one is never listed
    assert_latest_is_plain(carol, alice)
    assert made[-1].pk not in latest(carol)


def test_a_session_planned_after_this_week_is_the_latest(carol, alice, patients, session_of):
    now = timezone.now()
    sessions_at(patients, session_of, [now - dt.timedelta(minutes=m) for m in range(1, 15)])
    planned = sessions_at(patients[1:], session_of, [now + dt.timedelta(days=9)])[0]
    assert_latest_is_plain(carol, alice)
    assert latest(carol)[0] == planned.pk
    assert latest(alice)[0] == planned.pk  # patients[1] is alice's


def test_the_latest_sessions_when_this_week_holds_few(carol, alice, patients, session_of):
    now = timezone.now()
    week_start = timezone.localdate() - dt.timedelta(days=timezone.localdate().weekday())
    monday = timezone.make_aware(dt.datetime.combine(week_start, dt.time.min))
    few = [monday + (now - monday) / (i + 2) for i in range(3)]
    older = [monday - dt.timedelta(days=d, hours=2) for d in range(1, 20)]
    sessions_at(patients, session_of, [*older, *few])
    assert_latest_is_plain(carol, alice)
    assert len(latest(carol)) == DASHBOARD_LIST
