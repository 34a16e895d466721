"""The isolated child's work and the small "zygote" process that forks it.

Forking costs in proportion to the parent's mapped memory: ~1 ms from a process that has
only numpy, ~5 ms once scipy is loaded, more in a Django worker. So the first isolated
read starts one small helper interpreter per process (numpy and the parser only; ~0.1 s,
once) and every file after that is parsed in a fresh fork of *that* helper: a forked
reader per file, not a fresh interpreter per file.

The parser writes the float32 samples straight into a memfd the caller created and mmaps
(written once, never copied or pickled; the mapping is pre-faulted with MAP_POPULATE, since
page faults in a fresh fork otherwise cost more than the parsing) and a small JSON header
goes to a pipe; EOF on the pipe without a header means the
child died (signal, memory cap).
"""

from __future__ import annotations

import errno
import gc
import json
import mmap
import os
import resource
import signal
import socket
import sys

import numpy as np


def vm_bytes() -> int:
    try:
        with open("/proc/self/statm") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError):
        return 0


def _write_all(fd: int, data) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def child_main(request: dict, result_fd: int, data_fd: int) -> None:
    """Parse one file under the caps and report; never returns (``os._exit``)."""
    code = 0
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        from .config import ReadLimits
        from .errors import InvalidRecording
        from .reader import read_in_process

        limits = ReadLimits.from_dict(request["limits"])
        cap = vm_bytes() + int(limits.max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

        def alloc(n_channels: int, n_samples: int) -> np.ndarray:
            size = max(n_channels * n_samples * 4, 1)
            os.ftruncate(data_fd, size)
            flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
            buf = mmap.mmap(data_fd, size, flags=flags)
            return np.frombuffer(buf, np.float32, n_channels * n_samples).reshape(
                n_channels, n_samples
            )

        try:
            rec = read_in_process(
                request["path"], limits, request["channel_map"], alloc=alloc, check_samples=False
            )
            head = header_of(rec)
        except InvalidRecording as exc:
            head = {"error": str(exc)}
        except Exception as exc:  # noqa: BLE001 - any parser failure is a refusal
            if isinstance(exc, MemoryError) or getattr(exc, "errno", None) == errno.ENOMEM:
                reason = (
                    f"the file needs more than the reader's memory limit of "
                    f"{limits.max_memory_mb} MB (corrupt or hostile header)"
                )
            else:
                reason = f"the file could not be parsed ({type(exc).__name__}: {exc})"[:300]
            head = {"error": reason}
        _write_all(result_fd, json.dumps(head).encode())
        os.close(result_fd)  # EOF now, not after the (slower) process teardown
    except BaseException:  # noqa: BLE001 - the child must never unwind into caller code
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
    """Zygote loop: one request (JSON + result pipe + memfd) -> fork -> reply the child pid."""
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # children are reaped automatically
    from . import config, errors, reader  # noqa: F401 - imported once, before the forks

    # Objects the garbage collector never walks are never written to in the children, so
    # their pages stay shared instead of being copied on the first collection.
    gc.collect()
    gc.freeze()
    gc.disable()

    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 2)
        except OSError:
            return
        if not msg:
            return  # the caller went away
        if len(fds) != 2:
            for fd in fds:
                os.close(fd)
            continue
        result_fd, data_fd = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child_main(json.loads(msg), result_fd, data_fd)
        os.close(result_fd)
        os.close(data_fd)
        sock.sendall(pid.to_bytes(4, "little"))


# Run as: python -c BOOT <analysis dir> <fd>. Stub packages skip the __init__ files, so
# the helper imports numpy and the parser, never scipy (or Django in a host project).
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
