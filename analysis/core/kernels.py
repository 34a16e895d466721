"""Compiled per-sample loops (numba) for the batch analysis' hot path.

Why: the batch path's cost is a handful of passes over every sample (zero-phase band-pass,
cumulative energy, envelope, threshold runs). In numpy each is a separate pass with its
temporaries, and scipy's ``sosfilt`` is bound by the latency of one recursion at a time;
as plain loops compiled once (``cache=True``: later processes load the machine code from
``__pycache__`` or ``NUMBA_CACHE_DIR``) they cost a fraction. Each kernel computes exactly
what the numpy form beside it in :mod:`.dsp` describes; the tests compare them.

Only :mod:`.dsp` and the parent side of :mod:`.recording` import this module, lazily where
it matters: the isolated reader child never loads numba.
"""

from __future__ import annotations

import numpy as np
from numba import njit

_JIT = {"cache": True, "nogil": True, "error_model": "numpy"}


@njit(**_JIT)
def zero_phase_sos(x, sos, zi):
    """Forward-backward second-order sections over ``x - mean(x)``, from the steady state.

    Each pass starts every section from ``zi * first input sample`` (``zi`` from
    ``scipy.signal.sosfilt_zi``), as :func:`.dsp.bandpass` describes. Sections run two
    per sweep over the samples (an odd last one beside a pass-through), and each
    section's recursion is written in state-space form (``z0' = c1 v + z1 - a1 z0``): the
    same transposed direct form II as ``scipy.signal.sosfilt`` with the output
    substituted, so two short dependency chains overlap instead of one long chain per
    sample. Matches scipy within ~1e-14 relative. Returns a new float64 array.
    """
    n = x.size
    out = np.empty(n)
    if n == 0:
        return out
    mean = 0.0
    for i in range(n):
        mean += x[i]
    mean /= n
    for i in range(n):
        out[i] = x[i] - mean
    n_sec = sos.shape[0]
    for direction in range(2):
        first = out[0] if direction == 0 else out[n - 1]
        for s in range(0, n_sec, 2):
            b0, a1, a2 = sos[s, 0], sos[s, 4], sos[s, 5]
            c1, c2 = sos[s, 1] - a1 * b0, sos[s, 2] - a2 * b0
            z0, z1 = zi[s, 0] * first, zi[s, 1] * first
            if s + 1 < n_sec:
                t = s + 1
                e0, f1, f2 = sos[t, 0], sos[t, 4], sos[t, 5]
                g1, g2 = sos[t, 1] - f1 * e0, sos[t, 2] - f2 * e0
                w0, w1 = zi[t, 0] * first, zi[t, 1] * first
            else:  # pass-through
                e0, f1, f2, g1, g2, w0, w1 = 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0
            for j in range(n):
                i = j if direction == 0 else n - 1 - j
                v = out[i]
                y = b0 * v + z0
                z0, z1 = c1 * v + z1 - a1 * z0, c2 * v - a2 * z0
                u = e0 * y + w0
                w0, w1 = g1 * y + w1 - f1 * w0, g2 * y - f2 * w0
                out[i] = u
    return out


@njit(**_JIT)
def cumsum_squares(x):
    """``csq`` with ``csq[0] = 0`` and ``csq[i + 1] = csq[i] + x[i] ** 2``."""
    csq = np.empty(x.size + 1)
    acc = 0.0
    csq[0] = 0.0
    for i in range(x.size):
        acc += x[i] * x[i]
        csq[i + 1] = acc
    return csq


@njit(**_JIT)
def _rms_at(csq, n, width, i):
    lo = max(i - width // 2, 0)
    hi = min(i - width // 2 + width, n)
    ms = (csq[hi] - csq[lo]) / (hi - lo)
    return np.sqrt(ms) if ms > 0.0 else 0.0


@njit(**_JIT)
def rms_on_grid(csq, n, width, k):
    """The centred moving RMS of ``width`` samples at samples 0, k, 2k, ... < n.

    Near the edges the window holds the samples that exist (shorter window); the
    interior has no branches.
    """
    width = max(1, min(width, n))
    half = width // 2
    m = (n + k - 1) // k
    out = np.empty(m)
    g_first = min(-(-half // k), m)  # first grid point whose window starts at >= 0
    g_end = max(min((n - width + half) // k + 1, m), g_first)  # ... and ends at <= n
    for g in range(g_first):
        out[g] = _rms_at(csq, n, width, g * k)
    inv = 1.0 / width
    if k == 1:  # unit stride: this form vectorises
        for i in range(g_first, g_end):
            out[i] = np.sqrt(max((csq[i - half + width] - csq[i - half]) * inv, 0.0))
    else:
        for g in range(g_first, g_end):
            i = g * k
            out[g] = np.sqrt(max((csq[i - half + width] - csq[i - half]) * inv, 0.0))
    for g in range(g_end, m):
        out[g] = _rms_at(csq, n, width, g * k)
    return out


@njit(**_JIT)
def _max_over(env, lo, hi):
    """max(env[lo:hi]); ``env[lo]`` for an empty range (``np.maximum.reduceat``'s rule)."""
    hi = min(hi, env.size)
    best = env[min(lo, env.size - 1)]
    for g in range(lo + 1, hi):
        if env[g] > best:
            best = env[g]
    return best


@njit(**_JIT)
def threshold_runs(env, off, on, k, n, gap):
    """Runs of ``env > off`` (sample units), merged across gaps < ``gap`` samples, kept
    when the envelope reaches ``on`` inside; returns (starts, ends, first_on, last_on).

    ``env`` holds every ``k``-th sample of an ``n``-sample signal; a run's end is its
    first sample below, capped at ``n``; ON samples count where they fall in a merged
    run's span [start, end), even in a merged gap.
    """
    m = env.size
    starts = np.empty(m // 2 + 1, np.int64)
    ends = np.empty(m // 2 + 1, np.int64)
    count = 0
    above = False
    for g in range(m + 1):
        now = g < m and env[g] > off
        if now == above:  # the common case: one compare, a well-predicted branch
            continue
        above = now
        if now:
            starts[count] = g * k
            count += 1
        else:
            ends[count - 1] = min(g * k, n)
            if count > 1 and starts[count - 1] - ends[count - 2] < gap:  # merge
                ends[count - 2] = ends[count - 1]
                count -= 1
    first_on = np.full(count, -1, np.int64)
    last_on = np.full(count, -1, np.int64)
    for r in range(count):  # ON samples: scanned inside the runs only, from both ends
        g0, g1 = starts[r] // k, -(-ends[r] // k)
        for g in range(g0, g1):
            if env[g] >= on:
                first_on[r] = g * k
                break
        if first_on[r] >= 0:
            for g in range(g1 - 1, g0 - 1, -1):
                if env[g] >= on:
                    last_on[r] = g * k
                    break
    keep = first_on >= 0
    return starts[:count][keep], ends[:count][keep], first_on[keep], last_on[keep]


@njit(**_JIT)
def refine_edges(env, csq, n, k, starts, ends, first_on, last_on, off, frac, w, m, ws):
    """Onsets and ends of the contractions on the short envelope (see :func:`.dsp.detect`)."""
    ws = max(1, min(ws, n))
    c = starts.size
    onset = np.empty(c, np.int64)
    end = np.empty(c, np.int64)
    for r in range(c):
        f = first_on[r]
        level = max(off, frac * _max_over(env, f // k, -(-min(f + m, n) // k)))
        lo = max(starts[r] - w, 0)
        hi = min(f + w + m, n)
        if _rms_at(csq, n, ws, f) > level:
            o = lo
            for i in range(f, lo - 1, -1):
                if _rms_at(csq, n, ws, i) <= level:
                    o = i + 1
                    break
        else:
            o = f
            for i in range(f, hi):
                if _rms_at(csq, n, ws, i) > level:
                    o = i
                    break
        onset[r] = o
        level = max(off, frac * _max_over(env, starts[r] // k, -(-ends[r] // k)))
        hi = min(ends[r] + w, n)
        e = hi
        for i in range(last_on[r], hi):
            if _rms_at(csq, n, ws, i) <= level:
                e = i
                break
        end[r] = max(e, o + 1)
    for r in range(c - 1):
        end[r] = min(end[r], onset[r + 1])
    return onset, end


@njit(**_JIT)
def segment_peaks_sums(values, lo, hi, absolute):
    """Maximum and sum of ``values`` (or of their magnitudes) over each [lo_i, hi_i).

    Segments must not be empty; they may overlap and come in any order.
    """
    peaks = np.empty(lo.size)
    sums = np.empty(lo.size)
    for r in range(lo.size):
        best = -np.inf
        total = 0.0
        for i in range(lo[r], hi[r]):
            v = abs(values[i]) if absolute else values[i]
            total += v
            if v > best:
                best = v
        peaks[r] = best
        sums[r] = total
    return peaks, sums


@njit(**_JIT)
def flat_runs(x, min_run):
    """Start/end (exclusive) of runs of >= ``min_run`` identical consecutive samples."""
    n = x.size
    same = 0
    for i in range(1, n):  # a branch-free count first: a living signal has too few
        same += x[i] == x[i - 1]
    cap = same // max(min_run - 1, 1) + 1
    starts = np.empty(cap, np.int64)
    ends = np.empty(cap, np.int64)
    count = 0
    if same < min_run - 1:
        return starts[:0], ends[:0]
    run = 1  # length of the run of equal samples ending at i
    last = -2  # the last i with x[i] == x[i - 1]
    for i in range(1, n):
        if x[i] == x[i - 1]:  # rare in a living signal: the loop is a compare and a skip
            run = run + 1 if last == i - 1 else 2
            last = i
            if run >= min_run:
                if run == min_run:
                    starts[count] = i + 1 - min_run
                    count += 1
                ends[count - 1] = i + 1
    return starts[:count], ends[:count]


@njit(**_JIT)
def rail_runs(x, min_run, lo, hi):
    """Clipping at the rails ``lo`` and ``hi`` (the channel's minimum and maximum):
    (samples, runs, at_min, at_max) of the runs of >= ``min_run`` samples equal to either.

    ``at_min`` and ``at_max`` say whether that rail has such a run.
    """
    n = x.size
    at_rail = 0
    for i in range(n):  # a branch-free count first: a living signal touches its rails rarely
        at_rail += (x[i] == lo) | (x[i] == hi)
    samples = 0
    runs = 0
    at_min = False
    at_max = False
    if at_rail < min_run or lo == hi:
        return samples, runs, at_min, at_max
    i = 0
    while i < n:
        v = x[i]
        j = i + 1
        if v == lo or v == hi:
            while j < n and x[j] == v:
                j += 1
            if j - i >= min_run:
                samples += j - i
                runs += 1
                if v == lo:
                    at_min = True
                else:
                    at_max = True
        i = j
    return samples, runs, at_min, at_max


def compile_all() -> None:
    """Compile every kernel for the argument types the analysis passes (float32 and float64
    samples), or load them from the cache: the image build runs this once, so no worker
    pays the compile (~seconds) on its first recording."""
    sos = np.array([[1.0, 0.0, -1.0, 1.0, -0.5, 0.1], [1.0, 0.0, -1.0, 1.0, -0.4, 0.1]])
    zi = np.zeros((2, 2))
    for dtype in (np.float32, np.float64):
        x = np.sin(np.arange(64, dtype=dtype))
        zero_phase_sos(x, sos, zi)
        flat_runs(x, 3)
        rail_runs(x, 3, x.min(), x.max())
    bp = zero_phase_sos(np.sin(np.arange(64.0)), sos, zi)
    csq = cumsum_squares(bp)
    env = rms_on_grid(csq, bp.size, 8, 2)
    segment_peaks_sums(env, np.array([0, 2]), np.array([3, 5]), False)
    segment_peaks_sums(bp, np.array([0, 2]), np.array([3, 5]), True)
    starts, ends, first_on, last_on = threshold_runs(env, 0.1, 0.2, 2, bp.size, 4)
    refine_edges(env, csq, bp.size, 2, starts, ends, first_on, last_on, 0.1, 0.1, 8, 4, 2)
