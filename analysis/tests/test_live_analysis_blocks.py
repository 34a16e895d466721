"""Streams staggered in their analysis blocks (LiveAnalysis ``stagger``) find the same
contractions: only the frames in which the analyser runs move."""

import numpy as np
import pytest

from analysis import core
from analysis.core.live_protocol import Hello
from analysis.pipeline.live_analysis import LiveAnalysis
from analysis.tests.support import live_inputs
from conftest import shared_c3d_dir

FRAME = 50


def edges(end):
    return end["label"], end["start_s"], end["end_s"], end["discarded"], end["good"]


def stream(rec, batch, stagger):
    """Every contraction end the viewers are sent, and the frames that carried envelope."""
    inputs = live_inputs(
        noise={c["label"]: c["noise"] for c in batch["channels"]},
        activity={c["label"]: c["activity_level"] for c in batch["channels"]},
    )
    hello = Hello(tuple(rec.labels), rec.rate_hz, tuple("V" for _ in rec.labels))
    analysis = LiveAnalysis(hello, inputs, stagger=stagger)
    data = np.stack([c.values for c in rec.channels], axis=1).astype("<f4")
    ends, analysed_in = [], []
    for k, first in enumerate(range(0, data.shape[0], FRAME)):
        out = analysis.frame(k, first, data[first : first + FRAME])
        ends += [e for e in out["events"] if e["type"] == "contraction_end"]
        if out["envelope"]:
            analysed_in.append(k)
    final = analysis.finish(k + 1, data.shape[0])
    ends += [e for e in final["events"] if e["type"] == "contraction_end"]
    return ends, analysed_in


def test_a_staggered_stream_finds_the_same_contractions_in_other_frames():
    path = sorted((shared_c3d_dir() / "ghostly").glob("*.c3d"))[0]
    rec = core.read_recording(path)
    batch = core.analyse_recording(rec, include_envelope=False)

    plain_ends, plain_frames = stream(rec, batch, 0.0)
    assert len(plain_ends) >= 10
    for stagger in (0.3, 0.6, 0.9):
        ends, frames = stream(rec, batch, stagger)
        assert [edges(e) for e in ends] == [edges(e) for e in plain_ends]
        # the filters' sums in another order: the same amplitudes to the last few bits
        for got, ref in zip(ends, plain_ends, strict=True):
            assert got["peak"] == pytest.approx(ref["peak"], rel=1e-9)
            assert got["mean"] == pytest.approx(ref["mean"], rel=1e-9)
        assert not set(frames[:8]) & set(plain_frames[:8])  # the analyser ran in other frames
