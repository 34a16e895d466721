"""Voiding in admin: an intermediate page asks for a reason; who and when are recorded."""

import pytest
from auditlog.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.urls import reverse

from patients.models import Patient
from sessions.models import TherapySession

PATIENTS = reverse("admin:patients_patient_changelist")


@pytest.fixture
def manager(carol):
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    return carol


def void(client, url, *objects, reason=None):
    data = {"action": "void_selected", "_selected_action": [o.pk for o in objects]}
    if reason is not None:
        data.update(confirm_void="yes", reason=reason)
    return client.post(url, data)


@pytest.mark.django_db
def test_voiding_asks_for_a_reason_first(client, manager, alices_patient):
    client.force_login(manager)
    response = void(client, PATIENTS, alices_patient)
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="reason"' in body
    assert "P001" in body
    alices_patient.refresh_from_db()
    assert alices_patient.voided_at is None


@pytest.mark.django_db
def test_voiding_records_who_when_and_why(client, manager, alices_patient):
    client.force_login(manager)
    response = void(client, PATIENTS, alices_patient, reason="Duplicate of P009")
    assert response.status_code == 302
    alices_patient.refresh_from_db()
    assert alices_patient.voided_by == manager
    assert alices_patient.void_reason == "Duplicate of P009"
    assert alices_patient.voided_at is not None
    # The audit trail has it too, with the actor (auditlog middleware).
    entry = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Patient), object_pk=str(alices_patient.pk)
    ).latest("timestamp")
    assert entry.actor == manager
    assert "void_reason" in entry.changes_dict


@pytest.mark.django_db
def test_a_blank_reason_voids_nothing(client, manager, alices_patient):
    client.force_login(manager)
    response = void(client, PATIENTS, alices_patient, reason="   ")
    assert response.status_code == 200
    assert "This field is required" in response.content.decode()
    alices_patient.refresh_from_db()
    assert alices_patient.voided_at is None


@pytest.mark.django_db
def test_out_of_scope_ids_are_ignored(client, manager, daves_patient):
    client.force_login(manager)
    void(client, PATIENTS, daves_patient, reason="not mine")
    daves_patient.refresh_from_db()
    assert daves_patient.voided_at is None


@pytest.mark.django_db
def test_without_the_void_permission_there_is_no_void_action(client, dave, daves_patient):
    dave.is_staff = True
    dave.save(update_fields=["is_staff"])
    client.force_login(dave)
    assert "void_selected" not in client.get(PATIENTS).content.decode()
    void(client, PATIENTS, daves_patient, reason="trying anyway")
    daves_patient.refresh_from_db()
    assert daves_patient.voided_at is None


@pytest.mark.django_db
def test_sessions_are_voided_the_same_way(client, manager, alices_patient, session_of):
    session = session_of(alices_patient)
    client.force_login(manager)
    url = reverse("admin:therapy_sessions_therapysession_changelist")
    response = void(client, url, session, reason="Entered twice")
    assert response.status_code == 302
    session = TherapySession.objects.get(pk=session.pk)
    assert session.voided_by == manager
    assert session.void_reason == "Entered twice"


@pytest.mark.django_db
def test_a_voided_record_keeps_its_first_voiding(client, manager, alices_patient, zoe):
    alices_patient.void(by=zoe, reason="first")
    client.force_login(manager)
    void(client, PATIENTS, alices_patient, reason="second")
    alices_patient.refresh_from_db()
    assert alices_patient.voided_by == zoe
    assert alices_patient.void_reason == "first"
