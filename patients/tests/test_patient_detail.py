"""Patient page: session history, actions by permission, identity masked for researchers."""

import pytest
from django.urls import reverse

from conftest import names_in

pytestmark = pytest.mark.django_db


def test_it_shows_the_session_history(client, alice, alices_patient, session_of):
    session = session_of(alices_patient, rpe=6)
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("sessions:detail", args=[session.pk]) in body
    assert "Agatha Aldersley" in body
    assert "MRN-P001" in body


def test_a_researcher_sees_code_sex_and_age_band_only(client, rita, alices_patient):
    alices_patient.notes = "Lives with her daughter Agnes"
    alices_patient.save()
    client.force_login(rita)
    response = client.get(reverse("patients:detail", args=[alices_patient.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    assert "P001" in body
    assert "Female" in body
    assert names_in(body) == set()
    assert "MRN-P001" not in body
    assert "1950" not in body
    assert "Agnes" not in body
    for action in ("patients:edit", "patients:void", "patients:session-create"):
        assert reverse(action, args=[alices_patient.pk]) not in body


def test_actions_follow_permissions(client, alice, carol, alices_patient):
    client.force_login(alice)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("patients:edit", args=[alices_patient.pk]) in body
    assert reverse("patients:void", args=[alices_patient.pk]) not in body
    client.force_login(carol)
    body = client.get(reverse("patients:detail", args=[alices_patient.pk])).content.decode()
    assert reverse("patients:void", args=[alices_patient.pk]) in body


def test_an_unknown_or_foreign_id_is_404(client, alice, bobs_patient):
    client.force_login(alice)
    assert client.get(reverse("patients:detail", args=[bobs_patient.pk])).status_code == 404
    assert client.get("/patients/999999/").status_code == 404
    assert client.get("/patients/abc/").status_code == 404
    assert client.get("/patients/99999999999999999999999/").status_code == 404  # beyond bigint
    assert client.get("/sessions/99999999999999999999999/").status_code == 404
    assert client.get("/sessions/recordings/99999999999999999999999/download/").status_code == 404
