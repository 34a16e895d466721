"""Plain numpy forms of what the core's compiled live shortcuts compute, kept beside the
tests that compare the two bit for bit (the library code holds only the real
implementations)."""

from __future__ import annotations

import numpy as np

from analysis.core.activity import _BINS

# every pair of bin boundaries (i < j) the three-class split scores, computed once
_PAIRS_I, _PAIRS_J = np.triu_indices(_BINS - 1, 1)


def activity_level_numpy(block_rms_v: np.ndarray, tonic_ratio: float = 0.3) -> float:
    """``activity.activity_level`` written with numpy arrays over every pair of boundaries:
    the plain form the compiled ``activity._otsu`` is tested against (the same floats, bit
    for bit)."""
    rms = np.asarray(block_rms_v, dtype=float)
    rms = rms[rms > 0]
    if rms.size < 8:
        return 0.0
    log = np.log(rms)
    if not log.max() > log.min():
        return 0.0
    counts, edges = np.histogram(log, bins=_BINS)
    centres = (edges[:-1] + edges[1:]) / 2.0
    p = counts / counts.sum()
    w = np.cumsum(p)  # weight of bins <= i
    mu = np.cumsum(p * centres)
    total = mu[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        # sum_k w_k m_k^2 is the between-class variance up to a constant
        two = mu**2 / w + (total - mu) ** 2 / (1.0 - w)
        two[(w <= 0) | (1.0 - w <= 1e-12)] = -np.inf
        i, j = _PAIRS_I, _PAIRS_J  # class 0: bins <= i, 1: (i, j], 2: > j
        w0, w1, w2 = w[i], w[j] - w[i], 1.0 - w[j]
        three = mu[i] ** 2 / w0 + (mu[j] - mu[i]) ** 2 / w1 + (total - mu[j]) ** 2 / w2
    three[(w0 <= 0) | (w1 <= 0) | (w2 <= 1e-12)] = -np.inf
    best = int(np.argmax(three))
    a, b = i[best], j[best]
    middle = (mu[b] - mu[a]) / w1[best]
    top = (total - mu[b]) / w2[best]
    if np.exp(middle - top) < tonic_ratio:
        return float(np.exp(edges[b + 1]))
    return float(np.exp(edges[int(np.argmax(two)) + 1]))


def moving_rms_numpy(
    ext: np.ndarray, n_new: int, n_filtered: int, widths: tuple[int, ...]
) -> list[np.ndarray]:
    """The trailing moving RMS of the last ``n_new`` of ``ext`` (squared samples, the older
    ones first) for each width, from one cumulative sum (the window is shorter at the
    stream's start): the numpy form ``stream_signal._moving_rms`` is tested against."""
    c = np.concatenate(([0.0], np.cumsum(ext)))
    ends = np.arange(ext.size - n_new + 1, ext.size + 1)  # cumsum index after each new
    index = n_filtered + np.arange(n_new)  # stream index of each new sample
    out = []
    for width in widths:
        count = np.minimum(index + 1, width)
        lo = np.maximum(ends - count, 0)
        out.append(np.sqrt(np.maximum((c[ends] - c[lo]) / count, 0.0)))
    return out
