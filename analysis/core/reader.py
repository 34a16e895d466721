"""``read_recording``: parse an untrusted C3D in a forked, memory- and time-capped child.

The child caps its address space (``RLIMIT_AS``: its size plus ``ReadLimits.max_memory_mb``),
parses and validates, puts the float32 samples in a memfd the caller mmaps (one buffer, no
pickling) and a JSON header on a pipe. The caller waits with a deadline and SIGKILLs a child
that overruns it. Out of memory, out of time or killed by a signal, the file becomes an
:class:`InvalidRecording`; the calling process never sees the crash. Children are forked
from a small helper process (:mod:`._isolate`) so that isolation costs ~2 ms, not the
5-10 ms of forking a process with scipy or Django loaded; if the helper cannot start, the
caller forks directly.
"""

from __future__ import annotations

import json
import mmap
import os
import select
import signal
import socket
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import numpy as np

from . import _isolate
from .c3d_io import read_raw
from .config import ReadLimits
from .errors import InvalidRecording
from .recording import Channel, Recording, build_recording, check_values


def read_in_process(
    path, limits: ReadLimits, channel_map, *, alloc=None, check_samples: bool = True
) -> Recording:
    raw = read_raw(path, limits=limits, alloc=alloc)
    return build_recording(
        raw,
        limits=limits,
        channel_map=channel_map,
        filename=Path(path).name,
        check_samples=check_samples,
    )


class _Zygote:
    """The per-process helper that forks the readers (restarted if it dies or we forked)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen | None = None
        self.owner = 0

    def _start(self) -> None:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self.proc = subprocess.Popen(  # noqa: S603 - our own interpreter and module
                _isolate.boot_args(theirs.fileno()),
                pass_fds=(theirs.fileno(),),
                stdin=subprocess.DEVNULL,
                close_fds=True,
            )
        finally:
            theirs.close()
        self.sock, self.owner = ours, os.getpid()

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.proc is not None and self.owner == os.getpid():
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.sock = self.proc = None

    def spawn(self, request: bytes, fds: list[int]) -> int:
        """Ask the helper to fork a reader; returns its pid (raises OSError if unavailable)."""
        with self.lock:
            if self.sock is None or self.owner != os.getpid():
                if self.owner != os.getpid():
                    self.sock = self.proc = None  # inherited across fork: not ours to use
                self._start()
            for attempt in range(2):
                try:
                    socket.send_fds(self.sock, [request], fds)
                    reply = self.sock.recv(4)
                    if len(reply) == 4:
                        return int.from_bytes(reply, "little")
                    raise OSError("reader helper closed the connection")
                except OSError:
                    self.close()
                    if attempt:
                        raise
                    self._start()
        raise OSError("unreachable")


_ZYGOTE = _Zygote()


def _fork_direct(request: dict, fds: list[int]) -> int:
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        _isolate.child_main(request, *fds)
    return pid


def _read_isolated(path, limits: ReadLimits, channel_map, *, use_helper: bool = True):
    request = {"path": os.path.abspath(path), "limits": limits.to_dict()}
    request["channel_map"] = channel_map
    rfd, wfd = os.pipe()
    dfd = os.memfd_create("c3d-samples", os.MFD_CLOEXEC)
    try:
        try:
            if not use_helper:
                raise OSError("helper disabled")
            pid = _ZYGOTE.spawn(json.dumps(request).encode(), [wfd, dfd])
            helper = True
        except OSError:
            pid, helper = _fork_direct(request, [wfd, dfd]), False
        os.close(wfd)
        wfd = -1
        chunks, timed_out = _read_until_eof(rfd, time.monotonic() + float(limits.timeout_s))
        if timed_out:
            _kill(pid)
        if not helper:
            os.waitpid(pid, 0)
        if timed_out:
            raise InvalidRecording(
                f"reading the file took longer than the limit of {limits.timeout_s:g} s "
                "(corrupt or hostile file)"
            )
        if not chunks:
            raise InvalidRecording(
                "the reader crashed on this file (killed, or over its memory limit of "
                f"{limits.max_memory_mb} MB); it is corrupt or not a valid C3D"
            )
        head = json.loads(b"".join(chunks))
        if "error" in head:
            raise InvalidRecording(head["error"])
        rec = _decode(head, dfd)
        check_values(rec)  # finite samples, clipping: cheap here, in warm memory
        return rec
    finally:
        for fd in (rfd, wfd, dfd):
            if fd >= 0:
                os.close(fd)


def _read_until_eof(fd: int, deadline: float) -> tuple[list[bytes], bool]:
    chunks: list[bytes] = []
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return chunks, True
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            chunk = os.read(fd, 1 << 16)
            if not chunk:
                return chunks, False
            chunks.append(chunk)


def _decode(head: dict, dfd: int) -> Recording:
    n = int(head["n_samples"])
    n_ch = len(head["channels"])
    size = n * n_ch * 4
    if size:
        flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
        buf = mmap.mmap(dfd, size, flags=flags, prot=mmap.PROT_READ)
        data = np.frombuffer(buf, dtype=np.float32).reshape(n_ch, n)
    else:
        data = np.zeros((n_ch, n), dtype=np.float32)
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
    automatic EMG channel selection. A missing file raises ``FileNotFoundError``.
    """
    limits = limits or ReadLimits()
    path = os.fspath(path)
    if not os.path.exists(path) or os.path.isdir(path):
        raise FileNotFoundError(path)
    if channel_map:
        channel_map = {
            str(k): (dict(v) if isinstance(v, dict) else list(v)) for k, v in channel_map.items()
        }
    if isolated:
        return _read_isolated(path, limits, channel_map)
    return read_in_process(path, limits, channel_map)
