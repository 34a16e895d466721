"""Run Daphne under cProfile, for ``bench/live_bench.py --profile``.

    python bench/profiled_daphne.py STATS_FILE [daphne arguments ...]

The statistics are written when Daphne stops (SIGTERM or SIGINT). The profiler's clock is
the wall clock (a CPU clock costs a system call per reading on some VMs, which makes the
profile useless), so read the figures of a run on a quiet machine.
"""

from __future__ import annotations

import cProfile
import sys
from pathlib import Path

from daphne.cli import CommandLineInterface

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> None:
    out, args = sys.argv[1], sys.argv[2:]
    profile = cProfile.Profile()
    profile.enable()
    try:
        CommandLineInterface().run(args)
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
