"""``read_recording``: parse an untrusted C3D in a forked, memory- and time-capped child.

The child (:mod:`._isolate`) caps its address space (``RLIMIT_AS``: its size plus
``ReadLimits.max_memory_mb``), walks the file's structure and validates it, and returns the
recording's description and data layout as JSON on a pipe; the caller waits with a
deadline and SIGKILLs a child that overruns it, then copies the samples from its own read
of the file within the validated layout. Out of memory, out of time or killed by a signal,
the file becomes an :class:`InvalidRecording`; the calling process never sees the crash.
Children are forked from a small helper process so that isolation costs ~2 ms, not the
5-10 ms of forking a process with scipy or Django loaded; if the helper cannot start, the
caller forks directly.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

from . import _isolate
from .c3d_io import extract_analog, read_raw
from .config import ReadLimits
from .errors import InvalidRecording
from .recording import Channel, Recording, attach_samples, build_recording, check_values


def read_in_process(path, limits: ReadLimits, channel_map) -> Recording:
    raw = read_raw(path, limits=limits)
    return build_recording(raw, limits=limits, channel_map=channel_map, filename=Path(path).name)


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
    try:
        try:
            if not use_helper:
                raise OSError("helper disabled")
            pid = _ZYGOTE.spawn(json.dumps(request).encode(), [wfd])
            helper = True
        except OSError:
            pid, helper = _fork_direct(request, [wfd]), False
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
    finally:
        for fd in (rfd, wfd):
            if fd >= 0:
                os.close(fd)
    rec = _decode(head)
    try:
        with open(path, "rb") as fh:
            buf = fh.read(head["layout"]["file_size"] + 1)
    except OSError as exc:
        raise InvalidRecording(f"cannot read file: {exc.strerror or exc}") from None
    attach_samples(rec, extract_analog(buf, head["layout"]), head["volts_factors"])
    check_values(rec)  # finite samples, clipping
    return rec


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


def _decode(head: dict) -> Recording:
    channels = [Channel(values=None, **c) for c in head["channels"]]
    started = head["started_at"]
    return Recording(
        channels=channels,
        rate_hz=float(head["rate_hz"]),
        n_samples=int(head["n_samples"]),
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
