"""The voided rule follows every object below a voided one: recordings of a voided session or
patient are as hidden as the session itself, for everyone who may not void it."""

import pytest
from django.urls import reverse

from analysis.tests.support import TINY_C3D, make_recording
from patients.services import patient_void
from sessions.services import session_void

pytestmark = pytest.mark.django_db

RECORDING_PAGES = (
    "sessions:recording",
    "sessions:recording-download",
    "analysis:recording_row",
    "analysis:recording_results",
)


@pytest.fixture
def recording(alices_patient, session_of):
    return make_recording(session_of(alices_patient), data=TINY_C3D)


@pytest.mark.parametrize("name", RECORDING_PAGES)
def test_a_voided_sessions_recordings_answer_404_to_its_therapist(
    client, alice, carol, recording, name
):
    session_void(by=carol, session=recording.session, reason="entered on the wrong patient")
    client.force_login(alice)
    assert client.get(reverse(name, args=[recording.pk])).status_code == 404


@pytest.mark.parametrize("name", RECORDING_PAGES)
def test_a_voided_patients_recordings_answer_404_to_its_therapist(
    client, alice, carol, recording, name
):
    patient_void(by=carol, patient=recording.session.patient, reason="duplicate record")
    client.force_login(alice)
    assert client.get(reverse(name, args=[recording.pk])).status_code == 404


def test_the_manager_who_may_void_still_reads_them(client, carol, recording):
    session_void(by=carol, session=recording.session, reason="entered on the wrong patient")
    client.force_login(carol)
    assert client.get(reverse("sessions:recording", args=[recording.pk])).status_code == 200


def test_the_dashboard_lists_no_session_or_failed_file_of_a_voided_patient(
    client, alice, carol, alices_patient, session_of
):
    session = session_of(alices_patient)
    make_recording(session, name="Hidden_Failed.c3d", status="failed")
    patient_void(by=carol, patient=alices_patient, reason="duplicate record")
    client.force_login(alice)
    html = client.get(reverse("clinic:dashboard")).content.decode()
    assert reverse("sessions:detail", args=[session.pk]) not in html
    assert "Hidden_Failed.c3d" not in html


def test_file_names_that_may_name_the_player_are_hidden_from_the_researcher(
    client, alice, rita, alices_patient, session_of
):
    recording = make_recording(session_of(alices_patient), name="Hollis_Quenby_D001.c3d")
    pages = (
        reverse("sessions:detail", args=[recording.session_id]),
        reverse("sessions:recording", args=[recording.pk]),
        reverse("analysis:recording_row", args=[recording.pk]),
        reverse("analysis:recording_results", args=[recording.pk]),
    )
    client.force_login(rita)
    for page in pages:
        html = client.get(page).content.decode()
        assert "Hollis" not in html, page
    assert f"Recording {recording.pk}" in client.get(pages[1]).content.decode()
    client.force_login(alice)
    assert "Hollis_Quenby_D001.c3d" in client.get(pages[1]).content.decode()
