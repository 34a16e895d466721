"""Pages and downloads with patient data are never kept by a browser or proxy cache."""

import pytest
from django.urls import reverse

from analysis.tests.support import TINY_C3D, make_recording

pytestmark = pytest.mark.django_db


def test_pages_for_signed_in_staff_say_no_store(client, alice, alices_patient):
    client.force_login(alice)
    for url in (reverse("clinic:dashboard"), reverse("patients:detail", args=[alices_patient.pk])):
        assert "no-store" in client.get(url)["Cache-Control"]


def test_a_recording_download_says_no_store(client, alice, alices_patient, session_of):
    recording = make_recording(session_of(alices_patient), data=TINY_C3D)
    client.force_login(alice)
    response = client.get(reverse("sessions:recording-download", args=[recording.pk]))
    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
