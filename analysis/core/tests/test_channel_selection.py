"""EMG channel selection across systems, and the explicit mapping that overrides it."""

from __future__ import annotations

import pytest

from analysis.core import InvalidRecording, read_recording
from analysis.core.channels import resolve_label, select_emg


def test_ghostly_raw_channels_are_emg_and_activated_ones_pair_with_them():
    chans = select_emg(["CH1 Raw", "CH2 Raw", "CH1 activated", "CH2 activated"])
    assert [(c.label, c.muscle, c.side, c.activated_label) for c in chans] == [
        ("CH1 Raw", "quadriceps", "left", "CH1 activated"),
        ("CH2 Raw", "quadriceps", "right", "CH2 activated"),
    ]


@pytest.mark.parametrize(
    ("label", "muscle", "side"),
    [
        ("Left Rectus femoris", "rectus femoris", "left"),
        ("Right Tibialis Anterior", "tibialis anterior", "right"),
        ("LREC", "rectus femoris", "left"),
        ("RVAS", "vastus", "right"),
        ("Biceps.EMG4", "biceps", None),
        ("EMG7", None, None),
        ("Rectus Femoris Gauche", "rectus femoris", "left"),
    ],
)
def test_other_systems_labels_are_recognised(label, muscle, side):
    (chan,) = select_emg([label, "Fx1", "Fz2"])
    assert (chan.muscle, chan.side) == (muscle, side)


def test_the_shared_files_of_other_systems_yield_their_emg(c3d_dir):
    vicon = read_recording(c3d_dir / "other" / "Vicon.c3d")
    assert len(vicon.emg_channels) >= 8
    assert all("EMG" in c.label for c in vicon.emg_channels)
    assert "Voltage.1" not in vicon.labels[:0] + [c.label for c in vicon.emg_channels]
    bts = read_recording(c3d_dir / "other" / "BTS.c3d")
    assert len(bts.emg_channels) == 8
    assert {c.side for c in bts.emg_channels} == {"left", "right"}


def test_an_explicit_map_overrides_the_guess(game_file):
    rec = read_recording(
        game_file,
        channel_map={"CH1": {"muscle": "hamstrings", "side": "right"}, "CH2 Raw": ("calf", None)},
    )
    assert [(c.label, c.muscle, c.side) for c in rec.emg_channels] == [
        ("CH1 Raw", "hamstrings", "right"),
        ("CH2 Raw", "calf", None),
    ]


def test_a_map_naming_a_missing_channel_is_refused(game_file):
    with pytest.raises(InvalidRecording, match="unknown channel 'CH9'"):
        read_recording(game_file, channel_map={"CH9": ("quadriceps", "left")})


def test_labels_resolve_from_channel_objects_too(game_file):

    rec = read_recording(game_file)
    assert resolve_label("ch2", rec.channels) == "CH2 Raw"
    assert resolve_label("CH2 activated", rec.channels) == "CH2 activated"
    assert resolve_label("CH7", rec.channels) is None
