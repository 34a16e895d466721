"""Each compiled kernel against a plain form of what it computes (scipy, numpy or a loop)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from analysis.core import dsp, kernels
from analysis.core.config import AnalysisConfig
from analysis.core.recording import saturation_runs

from .conftest import runs_by_hand


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_zero_phase_sections_equal_scipys_sosfilt_run_both_ways(order, dtype):
    # odd section counts exercise the pass-through beside the last section
    rng = np.random.default_rng(order)
    x = (rng.normal(size=5000) * 1e-4 + 3e-3).astype(dtype)
    sos = signal.butter(order, [20, 450], btype="bandpass", fs=2000, output="sos")
    zi = signal.sosfilt_zi(sos)
    v = x.astype(np.float64) - x.astype(np.float64).mean()
    fwd, _ = signal.sosfilt(sos, v, zi=zi * v[0])
    back, _ = signal.sosfilt(sos, fwd[::-1], zi=zi * fwd[-1])
    ref = back[::-1]
    ours = kernels.zero_phase_sos(x, sos, zi)
    assert ours.dtype == np.float64
    assert np.max(np.abs(ours - ref)) <= 1e-12 * np.max(np.abs(ref))


def test_cumulative_squares_start_at_zero_and_equal_numpys_cumsum():
    x = np.random.default_rng(1).normal(size=1001)
    csq = kernels.cumsum_squares(x)
    assert csq[0] == 0.0
    np.testing.assert_allclose(csq[1:], np.cumsum(x * x), rtol=1e-12)


@settings(max_examples=200, deadline=None)
@given(
    n=st.integers(1, 300),
    width=st.integers(1, 400),
    k=st.integers(1, 7),
    seed=st.integers(0, 2**16),
)
def test_envelope_on_grid_is_the_rms_of_the_samples_inside_each_window(n, width, k, seed):
    x = np.random.default_rng(seed).normal(size=n)
    csq = kernels.cumsum_squares(x)
    env = dsp.envelope_on_grid(csq, n, width, k)
    w = min(width, n)
    mean_squares = [
        np.mean(x[max(i - w // 2, 0) : min(i - w // 2 + w, n)] ** 2) for i in range(0, n, k)
    ]
    # a difference of two cumulative sums is exact to a few ulps of the running total
    np.testing.assert_allclose(env**2, mean_squares, rtol=1e-9, atol=1e-13 * csq[-1])


def _threshold_runs_by_hand(env, off, on, k, n, gap):
    runs = [[s * k, min(e * k, n)] for s, e in runs_by_hand(env > off)]
    merged = []
    for s, e in runs:
        if merged and s - merged[-1][1] < gap:
            merged[-1][1] = e
        else:
            merged.append([s, e])
    on_points = [g * k for g, v in enumerate(env.tolist()) if v >= on]
    out = []
    for s, e in merged:
        inside = [i for i in on_points if s <= i < e]
        if inside:
            out.append((s, e, inside[0], inside[-1]))
    return out


@settings(max_examples=300, deadline=None)
@given(
    levels=st.lists(st.sampled_from([0.0, 1.0, 2.0, 3.0]), max_size=80),
    k=st.integers(1, 4),
    gap=st.integers(0, 12),
)
def test_threshold_runs_match_a_plain_loop(levels, k, gap):
    env = np.array(levels, dtype=np.float64)
    n = max(env.size * k - (k - 1), 0)  # the last grid point may lie near the end
    got = kernels.threshold_runs(env, *dsp.runs_of(env > 1.0), 2.0, k, n, gap)
    rows = list(zip(*(a.tolist() for a in got), strict=True))
    assert rows == _threshold_runs_by_hand(env, 1.0, 2.0, k, n, gap)


def test_refined_edges_agree_with_the_plain_onset_walk():
    # a noisy burst: the onset the kernel finds is the plain helper's walk on the short RMS
    rng = np.random.default_rng(5)  # 1 kHz samples
    x = rng.normal(size=6000) * 1e-5
    x[2000:4000] += rng.normal(size=2000) * 2e-4 * np.minimum(np.arange(2000) / 200.0, 1.0)
    n = x.size
    csq = kernels.cumsum_squares(x)
    env = dsp.envelope_on_grid(csq, n, 100, 1)
    runs = dsp.runs_of(env > 3e-5)
    starts, ends, first_on, last_on = kernels.threshold_runs(env, *runs, 5e-5, 1, n, 200)
    assert starts.size == 1
    w, m, ws, frac = 100, 500, 25, 0.1
    onset, end = kernels.refine_edges(
        env, csq, n, 1, starts, ends, first_on, last_on, 3e-5, frac, w, m, ws
    )
    short = dsp.envelope_on_grid(csq, n, ws, 1)
    f = int(first_on[0])
    level = max(3e-5, frac * env[f : f + m].max())
    lo, hi = max(int(starts[0]) - w, 0), min(f + w + m, n)
    assert int(onset[0]) == dsp.refine_onset(short, f, level, lo, hi)
    level = max(3e-5, frac * env[starts[0] : ends[0]].max())
    hi = min(int(ends[0]) + w, n)
    below = np.flatnonzero(short[last_on[0] : hi] <= level)
    assert int(end[0]) == (int(last_on[0]) + int(below[0]) if below.size else hi)
    assert 1950 <= onset[0] <= 2100
    assert 3950 <= end[0] <= 4150


def _equal_runs_by_hand(x, min_run):
    runs, i = [], 0
    while i < len(x):
        j = i
        while j + 1 < len(x) and x[j + 1] == x[i]:
            j += 1
        if j - i + 1 >= min_run:
            runs.append((i, j + 1))
        i = j + 1
    return runs


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 1.0, -1.0]), max_size=60), st.integers(2, 5))
def test_flat_runs_find_every_run_of_equal_samples(values, min_run):
    x = np.array(values, dtype=np.float32)
    starts, ends = dsp.flat_runs(x, min_run)
    got = list(zip(starts.tolist(), ends.tolist(), strict=True))
    assert got == _equal_runs_by_hand(values, min_run)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from([0.0, 0.5, 1.0, -1.0]), min_size=1, max_size=60))
def test_clipping_runs_are_the_long_runs_at_the_channel_extremes(values):
    x = np.array(values, dtype=np.float32)
    lo, hi = min(values), max(values)
    runs = [(a, b) for a, b in _equal_runs_by_hand(values, 3) if lo != hi and values[a] in (lo, hi)]
    sat = saturation_runs(x, min_run=3)
    assert sat["runs"] == len(runs)
    assert sat["samples"] == sum(b - a for a, b in runs)
    assert sat["levels_v"] == sorted({values[a] for a, _ in runs})


def test_compile_all_prepares_float32_and_float64_samples_for_the_image_build():
    kernels.compile_all()
    assert len(kernels.zero_phase_sos.signatures) >= 2
    assert kernels.spectral_indices.signatures


def test_noise_floor_is_numpys_percentile_of_the_block_rms():
    x = np.random.default_rng(7).normal(size=10_000) * np.repeat([1.0, 5.0], 5000)
    csq = kernels.cumsum_squares(x)
    block_rms = np.sqrt((x.reshape(40, 250) ** 2).mean(axis=1))
    got = kernels.block_rms_percentile(csq, x.size, 250, 10.0)
    assert got == pytest.approx(np.percentile(block_rms, 10.0), rel=1e-12)


def test_moving_mean_max_is_the_best_window_mean_of_the_decimated_envelope():
    env = np.random.default_rng(8).random(1003)
    for width, step in [(1, 1), (50, 1), (100, 9), (5000, 3)]:
        sub = env[::step]
        w = min(max(1, width // step), sub.size)
        best = max(sub[i : i + w].mean() for i in range(sub.size - w + 1))
        assert kernels.moving_mean_max(env, width, step) == pytest.approx(best, rel=1e-12)


def test_line_fit_equals_polyfit_over_the_finite_points():
    x = np.arange(12.0)
    y = 3.0 - 0.5 * x + np.random.default_rng(9).normal(size=12) * 0.1
    y[[2, 7]] = np.nan
    ok = np.isfinite(y)
    used, slope, intercept, x0 = kernels.line_fit(x, y)
    ref_slope, ref_intercept = np.polyfit(x[ok], y[ok], 1)
    assert (used, x0) == (10, 0.0)
    assert slope == pytest.approx(ref_slope, rel=1e-12)
    assert intercept == pytest.approx(ref_intercept, rel=1e-12)
    assert np.isnan(kernels.line_fit(np.ones(4), np.arange(4.0))[1])  # one x: no slope


def test_spectral_indices_equal_those_of_scipys_welch_per_contraction():
    rate, cfg = 990.0, AnalysisConfig()
    rng = np.random.default_rng(10)
    bp = dsp.bandpass(rng.normal(size=20_000), rate, cfg)
    onsets, ends = np.array([1000, 6000, 12_000]), np.array([3500, 9100, 12_600])
    mnf, mdf, fi = dsp.welch_segments(bp, onsets, ends, rate, cfg)
    nper = 256  # 0.25 s rounded to a power of two; the shortest contraction allows it
    for r in range(3):
        f, pxx = signal.welch(bp[onsets[r] : ends[r]], fs=rate, window="hann", nperseg=nper)
        gain = np.abs(signal.sosfreqz(dsp.sos_for(rate, cfg), worN=f, fs=rate)[1]) ** 4
        band = (f >= 20.0) & (f <= 450.0)
        p, fb = pxx[band] / np.maximum(gain[band], 1e-12), f[band]
        assert mnf[r] == pytest.approx((p * fb).sum() / p.sum(), rel=1e-9)
        assert fi[r] == pytest.approx((p / fb).sum() / (p * fb**5).sum(), rel=1e-9)
        cum = np.cumsum(p)
        j = int(np.argmax(cum >= cum[-1] / 2))
        df = fb[1] - fb[0]
        expected_mdf = fb[j] - df + (cum[-1] / 2 - (cum[j - 1] if j else 0.0)) / p[j] * df
        assert mdf[r] == pytest.approx(expected_mdf, rel=1e-9)
