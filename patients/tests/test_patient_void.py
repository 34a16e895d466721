"""Void instead of delete: managers only, a reason required, who/when/why kept."""

import pytest
from auditlog.models import LogEntry
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_a_manager_voids_a_patient_with_a_reason(client, carol, alices_patient):
    client.force_login(carol)
    url = reverse("patients:void", args=[alices_patient.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, {"reason": "Created twice"})
    assert response.status_code == 302
    alices_patient.refresh_from_db()
    assert alices_patient.is_voided
    assert alices_patient.voided_by == carol
    assert alices_patient.void_reason == "Created twice"


def test_a_void_without_a_reason_is_a_field_error(client, carol, alices_patient):
    client.force_login(carol)
    url = reverse("patients:void", args=[alices_patient.pk])
    for reason in ["", "   "]:
        response = client.post(url, {"reason": reason})
        assert response.status_code == 200
        assert "reason" in response.context["form"].errors
    alices_patient.refresh_from_db()
    assert not alices_patient.is_voided


def test_therapists_and_researchers_may_not_void(client, alice, rita, alices_patient):
    url = reverse("patients:void", args=[alices_patient.pk])
    for user in (alice, rita):
        client.force_login(user)
        assert client.post(url, {"reason": "no"}).status_code == 403
    alices_patient.refresh_from_db()
    assert not alices_patient.is_voided


def test_a_voided_patient_disappears_for_its_therapist(client, carol, alice, alices_patient):
    alices_patient.void(by=carol, reason="duplicate")
    client.force_login(alice)
    assert client.get(reverse("patients:detail", args=[alices_patient.pk])).status_code == 404
    client.force_login(carol)
    response = client.get(reverse("patients:detail", args=[alices_patient.pk]))
    assert response.status_code == 200
    assert "duplicate" in response.content.decode()
    # Nothing more can be done to a void record.
    assert client.get(reverse("patients:edit", args=[alices_patient.pk])).status_code == 404
    assert client.post(reverse("patients:void", args=[alices_patient.pk])).status_code == 404


def test_voiding_writes_an_audit_entry(client, carol, alices_patient):

    client.force_login(carol)
    client.post(reverse("patients:void", args=[alices_patient.pk]), {"reason": "duplicate"})
    entry = LogEntry.objects.get_for_object(alices_patient).latest("timestamp")
    assert entry.actor == carol
    assert "voided_at" in entry.changes_dict
