"""Compiled loops (numba) of the contractions' spectral indices: Welch frames, then MNF,
MDF and FInsm5 from their spectra (:func:`.dsp.spectral_indices`). Split from
:mod:`.kernels`, which re-exports both; each is tested against a plain form there.
"""

from __future__ import annotations

import numpy as np
from numba import njit

from .jit import _JIT


@njit(**_JIT)
def welch_frames(bp, onsets, ends, nper, window, detrend):
    """Every contraction's 50 %-overlapping ``nper``-sample frames, each minus its mean
    (``detrend``) and times ``window``: (frames, frames per contraction)."""
    step = nper // 2
    counts = np.empty(onsets.size, np.int64)
    for r in range(onsets.size):
        counts[r] = max((ends[r] - onsets[r] - nper) // step + 1, 0)
    frames = np.empty((counts.sum(), nper))
    row = 0
    for r in range(onsets.size):
        for c in range(counts[r]):
            s = onsets[r] + c * step
            mean = 0.0
            if detrend:
                for i in range(nper):
                    mean += bp[s + i]
                mean /= nper
            for i in range(nper):
                frames[row, i] = (bp[s + i] - mean) * window[i]
            row += 1
    return frames, counts


@njit(**_JIT)
def spectral_indices(spec, counts, freqs, gain, lo, hi):
    """MNF, MDF and FInsm5 per contraction from its frames' spectra ``spec`` (rows in
    contraction order, ``counts`` per contraction; NaN for none), over bins [lo, hi),
    each bin's power divided by ``gain`` (the band-pass's own power response)."""
    k = counts.size
    mnf = np.full(k, np.nan)
    mdf = np.full(k, np.nan)
    fi = np.full(k, np.nan)
    nb = hi - lo
    p = np.empty(max(nb, 0))
    df = freqs[lo + 1] - freqs[lo] if nb > 1 else 0.0
    row = 0
    for r in range(k):
        if counts[r] == 0:
            continue
        p[:] = 0.0
        for _ in range(counts[r]):
            for b in range(nb):
                z = spec[row, lo + b]
                p[b] += z.real * z.real + z.imag * z.imag
            row += 1
        power = 0.0
        s1 = 0.0
        s_inv = 0.0
        s5 = 0.0
        for b in range(nb):
            f = freqs[lo + b]
            q = p[b] / gain[lo + b]
            p[b] = q
            power += q
            s1 += q * f
            s_inv += q / f
            s5 += q * f**5
        if nb == 0:
            continue
        mnf[r] = s1 / power
        fi[r] = s_inv / s5
        # MDF: where the cumulative power reaches half, interpolated within that bin
        half = 0.5 * power
        prev = 0.0
        j = 0
        for b in range(nb):
            if prev + p[b] >= half:
                j = b
                break
            prev += p[b]
        else:
            prev = 0.0
        frac = (half - prev) / p[j] if p[j] > 0.0 else 0.0
        mdf[r] = freqs[lo + j] - df + frac * df
    return mnf, mdf, fi
