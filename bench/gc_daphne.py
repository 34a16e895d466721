"""Run Daphne with a log of its garbage collections, for ``bench/live_bench.py --gc-log``.

    python bench/gc_daphne.py LOG_FILE [daphne arguments ...]

Every collection of the process is appended to LOG_FILE as one line of JSON as it ends:
``{"t": seconds since start (monotonic clock, as the bench's), "gen": 0|1|2, "ms": its wall
time, "collected": unreachable objects freed, "tracked": objects in generation 2 after a full
pass (the frozen ones excluded)}``. Generation 0/1 passes are summed per second instead of
one line each (``{"t": ..., "gen": 0, "n": ..., "ms": ...}``), so the log stays small. The
bench reads the lines of each level's time span with ``collections_between`` (``gc_full_n``,
``gc_full_ms_max`` ...).
"""

from __future__ import annotations

import gc
import json
import sys
import time
from pathlib import Path

from daphne.cli import CommandLineInterface

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


class CollectionLog:
    def __init__(self, path: str) -> None:
        self.out = open(path, "a", buffering=1)  # noqa: SIM115 - lives as long as the process
        self.started = 0.0
        self.young = {"second": None, "n": 0, "ms": 0.0}

    def __call__(self, phase: str, info: dict) -> None:
        now = time.monotonic()
        if phase == "start":
            self.started = now
            return
        ms = (now - self.started) * 1000
        if info["generation"] < 2:
            second = int(now)
            if self.young["second"] not in (None, second):
                self.flush_young()
            self.young["second"] = second
            self.young["n"] += 1
            self.young["ms"] += ms
            return
        line = {
            "t": round(now, 3),
            "gen": 2,
            "ms": round(ms, 2),
            "collected": info["collected"],
            "tracked": len(gc.get_objects(2)),
        }
        self.out.write(json.dumps(line) + "\n")

    def flush_young(self) -> None:
        if self.young["n"]:
            line = {
                "t": self.young["second"],
                "gen": 0,
                "n": self.young["n"],
                "ms": round(self.young["ms"], 2),
            }
            self.out.write(json.dumps(line) + "\n")
        self.young = {"second": None, "n": 0, "ms": 0.0}


def collections_between(path: str, start: float, end: float) -> dict:
    """The server's garbage collections from ``start`` to ``end`` (monotonic clock), from
    bench/gc_daphne.py's log: full passes (count, total and longest pause, most objects
    walked) and young ones (count, total time)."""
    full, young_n, young_ms = [], 0, 0.0
    for raw in Path(path).read_text().splitlines():
        line = json.loads(raw)
        if not start <= line["t"] <= end:
            continue
        if line["gen"] == 2:
            full.append(line)
        else:
            young_n += line["n"]
            young_ms += line["ms"]
    return {
        "gc_full_n": len(full),
        "gc_full_ms_total": round(sum(x["ms"] for x in full), 1),
        "gc_full_ms_max": round(max((x["ms"] for x in full), default=0.0), 1),
        "gc_full_objects_max": max((x["tracked"] + x["collected"] for x in full), default=0),
        "gc_young_n": young_n,
        "gc_young_ms_total": round(young_ms, 1),
    }


def main() -> None:
    log, args = CollectionLog(sys.argv[1]), sys.argv[2:]
    gc.callbacks.append(log)
    try:
        CommandLineInterface().run(args)
    finally:
        log.flush_young()


if __name__ == "__main__":
    main()
