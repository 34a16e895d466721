"""The band-pass and run-finding helpers give the same answers in their fast forms."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from analysis.core import dsp
from analysis.core.config import AnalysisConfig

CFG = AnalysisConfig()


def _signals(n: int, count: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    # different DC offsets, so the per-signal mean removal is exercised as well
    return [rng.normal(size=n) * 1e-4 + 1e-3 * i for i in range(count)]


@pytest.mark.parametrize("count", [1, 2, 3, 4])
def test_pairwise_band_pass_equals_the_single_channel_band_pass_bit_for_bit(count):
    # two channels travel as one complex signal; the real coefficients never mix them
    xs = _signals(5000, count)
    together = dsp.bandpass_many(xs, 990.0, CFG)
    assert len(together) == count
    for x, y in zip(xs, together, strict=True):
        assert np.array_equal(y, dsp.bandpass(x, 990.0, CFG))
        assert y.dtype == np.float64


def test_pairwise_band_pass_takes_signals_of_different_lengths_one_by_one():
    a, b = _signals(3000, 1)[0], _signals(2000, 1, seed=1)[0]
    ya, yb = dsp.bandpass_many([a, b], 990.0, CFG)
    assert np.array_equal(ya, dsp.bandpass(a, 990.0, CFG))
    assert np.array_equal(yb, dsp.bandpass(b, 990.0, CFG))


def test_band_pass_matches_scipys_zero_phase_filter_away_from_the_edges():
    # the steady-state start replaces sosfiltfilt's odd extension: same response inside
    x = _signals(20000, 1, seed=3)[0]
    ours = dsp.bandpass(x, 2000.0, CFG)
    ref = signal.sosfiltfilt(dsp.sos_for(2000.0, CFG), x - x.mean())
    inner = slice(2000, -2000)
    assert np.max(np.abs(ours[inner] - ref[inner])) < 1e-9 * np.max(np.abs(ref))


def _runs_by_hand(mask: np.ndarray) -> list[tuple[int, int]]:
    runs, start = [], None
    for i, v in enumerate(mask.tolist()):
        if v and start is None:
            start = i
        if not v and start is not None:
            runs.append((start, i))
            start = None
    if start is not None:
        runs.append((start, mask.size))
    return runs


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=60))
def test_runs_of_finds_every_run_including_those_touching_the_ends(bits):
    mask = np.array(bits, dtype=bool)
    starts, ends = dsp.runs_of(mask)
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == _runs_by_hand(mask)


def test_segment_maximum_and_stats_accept_a_segment_ending_at_the_last_sample():
    env = np.array([1.0, 5.0, 2.0, 7.0, 3.0])
    assert dsp.seg_max(env, np.array([0, 2]), np.array([2, 5])).tolist() == [5.0, 7.0]
    peaks, means, sums = dsp.segment_stats(env, np.array([1, 3]), np.array([3, 5]))
    assert peaks.tolist() == [5.0, 7.0]
    assert means.tolist() == [3.5, 5.0]
    assert sums.tolist() == [7.0, 10.0]
