"""Runs of equal or flagged samples, numpy only (the isolated reader's modules use it too).

A long scan for rare events is fastest as one vectorised comparison and one
``flatnonzero`` over the changes; compiled loops (:mod:`.kernels`) are kept for recursions
and for work proportional to the events found.
"""

from __future__ import annotations

import numpy as np

_NONE = np.zeros(0, dtype=np.int64)


def runs_of(mask: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) indices of the True runs of ``mask``.

    One comparison of neighbours and one ``flatnonzero``: the changes alternate start,
    end, start, ... once a run that starts at 0 or ends at the last sample is closed.
    """
    if mask.size == 0:
        return _NONE, _NONE
    edges = np.flatnonzero(mask[1:] != mask[:-1]) + 1
    if mask[0]:
        edges = np.concatenate(([0], edges))
    if mask[-1]:
        edges = np.concatenate((edges, [mask.size]))
    return edges[0::2], edges[1::2]


def flat_runs(x: np.ndarray, min_run: int) -> tuple[np.ndarray, np.ndarray]:
    """Start/end (exclusive) of runs of >= ``min_run`` identical consecutive samples."""
    if x.size < min_run or min_run < 2:
        return _NONE, _NONE
    same = x[1:] == x[:-1]
    if np.count_nonzero(same) < min_run - 1:  # the usual case: a living signal
        return _NONE, _NONE
    starts, ends = runs_of(same)  # runs of equal neighbours: samples [s, e] inclusive
    keep = (ends - starts + 1) >= min_run
    return starts[keep], ends[keep] + 1


def level_runs(x: np.ndarray, level, min_run: int) -> tuple[np.ndarray, np.ndarray]:
    """Start/end (exclusive) of runs of >= ``min_run`` samples equal to ``level``."""
    at = x == level
    if np.count_nonzero(at) < min_run:
        return _NONE, _NONE
    starts, ends = runs_of(at)
    keep = (ends - starts) >= min_run
    return starts[keep], ends[keep]
