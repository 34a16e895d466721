"""The band-pass and the run/segment helpers: the same answers as their plain forms."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import signal

from analysis.core import dsp
from analysis.core.config import AnalysisConfig

from .conftest import runs_by_hand


def test_band_pass_matches_scipys_zero_phase_filter_away_from_the_edges():
    # the steady-state start replaces sosfiltfilt's odd extension: same response inside
    x = np.random.default_rng(3).normal(size=20000) * 1e-4 + 2e-3  # with a DC offset
    cfg = AnalysisConfig()
    ours = dsp.bandpass(x, 2000.0, cfg)
    ref = signal.sosfiltfilt(dsp.sos_for(2000.0, cfg), x - x.mean())
    inner = slice(2000, -2000)
    assert np.max(np.abs(ours[inner] - ref[inner])) < 1e-9 * np.max(np.abs(ref))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.booleans(), max_size=60))
def test_runs_of_finds_every_run_including_those_touching_the_ends(bits):
    mask = np.array(bits, dtype=bool)
    starts, ends = dsp.runs_of(mask)
    assert list(zip(starts.tolist(), ends.tolist(), strict=True)) == runs_by_hand(mask)


def test_segment_stats_accept_a_segment_ending_at_the_last_sample():
    env = np.array([1.0, 5.0, 2.0, 7.0, 3.0])
    peaks, means, sums = dsp.segment_stats(env, np.array([1, 3]), np.array([3, 5]))
    assert peaks.tolist() == [5.0, 7.0]
    assert means.tolist() == [3.5, 5.0]
    assert sums.tolist() == [7.0, 10.0]
