"""The live path's shortcuts compute exactly what the library calls they replace.

``sosfilt_1d`` skips ``scipy.signal.sosfilt``'s checks and axis moves around the same
compiled kernel; ``sorted_percentile`` reads ``np.percentile`` from a list kept sorted.
``histogram_uniform`` is numpy's equal-bins histogram without its checks (its counting
compiled); ``activity_level``'s compiled Otsu scan is the numpy form over every pair of
boundaries (``activity_level_numpy``, with ``np.histogram``; the numpy forms are in
``reference.py``), and ``RunningActivityLevel``
(updated block by block) is ``activity_level`` of all the blocks so far; the compiled moving RMS of
the envelopes is ``moving_rms_numpy``; ``kernels.bucket_peaks`` (the live view's decimated
signal) picks the samples numpy's ``argmax`` of the magnitudes picks.
All must give the same floats, bit for bit, or the live results would drift from what
they were tested to be.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import signal

from analysis.core import AnalysisConfig, dsp
from analysis.core.activity import RunningActivityLevel, activity_level, histogram_uniform
from analysis.core.kernels import bucket_peaks
from analysis.core.stream_detector import sorted_percentile
from analysis.core.stream_signal import _moving_rms, sosfilt_1d

from .reference import activity_level_numpy, moving_rms_numpy


@pytest.mark.parametrize("n", [1, 2, 49, 50, 198, 1000])
def test_sosfilt_1d_is_scipys_sosfilt(n):
    rng = np.random.default_rng(n)
    sos = np.ascontiguousarray(dsp.sos_for(990.0, AnalysisConfig()), dtype=np.float64)
    zi = signal.sosfilt_zi(sos) * rng.standard_normal()
    x = rng.standard_normal(n) * 1e-4
    for data in (x, x[::-1]):  # the backward pass filters a reversed view
        want, want_zi = signal.sosfilt(sos, data, zi=zi)
        got, got_zi = sosfilt_1d(sos, data, zi)
        assert np.array_equal(got, want)
        assert np.array_equal(got_zi, want_zi)
    assert np.array_equal(zi, signal.sosfilt_zi(sos) * np.random.default_rng(n).standard_normal())


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=0.0, max_value=1.0, allow_nan=False, allow_subnormal=False),
        min_size=1,
        max_size=300,
    ),
    pct=st.sampled_from([0.0, 1.0, 10.0, 25.0, 33.3, 50.0, 90.0, 99.9, 100.0]),
)
def test_sorted_percentile_is_numpys_percentile(values, pct):
    assert sorted_percentile(sorted(values), pct) == float(np.percentile(values, pct))


def test_sorted_percentile_on_block_rms_like_values():
    rng = np.random.default_rng(7)
    for n in range(1, 400):
        values = list(np.abs(rng.standard_normal(n)) * 1e-5)
        for pct in (10.0, 5.0, 50.0):
            assert sorted_percentile(sorted(values), pct) == float(np.percentile(values, pct))


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=-30.0, max_value=5.0, allow_nan=False, allow_subnormal=False),
        min_size=2,
        max_size=400,
    ).filter(lambda v: max(v) > min(v)),
    bins=st.sampled_from([1, 2, 7, 64]),
)
def test_histogram_uniform_is_numpys_histogram(values, bins):
    x = np.asarray(values, dtype=float)
    try:
        want_counts, want_edges = np.histogram(x, bins=bins)
    except ValueError:  # numpy refuses a range too small for finite bins: no reference
        assume(False)
    counts, edges = histogram_uniform(x, bins)
    assert np.array_equal(counts, want_counts)
    assert np.array_equal(edges, want_edges)


def test_histogram_uniform_on_log_block_rms():
    rng = np.random.default_rng(3)
    for n in range(8, 600, 7):
        x = np.log(np.abs(rng.standard_normal(n)) * 1e-5 + 1e-7)
        counts, edges = histogram_uniform(x, 64)
        want_counts, want_edges = np.histogram(x, bins=64)
        assert np.array_equal(counts, want_counts)
        assert np.array_equal(edges, want_edges)


@settings(max_examples=300, deadline=None)
@given(
    values=st.lists(
        st.floats(min_value=1e-9, max_value=1e-2, allow_nan=False, allow_subnormal=False),
        min_size=0,
        max_size=400,
    ),
    tonic_ratio=st.sampled_from([0.1, 0.3, 0.9]),
)
def test_activity_level_is_the_numpy_otsu_split(values, tonic_ratio):
    x = np.asarray(values, dtype=float)
    assert activity_level(x, tonic_ratio) == activity_level_numpy(x, tonic_ratio)


@pytest.mark.parametrize("kind", ["rest", "rest_tonic_bursts", "quantised", "log_uniform"])
def test_activity_level_on_block_rms_like_values(kind):
    rng = np.random.default_rng(11)
    for n in [*range(0, 300, 3), 1200, 5000]:
        rest = np.abs(rng.standard_normal(n)) * 1e-5
        x = {
            "rest": rest,
            "rest_tonic_bursts": np.concatenate(
                (rest, np.abs(rng.standard_normal(n // 3)) * 3e-4, rest[: n // 4] * 6)
            ),
            "quantised": np.round(rest * 4e5) * 1e-5,
            "log_uniform": np.exp(rng.uniform(-12, -6, n)),
        }[kind]
        for ratio in (0.1, 0.3, 0.9):
            assert activity_level(x, ratio) == activity_level_numpy(x, ratio)


@pytest.mark.parametrize("widths", [(50, 20, 15), (50, 20, 0), (1, 1, 1), (3, 200, 7)])
def test_moving_rms_is_the_numpy_form(widths):
    rng = np.random.default_rng(sum(widths))
    n_filtered = 0
    tail = np.zeros(0)
    for n_new in [1, 2, 49, 198, 3, 500, 50, 1]:
        sq = (rng.standard_normal(n_new) * 1e-4) ** 2
        ext = np.concatenate((tail, sq))
        got = _moving_rms(ext, n_new, n_filtered, *widths)
        want = moving_rms_numpy(ext, n_new, n_filtered, [w for w in widths if w])
        for row, values in enumerate(want):
            assert np.array_equal(got[row], values)
        n_filtered += n_new
        tail = ext[-(widths[0] - 1) :] if widths[0] > 1 else np.zeros(0)


def bucket_peaks_numpy(x, step):
    """The largest-magnitude sample of each bucket of ``step`` (the last one shorter)."""
    n = x.shape[0] // step * step
    parts = []
    columns = np.arange(x.shape[1])
    if n:
        b = x[:n].reshape(-1, step, x.shape[1])  # buckets x step x channels
        idx = np.abs(b).argmax(axis=1)
        parts.append(b[np.arange(b.shape[0])[:, None], idx, columns])
    if x.shape[0] > n:
        rest = x[n:]
        parts.append(rest[np.abs(rest).argmax(axis=0), columns][None, :])
    return np.concatenate(parts) if parts else np.zeros((0, x.shape[1]))


@pytest.mark.parametrize("step", [2, 3, 10, 50])
def test_bucket_peaks_picks_what_numpys_argmax_picks(step):
    rng = np.random.default_rng(step)
    for n in [0, 1, 9, 10, 49, 50, 51, 198]:
        x = rng.standard_normal((n, 4)) * 1e-4
        x[: n // 2, 1] = np.round(x[: n // 2, 1] * 1e4) * 1e-4  # ties of magnitude, +/-
        x[:, 2] = -x[:, 3]
        got = bucket_peaks(x, step)
        want = bucket_peaks_numpy(x, step)
        assert got.shape == want.shape
        assert np.array_equal(got, want)
        assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("seed", range(4))
def test_the_running_activity_level_is_the_level_of_all_blocks_so_far(seed):
    rng = np.random.default_rng(seed)
    rest = np.abs(rng.standard_normal(400)) * 1e-5
    bursts = np.abs(rng.standard_normal(400)) * 3e-4
    values = np.where(rng.random(400) < 0.3, bursts, rest)
    values[rng.random(400) < 0.05] = 0.0  # a blanked drop-out's block
    values[50:70] = values[49]  # equal blocks: no spread at first
    blocks: list[float] = []
    running = RunningActivityLevel(0.3)
    k = 0
    while k < values.size:
        step = int(rng.integers(1, 4))  # one or a few new blocks per call
        blocks += [float(v) for v in values[k : k + step]]
        k += step
        assert running.level(blocks) == activity_level(np.asarray(blocks), 0.3)
