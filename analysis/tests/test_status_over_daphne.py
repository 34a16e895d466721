"""The status websocket through a real Daphne server process and the Redis channel layer."""

import asyncio
import json

import pytest
import websockets

from analysis.pipeline.notify import status_notify
from analysis.tests.support import login_session, make_recording

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]


def connect(daphne, session, cookie):
    """A websocket to the session's status channel, as the page opens it."""
    return websockets.connect(
        daphne.replace("http://", "ws://") + f"/ws/sessions/{session.pk}/status/",
        origin=daphne,
        additional_headers={"Cookie": cookie},
    )


def test_a_status_change_reaches_an_open_page_through_daphne(
    daphne, session_of, alices_patient, alice
):
    session = session_of(alices_patient)
    recording = make_recording(session, "live.c3d")
    cookie = f"sessionid={login_session(alice)}"

    async def listen():
        async with connect(daphne, session, cookie) as ws:
            snapshot = json.loads(await asyncio.wait_for(ws.recv(), 10))
            recording.status = "processing"
            await asyncio.to_thread(lambda: status_notify(recording=recording))
            event = json.loads(await asyncio.wait_for(ws.recv(), 10))
            return snapshot, event

    snapshot, event = asyncio.run(listen())
    assert snapshot["recordings"][0]["recording"] == recording.pk
    assert (event["type"], event["recording"], event["status"]) == (
        "status",
        recording.pk,
        "processing",
    )


def test_daphne_refuses_a_session_outside_the_users_scope(daphne, session_of, bobs_patient, alice):
    session = session_of(bobs_patient)
    cookie = f"sessionid={login_session(alice)}"

    async def refused_code():
        async with connect(daphne, session, cookie) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(refused_code()) == 4404
