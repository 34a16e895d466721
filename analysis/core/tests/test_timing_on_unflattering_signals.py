"""Onsets and offsets at the burst's support, on signals that do not flatter the detector.

Truth is the generator's burst support (rise start to fall end), never tuned. Targets of
issue 11: in every scenario whose rise and fall take up to 100 ms, F1 >= 0.98 and onset and
offset mean absolute errors <= 20 ms. Short recordings and two seeds keep this fast.
"""

from __future__ import annotations

import pytest

from analysis.core import analyse_recording
from analysis.core.evaluation import match_contractions
from analysis.core.synth import HARD_SCENARIOS, SCENARIOS, generate_session

FAST_RAMPS = [s for s in HARD_SCENARIOS if s.name != "slow_ramps"]


@pytest.mark.parametrize("scenario", FAST_RAMPS, ids=lambda s: s.name)
def test_edges_sit_at_the_burst_support(scenario):
    kwargs = {"rate_hz": 2000.0, **scenario.kwargs}
    for seed in (21, 22):
        rec, truth = generate_session(seed, duration_s=80.0, contractions=8, **kwargs)
        doc = analyse_recording(rec, include_envelope=False)
        for ch in doc["channels"]:
            expected = truth["channels"][ch["label"]]["contractions"]
            score = match_contractions(expected, ch["contractions"])
            assert score["f1"] >= 0.98, (scenario.name, seed, score)
            assert score["mean_onset_error_s"] <= 0.020, (scenario.name, seed, score)
            assert score["mean_offset_error_s"] <= 0.020, (scenario.name, seed, score)


def test_slow_ramps_are_found_with_edges_near_their_support():
    # ramps of up to 500 ms (exponential ones rise slowly from nothing): the target is no
    # worse than NeuroKit2, which is off by ~90-100 ms here (bench); ours ~25-40 ms
    scenario = next(s for s in HARD_SCENARIOS if s.name == "slow_ramps")
    rec, truth = generate_session(23, duration_s=80.0, contractions=8, **scenario.kwargs)
    doc = analyse_recording(rec, include_envelope=False)
    for ch in doc["channels"]:
        score = match_contractions(
            truth["channels"][ch["label"]]["contractions"], ch["contractions"]
        )
        assert score["f1"] >= 0.98
        assert score["mean_onset_error_s"] <= 0.060
        assert score["mean_offset_error_s"] <= 0.060


def test_holds_stay_whole_through_30_percent_force_wobble():
    rec, truth = generate_session(
        24,
        duration_s=80.0,
        contractions=8,
        levels_pct=(20.0, 90.0),
        wobble_pct=30.0,
        durations_s=(3.0, 5.0),
        noise_uv=20.0,
    )
    doc = analyse_recording(rec, include_envelope=False)
    for ch in doc["channels"]:
        assert ch["summary"]["count"] == 8, ch["label"]


def test_the_default_generator_is_unchanged_by_the_new_options():
    # the harder features draw random numbers only when used: old seeds give old signals
    a, _ = generate_session(5, duration_s=20.0, contractions=2)
    b, _ = generate_session(5, duration_s=20.0, contractions=2, wobble_pct=0.0, pink_uv=0.0)
    assert (a.channels[0].values == b.channels[0].values).all()


# The original scenarios (50 ms cosine ramps, flat holds, 5 uV noise unless stated): steep
# onsets at high SNR, where a 40 ms window's leading edge reached the burst ~9 ms early.
# NeuroKit2's mean errors there are 6.8-8.8 ms (bench, where it finds the contractions);
# ours must stay clearly under them. The 50 Hz hum scenario gets more room: a 15 ms window
# is shorter than one hum period, so its baseline swings and the fine window is taken
# only in part (measured ~5 ms against NeuroKit2's 8.0/8.2).
ORIGINAL_BOUND_S = {"hum_50hz": 0.0075}


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_steep_onsets_at_high_snr_are_not_early(scenario):
    kwargs = {"rate_hz": 2000.0, **scenario.kwargs}
    scores = []
    for seed in (21, 22):
        rec, truth = generate_session(seed, duration_s=80.0, contractions=8, **kwargs)
        doc = analyse_recording(rec, include_envelope=False)
        for ch in doc["channels"]:
            expected = truth["channels"][ch["label"]]["contractions"]
            scores.append(match_contractions(expected, ch["contractions"]))
    bound = ORIGINAL_BOUND_S.get(scenario.name, 0.006)
    assert min(s["f1"] for s in scores) >= 0.98, scenario.name
    onset = sum(s["mean_onset_error_s"] for s in scores) / len(scores)
    offset = sum(s["mean_offset_error_s"] for s in scores) / len(scores)
    assert onset <= bound, (scenario.name, onset)
    assert offset <= bound, (scenario.name, offset)
