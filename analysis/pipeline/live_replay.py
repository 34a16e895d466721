"""A device, in Python: replays samples into the ingest websocket (docs/live-protocol.md).

Used by ``manage.py stream_recording`` (and the demo's "replay a stored recording live"),
the tests and ``bench/live_bench.py``. Paces frames at ``speed`` times real time, resumes
after a dropped connection, and returns once the server has confirmed every sample.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass

import numpy as np
import websockets

from analysis.core import live_protocol as proto

FRAME_S = 0.05
RETRIES = 5


class ReplayRefused(Exception):
    """The server refused the stream (its close code and message)."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code


@dataclass
class ReplayResult:
    samples: int
    recording: int | None
    reconnects: int
    stopped: dict


def ingest_url(base: str, session_id: int) -> str:
    base = base.rstrip("/")
    if base.startswith("http"):
        base = "ws" + base[4:]
    return f"{base}/ws/sessions/{session_id}/ingest/"


async def replay(
    *,
    url: str,
    token: str,
    labels: list[str],
    rate_hz: float,
    samples: np.ndarray,
    speed: float = 1.0,
    units: list[str] | None = None,
    on_progress=None,
    frame_s: float = FRAME_S,
    device: str | None = None,
) -> ReplayResult:
    """Stream ``samples`` ((n, channels) float32) and stop; ReplayRefused on a 4xxx close."""
    samples = np.ascontiguousarray(samples, dtype="<f4")
    hello = {
        "type": "hello",
        "channels": [
            {"label": lab, "unit": unit}
            for lab, unit in zip(labels, units or ["V"] * len(labels), strict=True)
        ],
        "rate_hz": rate_hz,
        "speed": speed,
        "device": device or f"replay-{uuid.uuid4().hex[:12]}",
    }
    step = max(1, round(rate_hz * frame_s))
    reconnects = 0
    started = None
    while True:
        try:
            async with websockets.connect(
                url,
                additional_headers={"Authorization": f"Ingest {token}"},
                max_size=2**22,
                ping_interval=None,
            ) as ws:
                await ws.send(json.dumps(hello))
                ready = await _expect(ws, "ready")
                seq, first = ready["next_sequence"], ready["next_sample"]
                if started is None:
                    started = time.monotonic() - first / (rate_hz * speed)
                while first < samples.shape[0]:
                    due = started + first / (rate_hz * speed)
                    delay = due - time.monotonic()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    block = samples[first : first + step]
                    await ws.send(proto.encode_frame(seq, first, block))
                    seq, first = seq + 1, first + block.shape[0]
                    if on_progress is not None:
                        on_progress(first)
                await ws.send(json.dumps({"type": "stop"}))
                stopped = await _expect(ws, "stopped", timeout=120)
                return ReplayResult(stopped["samples"], stopped["recording"], reconnects, stopped)
        except (TimeoutError, OSError, websockets.ConnectionClosedError) as exc:
            code = getattr(getattr(exc, "rcvd", None), "code", None)
            if code is not None and 4000 <= code < 5000:
                raise ReplayRefused(code, getattr(exc.rcvd, "reason", "") or "refused") from exc
            reconnects += 1
            if reconnects > RETRIES:
                raise
            await asyncio.sleep(min(5.0, 0.5 * reconnects))


async def _expect(ws, kind: str, timeout: float = 30.0) -> dict:
    """The next message of ``kind`` (acks skipped); ReplayRefused on an error message."""
    deadline = time.monotonic() + timeout
    while True:
        raw = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
        if isinstance(raw, bytes):
            continue
        message = json.loads(raw)
        if message.get("type") == "error":
            raise ReplayRefused(message["code"], message["error"])
        if message.get("type") == kind:
            return message
