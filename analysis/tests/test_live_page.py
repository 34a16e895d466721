"""The live page: who sees it and its device panel, Stop, and the demo's replay switch."""

import pytest
from django.urls import reverse

from analysis.pipeline import live
from analysis.tests.support import make_recording

pytestmark = [pytest.mark.django_db]


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def test_the_session_page_links_to_its_live_page(client, alice, session):
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert reverse("analysis:session_live", args=[session.pk]) in body


def test_the_therapist_gets_a_working_ingest_token_as_text_and_qr(client, alice, session):
    client.force_login(alice)
    response = client.get(reverse("analysis:session_live", args=[session.pk]))
    assert response.status_code == 200
    token = response.context["ingest_token"]
    assert token in response.content.decode()
    assert "<svg" in response.context["ingest_qr_svg"]
    assert f"/ws/sessions/{session.pk}/ingest/" in response.context["ingest_url"]
    user = live.ingest_authenticate(session_id=session.pk, authorization=f"Ingest {token}")
    assert user == alice
    assert (
        live.ingest_authenticate(session_id=session.pk + 1, authorization=f"Ingest {token}") is None
    )
    assert "<script>" not in response.content.decode()  # scripts are static files (CSP)


@pytest.mark.parametrize("persona", ["bob", "dave"])
def test_the_live_page_of_someone_elses_patient_is_404(client, session, persona, request):
    client.force_login(request.getfixturevalue(persona))
    assert client.get(reverse("analysis:session_live", args=[session.pk])).status_code == 404
    response = client.post(reverse("analysis:session_live_stop", args=[session.pk]))
    assert response.status_code == 404


def test_an_expired_token_is_refused(settings, alice, session):
    token = live.ingest_token_issue(session=session, user=alice)
    settings.LIVE_INGEST_TOKEN_MAX_AGE_S = -1
    assert live.ingest_authenticate(session_id=session.pk, authorization=f"Ingest {token}") is None


def test_stop_without_a_stream_says_so(client, alice, session, settings, tmp_path):
    settings.LIVE_SPOOL_DIR = str(tmp_path)
    client.force_login(alice)
    response = client.post(reverse("analysis:session_live_stop", args=[session.pk]), follow=True)
    assert "No live stream was open" in response.content.decode()


def test_the_replay_is_off_unless_the_demo_turns_it_on(client, alice, session, settings):
    settings.LIVE_DEMO_REPLAY = False
    client.force_login(alice)
    response = client.post(
        reverse("analysis:session_live_replay", args=[session.pk]), {"recording": "1"}
    )
    assert response.status_code == 404


def test_a_live_recording_lists_its_alerts_on_the_session_page(client, alice, session):
    recording = make_recording(session, "live-1.c3d")
    recording.source = "live"
    recording.interrupted = True
    recording.live_alerts = [
        {
            "id": 1,
            "type": "signal_lost",
            "severity": "warning",
            "t": 12.5,
            "channel": "CH1 Raw",
            "message": "CH1 Raw: flat signal (electrode off or signal lost)",
            "acknowledged_by": "Alice Therapist",
            "acknowledged_at": "2026-11-30T10:00:00+00:00",
        }
    ]
    recording.save()
    client.force_login(alice)
    body = client.get(reverse("sessions:detail", args=[session.pk])).content.decode()
    assert "CH1 Raw: flat signal (electrode off or signal lost)" in body
    assert "acknowledged by Alice Therapist" in body
    assert "interrupted" in body
