"""Keep large numpy temporaries on the heap instead of fresh mmap()s (glibc only).

An analysis allocates a few dozen arrays of 1-5 MB. With glibc's defaults each one above
the (dynamic) mmap threshold is a fresh ``mmap`` whose pages fault in one by one and are
returned on free, so page faults took a large share of the analysis time (docs/core.md
has the measurement). Raising the mmap and trim thresholds lets freed blocks be reused
instead. The cost is that the process keeps its peak heap (tens of MB for typical
recordings) rather than returning it to the system. Set ``MYOCLINIC_CORE_MALLOPT=0`` to
leave the allocator alone.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
_done = False


def tune_allocator(*, mmap_threshold: int = 256 << 20, trim_threshold: int = 512 << 20) -> bool:
    """Apply the thresholds once per process; returns whether glibc accepted them."""
    global _done
    if _done or os.environ.get("MYOCLINIC_CORE_MALLOPT", "1") == "0":
        return False
    _done = True
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False  # not glibc: nothing to tune
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    ok = mallopt(M_MMAP_THRESHOLD, min(mmap_threshold, 2**31 - 1)) == 1
    return ok and mallopt(M_TRIM_THRESHOLD, min(trim_threshold, 2**31 - 1)) == 1
