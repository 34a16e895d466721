"""``read_recording``: parse an untrusted C3D in a forked, memory- and time-capped child.

Why a fork and not a fresh interpreter: the parent has numpy and this package loaded, so
``os.fork`` starts the child in about a millisecond; a new interpreter would cost ~150 ms
per file. The child caps its address space (``RLIMIT_AS``: its current size plus
``ReadLimits.max_memory_mb``), parses and validates, and writes one message to a pipe: a
JSON header (labels, units, metadata, warnings) followed by the float32 samples as one
bytes buffer (no pickling of lists). The parent waits with a deadline and SIGKILLs a child
that overruns it. A child killed by a signal, out of memory or out of time becomes an
:class:`InvalidRecording`; the calling process never sees the crash.
"""

from __future__ import annotations

import json
import os
import resource
import select
import signal
import struct
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from .c3d_io import read_raw
from .config import ReadLimits
from .errors import InvalidRecording
from .recording import Channel, Recording, build_recording

_HEAD = struct.Struct("<Q")


def _read_in_process(path, limits: ReadLimits, channel_map) -> Recording:
    raw = read_raw(path, limits=limits)
    return build_recording(raw, limits=limits, channel_map=channel_map, filename=Path(path).name)


def _encode(rec: Recording) -> list[bytes]:
    arrays = [np.ascontiguousarray(c.values, dtype=np.float32) for c in rec.channels]
    head = {
        "channels": [
            {
                "label": c.label,
                "unit": c.unit,
                "is_emg": c.is_emg,
                "muscle": c.muscle,
                "side": c.side,
                "activated_label": c.activated_label,
            }
            for c in rec.channels
        ],
        "rate_hz": rec.rate_hz,
        "n_samples": rec.n_samples,
        "duration_s": rec.duration_s,
        "started_at": rec.started_at.isoformat() if rec.started_at else None,
        "metadata": rec.metadata,
        "warnings": rec.warnings,
        "saturation": rec.saturation,
        "source": rec.source,
    }
    blob = json.dumps(head).encode()
    return [_HEAD.pack(len(blob)), blob, *(a.tobytes() for a in arrays)]


def _decode(buf: bytes) -> Recording:
    (n_head,) = _HEAD.unpack_from(buf, 0)
    head = json.loads(buf[_HEAD.size : _HEAD.size + n_head])
    if "error" in head:
        raise InvalidRecording(head["error"])
    data = np.frombuffer(buf, dtype=np.float32, offset=_HEAD.size + n_head)
    n = int(head["n_samples"])
    data = data.reshape(len(head["channels"]), n) if head["channels"] else data
    channels = [Channel(values=data[k], **c) for k, c in enumerate(head["channels"])]
    started = head["started_at"]
    return Recording(
        channels=channels,
        rate_hz=float(head["rate_hz"]),
        n_samples=n,
        duration_s=float(head["duration_s"]),
        started_at=datetime.fromisoformat(started) if started else None,
        metadata=head["metadata"],
        warnings=head["warnings"],
        saturation=head["saturation"],
        source=head["source"],
    )


def _vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _write_all(fd: int, parts: list[bytes]) -> None:
    for part in parts:
        view = memoryview(part)
        while view:
            written = os.write(fd, view)
            view = view[written:]


def _child(fd: int, path, limits: ReadLimits, channel_map) -> None:
    """Runs in the forked child; never returns (``os._exit``)."""
    code = 0
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        cap = _vm_bytes() + int(limits.max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
        try:
            parts = _encode(_read_in_process(path, limits, channel_map))
        except InvalidRecording as exc:
            parts = _error(str(exc))
        except MemoryError:
            parts = _error(
                f"the file needs more than the reader's memory limit of "
                f"{limits.max_memory_mb} MB (corrupt or hostile header)"
            )
        except Exception as exc:  # noqa: BLE001 - any parser failure is a refusal
            parts = _error(f"the file could not be parsed ({type(exc).__name__}: {exc})"[:300])
        _write_all(fd, parts)
    except BaseException:  # noqa: BLE001 - the child must never unwind into the parent's code
        code = 1
    finally:
        os._exit(code)


def _error(reason: str) -> list[bytes]:
    blob = json.dumps({"error": reason}).encode()
    return [_HEAD.pack(len(blob)), blob]


def _read_isolated(path, limits: ReadLimits, channel_map) -> Recording:
    rfd, wfd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        os.close(rfd)
        _child(wfd, path, limits, channel_map)
    os.close(wfd)
    chunks: list[bytes] = []
    deadline = time.monotonic() + float(limits.timeout_s)
    timed_out = False
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([rfd], [], [], left)
            if not ready:
                continue
            chunk = os.read(rfd, 1 << 20)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(rfd)
        if timed_out:
            _kill(pid)
        _, status = os.waitpid(pid, 0)
    if timed_out:
        raise InvalidRecording(
            f"reading the file took longer than the limit of {limits.timeout_s:g} s "
            "(corrupt or hostile file)"
        )
    buf = b"".join(chunks)
    if os.WIFSIGNALED(status) or len(buf) < _HEAD.size:
        sig = os.WTERMSIG(status) if os.WIFSIGNALED(status) else None
        name = signal.Signals(sig).name if sig else f"exit status {os.WEXITSTATUS(status)}"
        raise InvalidRecording(
            f"the reader crashed on this file ({name}); it is corrupt or not a valid C3D"
        )
    return _decode(buf)


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def read_recording(path, *, limits=None, isolated=True, channel_map=None) -> Recording:
    """Read and validate a C3D file; raises :class:`InvalidRecording` with a one-line reason.

    ``isolated=True`` (the default, for every untrusted file) parses in a forked child with
    ``limits.max_memory_mb`` of extra address space and ``limits.timeout_s`` of wall time.
    ``channel_map`` ({label or "CHn": {"muscle", "side"} or (muscle, side)}) overrides the
    automatic EMG channel selection.
    """
    limits = limits or ReadLimits()
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(path)
    if isolated:
        return _read_isolated(path, limits, channel_map)
    return _read_in_process(path, limits, channel_map)
