"""The performance score: one definition, renormalised weights, honest about what is missing."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from analysis.core import ScoringConfig
from analysis.core.scoring import combine_score, effort_from_table, effort_of, score_session


def _channel(label, side, count, intensity_ok, duration_ok, muscle="quadriceps"):
    good = min(intensity_ok, duration_ok)
    summary = {"count": count, "intensity_ok": intensity_ok, "duration_ok": duration_ok}
    return {"label": label, "muscle": muscle, "side": side, "summary": {**summary, "good": good}}


def test_compliance_is_the_weighted_mean_of_completion_intensity_and_duration():
    channels = [_channel("CH1 Raw", "left", 6, 3, 6)]
    score = score_session(
        channels=channels, metadata={}, scoring=ScoringConfig(), rpe=None, bfr_pct_aop=None
    )
    # completion 6/12 = 0.5, intensity 3/6 = 0.5, duration 6/6 = 1 -> 100 * 2/3
    assert score["compliance"]["CH1 Raw"] == pytest.approx(200 / 3)
    assert score["compliance"]["mean"] == pytest.approx(200 / 3)


def test_a_missing_rpe_is_missing_not_a_default_and_weights_renormalise():
    channels = [_channel("CH1 Raw", "left", 12, 12, 12)]
    score = score_session(
        channels=channels, metadata={}, scoring=ScoringConfig(), rpe=None, bfr_pct_aop=None
    )
    assert score["effort"] is None
    assert score["missing"] == ["symmetry", "effort", "game"]
    assert score["overall"] == pytest.approx(100.0)  # only compliance exists


def test_overall_is_the_weighted_mean_of_present_components():
    channels = [_channel("CH1 Raw", "left", 12, 12, 12), _channel("CH2 Raw", "right", 6, 0, 0)]
    scoring = ScoringConfig(game_score_max=40)
    score = score_session(
        channels=channels, metadata={"game_score": 20}, scoring=scoring, rpe=6, bfr_pct_aop=50
    )
    c_left, c_right = 100.0, 100.0 * (0.5 / 3)
    compliance = (c_left + c_right) / 2
    symmetry = 100.0 * (1 - abs(c_left - c_right) / (c_left + c_right))
    effort, game = 100.0, 50.0
    expected = (0.5 * compliance + 0.2 * symmetry + 0.2 * effort + 0.1 * game) / 1.0
    assert score["symmetry"] == pytest.approx(symmetry)
    assert score["game"] == pytest.approx(game)
    assert score["overall"] == pytest.approx(expected)
    assert score["missing"] == []
    assert score["bfr"] == {
        "pressure_pct_aop": 50.0,
        "in_safe_band": True,
        "gated": False,
        "safe_band_pct_aop": [45.0, 55.0],
    }


def test_bfr_pressure_outside_the_safe_band_gates_the_score():
    channels = [_channel("CH1 Raw", "left", 12, 12, 12)]
    score = score_session(
        channels=channels, metadata={}, scoring=ScoringConfig(), rpe=5, bfr_pct_aop=70
    )
    assert score["overall"] is None
    assert score["bfr"]["gated"] is True
    assert score["bfr"]["in_safe_band"] is False
    assert score["compliance"]["CH1 Raw"] == pytest.approx(100.0)  # components stay visible


def test_the_rpe_table_maps_effort_and_refuses_out_of_range_values():
    scoring = ScoringConfig()
    assert effort_of(6, scoring) == 100.0
    assert effort_of(1, scoring) < effort_of(3, scoring) < effort_of(5, scoring)
    assert effort_of(10, scoring) < effort_of(7, scoring)
    assert effort_of(2.5, scoring) == pytest.approx((25 + 50) / 2)
    with pytest.raises(ValueError, match="Borg CR-10"):
        effort_of(11, scoring)


def test_the_game_component_needs_a_known_maximum():
    channels = [_channel("CH1 Raw", "left", 12, 12, 12)]
    score = score_session(
        channels=channels,
        metadata={"game_score": 30},
        scoring=ScoringConfig(),
        rpe=None,
        bfr_pct_aop=None,
    )
    assert score["game"] is None
    assert "game" in score["missing"]
    assert score["missing_reasons"]["game"] == "no_game_score_max"


def test_each_missing_component_carries_a_reason_code():
    channels = [_channel("CH1 Raw", "left", 12, 12, 12)]
    score = score_session(
        channels=channels,
        metadata={},
        scoring=ScoringConfig(game_score_max=40),
        rpe=None,
        bfr_pct_aop=None,
    )
    assert score["missing_reasons"] == {
        "symmetry": "no_left_right_pair",
        "effort": "no_rpe",
        "game": "no_game_score",  # a maximum is known, the file carried no score
    }


def test_score_session_is_combine_score_of_its_components():
    # One definition: the document's block equals combine_score of its own components.
    channels = [_channel("CH1 Raw", "left", 12, 12, 12), _channel("CH2 Raw", "right", 6, 0, 0)]
    scoring = ScoringConfig(game_score_max=40)
    score = score_session(
        channels=channels, metadata={"game_score": 20}, scoring=scoring, rpe=4, bfr_pct_aop=50
    )
    again = combine_score(
        values={k: score[k] for k in ("symmetry", "effort", "game")}
        | {"compliance": score["compliance"]["mean"]},
        weights=score["weights"],
        bfr_pct_aop=50,
        bfr_safe_band_pct_aop=scoring.bfr_safe_band_pct_aop,
    )
    assert again["overall"] == pytest.approx(score["overall"])


def test_combine_score_renormalises_and_gates():
    values = {"compliance": 80.0, "symmetry": None, "effort": 100.0, "game": None}
    weights = {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.1}
    score = combine_score(
        values=values,
        weights=weights,
        bfr_pct_aop=None,
        bfr_safe_band_pct_aop=(45, 55),
        missing_reasons={"symmetry": "no_left_right_pair"},
    )
    assert score["overall"] == pytest.approx((0.5 * 80 + 0.2 * 100) / 0.7)
    assert score["missing"] == ["symmetry", "game"]
    assert score["missing_reasons"] == {"symmetry": "no_left_right_pair", "game": "not_computed"}
    gated = combine_score(
        values=values, weights=weights, bfr_pct_aop=70, bfr_safe_band_pct_aop=(45, 55)
    )
    assert gated["overall"] is None
    assert gated["bfr"]["gated"] is True
    assert gated["effort"] == 100.0  # components stay visible
    with pytest.raises(ValueError, match="BFR"):
        combine_score(
            values=values, weights=weights, bfr_pct_aop=-1, bfr_safe_band_pct_aop=(45, 55)
        )


def test_effort_from_a_stored_table():
    assert effort_from_table(None, [(0, 0), (10, 100)]) is None
    assert effort_from_table(2.5, [[0, 0], [10, 100]]) == pytest.approx(25.0)
    assert effort_from_table(2.5, {"10": 100, "0": 0}) == pytest.approx(25.0)  # JSON keys


def test_importing_the_scoring_module_loads_numpy_but_not_numba_or_scipy():
    # The web process imports it for every session page: the heavy kernels must stay out.
    code = (
        "import sys, analysis.core.scoring; "
        "print(sorted(m for m in ('numpy', 'scipy', 'numba', 'ezc3d') if m in sys.modules))"
    )
    out = subprocess.run(  # noqa: S603 - our own interpreter and code
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[3],
    ).stdout
    assert out.strip() == "['numpy']"
