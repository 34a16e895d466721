"""Create and edit patients: per-clinic unique code, clinic choice, assignment rules, bad input."""

import pytest
from django.urls import reverse

from patients.models import Patient

pytestmark = pytest.mark.django_db


def form_data(**overrides):
    data = {
        "code": "P010",
        "mrn": "",
        "first_name": "Nora",
        "last_name": "Newcombe",
        "date_of_birth": "1961-02-03",
        "sex": "F",
        "diagnosis": "ACL reconstruction",
        "notes": "",
        "treatment_start": "2024-05-01",
        "planned_sessions": "10",
        "is_active": "on",
    }
    data.update(overrides)
    return data


def test_a_therapist_creating_a_patient_is_assigned_to_it(client, alice):
    client.force_login(alice)
    response = client.post(reverse("patients:create"), form_data())
    patient = Patient.objects.get(code="P010")
    assert response.status_code == 302
    assert response.url == patient.get_absolute_url()
    assert patient.clinic == alice.clinic
    assert list(patient.therapists.all()) == [alice]
    assert client.get(response.url).status_code == 200


def test_a_taken_code_is_a_clear_field_error(client, alice, alices_patient):
    client.force_login(alice)
    response = client.post(reverse("patients:create"), form_data(code="P001"))
    assert response.status_code == 200
    assert "already has this code" in str(response.context["form"].errors["code"])
    assert "already has this code" in response.content.decode()


def test_the_same_code_is_fine_in_another_clinic(client, dave, alices_patient):
    client.force_login(dave)
    response = client.post(reverse("patients:create"), form_data(code="P001"))
    assert response.status_code == 302
    assert Patient.objects.filter(code="P001").count() == 2


def test_a_taken_mrn_is_a_field_error(client, alice, alices_patient):
    client.force_login(alice)
    response = client.post(reverse("patients:create"), form_data(mrn="MRN-P001"))
    assert "mrn" in response.context["form"].errors


@pytest.mark.parametrize(
    "bad",
    [
        {"code": ""},
        {"code": "bad code!"},
        {"date_of_birth": "31/31/1999"},
        {"planned_sessions": "-1"},
        {"planned_sessions": "99999"},
        {"sex": "Q"},
        {"first_name": ""},
        {"date_of_birth": "2999-01-01"},
        {"date_of_birth": "1066-10-14"},
    ],
)
def test_bad_input_re_renders_with_field_errors(client, alice, bad):
    client.force_login(alice)
    response = client.post(reverse("patients:create"), form_data(**bad))
    assert response.status_code == 200
    assert response.context["form"].errors
    assert "errorlist" in response.content.decode()
    assert not Patient.objects.filter(first_name="Nora").exists()


def test_therapists_cannot_choose_assignments(client, alice, bob):
    client.force_login(alice)
    assert "therapists" not in client.get(reverse("patients:create")).context["form"].fields
    client.post(reverse("patients:create"), form_data(therapists=[bob.pk]))
    assert list(Patient.objects.get(code="P010").therapists.all()) == [alice]


def test_a_manager_assigns_only_therapists_of_the_clinic(client, carol, alice, bob, dave):
    client.force_login(carol)
    choices = client.get(reverse("patients:create")).context["form"].fields["therapists"]
    assert set(choices.queryset) == {alice, bob}
    refused = client.post(reverse("patients:create"), form_data(therapists=[dave.pk]))
    assert "therapists" in refused.context["form"].errors
    client.post(reverse("patients:create"), form_data(therapists=[bob.pk]))
    patient = Patient.objects.get(code="P010")
    assert list(patient.therapists.all()) == [bob]  # a manager is not assigned automatically


def test_a_superuser_must_choose_the_clinic(client, zoe, north, alice):
    client.force_login(zoe)
    missing = client.post(reverse("patients:create"), form_data())
    assert "clinic" in missing.context["form"].errors
    client.post(reverse("patients:create"), form_data(clinic=north.pk, therapists=[alice.pk]))
    patient = Patient.objects.get(code="P010")
    assert patient.clinic == north
    assert list(patient.therapists.all()) == [alice]


def test_editing_keeps_assignments_when_a_therapist_saves(client, alice, bob, alices_patient):
    alices_patient.therapists.add(bob)
    client.force_login(alice)
    url = reverse("patients:edit", args=[alices_patient.pk])
    response = client.post(url, form_data(code="P001", first_name="Agatha", last_name="Aldersley"))
    assert response.status_code == 302
    alices_patient.refresh_from_db()
    assert alices_patient.diagnosis == "ACL reconstruction"
    assert set(alices_patient.therapists.all()) == {alice, bob}


def test_a_manager_changes_assignments(client, carol, bob, alices_patient):
    client.force_login(carol)
    url = reverse("patients:edit", args=[alices_patient.pk])
    data = form_data(code="P001", first_name="Agatha", last_name="Aldersley", therapists=[bob.pk])
    assert client.post(url, data).status_code == 302
    assert list(alices_patient.therapists.all()) == [bob]


def test_editing_to_a_taken_code_is_a_field_error(client, carol, alices_patient, bobs_patient):
    client.force_login(carol)
    url = reverse("patients:edit", args=[alices_patient.pk])
    response = client.post(url, form_data(code="P002"))
    assert "code" in response.context["form"].errors


def test_the_form_marks_errors_accessibly(client, alice):
    client.force_login(alice)
    body = client.post(reverse("patients:create"), form_data(code="")).content.decode()
    assert 'aria-invalid="true"' in body
    assert 'id="id_code_error"' in body
