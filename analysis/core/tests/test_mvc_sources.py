"""MVC from a calibration, entered by the therapist, or estimated; always labelled."""

from __future__ import annotations

import dataclasses

import pytest

from analysis.core import (
    ChannelMapMismatch,
    InvalidRecording,
    MvcEstimate,
    UnknownChannel,
    analyse_recording,
    calibrate_mvc,
)
from analysis.core.synth import generate_session


def test_calibration_finds_the_highest_sustained_level():
    # one 4 s hold at 100 % of a 500 uV-RMS MVC, nothing else
    rec, _ = generate_session(
        51,
        duration_s=20.0,
        channels=1,
        contractions=1,
        levels_pct=(100.0, 100.0),
        durations_s=(4.0, 4.0),
    )
    result = calibrate_mvc(rec)
    assert result == {
        "CH1 Raw": MvcEstimate("CH1 Raw", "quadriceps", "left", pytest.approx(500e-6, rel=0.08))
    }
    # naming the channel (label or GHOSTLY short name) gives the same one entry
    assert calibrate_mvc(rec, channel="CH1") == result
    assert calibrate_mvc(rec, channel="ch1 raw") == result


def test_calibration_returns_one_entry_per_emg_channel_with_its_muscle():
    rec, _ = generate_session(56, duration_s=30.0, contractions=2)
    result = calibrate_mvc(rec)
    assert [(e.label, e.muscle, e.side) for e in result.values()] == [
        ("CH1 Raw", "quadriceps", "left"),
        ("CH2 Raw", "quadriceps", "right"),
    ]
    assert all(label == e.label and e.value_v > 0 for label, e in result.items())
    with pytest.raises(dataclasses.FrozenInstanceError):
        result["CH1 Raw"].value_v = 1.0  # type: ignore[misc]


def test_a_channel_map_relabels_the_calibrated_muscles():
    rec, _ = generate_session(57, duration_s=30.0, contractions=2)
    result = calibrate_mvc(rec, channel_map={"CH2": ("hamstrings", "right")})
    assert [(e.label, e.muscle, e.side) for e in result.values()] == [
        ("CH2 Raw", "hamstrings", "right")
    ]


def test_an_unknown_channel_or_a_map_that_does_not_fit_is_refused_by_type():
    rec, _ = generate_session(58, duration_s=30.0, channels=1, contractions=2)
    with pytest.raises(UnknownChannel, match="no EMG channel 'CH2' in this recording"):
        calibrate_mvc(rec, channel="CH2")
    with pytest.raises(ChannelMapMismatch, match="unknown channel 'CH5'"):
        calibrate_mvc(rec, channel_map={"CH5": ("quadriceps", "left")})
    # both are refusals with one human line, as every InvalidRecording
    assert issubclass(UnknownChannel, InvalidRecording)
    assert issubclass(ChannelMapMismatch, InvalidRecording)


def test_sources_are_labelled_and_an_estimate_is_visible_downstream():
    rec, _ = generate_session(52, duration_s=120.0)
    doc = analyse_recording(
        rec,
        mvc={"left quadriceps": (520e-6, "calibration"), "right hamstrings": 1e-3},
        include_envelope=False,
    )
    by_label = {c["label"]: c for c in doc["channels"]}
    assert by_label["CH1 Raw"]["mvc_source"] == "calibration"
    assert by_label["CH1 Raw"]["mvc"] == pytest.approx(520e-6)
    assert by_label["CH2 Raw"]["mvc_source"] == "estimated"
    assert any("CH2 Raw: MVC estimated" in w for w in doc["recording"]["warnings"])


def test_a_label_beats_a_muscle_key_and_entered_is_the_default_source():
    rec, _ = generate_session(53, duration_s=120.0)
    doc = analyse_recording(
        rec, mvc={"left quadriceps": 1e-3, "CH1 Raw": 4e-4}, include_envelope=False
    )
    ch1 = doc["channels"][0]
    assert (ch1["mvc"], ch1["mvc_source"]) == (4e-4, "entered")


def test_a_known_mvc_raises_the_threshold_to_its_percentage():
    rec, _ = generate_session(54, duration_s=120.0)
    doc = analyse_recording(rec, mvc={"CH1": 500e-6}, include_envelope=False)
    assert doc["channels"][0]["threshold"] == pytest.approx(0.10 * 500e-6)
    assert doc["channels"][0]["threshold_off"] == pytest.approx(0.05 * 500e-6)


@pytest.mark.parametrize("bad", [0, -1e-4, float("nan"), "x", (1e-4, "guessed")])
def test_nonsense_mvc_values_are_refused(bad):
    rec, _ = generate_session(55, duration_s=60.0, channels=1, contractions=4)
    with pytest.raises(ValueError, match="MVC"):
        analyse_recording(rec, mvc={"CH1": bad})
