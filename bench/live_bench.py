"""Live streaming under load: N devices (4 channels at 990 Hz, 50 ms frames, as the game
sends), each watched by 2 viewers, through ONE Daphne process and the Redis channel layer.

    .venv/bin/python bench/live_bench.py [--streams 10 25 50] [--seconds 20] [--stalled]
        [--viewers 2] [--json FILE] [--profile STATS | --gc-log FILE]

It starts its own redis-server (free port) and Daphne (free port) on a throwaway SQLite
database and media folder, creates one session per stream, and runs the devices and viewers
in this process (asyncio, the ``websockets`` client; viewers acknowledge every 10th frame,
as the live page does). Per level it prints: samples recorded (the server's ``stopped``
count / samples sent), viewer frames lost (frames the devices sent that a viewer never got),
device-to-viewer latency p50/p99 (a frame's send to its arrival at a viewer, same clock; and
the p99 of frames sent from 3 s into the level on, once every device has connected and
streams, ``latency_p99_after_3s_ms``), the Daphne process's CPU time (user + system, and the
system part) per second of one stream, so the streams one core carries (a figure that holds
on a busy machine, where the wall-clock ones do not), the same CPU figure over the steady
part only (every device streaming: no connects, stops or recordings, which the first figure
spreads over the level's seconds), and the machine's load average. ``--stalled`` adds, per
level, one viewer that never reads, to show what it costs the others; ``--viewers 0``
measures the ingest alone; ``--profile`` runs Daphne under cProfile
(bench/profiled_daphne.py); ``--gc-log`` runs it with a log of its garbage collections
(bench/gc_daphne.py) and adds, per level, its full collections (count, total and longest
pause, objects walked) and its young ones (count, total). Loopback only; bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from gc_daphne import collections_between
from quiet_generator import collector_paused

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
RATE = 990.0
FRAME = 50  # samples per channel (50.5 ms)
LABELS = ["CH1 Raw", "CH2 Raw", "CH3 Raw", "CH4 Raw"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"nothing listens on {port}")


def cpu_s(pid: int) -> tuple[float, float]:
    """CPU seconds (user, system) a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def setup_django(env: dict) -> None:
    os.environ.update(env)
    import django

    django.setup()


def make_sessions(n: int):
    """n sessions of one patient, a token and a viewer cookie each."""
    import datetime as dt

    from django.contrib.auth.models import Group
    from django.test import Client

    from analysis.pipeline import live
    from clinic.models import Clinic, User
    from clinic.roles import THERAPIST
    from patients.models import Patient
    from sessions.models import TherapySession

    clinic = Clinic.objects.create(name="Bench clinic", code="bench")
    user = User.objects.create_user(email="bench@bench.example", password="x" * 16)
    user.clinic = clinic
    user.save()
    user.groups.add(Group.objects.get(name=THERAPIST))
    patient = Patient.objects.create(
        clinic=clinic,
        code="B001",
        first_name="Bench",
        last_name="Patient",
        mrn="MRN-B001",
        date_of_birth=dt.date(1950, 5, 17),
        sex="F",
    )
    patient.therapists.add(user)
    client = Client()
    client.force_login(user)
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    out = []
    for _ in range(n):
        session = TherapySession.objects.create(patient=patient, therapist=user)
        out.append((session.pk, live.ingest_token_issue(session=session, user=user), cookie))
    return out


async def viewer(base, session_id, cookie, sent, latencies, got, *, stalled=False, ready=None):
    import websockets

    url = f"{base}/ws/sessions/{session_id}/live/"
    async with websockets.connect(
        url, origin=base.replace("ws://", "http://"), additional_headers={"Cookie": cookie}
    ) as ws:
        await ws.recv()  # snapshot
        ready.set()
        if stalled:
            await asyncio.sleep(3600)
        seen = 0
        async for raw in ws:
            now = time.perf_counter()
            message = json.loads(raw)
            if message.get("type") == "frame" and "seq" in message and not message.get("final"):
                t = sent.get(message["seq"])
                if t is not None:
                    latencies.append((t, now - t))
                got.add(message["seq"])
            seen += 1
            if seen % 10 == 0:  # as the live page does (static/js/live.js ACK_EVERY)
                await ws.send('{"type":"ack"}')
            if message.get("type") == "stopped":
                return


async def device(base, session_id, token, seconds, sent, result):
    import websockets

    from analysis.core import live_protocol as proto

    rng = np.random.default_rng(session_id)
    n_frames = int(seconds * RATE / FRAME)
    samples = (rng.standard_normal((n_frames * FRAME, 4)) * 2e-5).astype("<f4")
    async with websockets.connect(
        f"{base}/ws/sessions/{session_id}/ingest/",
        additional_headers={"Authorization": f"Ingest {token}"},
        ping_interval=None,
    ) as ws:
        hello = {"type": "hello", "channels": [{"label": x} for x in LABELS], "rate_hz": RATE}
        await ws.send(json.dumps(hello))
        while json.loads(await ws.recv())["type"] != "ready":
            pass
        start = time.perf_counter() + (session_id % 20) * 0.0025  # spread the phases
        for k in range(n_frames):
            delay = start + k * FRAME / RATE - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            sent[k] = time.perf_counter()
            await ws.send(proto.encode_frame(k, k * FRAME, samples[k * FRAME : (k + 1) * FRAME]))
        await ws.send('{"type":"stop"}')
        while True:
            message = json.loads(await asyncio.wait_for(ws.recv(), 120))
            if message["type"] == "stopped":
                result["recorded"] = message["samples"]
                result["sent"] = samples.shape[0]
                result["frames"] = n_frames
                return


async def steady_cpu(pid, seconds, progress, out):
    """The server's CPU seconds per stream-second it handled while every device streams:
    from 1.5 s after the devices start to 1.5 s before they stop (no connects, stops or
    recordings in it). ``progress()``: the stream-seconds the viewers got so far (what the
    devices sent, without viewers), so a server that falls behind is not flattered."""
    await asyncio.sleep(1.5)
    cpu0, done0 = sum(cpu_s(pid)), progress()
    await asyncio.sleep(max(0.5, seconds - 3.0))
    done = progress() - done0
    out["cpu_per_stream_s"] = (sum(cpu_s(pid)) - cpu0) / done if done > 0 else None


async def level(base, sessions, seconds, stalled, viewers=2, pid=None):
    streams = []
    waits = []
    for session_id, token, cookie in sessions:
        sent, result = {}, {}
        views = []
        for _ in range(viewers):
            lat, got, ready = [], set(), asyncio.Event()
            waits.append(ready)
            views.append((lat, got, viewer(base, session_id, cookie, sent, lat, got, ready=ready)))
        streams.append((session_id, token, sent, result, views))
    tasks = [asyncio.ensure_future(v[2]) for s in streams for v in s[4]]
    stalled_task = None
    if stalled:
        ready = asyncio.Event()
        stalled_task = asyncio.ensure_future(
            viewer(base, sessions[0][0], sessions[0][2], {}, [], set(), stalled=True, ready=ready)
        )
        await ready.wait()
    await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waits)), 60)
    t0 = time.perf_counter()
    steady = {}

    def progress() -> float:
        if viewers:
            frames = sum(len(v[1]) for s in streams for v in s[4]) / viewers
        else:
            frames = sum(len(s[2]) for s in streams)
        return frames * FRAME / RATE

    sampler = asyncio.ensure_future(steady_cpu(pid, seconds, progress, steady)) if pid else None
    await asyncio.gather(*(device(base, s[0], s[1], seconds, s[2], s[3]) for s in streams))
    elapsed = time.perf_counter() - t0
    if tasks:
        await asyncio.wait(tasks, timeout=30)
    for t in tasks:
        t.cancel()
    if stalled_task:
        stalled_task.cancel()
    if sampler is not None:
        await sampler
    sent = sum(s[3].get("sent", 0) for s in streams)
    recorded = sum(s[3].get("recorded", 0) for s in streams)
    expected = sum(s[3].get("frames", 0) * viewers for s in streams)
    received = sum(len(v[1]) for s in streams for v in s[4])
    pairs = np.array([x for s in streams for v in s[4] for x in v[0]]).reshape(-1, 2)
    lat = pairs[:, 1] * 1000
    # frames sent once every device streams (3 s in): the tail without the connect burst
    settled = lat[pairs[:, 0] >= t0 + 3.0]
    return {
        "streams": len(sessions),
        "stalled_viewer": stalled,
        "wall_s": round(elapsed, 1),
        "samples_recorded_pct": round(100 * recorded / sent, 3) if sent else None,
        "viewers_per_stream": viewers,
        "viewer_frames_lost_pct": round(100 * (expected - received) / expected, 3)
        if expected
        else None,
        "latency_p50_ms": round(float(np.percentile(lat, 50)), 1) if lat.size else None,
        "latency_p99_ms": round(float(np.percentile(lat, 99)), 1) if lat.size else None,
        "latency_p99_after_3s_ms": round(float(np.percentile(settled, 99)), 1)
        if settled.size
        else None,
        # the server's CPU per stream-second while streaming only (no connects or stops)
        "steady_cpu_ms_per_stream_s": round(1000 * steady["cpu_per_stream_s"], 1)
        if steady.get("cpu_per_stream_s") is not None
        else None,
    }


def main():
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # still stop what we started
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[10, 25, 50])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--stalled", action="store_true")
    parser.add_argument("--viewers", type=int, default=2, help="viewers per stream (default 2)")
    parser.add_argument("--json", default=None)
    parser.add_argument(
        "--profile", default=None, help="run Daphne under cProfile, its stats to this file"
    )
    parser.add_argument(
        "--gc-log",
        default=None,
        help="log Daphne's garbage collections to this file (bench/gc_daphne.py)",
    )
    args = parser.parse_args()
    if args.profile and args.gc_log:
        parser.error("--profile and --gc-log run Daphne differently: choose one")

    tmp = Path(tempfile.mkdtemp(prefix="live-bench-"))
    redis_port, daphne_port = free_port(), free_port()
    env = {
        "DJANGO_SETTINGS_MODULE": "config.settings.local",
        "DJANGO_DEBUG": "false",
        "DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
        "REDIS_URL": f"redis://127.0.0.1:{redis_port}/0",
        "MEDIA_ROOT": str(tmp / "media"),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "LOG_LEVEL": "WARNING",
    }
    procs = []
    try:
        procs.append(
            subprocess.Popen(
                [
                    shutil.which("redis-server") or "/usr/bin/redis-server",
                    "--port",
                    str(redis_port),
                    "--bind",
                    "127.0.0.1",
                    "--save",
                    "",
                ],
                stdout=subprocess.DEVNULL,
            )
        )
        wait_port(redis_port)
        full_env = {**os.environ, **env}
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v", "0"], cwd=REPO, env=full_env, check=True
        )
        setup_django(env)
        total = sum(args.streams)
        sessions = make_sessions(total + 1)
        log = open(tmp / "daphne.log", "w")  # noqa: SIM115
        procs.append(
            subprocess.Popen(
                [sys.executable]
                + (
                    [str(REPO / "bench" / "profiled_daphne.py"), args.profile]
                    if args.profile
                    else [str(REPO / "bench" / "gc_daphne.py"), args.gc_log]
                    if args.gc_log
                    else ["-m", "daphne"]
                )
                + ["-b", "127.0.0.1", "-p", str(daphne_port)]
                + ["config.asgi:application"],
                cwd=REPO,
                env=full_env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        wait_port(daphne_port)
        base = f"ws://127.0.0.1:{daphne_port}"
        # warm-up (imports, the core's compiled kernels, connections), not reported
        with collector_paused():
            asyncio.run(level(base, sessions[-1:], 3.0, False))
        results = []
        used = 0
        for n in args.streams:
            chunk = sessions[used : used + n]
            used += n
            server_before, client_before = cpu_s(procs[-1].pid), time.process_time()
            started = time.monotonic()
            with collector_paused():
                result = asyncio.run(
                    level(base, chunk, args.seconds, args.stalled, args.viewers, procs[-1].pid)
                )
            user, system = (a - b for a, b in zip(cpu_s(procs[-1].pid), server_before, strict=True))
            server = user + system
            # the server's CPU per second of one stream (2 viewers each), and so how many
            # such streams one core carries at 100 %: the figure that does not depend on
            # what else the machine runs
            per_stream = server / (n * args.seconds)
            result["server_cpu_ms_per_stream_s"] = round(1000 * per_stream, 1)
            result["of_which_system_ms"] = round(1000 * system / (n * args.seconds), 1)
            result["load_avg_1min"] = os.getloadavg()[0]
            result["streams_per_core"] = round(1 / per_stream, 1) if per_stream else None
            result["client_cpu_s"] = round(time.process_time() - client_before, 1)
            if args.gc_log:
                result |= collections_between(args.gc_log, started, time.monotonic())
            results.append(result)
            print(json.dumps(result), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(results, indent=2))
    finally:
        for proc in reversed(procs):
            proc.terminate()
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
