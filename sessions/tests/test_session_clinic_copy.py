"""A session's copy of its patient's clinic (``TherapySession.clinic``) is always the patient's:
set on create and on bulk_create, followed when the session changes patient or the patient
changes clinic; the access policy scopes sessions on it, and the clinic's session list and its
count read the sessions alone (no join to every patient)."""

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from clinic.services import api_token_create
from conftest import make_patient
from patients.models import Patient
from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def test_a_new_session_takes_its_patients_clinic(alices_patient, daves_patient, session_of):
    assert session_of(alices_patient).clinic_id == alices_patient.clinic_id
    elsewhere = session_of(daves_patient)
    assert elsewhere.clinic_id == daves_patient.clinic_id != alices_patient.clinic_id


def test_bulk_created_sessions_take_their_patients_clinic(alices_patient, daves_patient):
    now = timezone.now()
    made = TherapySession.objects.bulk_create(
        [
            TherapySession(patient=alices_patient, started_at=now),  # the patient loaded
            TherapySession(patient_id=daves_patient.pk, started_at=now),  # only its id
        ]
    )
    assert [s.clinic_id for s in made] == [alices_patient.clinic_id, daves_patient.clinic_id]
    stored = TherapySession.objects.order_by("pk").values_list("clinic_id", flat=True)
    assert list(stored) == [alices_patient.clinic_id, daves_patient.clinic_id]


def test_a_session_given_to_a_patient_of_another_clinic_follows_it(
    alices_patient, daves_patient, session_of
):
    session = TherapySession.objects.get(pk=session_of(alices_patient).pk)
    session.patient = daves_patient
    session.save()
    assert TherapySession.objects.get(pk=session.pk).clinic_id == daves_patient.clinic_id
    session = TherapySession.objects.get(pk=session.pk)
    session.rpe = 4
    session.save(update_fields=["rpe"])  # nothing else changes: no lookup of the patient
    assert TherapySession.objects.get(pk=session.pk).clinic_id == daves_patient.clinic_id


def test_a_patient_moved_to_another_clinic_takes_its_sessions(
    everyone, alices_patient, session_of, south
):
    carol, dave = everyone["carol"], everyone["dave"]
    session = session_of(alices_patient)
    assert list(TherapySession.objects.visible_to(carol)) == [session]
    patient = Patient.objects.get(pk=alices_patient.pk)
    patient.clinic = south
    patient.therapists.set([dave])
    patient.save()
    assert TherapySession.objects.get(pk=session.pk).clinic_id == south.pk
    assert list(TherapySession.objects.visible_to(carol)) == []
    assert list(TherapySession.objects.visible_to(dave)) == [session]


def test_the_policy_scopes_sessions_on_their_clinic(everyone, session_of):
    """The copy decides like the patient's clinic for every persona (the emergency rule too:
    never beyond the therapist's clinic)."""
    mine = session_of(everyone["alices_patient"])
    bobs = session_of(everyone["bobs_patient"])
    south = session_of(everyone["daves_patient"])
    expected = {
        "alice": {mine},
        "bob": {bobs},
        "carol": {mine, bobs},
        "rita": {mine, bobs},
        "dave": {south},
        "zoe": {mine, bobs, south},
    }
    for persona, sessions in expected.items():
        assert set(TherapySession.objects.visible_to(everyone[persona])) == sessions, persona
        by_patient = TherapySession.objects.filter(
            patient__in=Patient.objects.visible_to(everyone[persona])
        )
        assert set(by_patient) == sessions, persona


def api(user):
    _, key = api_token_create(user=user, name="t")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_the_managers_session_list_and_count_read_the_sessions_alone(everyone, session_of):
    carol, alice = everyone["carol"], everyone["alice"]
    started = timezone.now() - dt.timedelta(days=3)
    for i in range(3):
        patient = make_patient(carol.clinic, f"C{i}", "Cora", "Count", alice)
        session_of(patient, started_at=started + dt.timedelta(hours=i))
    client = api(carol)
    client.get("/api/v1/sessions/?page_size=2")  # warm: the token's last-used stamp
    with CaptureQueriesContext(connection) as queries:
        body = client.get("/api/v1/sessions/?page_size=2").json()
    assert body["count"] == 3
    assert len(body["results"]) == 2
    assert body["next"]
    sessions = [q["sql"] for q in queries if "therapy_sessions_therapysession" in q["sql"]]
    assert len(sessions) == 2  # the page and its COUNT
    assert all("patients_patient" not in sql for sql in sessions), sessions
