"""``read_recording``: parse an untrusted C3D in a memory- and time-capped child process.

A reader child (:mod:`._isolate`) caps its address space for each file (``RLIMIT_AS``: its
size plus ``ReadLimits.max_memory_mb``), walks the file's structure and validates it, and
returns the recording's description and data layout as JSON on a socket; the caller waits
with a deadline and SIGKILLs a reader that overruns it, then copies the samples from its
own read of the file within the validated layout. Out of memory, out of time or killed by
a signal, the file becomes an :class:`InvalidRecording`; the calling process never sees
the crash. A refusal keeps its type across the socket (a
:class:`~.errors.ChannelMapMismatch` in the child is one in the caller). Readers are forked
from a small helper process and reused while they stay healthy, so isolation costs a socket
round trip rather than a fork and a cold start; if the helper cannot start, the caller
forks its readers directly.
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
from .c3d_read import read_analog, read_raw
from .config import ReadLimits
from .errors import BY_NAME, InvalidRecording
from .recording import Channel, Recording, attach_samples, build_recording, check_values


def read_in_process(path, limits: ReadLimits, channel_map) -> Recording:
    """The whole read in the calling process (trusted files, tests, the benchmark)."""
    raw = read_raw(path, limits=limits)
    return build_recording(raw, limits=limits, channel_map=channel_map, filename=Path(path).name)


class _Zygote:
    """The per-process helper that forks the readers (restarted if it dies)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.sock: socket.socket | None = None
        self.proc: subprocess.Popen | None = None

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
        self.sock = ours

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
        if self.proc is not None:
            try:
                self.proc.wait(timeout=1)
            except subprocess.TimeoutExpired:
                self.proc.kill()
        self.sock = self.proc = None

    def forget(self) -> None:
        """In a forked child: the parent's helper is not ours to use (or to wait for)."""
        self.lock = threading.Lock()
        if self.sock is not None:
            self.sock.close()
        self.sock = self.proc = None

    def spawn(self, reader_fd: int) -> int:
        """Ask the helper to fork a reader on ``reader_fd``; its pid (OSError if unavailable)."""
        with self.lock:
            if self.sock is None:
                self._start()
            for attempt in range(2):
                try:
                    socket.send_fds(self.sock, [b"reader"], [reader_fd])
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


class _Overrun(Exception):
    """The reader did not answer before the deadline."""


class _Reader:
    """One reader child and the caller's end of its socket."""

    def __init__(self, sock: socket.socket, pid: int, *, direct: bool) -> None:
        self.sock, self.pid, self.direct, self.served = sock, pid, direct, 0

    def idle_and_alive(self) -> bool:
        # an idle reader sends nothing, so a readable socket means EOF: it has died
        return not select.select([self.sock], [], [], 0)[0]

    def ask(self, request: dict, deadline: float) -> dict | None:
        """The reader's reply to ``request``; None if it died; _Overrun past the deadline."""
        _isolate.send_message(self.sock, request)
        header = self._recv(4, deadline)
        if header is None:
            return None
        size = int.from_bytes(header, "little")
        if size > _isolate.MAX_MESSAGE_BYTES:
            return None
        body = self._recv(size, deadline)
        return None if body is None else json.loads(body)

    def _recv(self, n: int, deadline: float) -> bytes | None:
        parts, left = [], n
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0 or not select.select([self.sock], [], [], wait)[0]:
                raise _Overrun
            chunk = self.sock.recv(left)
            if not chunk:
                return None
            parts.append(chunk)
            left -= len(chunk)
        return b"".join(parts)

    def close(self, *, kill: bool = False) -> None:
        if kill:
            _kill(self.pid)
        self.sock.close()  # a live reader exits at EOF
        if self.direct:
            os.waitpid(self.pid, 0)


class _Readers:
    """The calling process's reader children: reused while healthy, a new one when busy."""

    MAX_IDLE = 2

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Reader] = []
        self.zygote = _Zygote()

    def acquire(self) -> _Reader:
        with self.lock:
            while self.idle:
                reader = self.idle.pop()
                if reader.idle_and_alive():
                    return reader
                reader.close(kill=True)
        return self._spawn()

    def release(self, reader: _Reader) -> None:
        with self.lock:
            if len(self.idle) < self.MAX_IDLE:
                self.idle.append(reader)
                return
        reader.close()

    def _spawn(self) -> _Reader:
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            try:
                return _Reader(ours, self.zygote.spawn(theirs.fileno()), direct=False)
            except OSError:
                pid = os.fork()
                if pid == 0:  # pragma: no cover - child
                    ours.close()
                    _isolate.reader_main(theirs)
                return _Reader(ours, pid, direct=True)
        finally:
            theirs.close()

    def forget(self) -> None:
        """After a fork, in the child: drop the parent's readers and helper without using them."""
        self.lock = threading.Lock()
        for reader in self.idle:
            reader.sock.close()
        self.idle = []
        self.zygote.forget()


_READERS = _Readers()
os.register_at_fork(after_in_child=_READERS.forget)


def _ask_a_reader(request: dict, limits: ReadLimits) -> dict:
    for attempt in range(2):
        reader = _READERS.acquire()
        reused = reader.served > 0
        try:
            head = reader.ask(request, time.monotonic() + float(limits.timeout_s))
        except _Overrun:
            reader.close(kill=True)
            raise InvalidRecording(
                f"reading the file took longer than the limit of {limits.timeout_s:g} s "
                "(corrupt or hostile file)"
            ) from None
        except OSError:
            head = None  # it died before it could take the request
        if head is None:
            reader.close(kill=True)
            if reused and not attempt:
                continue  # it may have died while idle: ask a new one before blaming the file
            raise InvalidRecording(
                "the reader crashed on this file (killed, or over its memory limit of "
                f"{limits.max_memory_mb} MB); it is corrupt or not a valid C3D"
            )
        reader.served += 1
        if head.pop("retire", True):
            reader.close()
        else:
            _READERS.release(reader)
        return head
    raise AssertionError("unreachable")


def _read_isolated(path, limits: ReadLimits, channel_map) -> Recording:
    request = {"path": os.path.abspath(path), "limits": limits.to_dict()}
    request["channel_map"] = channel_map
    head = _ask_a_reader(request, limits)
    if "error" in head:
        raise BY_NAME.get(head.get("error_type"), InvalidRecording)(head["error"])
    rec = _decode(head)
    try:
        analog = read_analog(path, head["layout"])
    except OSError as exc:
        raise InvalidRecording(f"cannot read file: {exc.strerror or exc}") from None
    attach_samples(rec, analog, head["volts_factors"])
    check_values(rec)  # here, not in the child: numbers are harmless
    return rec


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
    """Read and validate a C3D file; raises :class:`InvalidRecording` with a one-line reason
    (:class:`~.errors.ChannelMapMismatch` when ``channel_map`` does not fit the file).

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
