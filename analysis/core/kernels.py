"""Compiled per-sample loops (numba) for the batch analysis' hot path.

Why: the batch path's cost is a handful of passes over every sample (zero-phase band-pass,
cumulative energy, envelope) plus many small steps per contraction. scipy's ``sosfilt`` is
bound by one recursion at a time, and each small numpy call costs far more than its
arithmetic when the interpreter's caches are cold; as plain loops compiled once
(``cache=True``: later processes load the machine code from ``__pycache__`` or
``NUMBA_CACHE_DIR``) they cost a fraction. Each kernel is tested against a plain form of
what it computes (scipy, numpy or a Python loop). Long scans for rare events stay numpy
(:mod:`.runs`), where a vectorised compare beats a scalar loop. The spectral kernels (the
contractions' Welch frames and their MNF/MDF) are in :mod:`.spectral_kernels` and importable
from here.

:mod:`.dsp` and :mod:`.analysis` import this module; the isolated reader child, which
imports neither, never loads numba (tested).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import _JIT
from .spectral_kernels import spectral_indices, welch_frames  # noqa: F401 (re-exported)


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
def threshold_runs(env, run_starts, run_ends, on, k, n, gap):
    """The runs of ``env > off`` (``run_starts``/``run_ends``, grid indices) in sample
    units, merged across gaps < ``gap`` samples and kept when the envelope reaches ``on``
    inside: (starts, ends, first_on, last_on).

    ``env`` holds every ``k``-th sample of an ``n``-sample signal; a run's end is its
    first sample below, capped at ``n``; ON samples count where they fall in a merged
    run's span [start, end), even in a merged gap.
    """
    starts = np.empty(run_starts.size, np.int64)
    ends = np.empty(run_starts.size, np.int64)
    count = 0
    for r in range(run_starts.size):
        s, e = run_starts[r] * k, min(run_ends[r] * k, n)
        if count and s - ends[count - 1] < gap:
            ends[count - 1] = e
        else:
            starts[count] = s
            ends[count] = e
            count += 1
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
def block_rms_percentile(csq, n, block, q):
    """The ``q``-th percentile (numpy's linear rule) of the RMS of the non-overlapping
    ``block``-sample blocks of an ``n``-sample signal; its RMS when shorter than a block."""
    n_blocks = n // block
    if n_blocks < 1:
        return np.sqrt(csq[n] / max(n, 1))
    rms = np.empty(n_blocks)
    for b in range(n_blocks):
        energy = csq[(b + 1) * block] - csq[b * block]
        rms[b] = np.sqrt(energy / block) if energy > 0.0 else 0.0
    return np.percentile(rms, q)


@njit(**_JIT)
def moving_mean_max(env, width, step):
    """Highest mean of ``env[::step]`` over any ``width // step`` consecutive points (all
    of them if fewer); 0 for an empty ``env``."""
    m = (env.size + step - 1) // step
    if m == 0:
        return 0.0
    width = min(max(1, width // step), m)
    c = np.empty(m + 1)
    c[0] = 0.0
    for g in range(m):
        c[g + 1] = c[g] + env[g * step]
    best = c[width] - c[0]
    for g in range(1, m - width + 1):
        best = max(best, c[g + width] - c[g])
    return best / width


@njit(**_JIT)
def line_fit(x, y):
    """Least-squares line through the points with finite ``y``:
    (points used, slope, intercept, first x used); slope NaN when all x are equal."""
    used = 0
    sx = 0.0
    sy = 0.0
    x0 = np.nan
    for i in range(y.size):
        if np.isfinite(y[i]):
            if used == 0:
                x0 = x[i]
            used += 1
            sx += x[i]
            sy += y[i]
    if used == 0:
        return 0, np.nan, np.nan, np.nan
    mx = sx / used
    my = sy / used
    sxx = 0.0
    sxy = 0.0
    for i in range(y.size):
        if np.isfinite(y[i]):
            dx = x[i] - mx
            sxx += dx * dx
            sxy += dx * (y[i] - my)
    if sxx == 0.0:
        return used, np.nan, np.nan, x0
    slope = sxy / sxx
    return used, slope, my - slope * mx, x0


@njit(**_JIT)
def bucket_peaks(x, step):
    """Per column of ``x`` (samples x channels), the sample of largest magnitude (signed; the
    first of equals) in each bucket of ``step`` samples, the last bucket possibly shorter:
    (buckets x channels). The live view's decimated signal, without a numpy call per step."""
    n, c = x.shape
    n_buckets = (n + step - 1) // step
    out = np.empty((n_buckets, c))
    for b in range(n_buckets):
        lo = b * step
        hi = min(lo + step, n)
        for ch in range(c):
            best = x[lo, ch]
            size = abs(best)
            for q in range(lo + 1, hi):
                v = x[q, ch]
                if abs(v) > size:
                    best = v
                    size = abs(v)
            out[b, ch] = best
    return out


def compile_all() -> None:
    """Compile every kernel for the argument types the analysis passes (float32 and float64
    samples), or load them from the cache: the image build runs this once, so no worker
    pays the compile on its first recording."""
    sos = np.array([[1.0, 0.0, -1.0, 1.0, -0.5, 0.1], [1.0, 0.0, -1.0, 1.0, -0.4, 0.1]])
    zi = np.zeros((2, 2))
    for dtype in (np.float32, np.float64):
        x = np.sin(np.arange(64, dtype=dtype))
        zero_phase_sos(x, sos, zi)
    bp = zero_phase_sos(np.sin(np.arange(64.0)), sos, zi)
    csq = cumsum_squares(bp)
    env = rms_on_grid(csq, bp.size, 8, 2)
    block_rms_percentile(csq, bp.size, 8, 10.0)
    moving_mean_max(env, 4, 2)
    line_fit(np.arange(5.0), np.arange(5.0))
    bucket_peaks(np.ones((5, 2)), 2)
    frames, counts = welch_frames(bp, np.array([0, 20]), np.array([16, 60]), 8, np.ones(8), True)
    spec = np.fft.rfft(frames, axis=1)
    freqs = np.fft.rfftfreq(8, 0.01)
    spectral_indices(spec, counts, freqs, np.ones(freqs.size), 1, freqs.size)
    segment_peaks_sums(env, np.array([0, 2]), np.array([3, 5]), False)
    segment_peaks_sums(bp, np.array([0, 2]), np.array([3, 5]), True)
    runs = (np.array([0, 5]), np.array([3, 9]))
    starts, ends, first_on, last_on = threshold_runs(env, *runs, 0.2, 2, bp.size, 4)
    refine_edges(env, csq, bp.size, 2, starts, ends, first_on, last_on, 0.1, 0.1, 8, 4, 2)
