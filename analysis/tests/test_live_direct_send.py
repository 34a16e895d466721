"""Live frames written straight to the socket under Daphne (analysis.live_consumers.direct_send):
the same bytes the client would get through Daphne's send, whole and in order whatever their
size, and a closed connection freed without the garbage collector."""

import asyncio
import functools
import json
import os
import struct
import sys
import urllib.request

import pytest
import websockets

from analysis.live_consumers.direct_send import DirectTextSend, text_frame
from analysis.tests.direct_send_app import SIZES, goes_direct, payload
from analysis.tests.support import LoggedProcess, free_port, http_answers


def rfc6455_text_frame(data: bytes) -> bytes:
    """A final, unmasked text frame as RFC 6455 section 5.2 spells it."""
    n = len(data)
    if n < 126:
        header = bytes([0x81, n])
    elif n < 65536:
        header = bytes([0x81, 126]) + struct.pack("!H", n)
    else:
        header = bytes([0x81, 127]) + struct.pack("!Q", n)
    return header + data


@pytest.mark.parametrize("size", [0, 125, 126, 127, 65535, 65536, 70000])
def test_a_text_is_framed_as_rfc6455_says(size):
    text = payload(1, size)
    assert text_frame(text) == rfc6455_text_frame(text.encode())


def test_only_daphnes_websocket_send_goes_direct():
    async def send(message):
        pass

    def handle_reply(protocol, message):
        pass

    assert DirectTextSend.for_send(send) is None
    assert DirectTextSend.for_send(functools.partial(handle_reply, object())) is None


@pytest.fixture
def direct_send_daphne(tmp_path):
    """A real Daphne serving analysis.tests.direct_send_app."""
    server = LoggedProcess(dict(os.environ), tmp_path / "daphne.log")
    port = free_port()
    server.spawn(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port)]
        + ["analysis.tests.direct_send_app:application"]
    )
    url = f"http://127.0.0.1:{port}"
    server.wait_until(lambda: http_answers(url + "/alive/"), timeout=30, what="daphne")
    yield url
    server.stop()


@pytest.mark.server
def test_frames_written_to_the_socket_arrive_whole_and_in_order(direct_send_daphne):
    async def receive_all():
        ws_url = direct_send_daphne.replace("http", "ws") + "/frames/"
        async with websockets.connect(ws_url, max_size=None) as ws:
            hello = json.loads(await ws.recv())
            texts = []
            while not (text := await asyncio.wait_for(ws.recv(), 30)).startswith("end "):
                texts.append(text)
            return hello, texts, int(text.split()[1])

    hello, texts, written = asyncio.run(receive_all())

    assert hello == {"direct": True}
    assert texts == [payload(index, size) for index, size in enumerate(SIZES)]
    assert written == sum(goes_direct(index) for index in range(len(SIZES)))


@pytest.mark.server
def test_a_closed_connection_is_freed_without_the_garbage_collector(direct_send_daphne):
    async def open_and_close(query):
        ws_url = direct_send_daphne.replace("http", "ws") + "/closing/" + query
        async with websockets.connect(ws_url) as ws:
            await ws.recv()

    async def connections():
        for _ in range(3):
            await open_and_close("")
            await open_and_close("?keep=1")

    asyncio.run(connections())

    def alive():
        with urllib.request.urlopen(direct_send_daphne + "/alive/", timeout=5) as response:
            return json.loads(response.read())

    state = alive()
    for _ in range(50):  # Daphne forgets a connection on its next check (every 0.1 s)
        if state["total"] == {"released": 3, "kept": 3} and state["released"] == 0:
            break
        asyncio.run(asyncio.sleep(0.1))
        state = alive()
    assert state["total"] == {"released": 3, "kept": 3}
    assert state["released"] == 0
    assert state["kept"] == 3  # the cycle without the release: what the collector had to find
