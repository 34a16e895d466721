"""Figures no surface EMG produces are flagged; an estimated MVC reads sensibly."""

from __future__ import annotations

from analysis.core import analyse_file, analyse_recording
from analysis.core.synth import generate_session


def _warnings(doc, label):
    return [w for w in doc["recording"]["warnings"] if w.startswith(f"{label}: ")]


def test_an_estimated_mvc_is_the_envelope_peak_so_nothing_exceeds_100_percent(c3d_dir):
    for path in sorted((c3d_dir / "ghostly").glob("*.c3d")):
        doc = analyse_file(path, include_envelope=False)
        for ch in doc["channels"]:
            assert ch["mvc_source"] == "estimated"
            assert "peak of its 100 ms RMS envelope" in ch["mvc_note"]
            assert all(c["peak_pct_mvc"] <= 100.0 for c in ch["contractions"]), path.name
            assert any(
                "MVC estimated from this recording" in w for w in _warnings(doc, ch["label"])
            )


def test_a_known_mvc_has_no_note():
    rec, _ = generate_session(61, duration_s=40.0, channels=1, contractions=3)
    doc = analyse_recording(rec, mvc={"CH1": 500e-6}, include_envelope=False)
    assert doc["channels"][0]["mvc_note"] is None


def test_gait_amplitudes_of_hundreds_of_millivolts_are_flagged(c3d_dir):
    doc = analyse_file(c3d_dir / "other" / "Gait.c3d", include_envelope=False)
    for ch in doc["channels"]:
        assert any("surface EMG stays under 5 mV RMS" in w for w in _warnings(doc, ch["label"]))


def test_real_game_recordings_raise_no_plausibility_doubt(c3d_dir):
    for path in sorted((c3d_dir / "ghostly").glob("*.c3d")):
        doc = analyse_file(path, include_envelope=False)
        for w in doc["recording"]["warnings"]:
            assert "surface EMG stays under" not in w
            assert "does not look like raw EMG" not in w
            assert "above the MVC target" not in w


def test_a_threshold_above_the_mvc_target_is_flagged():
    rec, _ = generate_session(62, duration_s=40.0, channels=1, contractions=3, noise_uv=40.0)
    doc = analyse_recording(rec, mvc={"CH1": 100e-6}, include_envelope=False)
    assert any("above the MVC target" in w for w in _warnings(doc, "CH1 Raw"))


def test_a_slow_envelope_does_not_pass_for_raw_emg():
    rec, _ = generate_session(63, duration_s=40.0, channels=1, contractions=3)
    ch = rec.channels[0]
    ch.values = (abs(ch.values) + 1e-4).astype("float32")  # rectified + offset: mostly DC/low
    ch.values = ch.values.cumsum().astype("float32") / 1000  # integrated: an envelope
    doc = analyse_recording(rec, include_envelope=False)
    assert any("does not look like raw EMG" in w for w in _warnings(doc, "CH1 Raw"))
