"""A clinic-wide dashboard's "missing rounds" list (issue 17: its rows chosen by key first,
each condition a probe of the session's own row) is exactly the plain definition: the live
sessions of live patients in the last four weeks with fewer live recordings than the rounds
their protocol, else their clinic's newest settings, else the default plan; newest first,
"more" when there are more than shown; with and without a therapist chosen."""

import datetime as dt

import pytest
from django.utils import timezone

from analysis.tests.support import make_recording
from clinic.models import ClinicSettings
from clinic.selectors import ADHERENCE_WINDOW_DAYS, DASHBOARD_LIST, dashboard_for
from conftest import make_patient
from patients.models import PatientProtocol
from sessions.models import Recording, TherapySession

pytestmark = pytest.mark.django_db


def plain_missing(clinic, *, therapist=None) -> list[int]:
    today = timezone.localdate()
    tz = timezone.get_current_timezone()
    since = dt.datetime.combine(today - dt.timedelta(days=ADHERENCE_WINDOW_DAYS - 1), dt.time.min)
    until = dt.datetime.combine(today + dt.timedelta(days=1), dt.time.min)
    newest = ClinicSettings.objects.filter(clinic=clinic).order_by("-version").first()
    rows = []
    for s in TherapySession.objects.filter(patient__clinic=clinic).select_related("patient"):
        if s.voided_at or s.patient.voided_at:
            continue
        if not since.replace(tzinfo=tz) <= s.started_at < until.replace(tzinfo=tz):
            continue
        if therapist is not None and not s.patient.therapists.filter(pk=therapist.pk).exists():
            continue
        protocol = PatientProtocol.objects.filter(patient=s.patient).first()
        planned = (protocol.rounds_per_session if protocol else None) or (
            newest.rounds_per_session if newest else 3
        )
        live = Recording.objects.filter(session=s, voided_at__isnull=True).count()
        if live < planned:
            rows.append(s)
    rows.sort(key=lambda s: (s.started_at, s.pk), reverse=True)
    return [s.pk for s in rows]


def test_the_clinic_wide_missing_rounds_list_is_the_plain_one(carol, alice, bob, north, south):
    ClinicSettings.objects.create(clinic=north, version=1, rounds_per_session=4)
    ClinicSettings.objects.create(clinic=north, version=2, rounds_per_session=2)
    now = timezone.now()
    patients = [
        make_patient(north, f"M{i:02d}", "Pat", f"Missing{i}", alice if i % 2 else bob)
        for i in range(6)
    ]
    PatientProtocol.objects.create(patient=patients[1], rounds_per_session=1)
    PatientProtocol.objects.create(patient=patients[2], rounds_per_session=3)
    elsewhere = make_patient(south, "S01", "Sam", "South")
    n = 0
    for i, patient in enumerate([*patients, elsewhere]):
        for days in (0, 1, 3, 9, ADHERENCE_WINDOW_DAYS - 1, ADHERENCE_WINDOW_DAYS + 2):
            session = TherapySession.objects.create(
                patient=patient, started_at=now - dt.timedelta(days=days, minutes=i)
            )
            for r in range(n % 4):
                make_recording(session, name=f"r{n}-{r}.c3d")
            if n % 5 == 0 and session.recordings.exists():
                Recording.objects.filter(pk=session.recordings.first().pk).update(voided_at=now)
            if n % 7 == 3:
                TherapySession.objects.filter(pk=session.pk).update(voided_at=now)
            n += 1
    patients[4].voided_at = now
    patients[4].save(update_fields=["voided_at"])

    for chosen in (None, alice, bob):
        params = {"therapist": str(chosen.pk)} if chosen else None
        context = dashboard_for(carol, params=params)
        want = plain_missing(north, therapist=chosen)
        if chosen is None:
            assert len(want) > DASHBOARD_LIST  # "more" is exercised
        assert want, chosen
        got = [row["session"].pk for row in context["missing_rounds"]]
        assert got == want[:DASHBOARD_LIST], chosen
        assert context["missing_more"] is (len(want) > DASHBOARD_LIST)
