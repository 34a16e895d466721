"""The dashboard leads to the pipeline: failed recordings to their session, managers to settings."""

from django.urls import reverse

from analysis.tests.support import make_recording


def test_a_failed_recording_links_to_its_session_for_re_analysis(
    client, alice, alices_patient, session_of
):
    session = session_of(alices_patient)
    make_recording(session, "broken.c3d", status="failed", failure_reason="cut short")
    client.force_login(alice)
    html = client.get(reverse("clinic:dashboard")).content.decode()
    assert reverse("sessions:detail", args=[session.pk]) + "#recordings" in html
    assert reverse("analysis:stateless") in html
    assert reverse("clinic:settings") not in html  # therapists do not edit settings


def test_a_manager_finds_the_clinic_settings(client, carol):
    client.force_login(carol)
    assert reverse("clinic:settings") in client.get(reverse("clinic:dashboard")).content.decode()
