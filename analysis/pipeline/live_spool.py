"""The spool of a live stream: its accepted frames on disk, as received, beside its hello.

``<LIVE_SPOOL_DIR>/session-<id>/stream.frames`` holds the frames (the vendor protocol's bytes,
docs/live-protocol.md), ``stream.json`` the hello, who streams and when it started. The spool
outlives the connection: a device that reconnects resumes it, and whoever stops the stream
turns it into a recording (:func:`analysis.pipeline.live.stream_stop`).
"""

from __future__ import annotations

import contextlib
import json
import os
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings

from analysis.core.live_protocol import CLOSE_MISMATCH, Hello, ProtocolError, read_spool


def spool_root() -> Path:
    return Path(settings.LIVE_SPOOL_DIR)


class Spool:
    """The open stream of one session on disk: frames gathered in memory, written and
    synced once a second (``LIVE_SYNC_EVERY_S``): a crash loses at most that last second,
    and the device's ``ack`` only ever covers what is on disk."""

    def __init__(self, folder: Path, meta: dict, fd: int, next_sequence: int, next_sample: int):
        self.folder = folder
        self.meta = meta
        self.fd = fd
        self.next_sequence = next_sequence
        self.next_sample = next_sample
        self.synced_at = time.monotonic()
        self.pending: list[bytes] = []  # accepted frames not written yet

    @property
    def hello(self) -> Hello:
        h = self.meta["hello"]
        return Hello(
            tuple(h["labels"]),
            float(h["rate_hz"]),
            tuple(h["units"]),
            h["speed"],
            h.get("device", ""),
            tuple(h.get("ranges") or ()),
        )

    @classmethod
    def open(cls, *, session_id: int, hello: Hello, user_id: int) -> tuple[Spool, bool]:
        """The session's stream: resumed when one is open (same channels and rate, else
        ProtocolError 4415), new otherwise. Returns (spool, resumed)."""
        folder = spool_root() / f"session-{session_id}"
        meta_path, frames_path = folder / "stream.json", folder / "stream.frames"
        resumed = meta_path.exists()
        if resumed:
            meta = json.loads(meta_path.read_text())
            old = meta["hello"]
            before = Hello(tuple(old["labels"]), float(old["rate_hz"]), tuple(old["units"]))
            if not before.same_stream(hello):
                raise ProtocolError(
                    CLOSE_MISMATCH,
                    "this session's open stream has other channels, rate or units "
                    f"({', '.join(before.labels)} at {before.rate_hz:g} Hz): resume it with "
                    "the same hello, or stop it first",
                )
            data = frames_path.read_bytes() if frames_path.exists() else b""
            samples, next_sequence, used = read_spool(data, len(hello.labels))
            fd = os.open(frames_path, os.O_WRONLY | os.O_CREAT, 0o600)
            os.ftruncate(fd, used)  # a frame cut short by a crash is not the stream's
            os.lseek(fd, used, os.SEEK_SET)
            meta["hello"]["speed"] = hello.speed
            return cls(folder, meta, fd, next_sequence, samples.shape[0]), True
        folder.mkdir(parents=True, exist_ok=True)
        meta = {
            "session_id": session_id,
            "user_id": user_id,
            "stream": uuid.uuid4().hex,
            "started_at": datetime.now(UTC).isoformat(),
            "hello": hello.as_json(),
        }
        tmp = folder / "stream.json.tmp"
        tmp.write_text(json.dumps(meta))
        fd = os.open(frames_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.replace(tmp, meta_path)
        return cls(folder, meta, fd, 0, 0), False

    def append(self, frame_bytes: bytes, n_samples: int) -> bool:
        """Keep one accepted frame; True when a sync is due (once a second)."""
        self.pending.append(frame_bytes)
        self.next_sequence += 1
        self.next_sample += n_samples
        return time.monotonic() - self.synced_at >= settings.LIVE_SYNC_EVERY_S

    def take(self) -> bytes:
        """The frames kept since the last sync (handed to :meth:`sync`, maybe in a thread)."""
        data, self.pending = b"".join(self.pending), []
        self.synced_at = time.monotonic()
        return data

    def sync(self, data: bytes) -> None:
        """Write ``data`` (from :meth:`take`) and fsync: one write and one fsync a second."""
        with contextlib.suppress(OSError):
            view = memoryview(data)
            while view:
                view = view[os.write(self.fd, view) :]
            os.fsync(self.fd)

    def close(self) -> None:
        """Write what is left, sync and close (again: nothing)."""
        if self.fd < 0:
            return
        self.sync(self.take())
        with contextlib.suppress(OSError):
            os.close(self.fd)
        self.fd = -1


def spool_save_alerts(session_id: int, alerts: list) -> None:
    """Keep the stream's alerts beside its spool (for a resume, or the sweeper's stop)."""
    meta_path = spool_root() / f"session-{session_id}" / "stream.json"
    with contextlib.suppress(FileNotFoundError):
        meta = json.loads(meta_path.read_text())
        meta["alerts"] = alerts
        tmp = meta_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(meta))
        os.replace(tmp, meta_path)


def open_streams() -> list[int]:
    """Sessions with a stream on disk."""
    root = spool_root()
    if not root.exists():
        return []
    return sorted(
        int(p.name.split("-", 1)[1]) for p in root.glob("session-*") if (p / "stream.json").exists()
    )
