"""The live path end to end: a real Daphne process, the Redis channel layer, a real Celery
worker, ``manage.py stream_recording`` replaying a real GHOSTLY file as a device, and a viewer
on the live websocket."""

import asyncio
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import websockets
from django.core.files import File

from analysis import core
from analysis.core import live_protocol as proto
from analysis.models import RecordingAnalysis
from analysis.pipeline import live
from analysis.pipeline.live_replay import ingest_url, replay
from analysis.tests.support import DaphneProcess, login_session, wait_for
from conftest import shared_c3d_dir
from sessions.models import Recording
from sessions.uploads import recording_upload

pytestmark = [pytest.mark.server, pytest.mark.django_db(transaction=True)]

MANAGE = Path(__file__).resolve().parents[2] / "manage.py"
GHOSTLY = "Ghostly_Emg_20231004_13-18-43-0464.c3d"


def ws_url(daphne, session_id, what):
    return daphne.replace("http://", "ws://") + f"/ws/sessions/{session_id}/{what}/"


async def watch(daphne, session, cookie, messages, *, until="stopped"):
    """A viewer that acknowledges what it gets, until the stream has stopped."""
    async with websockets.connect(
        ws_url(daphne, session.pk, "live"), origin=daphne, additional_headers={"Cookie": cookie}
    ) as ws:
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 60))
            messages.append(message)
            await ws.send('{"type": "ack"}')
            if message["type"] == until:
                return


async def stream(daphne, session, path, server_env, speed):
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(MANAGE),
        "stream_recording",
        str(path),
        "--session",
        str(session.pk),
        "--url",
        daphne.replace("http://", "ws://"),
        "--speed",
        str(speed),
        env=server_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    out, _ = await proc.communicate()
    return proc.returncode, out.decode()


def upload(session, path):
    with open(path, "rb") as handle:
        return recording_upload(session=session, uploaded_file=File(handle, name=path.name))


def done(recording_id):
    status = Recording.objects.get(pk=recording_id).status
    assert status != Recording.Status.FAILED
    return status == Recording.Status.DONE


def test_a_streamed_ghostly_file_is_kept_bit_for_bit_and_live_matches_batch(
    daphne, worker, server_env, session_of, alices_patient, alice
):
    path = shared_c3d_dir() / "ghostly" / GHOSTLY
    # the patient's last analysed round gives the live analysis its baseline
    earlier = upload(session_of(alices_patient), path)
    wait_for(lambda: done(earlier.pk), timeout=120, what="the earlier round's analysis")

    session = session_of(alices_patient)
    cookie = f"sessionid={login_session(alice)}"
    messages = []

    async def run():
        viewer = asyncio.ensure_future(watch(daphne, session, cookie, messages))
        await asyncio.sleep(0.5)
        result = await stream(daphne, session, path, server_env, speed=20)
        await asyncio.wait_for(viewer, 60)
        return result

    code, out = asyncio.run(run())
    assert code == 0, out
    stopped = messages[-1]
    original = core.read_recording(path)
    assert stopped["samples"] == original.n_samples
    live_id = stopped["recording"]
    wait_for(lambda: done(live_id), timeout=120, what="the live recording's analysis")

    # samples in == samples saved, bit for bit
    saved = core.read_recording(Recording.objects.get(pk=live_id).file.path)
    assert saved.labels == original.labels
    for ch in original.channels:
        a = np.asarray(ch.values, dtype="<f4")
        b = np.asarray(saved.channel(ch.label).values, dtype="<f4")
        assert a.tobytes() == b.tobytes(), ch.label

    # the viewer's contraction events match the batch analysis of the saved file
    frames = [m for m in messages if m["type"] == "frame"]
    assert frames
    assert any(m.get("envelope") for m in frames)
    ends = [e for m in frames for e in m["events"] if e["type"] == "contraction_end"]
    batch = RecordingAnalysis.objects.get(recording_id=live_id, is_current=True).document
    assert batch["channels"]
    total = 0
    for ch in batch["channels"]:
        live = [e for e in ends if e["label"] == ch["label"] and not e["discarded"]]
        assert len(live) == len(ch["contractions"]), ch["label"]
        for got, ref in zip(live, ch["contractions"], strict=True):
            assert abs(got["start_s"] - ref["start_s"]) <= 0.030, (ch["label"], ref)
        total += len(live)
    assert total > 0
    counts = frames[-1]["counts"]
    assert sum(c["count"] for c in counts.values()) == total


def test_daphne_refuses_viewers_of_another_therapists_patient(
    daphne, session_of, bobs_patient, alice
):
    session = session_of(bobs_patient)
    cookie = f"sessionid={login_session(alice)}"

    async def refused():
        async with websockets.connect(
            ws_url(daphne, session.pk, "live"),
            origin=daphne,
            additional_headers={"Cookie": cookie},
        ) as ws:
            with pytest.raises(websockets.ConnectionClosed) as closed:
                await asyncio.wait_for(ws.recv(), 10)
            return closed.value.rcvd.code

    assert asyncio.run(refused()) == 4404


def test_a_device_that_drops_resumes_through_daphne(daphne, session_of, alices_patient, alice):
    session = session_of(alices_patient)
    token = live.ingest_token_issue(session=session, user=alice)
    url = ingest_url(daphne, session.pk)
    rng = np.random.default_rng(3)
    samples = (rng.standard_normal((990 * 4, 2)) * 1e-5).astype("<f4")

    async def drop_then_resume():
        async with websockets.connect(
            url, additional_headers={"Authorization": f"Ingest {token}"}
        ) as ws:
            hello = {
                "type": "hello",
                "channels": [{"label": "CH1 Raw"}, {"label": "CH2 Raw"}],
                "rate_hz": 990,
                "speed": 50,
                "device": "tablet-7",
            }
            await ws.send(json.dumps(hello))
            json.loads(await ws.recv())
            for k in range(10):
                await ws.send(proto.encode_frame(k, k * 50, samples[k * 50 : k * 50 + 50]))
            await asyncio.sleep(0.5)
            ws.transport.abort()  # the network drops: no close handshake
        return await replay(
            url=url,
            token=token,
            labels=["CH1 Raw", "CH2 Raw"],
            rate_hz=990,
            samples=samples,
            speed=50,
            device="tablet-7",
        )

    result = asyncio.run(drop_then_resume())
    assert result.samples == samples.shape[0]
    saved = core.read_recording(Recording.objects.get(pk=result.recording).file.path)
    both = np.stack([saved.channel(lab).values for lab in ("CH1 Raw", "CH2 Raw")], axis=1)
    assert both.astype("<f4").tobytes() == samples.tobytes()


def test_a_viewer_on_another_daphne_process_sees_the_device_through_redis(
    daphne, server_env, tmp_path, session_of, alices_patient, alice
):
    second = DaphneProcess(server_env, tmp_path / "daphne-2.log").start()
    try:
        session = session_of(alices_patient)
        token = live.ingest_token_issue(session=session, user=alice)
        cookie = f"sessionid={login_session(alice)}"
        rng = np.random.default_rng(4)
        samples = (rng.standard_normal((990 * 3, 2)) * 1e-5).astype("<f4")
        messages = []

        async def run():
            viewer = asyncio.ensure_future(watch(second.url, session, cookie, messages))
            await asyncio.sleep(0.5)
            result = await replay(
                url=ingest_url(daphne, session.pk),
                token=token,
                labels=["CH1 Raw", "CH2 Raw"],
                rate_hz=990,
                samples=samples,
                speed=10,
            )
            await asyncio.wait_for(viewer, 30)
            return result

        result = asyncio.run(run())
    finally:
        second.stop()
    assert result.samples == samples.shape[0]
    frames = [m for m in messages if m["type"] == "frame" and not m.get("final")]
    assert len(frames) == -(-samples.shape[0] // 50)  # every frame, none lost
    assert messages[-1]["type"] == "stopped"
    assert messages[-1]["recording"] == result.recording
