"""The live path's shortcuts compute exactly what the library calls they replace.

``sosfilt_1d`` skips ``scipy.signal.sosfilt``'s checks and axis moves around the same
compiled kernel; ``sorted_percentile`` reads ``np.percentile`` from a list kept sorted.
``histogram_uniform`` is numpy's equal-bins histogram without its checks.
All must give the same floats, bit for bit, or the live results would drift from what
they were tested to be.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from analysis.core import AnalysisConfig, dsp
from analysis.core.activity import histogram_uniform
from analysis.core.stream_detector import sorted_percentile
from analysis.core.stream_signal import sosfilt_1d


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
    counts, edges = histogram_uniform(x, bins)
    want_counts, want_edges = np.histogram(x, bins=bins)
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
