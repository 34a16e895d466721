"""Thresholds from a channel's activity distribution, and holds split at their own level.

Real game recordings hold three populations of 250 ms blocks: rest (the noise floor),
low-level tonic or background activity between bursts, and the bursts themselves. A
threshold derived from the quietest blocks alone (the noise floor) lies under the tonic
activity, so tonic activity becomes "contractions" and the hysteresis never lets a hold end
between bursts. Two steps fix that, both usable by the batch and the live path:

* :func:`activity_level`: a three-class Otsu split (Otsu 1979, multi-level form of Liao,
  Chen & Chung 2001) of the log block RMS; the upper boundary separates bursts from rest
  and tonic activity. The detection's ON level is at least this boundary, OFF at least half
  of it (:func:`.dsp.thresholds`). On a signal with only rest and bursts the upper boundary
  still lies between the two, so clean recordings keep their contractions.
* :func:`split_holds`: a hold ends where the envelope falls below ``hold_release_fraction``
  of the hold's own level (its median envelope above ON), so rest between two bursts
  splits them even where it stays above the channel's OFF level, while force wobble
  (which varies the level by tens of percent) keeps a hold whole.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .kernels import _JIT

_BINS = 64


def activity_level(block_rms_v: np.ndarray, tonic_ratio: float = 0.3) -> float:
    """The level (volts) above which a block counts as a burst, from ``log(block RMS)``.

    A three-class Otsu split (64-bin histogram, every pair of boundaries scored at once by
    the between-class variance). When the middle class is tonic activity (its geometric
    mean under ``tonic_ratio`` of the bursts'), the upper boundary is returned; otherwise
    the middle class is only ramps and weaker bursts (a signal of rest and contractions of
    several levels) and the two-class boundary (rest | activity) is returned instead, so
    weak holds among strong ones are never cut. 0.0 with fewer than 8 blocks or no spread.
    """
    rms = np.asarray(block_rms_v, dtype=float)
    rms = rms[rms > 0]
    if rms.size < 8:
        return 0.0
    log = np.log(rms)
    if not log.max() > log.min():
        return 0.0
    counts, edges = histogram_uniform(log, _BINS)
    a, b, two_best, middle, top = _otsu(counts, edges)
    if np.exp(middle - top) < tonic_ratio:
        return float(np.exp(edges[b + 1]))
    return float(np.exp(edges[two_best + 1]))


class RunningActivityLevel:
    """:func:`activity_level` of a list of block RMS values that only grows (the live path's
    noise blocks), updated with the new values instead of recomputed over all of them.

    The logarithms of earlier values are kept; the histogram's counts too, as long as the
    range (smallest and largest logarithm, so the bin edges) has not moved, and new values are
    binned into them; when the range moves, everything is binned again. The same counts and
    edges as :func:`activity_level` computes from the whole list, so the same level (tested).
    """

    def __init__(self, tonic_ratio: float = 0.3) -> None:
        self.tonic_ratio = tonic_ratio
        self.seen = 0  # values of the list taken in
        self.logs = np.empty(256)  # log of the positive ones, in order
        self.size = 0
        self.range: tuple | None = None  # (first, last) the counts were binned with
        self.edges = np.zeros(0)
        self.counts = np.zeros(0, np.int64)
        self.lowest = self.highest = 0.0  # smallest and largest logarithm so far

    def level(self, block_rms_v) -> float:
        new = [v for v in block_rms_v[self.seen :] if v > 0]
        self.seen = len(block_rms_v)
        start = self.size
        if new:
            if self.size + len(new) > self.logs.size:
                grown = np.empty(2 * (self.size + len(new)))
                grown[: self.size] = self.logs[: self.size]
                self.logs = grown
            logs = np.log(np.array(new, dtype=float))
            self.logs[self.size : self.size + logs.size] = logs
            # min and max are exact: kept as values arrive instead of rescanned
            low, high = (logs[0], logs[0]) if logs.size == 1 else (logs.min(), logs.max())
            if not start:
                self.lowest, self.highest = low, high
            else:
                self.lowest, self.highest = min(self.lowest, low), max(self.highest, high)
            self.size += logs.size
        if self.size < 8:
            return 0.0
        log = self.logs[: self.size]
        first, last = self.lowest, self.highest
        if not last > first:
            return 0.0
        if self.range != (first, last):
            self.edges = np.linspace(
                first, last, _BINS + 1, endpoint=True, dtype=np.result_type(first, log)
            )
            self.counts = _bin_counts(log, self.edges, first, last, _BINS)
            self.range = (first, last)
        elif self.size > start:
            self.counts += _bin_counts(log[start:], self.edges, first, last, _BINS)
        a, b, two_best, middle, top = _otsu(self.counts, self.edges)
        if np.exp(middle - top) < self.tonic_ratio:
            return float(np.exp(self.edges[b + 1]))
        return float(np.exp(self.edges[two_best + 1]))


@njit(**_JIT)
def _otsu(counts, edges):
    """The two- and three-class splits of :func:`activity_level` over a histogram, as one
    scan of the boundary pairs: (a, b) of the best three-class split (class 0: bins <= a,
    1: (a, b], 2: > b), the best two-class boundary, and the middle and top classes' mean
    log level. The same arithmetic in the same order as its numpy reference form
    (``activity_level_numpy`` in ``analysis/core/tests/reference.py``: cumulative sums,
    squares as products, the first maximum wins), so the same floats."""
    m = counts.size
    total_count = 0
    for k in range(m):
        total_count += counts[k]
    w = np.empty(m)
    mu = np.empty(m)
    acc_w = 0.0
    acc_mu = 0.0
    for k in range(m):
        p = counts[k] / total_count
        centre = (edges[k] + edges[k + 1]) / 2.0
        acc_w += p
        acc_mu += p * centre
        w[k] = acc_w
        mu[k] = acc_mu
    total = mu[m - 1]
    two_best = 0
    two_value = -np.inf
    for k in range(m):
        if w[k] <= 0 or 1.0 - w[k] <= 1e-12:
            value = -np.inf
        else:
            d = total - mu[k]
            value = mu[k] * mu[k] / w[k] + d * d / (1.0 - w[k])
        if k == 0 or value > two_value:
            two_value, two_best = value, k
    best_a, best_b = 0, 1
    best = -np.inf
    first = True
    for i in range(m - 1):
        for j in range(i + 1, m - 1):
            w0 = w[i]
            w1 = w[j] - w[i]
            w2 = 1.0 - w[j]
            if w0 <= 0 or w1 <= 0 or w2 <= 1e-12:
                value = -np.inf
            else:
                d1 = mu[j] - mu[i]
                d2 = total - mu[j]
                value = mu[i] * mu[i] / w0 + d1 * d1 / w1 + d2 * d2 / w2
            if first or value > best:
                best, best_a, best_b, first = value, i, j, False
    middle = (mu[best_b] - mu[best_a]) / (w[best_b] - w[best_a])
    top = (total - mu[best_b]) / (1.0 - w[best_b])
    return best_a, best_b, two_best, middle, top


def histogram_uniform(x: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """``np.histogram(x, bins=bins)`` for finite float64 ``x`` with ``max > min``: numpy's
    equal-bins algorithm step for step (so the same counts and edges, tested), without its
    general-case checks, which cost the live path more than the counting."""
    first, last = x.min(), x.max()
    edges = np.linspace(first, last, bins + 1, endpoint=True, dtype=np.result_type(first, x))
    return _bin_counts(x, edges, first, last, bins), edges


@njit(**_JIT)
def _bin_counts(x, edges, first, last, bins):
    """numpy's equal-bins counting (``np.histogram``'s fast path), one sample at a time:
    the bin from the same arithmetic, then moved by one where the division is not exact."""
    counts = np.zeros(bins, np.int64)
    span = last - first
    for q in range(x.size):
        v = x[q]
        k = int(((v - first) / span) * bins)
        if k == bins:
            k -= 1
        if v < edges[k]:
            k -= 1
        if v >= edges[k + 1] and k != bins - 1:
            k += 1
        counts[k] += 1
    return counts


def block_rms(csq: np.ndarray, n: int, block: int) -> np.ndarray:
    """RMS of the non-overlapping ``block``-sample blocks, from a cumulative sum of squares."""
    m = n // block
    if m < 1:
        return np.zeros(0)
    energy = np.diff(csq[: m * block + 1 : block])
    return np.sqrt(np.maximum(energy, 0.0) / block)


@njit(**_JIT)
def _on_span(env, lo, hi, on, k):
    """Samples (grid index x ``k``) of the first and last grid points in ``[lo, hi)`` where
    ``env`` reaches ``on``; (-1, -1) when none does."""
    first = -1
    last = -1
    for q in range(lo, hi):
        if env[q] >= on:
            if first < 0:
                first = q * k
            last = q * k
    return first, last


@njit(**_JIT)
def _split(env, starts, ends, on, off, release, k, gap, cap):
    """Compiled :func:`split_holds` (the runs of ``seg > level`` and their merging and ON
    test written as one scan per candidate, as :func:`.kernels.threshold_runs` does)."""
    out_s = np.empty(cap, np.int64)
    out_e = np.empty(cap, np.int64)
    out_f = np.empty(cap, np.int64)
    out_l = np.empty(cap, np.int64)
    count = 0
    for c in range(starts.size):
        a, b = starts[c], ends[c]
        g0, g1 = a // k, -(-b // k)
        base = g0 * k
        m = b - base  # samples in the candidate's span from its first grid point
        seg = env[g0:g1]
        held = seg[seg >= on]
        level = max(off, release * np.median(held)) if held.size else off
        first = count
        g = 0
        while g < seg.size:
            if seg[g] <= level:
                g += 1
                continue
            h = g
            while h < seg.size and seg[h] > level:
                h += 1
            s, e = g * k, min(h * k, m)
            if count > first and s - out_e[count - 1] < gap:
                out_e[count - 1] = e
            else:
                out_s[count] = s
                out_e[count] = e
                count += 1
            g = h
        kept = first
        for r in range(first, count):
            f, last = _on_span(seg, out_s[r] // k, -(-out_e[r] // k), on, k)
            if f >= 0:
                out_s[kept] = out_s[r] + base
                out_e[kept] = out_e[r] + base
                out_f[kept] = f + base
                out_l[kept] = last + base
                kept += 1
        count = kept
    return out_s[:count], out_e[:count], out_f[:count], out_l[:count]


@njit(**_JIT)
def _reonsets(env, starts, ends, first_on, last_on, on, k, dip, rise, ratio):
    """Compiled re-onset split (:func:`split_holds`): one scan of each piece's envelope."""
    cap = starts.size
    for c in range(starts.size):
        cap += (ends[c] - starts[c]) // max(dip, 1) + 1
    out_s = np.empty(cap, np.int64)
    out_e = np.empty(cap, np.int64)
    out_f = np.empty(cap, np.int64)
    out_l = np.empty(cap, np.int64)
    count = 0
    for c in range(starts.size):
        lo, hi = -(-starts[c] // k), min(ends[c] // k, env.size)
        s = starts[c]
        g = max(lo, first_on[c] // k)
        while g < hi:
            if env[g] >= on:
                g += 1
                continue
            u = g  # the envelope falls below ON here ...
            while g < hi and env[g] < on:
                g += 1
            if g >= hi or (g - u) * k < dip:
                continue  # ... too briefly, or not back above ON inside the piece
            t = u
            for q in range(u, g):
                if env[q] < env[t]:
                    t = q
            top = env[g]
            for q in range(g, min(hi, g + rise)):
                top = max(top, env[q])
            if top < ratio * env[t]:
                continue  # a slow return (force wobble), not a new contraction
            out_s[count] = s
            out_e[count] = u * k
            count += 1
            s = t * k
        out_s[count] = s
        out_e[count] = ends[c]
        count += 1
    for r in range(count):
        lo, hi = -(-out_s[r] // k), min(-(-out_e[r] // k), env.size)
        out_f[r], out_l[r] = _on_span(env, lo, hi, on, k)
    return out_s[:count], out_e[:count], out_f[:count], out_l[:count]


def split_holds(
    env, starts, ends, on, off, release, k, n, gap, *, reonset_ratio=0.0, dip=0, rise=0
):
    """Re-segment each candidate contraction at ``max(off, release x its hold level)``.

    ``starts``/``ends`` (samples) are candidates from :func:`.kernels.threshold_runs` over
    ``env`` (every ``k``-th sample of ``n``); the hold level is the median of the envelope
    where it reaches ``on`` within the candidate. Inside, runs above the new level closer
    than ``gap`` samples merge and are kept when they reach ``on``, as in the first pass.

    With ``reonset_ratio`` > 0 a piece is also cut where a new contraction starts inside
    it: the envelope stays under ``on`` (the channel's activation level) for at least
    ``dip`` samples and then climbs to ``reonset_ratio`` x its lowest point there within
    ``rise`` grid points. The first part ends where the envelope fell under ``on``, the
    second starts at that lowest point. A patient who relaxes under the activation level
    between two holds without reaching rest made two contractions; force wobble, which
    varies a hold's level slowly, does not double it within a few hundred ms.
    Returns (starts, ends, first_on, last_on) in samples.
    """
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    cap = int(np.sum((ends - starts) // max(k, 1) // 2 + 2)) if starts.size else 0
    pieces = _split(env, starts, ends, float(on), float(off), float(release), int(k), int(gap), cap)
    if reonset_ratio <= 0 or not pieces[0].size:
        return pieces
    return _reonsets(env, *pieces, float(on), int(k), int(dip), int(rise), float(reonset_ratio))
