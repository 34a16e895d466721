"""The status websocket through a real Daphne server process and the Redis channel layer."""

import asyncio
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
import websockets
from django.test import Client

from analysis.services import status_notify
from analysis.tests.support import free_port, make_recording, worker_env

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def daphne(tmp_path):
    port = free_port()
    log = (tmp_path / "daphne.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["config.asgi:application"],
        cwd=REPO,
        env=worker_env(ALLOWED_HOSTS="127.0.0.1,localhost"),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while "Listening on TCP address" not in (tmp_path / "daphne.log").read_text():
        assert process.poll() is None, (tmp_path / "daphne.log").read_text()
        assert time.monotonic() < deadline, "daphne did not start"
        time.sleep(0.1)
    yield port
    process.terminate()
    process.wait(timeout=10)
    log.close()


def test_a_status_change_reaches_an_open_page_through_daphne(
    daphne, session_of, alices_patient, alice
):
    session = session_of(alices_patient)
    recording = make_recording(session, "live.c3d")
    client = Client()
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def listen():
        async with websockets.connect(
            f"ws://127.0.0.1:{daphne}/ws/sessions/{session.pk}/status/",
            origin=f"http://127.0.0.1:{daphne}",
            additional_headers={"Cookie": cookie},
        ) as ws:
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
    client = Client()
    client.force_login(alice)
    cookie = f"sessionid={client.cookies['sessionid'].value}"

    async def refused_code():
        async with websockets.connect(
            f"ws://127.0.0.1:{daphne}/ws/sessions/{session.pk}/status/",
            origin=f"http://127.0.0.1:{daphne}",
            additional_headers={"Cookie": cookie},
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(refused_code()) == 4404
