"""Create, edit and void sessions: defaults, ranges as field errors, scope and permissions."""

import pytest
from django.urls import reverse

from sessions.models import TherapySession

pytestmark = pytest.mark.django_db


def create_url(patient):
    return reverse("patients:session-create", args=[patient.pk])


def data(**overrides):
    values = {"started_at": "2024-06-03T09:30", "rpe": "5", "bfr_pressure_pct_aop": "50.0"}
    values.update(overrides)
    return values


def test_the_therapist_defaults_to_the_current_user(client, alice, alices_patient):
    client.force_login(alice)
    form = client.get(create_url(alices_patient)).context["form"]
    assert form["therapist"].value() == alice.pk


def test_a_therapist_records_a_session(client, alice, alices_patient):
    client.force_login(alice)
    response = client.post(create_url(alices_patient), data(therapist=alice.pk, notes="Good"))
    session = TherapySession.objects.get()
    assert response.status_code == 302
    assert response.url == session.get_absolute_url()
    assert session.patient == alices_patient
    assert session.rpe == 5
    assert float(session.bfr_pressure_pct_aop) == 50.0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("rpe", "11"),
        ("rpe", "-1"),
        ("rpe", "x"),
        ("bfr_pressure_pct_aop", "150.1"),
        ("bfr_pressure_pct_aop", "-2"),
        ("bfr_pressure_pct_aop", "NaN"),
        ("started_at", "yesterday"),
        ("therapist", "999999"),
    ],
)
def test_out_of_range_values_are_field_errors(client, alice, alices_patient, field, value):
    client.force_login(alice)
    response = client.post(
        create_url(alices_patient), data(**{"therapist": alice.pk, field: value})
    )
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not TherapySession.objects.exists()


def test_rpe_and_bfr_are_optional(client, alice, alices_patient):
    client.force_login(alice)
    client.post(
        create_url(alices_patient), data(therapist=alice.pk, rpe="", bfr_pressure_pct_aop="")
    )
    session = TherapySession.objects.get()
    assert session.rpe is None
    assert session.bfr_pressure_pct_aop is None


def test_the_therapist_must_work_in_the_patients_clinic(client, carol, dave, alices_patient):
    client.force_login(carol)
    response = client.post(create_url(alices_patient), data(therapist=dave.pk))
    assert "therapist" in response.context["form"].errors


def test_nobody_adds_sessions_to_a_patient_out_of_scope(client, alice, rita, bobs_patient):
    client.force_login(alice)
    assert client.post(create_url(bobs_patient), data(therapist=alice.pk)).status_code == 404
    client.force_login(rita)
    assert client.get(create_url(bobs_patient)).status_code == 403


def test_editing_a_session(client, alice, alices_patient, session_of):
    session = session_of(alices_patient)
    client.force_login(alice)
    url = reverse("sessions:edit", args=[session.pk])
    assert client.get(url).status_code == 200
    response = client.post(url, data(therapist=alice.pk, rpe="8"))
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.rpe == 8


def test_a_manager_voids_a_session_with_a_reason(client, carol, alice, alices_patient, session_of):
    session = session_of(alices_patient)
    url = reverse("sessions:void", args=[session.pk])
    client.force_login(alice)
    assert client.post(url, {"reason": "wrong patient"}).status_code == 403
    client.force_login(carol)
    assert "reason" in client.post(url, {"reason": ""}).context["form"].errors
    assert client.post(url, {"reason": "wrong patient"}).status_code == 302
    session.refresh_from_db()
    assert session.is_voided
    assert session.voided_by == carol
    # The therapist no longer sees it; the manager still can, as a void record.
    client.force_login(alice)
    assert client.get(reverse("sessions:detail", args=[session.pk])).status_code == 404
    client.force_login(carol)
    assert "wrong patient" in client.get(session.get_absolute_url()).content.decode()
