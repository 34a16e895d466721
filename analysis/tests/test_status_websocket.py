"""The session status websocket: who may connect, what they get on connect and afterwards."""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator

from analysis.consumers import CLOSE_NOT_FOUND, CLOSE_UNAUTHENTICATED
from analysis.grading import failure_advice
from analysis.pipeline.notify import status_notify
from analysis.tests.support import login_session, make_recording
from config.asgi import application
from patients.services import patient_void
from sessions.models import Recording
from sessions.services import session_void

pytestmark = [pytest.mark.django_db(transaction=True)]


def communicator(session_id, user=None):
    return communicator_to(f"/ws/sessions/{session_id}/status/", user)


def communicator_to(path, user=None):
    # config.asgi reads ALLOWED_HOSTS at import, before pytest-django adds "testserver".
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={login_session(user)}".encode()))
    return WebsocketCommunicator(application, path, headers)


async def refused_with(ws):
    """The close code of a refused connection (accepted, then closed before any data)."""
    await ws.connect()
    message = await ws.receive_output(timeout=5)
    assert message["type"] == "websocket.close"
    return message["code"]


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


async def test_it_closes_anonymous_connections_with_4401(session):
    ws = communicator(session.pk)
    assert await refused_with(ws) == CLOSE_UNAUTHENTICATED
    await ws.disconnect()


@pytest.mark.parametrize("persona", ["bob", "dave"])
async def test_it_closes_sessions_outside_the_users_scope_with_4404(session, persona, request):
    user = await database_sync_to_async(request.getfixturevalue)(persona)
    ws = await database_sync_to_async(communicator)(session.pk, user)
    assert await refused_with(ws) == CLOSE_NOT_FOUND
    await ws.disconnect()


async def test_it_closes_unknown_sessions_with_4404(alice):
    ws = await database_sync_to_async(communicator)(999999, alice)
    assert await refused_with(ws) == CLOSE_NOT_FOUND
    await ws.disconnect()


async def test_it_sends_the_current_statuses_then_every_change(session, alice, carol):
    recording = await database_sync_to_async(make_recording)(session)
    for user in (alice, carol):  # her therapist, and the clinic manager
        ws = await database_sync_to_async(communicator)(session.pk, user)
        connected, _ = await ws.connect()
        assert connected
        snapshot = await ws.receive_json_from(timeout=5)
        assert snapshot["type"] == "snapshot"
        assert [(r["recording"], r["status"], r["progress"]) for r in snapshot["recordings"]] == [
            (recording.pk, "pending", 0.0)
        ]
        recording.status = Recording.Status.FAILED
        recording.failure_reason = "not a GHOSTLY file"
        assert await database_sync_to_async(status_notify)(recording=recording)
        event = await ws.receive_json_from(timeout=5)
        assert event["type"] == "status"
        assert event["recording"] == recording.pk
        assert (event["status"], event["progress"]) == ("failed", 1.0)
        assert event["failure_reason"] == "not a GHOSTLY file"
        # The advice the row shows after a reload, for the live row (issue 16).
        assert event["failure_advice"] == failure_advice("not a GHOSTLY file")
        await ws.disconnect()
        recording.status = Recording.Status.PENDING


async def test_it_does_not_forward_other_sessions_events(
    session, session_of, alices_patient, alice
):
    other = await database_sync_to_async(session_of)(alices_patient)
    other_recording = await database_sync_to_async(make_recording)(other, "other.c3d")
    ws = await database_sync_to_async(communicator)(session.pk, alice)
    connected, _ = await ws.connect()
    assert connected
    assert (await ws.receive_json_from(timeout=5))["recordings"] == []
    await database_sync_to_async(status_notify)(recording=other_recording)
    # Then an event of this session: it must be the next thing the page gets (events reach a
    # consumer in the order they were sent), so nothing of the other session came before it.
    own_recording = await database_sync_to_async(make_recording)(session, "own.c3d")
    await database_sync_to_async(status_notify)(recording=own_recording)
    event = await ws.receive_json_from(timeout=5)
    assert (event["type"], event["recording"]) == ("status", own_recording.pk)
    await ws.disconnect()


async def test_a_malformed_session_id_closes_cleanly_with_4404(session, alice):
    ws = await database_sync_to_async(communicator_to)("/ws/sessions/abc/status/", alice)
    assert await refused_with(ws) == CLOSE_NOT_FOUND
    await ws.disconnect()


@pytest.mark.parametrize("frame", [{"text_data": "not json {"}, {"bytes_data": b"\x00\xff"}])
async def test_frames_from_a_viewer_are_ignored_without_closing(session, alice, frame):
    ws = await database_sync_to_async(communicator)(session.pk, alice)
    connected, _ = await ws.connect()
    assert connected
    snapshot = await ws.receive_json_from(timeout=5)
    assert snapshot["type"] == "snapshot"
    await ws.send_to(**frame)
    # The connection stays open: a status event of this session still arrives.
    recording = await database_sync_to_async(make_recording)(session)
    assert await database_sync_to_async(status_notify)(recording=recording)
    event = await ws.receive_json_from(timeout=5)
    assert event["type"] == "status"
    assert event["recording"] == recording.pk
    await ws.disconnect()


@pytest.mark.parametrize("voided", ["session", "patient"])
async def test_a_voided_session_sends_no_snapshot_to_its_therapist(session, alice, carol, voided):
    if voided == "session":
        await database_sync_to_async(session_void)(
            by=carol, session=session, reason="wrong patient"
        )
    else:
        await database_sync_to_async(patient_void)(
            by=carol, patient=session.patient, reason="duplicate record"
        )
    ws = await database_sync_to_async(communicator)(session.pk, alice)
    assert await refused_with(ws) == CLOSE_NOT_FOUND
    await ws.disconnect()
