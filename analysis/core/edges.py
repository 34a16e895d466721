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

* a fine window for steep, clean edges: the centred 40 ms window's leading edge reaches a
  steep burst up to half a window before it starts (~9 ms early on 50 ms ramps at high
  SNR), while a short window has a noisy baseline that makes it late on weak or noisy
  bursts. Both walks are made, the second on an ``edge_fine_window_s`` (15 ms) window with
  its own floor ``edge_fine_crossing_ratio`` (0.1) x its crossing level, and the edge is
  their blend weighted by the contraction's signal-to-baseline ratio: the short
  envelope's peak over ``min_duration_s`` after the onset crossing (before the end
  crossing) over the fine window's baseline level: 0 (the 40 ms edge) at
  ``edge_fine_snr_low`` (13) or under, 1 (the fine edge) at ``edge_fine_snr_high`` (16)
  or over, linear in the logarithm between, and times a rise weight: 1 when the 40 ms
  envelope climbs from the fine onset to half its early peak (or falls from half the late
  peak to the fine end) within ``edge_fine_rise_short_s`` (35 ms), 0 at
  ``edge_fine_rise_long_s`` (55 ms) or more, linear between: the leading-edge lead is a
  steep edge's problem; on rises of 100 ms the 40 ms edge already sits at the support
  and the fine one would be late. The window length of a Hodges & Bui (1996)
  detector trades bias against the baseline's variance as the SNR changes (Staude et al.
  2001, "Onset detection in surface electromyographic signals: a systematic comparison of
  methods"); the choice per contraction follows that trade-off.

The batch path computes the short envelopes from the cumulative sum of squares
(:func:`short_rms`); the live path reads the same values from its histories.
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


def fine_weight(
    peak_v: float, base_v: float, rise: np.ndarray, rate_hz: float, cfg: AnalysisConfig
) -> float:
    """How much of the fine window's edge to take (see the module docstring): ``rise`` is
    the 40 ms envelope from the fine edge inwards (towards the hold)."""
    w = float(_weight(peak_v, base_v, cfg.edge_fine_snr_low, cfg.edge_fine_snr_high))
    if w > 0.0:
        above = np.flatnonzero(rise >= 0.5 * peak_v)
        samples = float(above[0]) if above.size else float(rise.size)
        short, long = cfg.edge_fine_rise_short_s * rate_hz, cfg.edge_fine_rise_long_s * rate_hz
        w *= float(_rise_weight(samples, short, long))
    return w


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
    """:func:`baseline_level` over the short envelope at samples [a, b), and the median."""
    a, b = max(a, 0), min(b, n)
    if b - a < 8:
        return min(factor * noise, cap), noise
    values = np.empty(b - a)
    for i in range(a, b):
        values[i - a] = _rms_at(csq, n, ws, i)
    base = np.median(values)
    spread = 1.4826 * np.median(np.abs(values - base))
    level = min(base + sd_factor * spread, factor * base)
    return min(max(level, 0.5 * noise), cap), base


@njit(**_JIT)
def _peak(csq, n, ws, a, b):
    """The short envelope's maximum at samples [a, b) (0 when empty)."""
    best = 0.0
    for i in range(max(a, 0), min(b, n)):
        v = _rms_at(csq, n, ws, i)
        if v > best:
            best = v
    return best


@njit(**_JIT)
def _weight(peak, base, lo, hi):
    """How much of the fine window's edge to take: 0 at a peak-to-baseline ratio of ``lo``
    or under, 1 at ``hi`` or over, linear in the logarithm between."""
    if hi <= 0.0 or base <= 0.0:
        return 0.0
    if peak <= 0.0:
        return 0.0
    x = (np.log(peak / base) - np.log(lo)) / (np.log(hi) - np.log(lo))
    return min(max(x, 0.0), 1.0)


@njit(**_JIT)
def _rise_weight(rise, short, long):
    """1 for a rise (or fall) of ``short`` samples or less, 0 for ``long`` or more, linear
    between."""
    if long <= short:
        return 1.0
    return min(max((long - rise) / (long - short), 0.0), 1.0)


@njit(**_JIT)
def _rise(csq, n, ws, a, b, level):
    """Samples from ``a`` to the first at or above ``level`` in [a, b) (``b - a`` if none)."""
    for i in range(max(a, 0), min(b, n)):
        if _rms_at(csq, n, ws, i) >= level:
            return i - a
    return b - a


@njit(**_JIT)
def _fall(csq, n, ws, a, b, level):
    """Samples back from ``a`` to the last at or above ``level`` in (b, a] (``a - b`` if
    none)."""
    for i in range(min(a, n - 1), max(b, -1), -1):
        if _rms_at(csq, n, ws, i) >= level:
            return a - i
    return a - b


@njit(**_JIT)
def _onset_walk(csq, n, ws, o, prev_end, search, span, guard, noise, factor, sd_factor, ratio):
    """(onset, level, baseline level) of one contraction on the ``ws`` envelope."""
    cap = _rms_at(csq, n, ws, o - 1) if 0 < o <= n else 0.0
    level, _ = _level(
        csq, n, ws, max(o - guard - span, prev_end), o - guard, noise, factor, sd_factor, cap
    )
    base = level
    level = max(level, ratio * cap)
    lo = max(o - search, prev_end, 0)
    on = lo
    for i in range(min(o, n - 1), lo - 1, -1):
        if _rms_at(csq, n, ws, i) <= level:
            on = i + 1
            break
    return min(on, o), level, base


@njit(**_JIT)
def _end_walk(csq, n, ws, e, bound, level, search, span, guard, noise, factor, sd_factor, ratio):
    """(end, baseline level after it) of one contraction on the ``ws`` envelope."""
    base_after = 0.0
    if min(e + guard + span, bound) - (e + guard) > 0:
        after, _ = _level(
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
        base_after = after
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
    return stop, base_after


@njit(**_JIT)
def _extend(
    csq,
    n,
    ws,
    fine,
    onset,
    end,
    bounds_hi,
    search,
    span,
    guard,
    hold,
    noise,
    factor,
    sd_factor,
    ratio,
    ratio_f,
    snr_lo,
    snr_hi,
    rise_short,
    rise_long,
):
    """The walks of :func:`extend_edges`, compiled (a few hundred samples per edge)."""
    new_on = onset.copy()
    new_end = end.copy()
    prev_end = 0
    args = (search, span, guard, noise, factor, sd_factor, ratio)
    args_f = (search, span, guard, noise, factor, sd_factor, ratio_f)
    for r in range(onset.size):
        o, e, bound = onset[r], end[r], bounds_hi[r]
        on, level, _ = _onset_walk(csq, n, ws, o, prev_end, *args)
        stop, _ = _end_walk(csq, n, ws, e, bound, level, *args)
        if fine > 0:
            on_f, level_f, base_f = _onset_walk(csq, n, fine, o, prev_end, *args_f)
            stop_f, after_f = _end_walk(csq, n, fine, e, bound, level_f, *args_f)
            peak = _peak(csq, n, ws, o, o + hold)
            w = _weight(peak, base_f, snr_lo, snr_hi)
            if w > 0.0:
                rise = _rise(csq, n, ws, on_f, o + hold, 0.5 * peak)
                w *= _rise_weight(rise, rise_short, rise_long)
            on = int(round((1.0 - w) * on + w * on_f))
            peak = _peak(csq, n, ws, e - hold, e)
            w = _weight(peak, max(base_f, after_f), snr_lo, snr_hi)
            if w > 0.0:
                fall = _fall(csq, n, ws, stop_f, e - hold, 0.5 * peak)
                w *= _rise_weight(fall, rise_short, rise_long)
            stop = int(round((1.0 - w) * stop + w * stop_f))
        new_on[r] = on
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
        max(1, round(cfg.edge_fine_window_s * rate_hz)) if cfg.edge_fine_window_s > 0 else 0,
        onset.astype(np.int64),
        end.astype(np.int64),
        np.asarray(bounds_hi, dtype=np.int64),
        round(cfg.edge_search_s * rate_hz),
        round(cfg.edge_baseline_s * rate_hz),
        round(cfg.edge_guard_s * rate_hz),
        round(cfg.min_duration_s * rate_hz),
        float(noise_v),
        float(cfg.edge_baseline_factor),
        float(cfg.edge_sd_factor),
        float(cfg.edge_crossing_ratio),
        float(cfg.edge_fine_crossing_ratio),
        float(cfg.edge_fine_snr_low),
        float(cfg.edge_fine_snr_high),
        cfg.edge_fine_rise_short_s * rate_hz,
        cfg.edge_fine_rise_long_s * rate_hz,
    )
