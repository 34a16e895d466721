"""The live ingest websocket through the full ASGI application: samples kept bit for bit,
every bad input refused with its close code, a dropped device resuming, viewers' access."""

import gc
import json
import weakref

import numpy as np
import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.test import Client

from analysis import core
from analysis.core import live_protocol as proto
from analysis.live_consumers import IngestConsumer, LiveViewConsumer
from analysis.pipeline import live
from analysis.tests.support import login_session
from config.asgi import application
from sessions.models import Recording

pytestmark = [pytest.mark.django_db(transaction=True)]

RATE = 990.0
LABELS = ["CH1 Raw", "CH2 Raw", "CH3 Raw", "CH4 Raw"]
FRAME = 50  # samples per channel per frame (~50 ms)


def hello(**extra):
    return {
        "type": "hello",
        "channels": [{"label": lab, "unit": "V"} for lab in LABELS],
        "rate_hz": RATE,
        "speed": 50,
        **extra,
    }


def signal(n_samples, seed=1):
    rng = np.random.default_rng(seed)
    return (rng.standard_normal((n_samples, len(LABELS))) * 2e-5).astype("<f4")


@pytest.fixture(autouse=True)
def spool(settings, tmp_path):
    settings.LIVE_SPOOL_DIR = str(tmp_path / "spool")
    settings.LIVE_RESUME_GRACE_S = 3600  # no stop behind the test's back


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def device(session_id, token=None, *, query=False):
    headers = []
    path = f"/ws/sessions/{session_id}/ingest/"
    if token and query:
        path += f"?token={token}"
    elif token:
        headers.append((b"authorization", f"Ingest {token}".encode()))
    return WebsocketCommunicator(application, path, headers)


async def token_for(session, user):
    return await database_sync_to_async(live.ingest_token_issue)(session=session, user=user)


async def start(ws, message=None):
    connected, _ = await ws.connect()
    assert connected
    await ws.send_to(text_data=json.dumps(message or hello()))
    ready = json.loads(await ws.receive_from(timeout=10))
    assert ready["type"] == "ready", ready
    return ready


async def send_frames(ws, samples, *, seq=0, first=0):
    for a in range(0, samples.shape[0], FRAME):
        await ws.send_to(bytes_data=proto.encode_frame(seq, first + a, samples[a : a + FRAME]))
        seq += 1
    return seq


async def closed_with(ws):
    """The error message and close code that end the connection (skipping acks)."""
    error = None
    while True:
        out = await ws.receive_output(timeout=10)
        if out["type"] == "websocket.close":
            return error, out.get("code")
        message = json.loads(out["text"])
        if message["type"] == "error":
            error = message


async def stop(ws):
    await ws.send_to(text_data=json.dumps({"type": "stop"}))
    while True:
        message = json.loads(await ws.receive_from(timeout=30))
        if message["type"] == "stopped":
            return message


def saved_samples(recording_id):
    recording = Recording.objects.get(pk=recording_id)
    rec = core.read_recording(recording.file.path, isolated=False)
    return recording, rec


async def test_every_sample_is_saved_bit_for_bit_as_a_live_recording(session, alice):
    samples = signal(990 * 3 + 17)
    ws = device(session.pk, await token_for(session, alice))
    ready = await start(ws)
    assert (ready["next_sequence"], ready["next_sample"], ready["resumed"]) == (0, 0, False)
    await send_frames(ws, samples)
    stopped = await stop(ws)
    assert stopped["samples"] == samples.shape[0]
    assert not stopped["interrupted"]
    recording, rec = await database_sync_to_async(saved_samples)(stopped["recording"])
    assert recording.source == Recording.Source.LIVE
    assert not recording.interrupted
    assert recording.uploaded_by_id == alice.pk
    assert rec.labels == LABELS
    assert rec.rate_hz == RATE
    for k, label in enumerate(LABELS):
        saved = np.asarray(rec.channel(label).values, dtype="<f4")
        assert saved.tobytes() == samples[:, k].tobytes()
    assert rec.metadata is not None
    assert rec.started_at is not None
    await ws.disconnect()


async def test_the_token_may_come_in_the_query_string(session, alice):
    ws = device(session.pk, await token_for(session, alice), query=True)
    await start(ws)
    await ws.disconnect()


BAD_FRAMES = {
    "wrong size": (lambda s: proto.encode_frame(1, FRAME, s)[:-3], proto.CLOSE_WRONG_SIZE),
    "NaN": (
        lambda s: proto.encode_frame(1, FRAME, np.where(np.arange(FRAME)[:, None] == 3, np.nan, s)),
        proto.CLOSE_NOT_FINITE,
    ),
    "infinity": (
        lambda s: proto.encode_frame(1, FRAME, s * np.float32(np.inf)),
        proto.CLOSE_NOT_FINITE,
    ),
    "duplicated sequence": (lambda s: proto.encode_frame(0, FRAME, s), proto.CLOSE_SEQUENCE),
    "out-of-order sequence": (lambda s: proto.encode_frame(5, FRAME, s), proto.CLOSE_SEQUENCE),
    "samples skipped": (lambda s: proto.encode_frame(1, FRAME * 3, s), proto.CLOSE_SEQUENCE),
    "short header": (lambda s: b"\x01\x02\x03", proto.CLOSE_MALFORMED),
    "channel count": (lambda s: proto.encode_frame(1, FRAME, s[:, :2]), proto.CLOSE_MISMATCH),
    "oversized": (
        lambda s: proto.encode_frame(1, FRAME, np.zeros((2000, 4), "<f4")),
        proto.CLOSE_TOO_LARGE,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_FRAMES))
async def test_a_bad_frame_closes_with_its_code_and_keeps_what_was_accepted(session, alice, case):
    make, code = BAD_FRAMES[case]
    token = await token_for(session, alice)
    ws = device(session.pk, token)
    await start(ws)
    await send_frames(ws, signal(FRAME))
    await ws.send_to(bytes_data=make(signal(FRAME, seed=2)))
    error, closed = await closed_with(ws)
    assert closed == code
    assert error["code"] == code
    assert error["error"]
    await ws.disconnect(code=closed)
    # the accepted frame is kept: the stream resumes after it
    again = device(session.pk, token)
    ready = await start(again)
    assert (ready["resumed"], ready["next_sequence"], ready["next_sample"]) == (True, 1, FRAME)
    await again.disconnect(code=1006)


BAD_TEXT = {
    "not JSON": ("{nope", proto.CLOSE_MALFORMED),
    "not a hello": (json.dumps({"type": "frame"}), proto.CLOSE_MALFORMED),
    "no channels": (json.dumps(hello(channels=[])), proto.CLOSE_MALFORMED),
    "bad rate": (json.dumps(hello(rate_hz="fast")), proto.CLOSE_MALFORMED),
    "NaN rate": ('{"type":"hello","channels":[{"label":"a"}],"rate_hz":NaN}', 4400),
    "duplicate labels": (
        json.dumps(hello(channels=[{"label": "a"}, {"label": "a"}])),
        proto.CLOSE_MALFORMED,
    ),
}


@pytest.mark.parametrize("case", sorted(BAD_TEXT))
async def test_a_bad_hello_is_refused_with_4400(session, alice, case):
    text, code = BAD_TEXT[case]
    ws = device(session.pk, await token_for(session, alice))
    await ws.connect()
    await ws.send_to(text_data=text)
    error, closed = await closed_with(ws)
    assert closed == code
    assert error["error"].startswith(("hello", "text"))
    await ws.disconnect()


async def test_a_frame_before_the_hello_is_refused(session, alice):
    ws = device(session.pk, await token_for(session, alice))
    await ws.connect()
    await ws.send_to(bytes_data=proto.encode_frame(0, 0, signal(FRAME)))
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_MALFORMED
    await ws.disconnect()


async def test_a_rate_change_mid_stream_is_refused(session, alice):
    token = await token_for(session, alice)
    ws = device(session.pk, token)
    await start(ws)
    await ws.send_to(text_data=json.dumps(hello(rate_hz=500)))
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_MISMATCH
    await ws.disconnect(code=1006)
    # and a resume with another rate too
    again = device(session.pk, token)
    await again.connect()
    await again.send_to(text_data=json.dumps(hello(rate_hz=500)))
    error, closed = await closed_with(again)
    assert closed == proto.CLOSE_MISMATCH
    assert "open stream" in error["error"]
    await again.disconnect()


async def test_samples_faster_than_the_announced_rate_are_refused(session, alice):
    ws = device(session.pk, await token_for(session, alice))
    await start(ws, hello(speed=1))
    await send_frames(ws, signal(990 * 4))  # four seconds at once
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_TOO_FAST
    await ws.disconnect(code=1006)


@pytest.mark.parametrize("token", [None, "not-a-token", "Ingest-forged"])
async def test_unauthenticated_devices_are_refused_with_4401(session, token):
    ws = device(session.pk, token)
    await ws.connect()
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_a_token_of_another_session_is_refused(session, session_of, alices_patient, alice):
    other = await database_sync_to_async(session_of)(alices_patient)
    ws = device(session.pk, await token_for(other, alice))
    await ws.connect()
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_UNAUTHENTICATED
    await ws.disconnect()


async def test_a_session_outside_the_users_scope_is_refused_with_4404(
    session_of, bobs_patient, alice
):
    bobs = await database_sync_to_async(session_of)(bobs_patient)
    ws = device(bobs.pk, await token_for(bobs, alice))
    await ws.connect()
    _, closed = await closed_with(ws)
    assert closed == proto.CLOSE_NOT_FOUND
    await ws.disconnect()


async def test_a_second_device_is_refused_with_4409(session, alice):
    token = await token_for(session, alice)
    first = device(session.pk, token)
    await start(first)
    second = device(session.pk, token)
    await second.connect()
    await second.send_to(text_data=json.dumps(hello()))
    _, closed = await closed_with(second)
    assert closed == proto.CLOSE_SECOND_DEVICE
    await second.disconnect()
    await send_frames(first, signal(FRAME))  # the first one streams on
    stopped = await stop(first)
    assert stopped["samples"] == FRAME
    await first.disconnect()


async def test_a_dropped_device_resumes_from_its_next_sequence(session, alice):
    samples = signal(990 * 2)
    half = FRAME * 20
    token = await token_for(session, alice)
    ws = device(session.pk, token)
    await start(ws)
    seq = await send_frames(ws, samples[:half])
    await ws.disconnect(code=1006)  # the network drops
    again = device(session.pk, token)
    ready = await start(again)
    assert (ready["resumed"], ready["next_sequence"], ready["next_sample"]) == (True, seq, half)
    await send_frames(again, samples[half:], seq=seq, first=half)
    stopped = await stop(again)
    assert stopped["samples"] == samples.shape[0]
    recording, rec = await database_sync_to_async(saved_samples)(stopped["recording"])
    assert not recording.interrupted
    saved = np.stack([rec.channel(lab).values for lab in LABELS], axis=1).astype("<f4")
    assert saved.tobytes() == samples.tobytes()
    await again.disconnect()


async def test_a_stream_nobody_resumes_becomes_an_interrupted_recording(session, alice):
    ws = device(session.pk, await token_for(session, alice))
    await start(ws)
    await send_frames(ws, signal(FRAME * 4))
    await ws.disconnect(code=1006)
    stopped = await database_sync_to_async(live.streams_stop_abandoned)(idle_s=0)
    assert len(stopped) == 1
    recording = await database_sync_to_async(Recording.objects.get)(pk=stopped[0])
    assert recording.interrupted
    assert recording.source == Recording.Source.LIVE
    assert recording.size_bytes > 0


# -- viewers -----------------------------------------------------------------------------


def viewer(session_id, user=None):
    headers = [(b"origin", b"http://localhost")]
    if user is not None:
        headers.append((b"cookie", f"sessionid={login_session(user)}".encode()))
    return WebsocketCommunicator(application, f"/ws/sessions/{session_id}/live/", headers)


async def test_viewers_see_the_stream_and_outsiders_are_refused(session, alice, bob, dave):
    for user, code in ((None, 4401), (bob, 4404), (dave, 4404)):
        ws = await database_sync_to_async(viewer)(session.pk, user)
        await ws.connect()
        out = await ws.receive_output(timeout=5)
        assert (out["type"], out.get("code")) == ("websocket.close", code)
        await ws.disconnect()
    watch = await database_sync_to_async(viewer)(session.pk, alice)
    connected, _ = await watch.connect()
    assert connected
    snapshot = json.loads(await watch.receive_from(timeout=5))
    assert snapshot["type"] == "state"
    assert snapshot["device"] is False
    ws = device(session.pk, await token_for(session, alice))
    await start(ws)
    await send_frames(ws, signal(FRAME * 10))
    kinds = set()
    while "frame" not in kinds:
        message = json.loads(await watch.receive_from(timeout=10))
        kinds.add(message["type"])
        if message["type"] == "frame":
            assert set(message["signal"]) == set(LABELS)
            assert len(message["signal"]["CH1 Raw"]) == 5  # 50 samples at ~100 Hz
    assert "state" in kinds
    await stop(ws)
    await ws.disconnect()
    await watch.disconnect()


async def test_a_browser_cannot_open_the_live_view_from_another_origin(session, alice):
    ws = WebsocketCommunicator(
        application,
        f"/ws/sessions/{session.pk}/live/",
        [
            (b"origin", b"http://evil.example"),
            (b"cookie", f"sessionid={await database_sync_to_async(login_session)(alice)}".encode()),
        ],
    )
    connected, _ = await ws.connect()
    assert not connected


async def test_a_stalled_viewer_loses_its_oldest_frames_and_is_told_the_gap(
    session, alice, settings
):
    settings.LIVE_VIEWER_WINDOW = 2
    settings.LIVE_VIEWER_QUEUE = 5
    stalled = await database_sync_to_async(viewer)(session.pk, alice)
    await stalled.connect()
    await stalled.receive_from(timeout=5)  # the snapshot
    ws = device(session.pk, await token_for(session, alice))
    await start(ws)
    seq = await send_frames(ws, signal(FRAME * 30))  # 30 frames; the viewer acks none
    stopped = await stop(ws)
    assert stopped["samples"] == FRAME * 30
    assert seq == 30
    got = []
    while len(got) < 2:
        got.append(json.loads(await stalled.receive_from(timeout=5)))
    assert await stalled.receive_nothing(timeout=0.3)  # the window is full: nothing more
    rest = []
    while True:  # the viewer catches up, acknowledging what it gets
        await stalled.send_to(text_data=json.dumps({"type": "ack"}))
        if await stalled.receive_nothing(timeout=0.5):
            break
        while not await stalled.receive_nothing(timeout=0.2):
            rest.append(json.loads(await stalled.receive_from(timeout=1)))
    assert len(rest) <= 5  # the queue kept only the newest
    assert rest[0]["gap"] > 0  # and says how many frames were dropped before them
    assert rest[-1]["type"] in ("stopped", "state")
    await ws.disconnect()
    await stalled.disconnect()


async def test_a_silent_device_is_stopped_at_the_idle_timeout_and_marked_interrupted(
    session, alice, settings
):
    settings.LIVE_IDLE_TIMEOUT_S = 1.0
    ws = device(session.pk, await token_for(session, alice))
    await start(ws)
    await send_frames(ws, signal(FRAME * 4))
    stopped = None
    while stopped is None:
        out = await ws.receive_output(timeout=10)
        if out["type"] == "websocket.close":
            break
        message = json.loads(out["text"])
        if message["type"] == "stopped":
            stopped = message
    assert stopped["interrupted"]
    assert stopped["reason"] == "idle timeout"
    close = await ws.receive_output(timeout=5)
    assert close["code"] == proto.CLOSE_IDLE
    recording = await database_sync_to_async(Recording.objects.get)(pk=stopped["recording"])
    assert recording.interrupted


async def test_the_stop_button_stops_the_device_and_saves_the_recording(session, alice):
    ws = device(session.pk, await token_for(session, alice))
    await start(ws)
    await send_frames(ws, signal(FRAME * 6))
    await ws.receive_nothing(timeout=1)  # the frames are taken in

    def press_stop():
        client = Client()
        client.force_login(alice)
        return client.post(f"/sessions/{session.pk}/live/stop/").status_code

    assert await database_sync_to_async(press_stop)() == 302
    while True:
        message = json.loads(await ws.receive_from(timeout=10))
        if message["type"] == "stopped":
            break
    assert message["samples"] == FRAME * 6
    assert not message["interrupted"]
    assert message["reason"].startswith("stopped by")
    recording = await database_sync_to_async(Recording.objects.get)(pk=message["recording"])
    assert recording.source == Recording.Source.LIVE
    await ws.disconnect()


@pytest.mark.parametrize("ending", ["stop", "drop"])
async def test_an_ended_stream_leaves_no_reference_cycle_behind(session, alice, ending):
    """The device's and the viewer's consumers (with their scope, session, user, tasks and
    analysis) are freed by reference counting as their connections end: the cyclic collector
    is off throughout, so anything left in a cycle would still be alive."""
    gc.collect()
    gc.disable()
    try:
        watch = await database_sync_to_async(viewer)(session.pk, alice)
        await watch.connect()
        await watch.receive_from(timeout=5)  # the snapshot
        ws = device(session.pk, await token_for(session, alice))
        await start(ws)
        await send_frames(ws, signal(FRAME * 25))
        await ws.receive_nothing(timeout=0.5)  # the frames are taken in
        consumers = [
            weakref.ref(o)
            for o in gc.get_objects()
            # type(), not isinstance(): a dead weakref.proxy left by another test would raise
            if issubclass(type(o), (IngestConsumer, LiveViewConsumer))
        ]
        assert len(consumers) == 2
        if ending == "stop":
            await stop(ws)
            await ws.disconnect()
        else:  # a network drop: the stream waits to be resumed
            await ws.disconnect(code=1006)
        await watch.disconnect()
        del watch, ws
        assert [ref() for ref in consumers] == [None, None]
    finally:
        gc.enable()
