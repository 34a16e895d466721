"""Writing C3D files in the GHOSTLY conventions; header recovery and validation on read."""

from __future__ import annotations

import struct
from datetime import datetime

import ezc3d
import numpy as np
import pytest

from analysis.core import InvalidRecording, read_recording, write_recording
from analysis.core.synth import generate_session, write_session


def test_a_round_trip_is_lossless_within_float32(tmp_path):
    rec, truth = generate_session(41, duration_s=30.0, rate_hz=990.0, contractions=3)
    path = write_session(tmp_path / "Ghostly_Emg_20240115_10-30-00-0000.c3d", rec, truth)
    back = read_recording(path)
    assert back.labels == rec.labels
    assert back.rate_hz == rec.rate_hz
    assert back.n_samples == rec.n_samples
    for a, b in zip(rec.channels, back.channels, strict=True):
        np.testing.assert_array_equal(a.values.astype(np.float32), b.values)
    assert back.started_at == datetime(2024, 1, 15, 10, 30)  # noqa: DTZ001
    assert back.metadata["game_name"] == "Ghostly"
    assert back.metadata["game_duration_s"] == 30.0
    assert [c.activated_label for c in back.emg_channels] == ["CH1 activated", "CH2 activated"]
    assert (tmp_path / "Ghostly_Emg_20240115_10-30-00-0000.truth.json").exists()


def test_written_files_follow_the_game_conventions(tmp_path):
    path = tmp_path / "x.c3d"
    write_recording(
        path,
        rate_hz=990.0,
        channels={"CH1 Raw": np.zeros(990), "CH1 activated": np.zeros(990)},
        metadata={"game_level": 3, "game_score": 17, "player": "P001"},
        started_at=datetime(2023, 3, 21, 17, 50),  # noqa: DTZ001
    )
    c = ezc3d.c3d(str(path))
    assert c["parameters"]["ANALOG"]["LABELS"]["value"] == ["CH1 Raw", "CH1 activated"]
    assert c["parameters"]["INFO"]["TIME"]["value"] == ["2023", "3", "21", "17", "50"]
    assert c["parameters"]["SUBJECTS"]["PLAYER_NAME"]["value"] == ["P001"]
    rec = read_recording(path)
    assert rec.metadata["game_level"] == 3
    assert rec.metadata["game_score"] == 17


def _zero_frame_count(data: bytearray) -> None:
    """Make the header and POINT:FRAMES say 0 frames, as when the game never finalised it."""
    struct.pack_into("<H", data, 8, 0)  # last frame
    start = (data[0] - 1) * 512
    k = data.find(b"FRAMES", start)
    assert k > 0
    body = k + 6 + 2
    dtype, ndim = struct.unpack_from("<bB", data, body)
    assert dtype == 2
    assert ndim == 0
    struct.pack_into("<h", data, body + 2, 0)


def test_a_recording_whose_header_was_never_finalised_is_recovered(tmp_path):
    rec, _ = generate_session(42, duration_s=30.0, rate_hz=990.0, contractions=3)
    path = write_session(tmp_path / "a.c3d", rec)
    data = bytearray(path.read_bytes())
    _zero_frame_count(data)
    path.write_bytes(bytes(data))
    back = read_recording(path)
    assert back.n_samples == rec.n_samples
    assert any("never finalised" in w for w in back.warnings)
    np.testing.assert_array_equal(back.channels[0].values, rec.channels[0].values)


def test_a_truncated_file_is_refused_not_zero_filled(tmp_path):
    rec, _ = generate_session(43, duration_s=30.0, rate_hz=990.0, contractions=3)
    path = write_session(tmp_path / "a.c3d", rec)
    path.write_bytes(path.read_bytes()[:-50_000])
    with pytest.raises(InvalidRecording, match="truncated"):
        read_recording(path)


def test_non_finite_samples_are_refused(tmp_path):
    x = np.zeros(5000)
    x[100] = np.nan
    write_recording(tmp_path / "n.c3d", rate_hz=1000.0, channels={"CH1 Raw": x})
    with pytest.raises(InvalidRecording, match="non-finite"):
        read_recording(tmp_path / "n.c3d")


def test_a_file_without_emg_names_its_channels(tmp_path):
    write_recording(tmp_path / "f.c3d", rate_hz=1000.0, channels={"Fz1": np.zeros(5000)})
    with pytest.raises(InvalidRecording, match=r"no EMG channel found .*Fz1"):
        read_recording(tmp_path / "f.c3d")


def test_not_a_c3d_file_is_refused(tmp_path):
    (tmp_path / "t.c3d").write_bytes(b"hello world" * 100)
    with pytest.raises(InvalidRecording, match="not a C3D file"):
        read_recording(tmp_path / "t.c3d")
