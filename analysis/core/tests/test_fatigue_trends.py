"""Spectral fatigue: MNF/MDF slopes across contractions match the generator's truth."""

from __future__ import annotations

import pytest

from analysis.core import analyse_recording
from analysis.core.synth import generate_session


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_mnf_and_mdf_slopes_are_within_20_percent_of_truth(seed):
    rec, truth = generate_session(seed, durations_s=(3.0, 5.0), fatigue=0.3)
    doc = analyse_recording(rec, include_envelope=False)
    for ch in doc["channels"]:
        s, t = ch["summary"], truth["channels"][ch["label"]]
        for key in ("mnf_slope_hz_per_contraction", "mdf_slope_hz_per_contraction"):
            assert s[key] == pytest.approx(t[key], rel=0.2), (seed, ch["label"], key)
        assert s["mnf_slope_pct_per_min"] < 0
        # FInsm5 grows as the spectrum compresses towards low frequencies
        assert s["fi_nsm5_ratio"] > 1.5


def test_a_fresh_muscle_shows_no_trend():
    rec, _ = generate_session(4, durations_s=(3.0, 5.0), fatigue=0.0)
    doc = analyse_recording(rec, include_envelope=False)
    for ch in doc["channels"]:
        assert abs(ch["summary"]["mnf_slope_hz_per_contraction"]) < 0.6
