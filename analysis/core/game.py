"""The game's registered contractions and their agreement with ours.

The game (GHOSTLY) writes its gated envelope as ``CHn activated``: exactly 0 below its
threshold. Counting every run of non-zero samples counts flicker (a 64 s round gave 121
"contractions"), so the game's contractions are counted by the rule the GHOSTLY analyzer
documents: runs of ``activated > 0``, runs separated by less than ``game_merge_gap_s``
(250 ms) merged, runs shorter than ``game_min_duration_s`` (100 ms) dropped.

The ``activated`` channel is never an input to our detection: it is only compared with it
afterwards (:func:`agreement`).
"""

from __future__ import annotations

import numpy as np

from .runs import runs_of


def game_runs(
    activated: np.ndarray, rate_hz: float, *, merge_gap_s: float = 0.25, min_duration_s: float = 0.1
) -> tuple[np.ndarray, np.ndarray]:
    """Start (inclusive) and end (exclusive) sample indices of the game's contractions."""
    starts, ends = runs_of(np.asarray(activated) > 0)
    if not starts.size:
        return starts, ends
    gap = merge_gap_s * rate_hz
    keep_start = np.concatenate(([True], (starts[1:] - ends[:-1]) >= gap))
    keep_end = np.concatenate(((starts[1:] - ends[:-1]) >= gap, [True]))
    starts, ends = starts[keep_start], ends[keep_end]
    long_enough = (ends - starts) >= min_duration_s * rate_hz
    return starts[long_enough], ends[long_enough]


def game_contractions(activated: np.ndarray, rate_hz: float, **rule) -> list[dict]:
    """The game's contractions (:func:`game_runs`) as ``{start_s, end_s, duration_s}``."""
    starts, ends = game_runs(activated, rate_hz, **rule)
    return [
        {"start_s": s / rate_hz, "end_s": e / rate_hz, "duration_s": (e - s) / rate_hz}
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _overlap(a: dict, b: dict) -> float:
    return min(a["end_s"], b["end_s"]) - max(a["start_s"], b["start_s"])


def agreement(ours: list[dict], game: list[dict]) -> tuple[dict, list[int | None]]:
    """Agreement between our contractions and the game's, and each of ours' match.

    ``matched``: one-to-one pairs that overlap in time (largest overlaps first);
    ``only_ours``/``only_game``: the unmatched ones of each; ``spanning``: ours that overlap
    two or more of the game's (which the game's rule separates by >= 250 ms of rest).
    Returns the counts and, per contraction of ours, the index of its game contraction or
    None. A few dozen items per channel: plain Python.
    """
    pairs = sorted(
        ((_overlap(o, g), i, j) for i, o in enumerate(ours) for j, g in enumerate(game)),
        reverse=True,
    )
    match: list[int | None] = [None] * len(ours)
    taken: set[int] = set()
    for ov, i, j in pairs:
        if ov <= 0:
            break
        if match[i] is None and j not in taken:
            match[i] = j
            taken.add(j)
    spanning = sum(1 for o in ours if sum(1 for g in game if _overlap(o, g) > 0) >= 2)
    counts = {
        "matched": len(taken),
        "only_ours": sum(1 for m in match if m is None),
        "only_game": len(game) - len(taken),
        "spanning": spanning,
    }
    return counts, match
