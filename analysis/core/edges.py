"""Onsets and offsets where activity leaves and returns to its baseline.

A threshold crossing of a smoothed envelope is late at the onset and early at the offset
by the time the burst needs to rise to (or fall from) the threshold: 15-30 ms on 100 ms
ramps, far more on slow ones. After the detector has found a contraction (double threshold
with hysteresis, Bonato et al. 1998), its edges are moved to where the activity actually
starts and ends by backtracking from the crossing, as in Hodges & Bui (1996) (onset =
where a short-window mean first exceeds the baseline by h standard deviations) and in the
backward search of Solnik et al. (2010), Lidierth (1986):

* baseline: the median of the short (``onset_window_s`` = 40 ms) RMS envelope over
  ``[crossing - edge_baseline_s, crossing - edge_guard_s]`` (clamped after the previous
  contraction; never under half the noise floor): the level of the rest or tonic activity
  just before this contraction, not the channel's quietest blocks;
* level: the baseline + ``edge_sd_factor`` (2) robust SD (1.4826 x MAD), at most
  ``edge_baseline_factor`` (1.5) x baseline, at least ``edge_crossing_ratio`` (0.2) x
  the crossing's own level (on strong, clean signals a level at the noise is reached by
  the centred short window's leading edge, up to half a window early), never above the
  crossing's level;
* onset: walking back from the crossing, the first sample after the last one at or below
  the level (at most ``edge_search_s`` back, never before the previous contraction's end);
* offset, symmetrically: walking forward from the end crossing, the first sample at or
  below the higher of that level and the one of the baseline after the end (the same
  window mirrored), at most ``edge_search_s``, never past the next contraction's start;
  the higher level keeps a burst that falls back to tonic activity from running on.

The batch path computes the short envelope from the cumulative sum of squares
(:func:`short_rms`); the live path reads the same values from its history.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .config import AnalysisConfig
from .kernels import _JIT, _rms_at


def short_rms(csq: np.ndarray, n: int, width: int, a: int, b: int) -> np.ndarray:
    """The centred ``width``-sample moving RMS at samples ``a .. b-1`` (as
    :func:`.kernels.rms_on_grid` computes it at every sample)."""
    i = np.arange(max(a, 0), min(b, n))
    lo = np.maximum(i - width // 2, 0)
    hi = np.minimum(i - width // 2 + width, n)
    return np.sqrt(np.maximum(csq[hi] - csq[lo], 0.0) / (hi - lo))


def baseline_level(before: np.ndarray, noise_v: float, cap: float, cfg: AnalysisConfig) -> float:
    """The level (volts) that counts as back at baseline (see the module docstring)."""
    if before.size < 8:
        return min(cfg.edge_baseline_factor * noise_v, cap)
    base = float(np.median(before))
    spread = 1.4826 * float(np.median(np.abs(before - base)))  # a robust SD
    level = min(base + cfg.edge_sd_factor * spread, cfg.edge_baseline_factor * base)
    return min(max(level, 0.5 * noise_v), cap)


def walk_back(short: np.ndarray, level: float) -> int:
    """Index in ``short`` (which ends at the crossing) where the activity starts: one past
    the last value at or below ``level``; 0 when none is."""
    below = np.flatnonzero(short <= level)
    return int(below[-1]) + 1 if below.size else 0


def walk_forward(short: np.ndarray, level: float) -> int:
    """Index in ``short`` (which starts at the end crossing) of the first value at or below
    ``level``; ``short.size`` when none is."""
    below = np.flatnonzero(short <= level)
    return int(below[0]) if below.size else short.size


@njit(**_JIT)
def _level(csq, n, ws, a, b, noise, factor, sd_factor, cap):
    """:func:`baseline_level` over the short envelope at samples [a, b)."""
    a, b = max(a, 0), min(b, n)
    if b - a < 8:
        return min(factor * noise, cap)
    values = np.empty(b - a)
    for i in range(a, b):
        values[i - a] = _rms_at(csq, n, ws, i)
    base = np.median(values)
    spread = 1.4826 * np.median(np.abs(values - base))
    level = min(base + sd_factor * spread, factor * base)
    return min(max(level, 0.5 * noise), cap)


@njit(**_JIT)
def _extend(
    csq, n, ws, onset, end, bounds_hi, search, span, guard, noise, factor, sd_factor, ratio
):
    """The walks of :func:`extend_edges`, compiled (a few hundred samples per edge)."""
    new_on = onset.copy()
    new_end = end.copy()
    prev_end = 0
    for r in range(onset.size):
        o, e = onset[r], end[r]
        cap = _rms_at(csq, n, ws, o - 1) if 0 < o <= n else 0.0
        level = _level(
            csq, n, ws, max(o - guard - span, prev_end), o - guard, noise, factor, sd_factor, cap
        )
        level = max(level, ratio * cap)
        lo = max(o - search, prev_end, 0)
        on = lo
        for i in range(min(o, n - 1), lo - 1, -1):
            if _rms_at(csq, n, ws, i) <= level:
                on = i + 1
                break
        new_on[r] = min(on, o)
        bound = bounds_hi[r]
        if min(e + guard + span, bound) - (e + guard) > 0:
            after = _level(
                csq,
                n,
                ws,
                e + guard,
                min(e + guard + span, bound),
                noise,
                factor,
                sd_factor,
                np.inf,
            )
            level = max(level, after)
        if 0 <= e < n:
            level = max(level, ratio * _rms_at(csq, n, ws, e))
        hi = min(e + search, bound, n)
        stop = e
        if hi > e:
            stop = hi
            for i in range(e, hi):
                if _rms_at(csq, n, ws, i) <= level:
                    stop = i
                    break
        new_end[r] = stop
        prev_end = stop
    return new_on, new_end


def extend_edges(onset, end, bounds_lo, bounds_hi, csq, n, rate_hz, noise_v, cfg):
    """Batch: every contraction's edges moved out to its baseline.

    ``onset``/``end`` come from the threshold crossings; ``bounds_hi`` is where each
    contraction's end may walk to at most (the next piece or the next rise above OFF:
    the walk never enters a neighbour; ``bounds_lo`` is kept for symmetry of the call).
    Returns new (onset, end) arrays (samples).
    """
    if not cfg.edge_backtrack or not onset.size:
        return onset, end
    return _extend(
        csq,
        int(n),
        max(1, round(cfg.onset_window_s * rate_hz)),
        onset.astype(np.int64),
        end.astype(np.int64),
        np.asarray(bounds_hi, dtype=np.int64),
        round(cfg.edge_search_s * rate_hz),
        round(cfg.edge_baseline_s * rate_hz),
        round(cfg.edge_guard_s * rate_hz),
        float(noise_v),
        float(cfg.edge_baseline_factor),
        float(cfg.edge_sd_factor),
        float(cfg.edge_crossing_ratio),
    )
