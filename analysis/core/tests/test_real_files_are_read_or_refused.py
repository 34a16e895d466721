"""Every shared real recording is analysed, or refused with the reason a person would give."""

from __future__ import annotations

import json

import ezc3d
import numpy as np
import pytest

from analysis.core import InvalidRecording, analyse_recording, c3d_read, read_recording
from analysis.core.c3d_read import read_raw

REFUSED = {
    "Empty.c3d": "empty",
    "Kistler.c3d": "frame rate is 0 Hz",
    "Analysis.c3d": "too low for raw surface EMG",
    "pc_int.c3d": "no EMG channel",
    "DEC_INT.C3D": "no EMG channel",
    "sgi_real.c3d": "no EMG channel",
}


def test_every_shared_file_is_read_or_refused_with_its_reason(c3d_dir):
    files = sorted(c3d_dir.glob("*/*"))
    assert len(files) >= 14
    for path in files:
        expected = REFUSED.get(path.name)
        if expected:
            with pytest.raises(InvalidRecording, match=expected):
                read_recording(path)
        else:
            rec = read_recording(path)
            assert rec.emg_channels, path.name
            assert rec.duration_s == pytest.approx(rec.n_samples / rec.rate_hz)
            doc = analyse_recording(rec)
            json.dumps(doc, allow_nan=False)
            assert len(doc["channels"]) == len(rec.emg_channels)


def test_it_reads_the_game_file_timing_metadata_and_clipping(game_file):
    rec = read_recording(game_file)
    assert rec.rate_hz == 990.0
    assert rec.n_samples == 173_370
    assert rec.duration_s == pytest.approx(175.12, abs=0.01)
    assert rec.started_at.isoformat() == "2023-03-21T17:50:00"
    assert rec.metadata["game_level"] == 1
    assert rec.metadata["game_score"] == 12
    assert rec.metadata["game_name"] == "Ghostly"
    assert [c.label for c in rec.emg_channels] == ["CH1 Raw", "CH2 Raw"]
    assert rec.emg_channels[0].activated_label == "CH1 activated"
    assert (rec.emg_channels[0].muscle, rec.emg_channels[0].side) == ("quadriceps", "left")
    assert rec.saturation["CH1 Raw"]["levels_v"] == [pytest.approx(-5.5e-3, rel=1e-4)]
    assert rec.saturation["CH1 Raw"]["pct"] > 0.5
    assert any("clipped" in w for w in rec.warnings)


def test_isolated_and_in_process_reads_agree(game_file):
    a = read_recording(game_file, isolated=True)
    b = read_recording(game_file, isolated=False)
    assert a.labels == b.labels
    for ca, cb in zip(a.channels, b.channels, strict=True):
        np.testing.assert_array_equal(ca.values, cb.values)
    assert a.metadata == b.metadata
    assert a.started_at == b.started_at


def test_it_matches_ezc3d_on_every_file_ezc3d_reads(c3d_dir):
    for path in sorted(c3d_dir.glob("*/*")):
        if path.name in ("Empty.c3d", "sgi_real.c3d", "Kistler.c3d", "Analysis.c3d"):
            continue
        ours = read_raw(path)
        theirs = ezc3d.c3d(str(path))["data"]["analogs"][0]
        np.testing.assert_allclose(ours.analog, theirs, rtol=1e-6, atol=4e-3, err_msg=path.name)


def test_intel_dec_and_sgi_copies_of_one_trial_read_identically(c3d_dir):
    intel = read_raw(c3d_dir / "other" / "pc_int.c3d")
    dec = read_raw(c3d_dir / "other" / "DEC_INT.C3D")
    sgi = read_raw(c3d_dir / "other" / "sgi_real.c3d")
    assert (intel.processor, dec.processor, sgi.processor) == ("intel", "dec", "sgi-mips")
    assert intel.labels == dec.labels == sgi.labels
    np.testing.assert_array_equal(intel.analog, dec.analog)
    np.testing.assert_allclose(intel.analog, sgi.analog, atol=1e-3)
    assert intel.rate_hz == dec.rate_hz == sgi.rate_hz == 200.0


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_recording(tmp_path / "nope.c3d")


@pytest.mark.parametrize("chunk_bytes", [1000, 256 * 1024])
def test_chunked_reads_from_disk_equal_the_in_memory_copy(c3d_dir, monkeypatch, chunk_bytes):
    # Intel, DEC and SGI words, floats and integers, one frame per chunk up to whole files
    monkeypatch.setattr(c3d_read, "_CHUNK_BYTES", chunk_bytes)
    compared = 0
    for path in sorted(c3d_dir.glob("*/*")):
        try:
            raw = read_raw(path)
        except InvalidRecording:
            continue
        np.testing.assert_array_equal(c3d_read.read_analog(path, raw.layout), raw.analog)
        compared += 1
    assert compared >= 10


def test_a_file_that_changed_after_its_layout_was_read_is_refused(game_file, tmp_path):
    copy = tmp_path / "game.c3d"
    copy.write_bytes(game_file.read_bytes())
    layout = read_raw(copy, layout_only=True).layout
    with open(copy, "ab") as fh:
        fh.write(b"\0" * 512)
    with pytest.raises(InvalidRecording, match="changed while it was being read"):
        c3d_read.read_analog(copy, layout)
