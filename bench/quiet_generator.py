"""What every load generator here does while it measures: no garbage-collector pauses of its own.

A generator that has set up Django (to seed, or to make sessions and tokens) holds about
250,000 long-lived objects, and one full collection of them stops it for 100-170 ms on these
machines: its event loop (or its threads) read no answer meanwhile, so everything that arrives
then is timed that much late. In ``live_bench.py`` at 50 streams, two such passes in a 20 s
level (127 and 132 ms) were the p99 of device-to-viewer latency. The generator collects once,
then runs its timed part with the collector off (its garbage is short-lived: reference counting
frees it). The servers keep their collector as configured: their pauses are part of what is
measured.
"""

from __future__ import annotations

import contextlib
import gc


@contextlib.contextmanager
def collector_paused():
    """Collect now, then keep this process's cyclic garbage collector off until the end."""
    was_enabled = gc.isenabled()
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
