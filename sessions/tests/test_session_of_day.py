"""`session_of_day`: bulk imports file each recording under its patient's session of that day."""

import datetime as dt
import zoneinfo

import pytest

from sessions.models import TherapySession
from sessions.services import session_of_day

BRUSSELS = zoneinfo.ZoneInfo("Europe/Brussels")


@pytest.fixture(autouse=True)
def _clinic_time_zone(settings):
    # The day is the clinic's local day: pinned here so the cases below mean what they say.
    settings.TIME_ZONE = "Europe/Brussels"


def at(day, hour, minute=0):
    return dt.datetime(2023, 3, day, hour, minute, tzinfo=BRUSSELS)


def test_recordings_of_one_day_share_a_session(alices_patient):
    first = session_of_day(patient=alices_patient, when=at(21, 17, 23))
    second = session_of_day(patient=alices_patient, when=at(21, 17, 50))
    assert first.pk == second.pk
    assert first.started_at == at(21, 17, 23)
    assert TherapySession.objects.filter(patient=alices_patient).count() == 1


def test_a_new_day_gets_a_new_session_with_the_patients_therapist(alices_patient, alice):
    monday = session_of_day(patient=alices_patient, when=at(20, 10))
    tuesday = session_of_day(patient=alices_patient, when=at(21, 10))
    assert monday.pk != tuesday.pk
    assert tuesday.therapist == alice
    assert tuesday.patient == alices_patient


def test_the_day_is_the_clinics_local_day(alices_patient):
    # 23:30 UTC on the 20th is 00:30 on the 21st in Brussels: the same day as 10:00 on the 21st.
    late = session_of_day(
        patient=alices_patient, when=dt.datetime(2023, 3, 20, 23, 30, tzinfo=dt.UTC)
    )
    assert session_of_day(patient=alices_patient, when=at(21, 10)).pk == late.pk
    assert session_of_day(patient=alices_patient, when=at(20, 23, 59)).pk != late.pk


def test_an_existing_session_of_that_day_is_reused(alices_patient, session_of):
    entered = session_of(alices_patient, started_at=at(21, 9))
    assert session_of_day(patient=alices_patient, when=at(21, 17)).pk == entered.pk


def test_a_voided_session_of_that_day_is_not_reused(alices_patient, session_of, carol):
    voided = session_of(alices_patient, started_at=at(21, 9))
    voided.void(by=carol, reason="entered twice")
    session = session_of_day(patient=alices_patient, when=at(21, 17))
    assert session.pk != voided.pk
    assert not session.is_voided


def test_another_patients_session_of_that_day_is_not_used(alices_patient, bobs_patient, session_of):
    bobs = session_of(bobs_patient, started_at=at(21, 9))
    session = session_of_day(patient=alices_patient, when=at(21, 17))
    assert session.pk != bobs.pk
    assert session.patient == alices_patient
