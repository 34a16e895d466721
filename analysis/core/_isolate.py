"""The isolated child's work and the small "zygote" process that forks it.

Forking costs in proportion to the parent's mapped memory: ~1 ms from a process that has
only numpy, ~5 ms once scipy is loaded, more in a Django worker. So the first isolated
read starts one small helper interpreter per process (numpy and the parser only; ~0.1 s,
once) and every file after that is parsed in a fresh fork of *that* helper: a forked
reader per file, not a fresh interpreter per file.

The child walks the untrusted structure (header, parameter section, every size and offset
checked against the file; the step that makes other readers allocate gigabytes or loop)
under the caps and sends back, as JSON on a pipe, the validated recording description
plus the data layout. The caller then copies the samples itself with one bounded, strided
numpy pass over its own read of the file (:func:`~.c3d_io.extract_analog`, which checks
the layout against the bytes again): numbers are harmless, and in the caller's warm
memory the copy costs a fraction of what it costs in a fresh fork, with nothing to ship.
EOF on the pipe without a header means the child died (signal, memory cap).
"""

from __future__ import annotations

import errno
import gc
import json
import os
import resource
import signal
import socket
import sys


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


def child_main(request: dict, result_fd: int) -> None:
    """Parse one file's structure under the caps and report; never returns (``os._exit``)."""
    code = 0
    try:
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        from .c3d_io import read_raw
        from .config import ReadLimits
        from .errors import InvalidRecording
        from .recording import build_recording

        limits = ReadLimits.from_dict(request["limits"])
        cap = vm_bytes() + int(limits.max_memory_mb) * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))

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
    from . import c3d_io, config, errors, recording  # noqa: F401 - imported before the forks

    # Run the whole child path once on a tiny bundled game file: lazy imports, caches and
    # Python 3.11's specialised bytecode then exist before the forks, not in every child.
    warm = os.path.join(os.path.dirname(os.path.abspath(__file__)), "_warm.c3d")
    c3d_io.extract_started_at({}, "Ghostly_Emg_20230321_17-50-17-0881.c3d")
    for _ in range(3):
        try:
            raw = c3d_io.read_raw(warm, layout_only=True)
            rec = recording.build_recording(raw, filename="_warm.c3d")
            json.dumps(header_of(rec))
            config.ReadLimits.from_dict(config.ReadLimits().to_dict())
        except (OSError, errors.InvalidRecording):
            break

    # Objects the garbage collector never walks are never written to in the children, so
    # their pages stay shared instead of being copied on the first collection.
    gc.collect()
    gc.freeze()
    gc.disable()

    while True:
        try:
            msg, fds, _, _ = socket.recv_fds(sock, 1 << 20, 1)
        except OSError:
            return
        if not msg:
            return  # the caller went away
        if len(fds) != 1:
            for fd in fds:
                os.close(fd)
            continue
        (result_fd,) = fds
        pid = os.fork()
        if pid == 0:
            sock.close()
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            child_main(json.loads(msg), result_fd)
        os.close(result_fd)
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
