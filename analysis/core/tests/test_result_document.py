"""The result document: the keys the pipeline relies on, plain JSON, never NaN."""

from __future__ import annotations

import json

from analysis.core import analyse_file

CONTRACTION_KEYS = {
    "start_s",
    "end_s",
    "duration_s",
    "peak",
    "mean",
    "peak_pct_mvc",
    "mean_pct_mvc",
    "area",
    "mnf_hz",
    "mdf_hz",
    "fi_nsm5",
    "meets_intensity",
    "meets_duration",
    "good",
    "game_match",
}
SUMMARY_KEYS = {
    "count",
    "good",
    "intensity_ok",
    "duration_ok",
    "time_under_tension_s",
    "rms",
    "mav",
    "mnf_slope_hz_per_contraction",
    "mdf_slope_hz_per_contraction",
    "mnf_slope_pct_per_min",
    "mdf_slope_pct_per_min",
    "fi_nsm5_ratio",
    "saturation_pct",
    "snr_db",
    "game_count",
}


def test_the_game_file_document_has_the_contract_keys(game_file):
    doc = analyse_file(game_file, rpe=5, bfr_pct_aop=50)
    json.dumps(doc, allow_nan=False)  # raises on NaN/inf
    assert set(doc) == {"version", "units", "recording", "channels", "score", "parameters"}
    assert set(doc["recording"]) == {
        "rate_hz",
        "duration_s",
        "n_samples",
        "started_at",
        "metadata",
        "warnings",
        "saturation",
    }
    assert doc["recording"]["started_at"] == "2023-03-21T17:50:00"
    assert set(doc["parameters"]) == {"analysis", "scoring"}
    for ch in doc["channels"]:
        assert {
            "label",
            "muscle",
            "side",
            "mvc",
            "mvc_source",
            "threshold",
            "threshold_off",
            "noise",
            "contractions",
            "game_contractions",
            "agreement",
            "summary",
            "envelope",
        } <= set(ch)
        assert ch["contractions"], ch["label"]
        for c in ch["contractions"]:
            assert set(c) == CONTRACTION_KEYS
        assert set(ch["summary"]) == SUMMARY_KEYS
        assert ch["summary"]["game_count"] == len(ch["game_contractions"]) > 0
        agree = ch["agreement"]
        assert set(agree) == {"matched", "only_ours", "only_game", "spanning"}
        assert agree["matched"] + agree["only_ours"] == len(ch["contractions"])
        assert agree["matched"] + agree["only_game"] == len(ch["game_contractions"])
        matches = [c["game_match"] for c in ch["contractions"] if c["game_match"] is not None]
        assert len(matches) == len(set(matches)) == agree["matched"]
        env = ch["envelope"]
        assert 20 <= env["rate_hz"] <= 50
        assert len(env["values"]) == int(doc["recording"]["duration_s"] * env["rate_hz"]) + 0 or (
            abs(len(env["values"]) - doc["recording"]["duration_s"] * env["rate_hz"]) <= 1
        )
    score = doc["score"]
    assert {
        "overall",
        "compliance",
        "symmetry",
        "effort",
        "game",
        "missing",
        "weights",
        "bfr",
    } <= set(score)
    assert "mean" in score["compliance"]
    assert score["missing"] == ["game"]
    # volts: a surface EMG peak is well under 10 mV
    assert all(c["peak"] < 0.01 for ch in doc["channels"] for c in ch["contractions"])


def test_the_envelope_can_be_left_out(game_file):
    doc = analyse_file(game_file, include_envelope=False)
    assert all("envelope" not in ch for ch in doc["channels"])
