"""The isolated readers' work, and the small "zygote" process that forks them.

Forking costs in proportion to the parent's mapped memory, which grows with scipy, numba
and more in a Django worker. So the first isolated read starts one small helper
interpreter per process (numpy and the parser only, once) and readers are forks of *that*
helper, never fresh interpreters.

A reader is a long-lived child that parses one file per request, each under its own caps:
before every file its address-space limit (``RLIMIT_AS``) is set to its current size plus
``ReadLimits.max_memory_mb``, and the caller kills it at the request's deadline. It walks
the untrusted structure (header, parameter section, every size and offset checked against
the file; the step that makes other readers allocate gigabytes or loop) and replies with
the validated recording description plus the data layout, as length-prefixed JSON on a
socket. The caller then reads the samples itself within that layout, in cache-sized
chunks of frames, each copied out with one bounded, strided numpy pass
(:func:`~.c3d_read.read_analog`, which checks the file's size against the layout again):
numbers are harmless, and the copy costs less in the caller's warm memory than in a
child, with nothing to ship.

Reusing a warm reader is what keeps isolation cheap (no fork, cold parse and teardown per
file; docs/core.md has the figures). It never outlives trouble: a reader retires after a
refusal it did not expect (memory cap, parser exception), after
:data:`READER_MAX_FILES` files or when it has grown by :data:`READER_MAX_GROWTH_MB`, and
a reader that overruns the time limit is killed. The parser is pure Python with no state
kept between files, so a retired reader takes any leftovers of a hostile file with it.
"""

from __future__ import annotations

import errno
import gc
import json
import os
import resource
import signal
import socket
import struct
import sys

from .c3d_metadata import extract_started_at
from .c3d_read import read_raw
from .config import ReadLimits
from .errors import InvalidRecording
from .recording import build_recording

READER_MAX_FILES = 500
READER_MAX_GROWTH_MB = 64
MAX_MESSAGE_BYTES = 16 << 20
_LENGTH = struct.Struct("<I")


def vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def send_message(sock: socket.socket, payload: dict) -> None:
    data = json.dumps(payload).encode()
    sock.sendall(_LENGTH.pack(len(data)) + data)


def recv_exact(sock: socket.socket, n: int) -> bytes | None:
    """``n`` bytes, or None at EOF (blocking; the reader side has no deadline of its own)."""
    parts, left = [], n
    while left:
        chunk = sock.recv(left)
        if not chunk:
            return None
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def describe(request: dict) -> tuple[dict, bool]:
    """Parse one file's structure under the request's caps: (reply, whether to retire)."""
    limits = ReadLimits.from_dict(request["limits"])
    hard = resource.getrlimit(resource.RLIMIT_AS)[1]
    cap = vm_bytes() + int(limits.max_memory_mb) * 1024 * 1024
    if hard != resource.RLIM_INFINITY:
        cap = min(cap, hard)
    resource.setrlimit(resource.RLIMIT_AS, (cap, hard))
    try:
        raw = read_raw(request["path"], limits=limits, layout_only=True)
        rec = build_recording(
            raw,
            limits=limits,
            channel_map=request["channel_map"],
            filename=os.path.basename(request["path"]),
        )
        head = header_of(rec)
        head["layout"] = raw.layout
        head["volts_factors"] = rec.volts_factors
        return head, False
    except InvalidRecording as exc:
        return {"error": str(exc), "error_type": type(exc).__name__}, False
    except Exception as exc:  # noqa: BLE001 - any parser failure is a refusal
        if isinstance(exc, MemoryError) or getattr(exc, "errno", None) == errno.ENOMEM:
            reason = (
                f"the file needs more than the reader's memory limit of "
                f"{limits.max_memory_mb} MB (corrupt or hostile header)"
            )
        else:
            reason = f"the file could not be parsed ({type(exc).__name__}: {exc})"[:300]
        return {"error": reason}, True
    finally:
        resource.setrlimit(resource.RLIMIT_AS, (hard, hard))


def reader_main(sock: socket.socket) -> None:
    """A reader's loop: request -> reply until EOF or retirement; never returns."""
    code = 0
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        gc.enable()  # the zygote's frozen objects stay out of the collector's walk
        start = vm_bytes()
        for served in range(1, READER_MAX_FILES + 1):
            header = recv_exact(sock, _LENGTH.size)
            if header is None:
                break  # the caller went away or dropped us
            body = recv_exact(sock, _LENGTH.unpack(header)[0])
            if body is None:
                break
            reply, retire = describe(json.loads(body))
            grown = vm_bytes() - start > READER_MAX_GROWTH_MB * 1024 * 1024
            reply["retire"] = retire or grown or served == READER_MAX_FILES
            send_message(sock, reply)
            if reply["retire"]:
                break
    except BaseException:  # noqa: BLE001 - a reader must never unwind into caller code
        code = 1
    finally:
        os._exit(code)


def header_of(rec) -> dict:
    return {
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


def serve(sock: socket.socket) -> None:
    """Zygote loop: one message carrying a reader's socket -> fork a reader -> reply its pid."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # readers are reaped automatically
    # Run the whole reader path once on a tiny bundled game file: lazy imports, caches and
    # Python 3.11's specialised bytecode then exist before the forks, not in every reader.
    warm = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_warm.c3d")
    extract_started_at({}, "Ghostly_Emg_20230321_17-50-17-0881.c3d")
    for _ in range(3):
        try:
            raw = read_raw(warm, layout_only=True)
            rec = build_recording(raw, filename="_warm.c3d")
            json.dumps(header_of(rec))
            ReadLimits.from_dict(ReadLimits().to_dict())
        except (OSError, InvalidRecording):
            break

    # Objects the garbage collector never walks are never written to in the readers, so
    # their pages stay shared instead of being copied on the first collection.
    gc.collect()
    gc.freeze()
    gc.disable()

    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 10, 1)
        except OSError:
            return
        if not msg:
            return  # the caller went away
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        (reader_fd,) = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            reader_main(socket.socket(fileno=reader_fd))
        os.close(reader_fd)
        sock.sendall(pid.to_bytes(4, "little"))


# Run as: python -c BOOT <analysis dir> <fd>. Stub packages skip the __init__ files (the
# host project's ``analysis`` package may import Django), so the helper imports numpy and
# the parser's modules only, never scipy or numba.
BOOT = """
import sys, types, socket
root, fd = sys.argv[1], int(sys.argv[2])
for name, path in (("analysis", root), ("analysis.core", root + "/core")):
    mod = types.ModuleType(name); mod.__path__ = [path]; sys.modules[name] = mod
from analysis.core import _isolate
_isolate.serve(socket.socket(fileno=fd))
"""


def boot_args(fd: int) -> list[str]:
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    return [sys.executable, "-c", BOOT, root, str(fd)]
