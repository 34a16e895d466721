"""The game's contractions by the GHOSTLY analyzer's rule, and their agreement with ours."""

import numpy as np

from analysis.core import analyse_recording
from analysis.core.game import agreement, game_contractions
from analysis.core.synth import generate_session

RATE = 1000.0


def _activated(*spans_s):
    x = np.zeros(int(RATE * 10))
    for a, b in spans_s:
        x[int(a * RATE) : int(b * RATE)] = 1e-5
    return x


def test_flicker_within_a_contraction_is_one_contraction():
    # gaps of 50 and 200 ms (under 250 ms) are flicker, not rest
    x = _activated((1.0, 1.5), (1.55, 2.0), (2.2, 3.0))
    assert game_contractions(x, RATE) == [{"start_s": 1.0, "end_s": 3.0, "duration_s": 2.0}]


def test_rest_of_250_ms_separates_and_blips_are_dropped():
    x = _activated((1.0, 2.0), (2.25, 3.0), (5.0, 5.05))
    assert [c["start_s"] for c in game_contractions(x, RATE)] == [1.0, 2.25]


def test_agreement_counts_matches_spans_and_leftovers():
    game = [{"start_s": a, "end_s": b} for a, b in ((1, 2), (3, 4), (6, 7), (9, 9.5))]
    ours = [{"start_s": a, "end_s": b} for a, b in ((0.9, 4.1), (6.1, 7.2), (8, 8.5))]
    counts, match = agreement(ours, game)
    assert counts == {"matched": 2, "only_ours": 1, "only_game": 2, "spanning": 1}
    assert match[1:] == [2, None]
    assert match[0] in (0, 1)


def test_the_synthetic_game_registers_each_hold_of_a_demo_round_once():
    # the demo's rounds (990 Hz, 12 holds of 55-100 % MVC): the generator's game channel
    # rectifies the EMG band, so a hold is one registered contraction, not several flickers
    for seed in (0, 3, 5):
        rec, truth = generate_session(
            seed,
            duration_s=60,
            rate_hz=990.0,
            contractions=12,
            levels_pct=(55.0, 85.0),
            durations_s=(1.2, 3.0),
        )
        doc = analyse_recording(rec, include_envelope=False)
        for ch in doc["channels"]:
            assert ch["summary"]["game_count"] == 12, (seed, ch["label"], ch["agreement"])
            assert ch["agreement"]["matched"] == 12, (seed, ch["label"], ch["agreement"])
