"""Frozen configs with documented defaults; from_dict/to_dict; unknown keys refused."""

from __future__ import annotations

import dataclasses
import json

import pytest

from analysis.core import AnalysisConfig, ReadLimits, ScoringConfig


def test_defaults_are_the_documented_protocol():
    cfg, scoring = AnalysisConfig(), ScoringConfig()
    assert (cfg.bandpass_low_hz, cfg.bandpass_high_hz, cfg.envelope_window_s) == (20, 450, 0.1)
    assert (scoring.target_count, scoring.target_pct_mvc, scoring.target_duration_s) == (12, 75, 2)
    assert scoring.bfr_safe_band_pct_aop == (45.0, 55.0)
    assert set(scoring.weights) == {"compliance", "symmetry", "effort", "game"}
    assert set(scoring.compliance_weights) == {"completion", "intensity", "duration"}


@pytest.mark.parametrize("cls", [AnalysisConfig, ScoringConfig, ReadLimits])
def test_to_dict_from_dict_round_trips_through_json(cls):
    obj = cls()
    again = cls.from_dict(json.loads(json.dumps(obj.to_dict())))
    assert again == obj


@pytest.mark.parametrize("cls", [AnalysisConfig, ScoringConfig, ReadLimits])
def test_unknown_keys_are_refused_with_the_valid_ones_listed(cls):
    with pytest.raises(ValueError, match="unknown .* key.*valid keys are"):
        cls.from_dict({"no_such_setting": 1})


def test_configs_are_frozen_and_validated():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AnalysisConfig().envelope_window_s = 0.2  # type: ignore[misc]
    with pytest.raises(ValueError, match="hysteresis"):
        AnalysisConfig(on_noise_factor=2.0, off_noise_factor=3.0)
    with pytest.raises(ValueError, match="edge_fine_window_s"):
        AnalysisConfig(edge_fine_window_s=0.05)  # longer than the 40 ms onset window
    with pytest.raises(ValueError, match="edge_fine_snr_low"):
        AnalysisConfig(edge_fine_snr_low=20.0, edge_fine_snr_high=10.0)
    with pytest.raises(ValueError, match="edge_fine_rise_short_s"):
        AnalysisConfig(edge_fine_rise_short_s=0.06)
    with pytest.raises(ValueError, match="unknown weights key"):
        ScoringConfig(weights={"fun": 1.0})
    with pytest.raises(ValueError, match="bfr_safe_band_pct_aop"):
        ScoringConfig.from_dict({"bfr_safe_band_pct_aop": [60, 50]})


def test_scoring_from_dict_accepts_the_rpe_table_as_json_object():
    scoring = ScoringConfig.from_dict({"rpe_table": {"0": 0, "10": 100}, "target_count": 10})
    assert scoring.rpe_table == ((0, 0.0), (10, 100.0))
    assert scoring.target_count == 10
