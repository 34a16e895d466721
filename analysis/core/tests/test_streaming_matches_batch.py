"""The live path finds the batch path's contractions: same count, onsets within 30 ms."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from analysis.core import AnalysisConfig, StreamingAnalyser, analyse_recording, dsp, read_recording
from analysis.core.stream_signal import LiveSignal
from analysis.core.synth import HARD_SCENARIOS, SCENARIOS, generate_session


def _stream(rec, block_s=0.05, **options):
    block = round(block_s * rec.rate_hz)
    data = np.stack([c.values for c in rec.channels], axis=1)
    analyser = StreamingAnalyser(rec.rate_hz, rec.labels, **options)
    events = []
    for k in range(0, data.shape[0], block):
        events += analyser.feed(data[k : k + block])
    return events + analyser.finish()


def _ends(events, label):
    return [
        e
        for e in events
        if e["type"] == "contraction_end" and e["label"] == label and not e["discarded"]
    ]


@pytest.mark.parametrize("lookahead_s", [0.3, 0.0], ids=["fixed-lag", "no-lag"])
@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.name)
def test_streaming_finds_the_batch_contractions(scenario, lookahead_s):
    rec, _ = generate_session(31, duration_s=100.0, rate_hz=990.0, **scenario.kwargs)
    batch = analyse_recording(rec, include_envelope=False)
    events = _stream(rec, config=AnalysisConfig(stream_lookahead_s=lookahead_s))
    for ch in batch["channels"]:
        ends = _ends(events, ch["label"])
        starts = [
            e for e in events if e["type"] == "contraction_start" and e["label"] == ch["label"]
        ]
        assert len(ends) == len(ch["contractions"]) == len(starts) == 12
        onset_errors = [
            abs(live["start_s"] - ref["start_s"])
            for live, ref in zip(ends, ch["contractions"], strict=True)
        ]
        for live, ref in zip(ends, ch["contractions"], strict=True):
            assert abs(live["end_s"] - ref["end_s"]) <= 0.060
        # fixed lag: the same band-passed signal, the same edges; no lag: a different
        # filter phase, edges within 30 ms (measured <= 13 ms, v1.1.0)
        assert max(onset_errors) <= (0.020 if lookahead_s else 0.030)


def test_it_emits_envelope_frames_at_the_display_rate_and_accepts_dict_blocks():
    rec, _ = generate_session(32, duration_s=30.0, rate_hz=1000.0, channels=1, contractions=3)
    analyser = StreamingAnalyser(rec.rate_hz, ["CH1 Raw"])
    values = rec.channel("CH1 Raw").values
    frames = []
    for k in range(0, values.size, 50):
        frames += [
            e for e in analyser.feed({"CH1 Raw": values[k : k + 50]}) if e["type"] == "envelope"
        ]
    frames += [e for e in analyser.finish() if e["type"] == "envelope"]
    assert len(frames) == pytest.approx(30 * 25, abs=2)
    ts = [f["t"] for f in frames]
    assert ts == sorted(ts)
    assert max(f["values"]["CH1 Raw"] for f in frames) > 100e-6


def test_events_come_out_while_the_stream_runs_not_only_at_the_end():
    rec, _ = generate_session(33, duration_s=40.0, rate_hz=1000.0, channels=1, contractions=4)
    analyser = StreamingAnalyser(rec.rate_hz, ["CH1 Raw"])
    values = rec.channel("CH1 Raw").values
    first_start_block = None
    for i, k in enumerate(range(0, values.size, 50)):
        events = analyser.feed(values[k : k + 50, None])
        if first_start_block is None and any(e["type"] == "contraction_start" for e in events):
            first_start_block = i
            start_t = next(e["t"] for e in events if e["type"] == "contraction_start")
    # announced within about min_duration + a window of the onset, not after the stream
    assert first_start_block is not None
    assert first_start_block * 0.05 - start_t < 0.6


def test_bad_blocks_are_refused_clearly():
    analyser = StreamingAnalyser(1000.0, ["CH1 Raw", "CH2 Raw"])
    with pytest.raises(ValueError, match="must be"):
        analyser.feed(np.zeros((10, 3)))
    with pytest.raises(ValueError, match="non-finite"):
        analyser.feed(np.full((10, 2), np.nan))
    with pytest.raises(ValueError, match="lacks channel"):
        analyser.feed({"CH1 Raw": np.zeros(10)})
    with pytest.raises(ValueError, match="no EMG channel"):
        StreamingAnalyser(1000.0, ["Fx1", "Fy1"])
    with pytest.raises(ValueError, match="noise for CH1 Raw must be > 0"):
        StreamingAnalyser(1000.0, ["CH1 Raw"], noise={"CH1 Raw": 0})


def test_on_real_game_files_with_a_known_baseline_live_finds_the_batch_contractions(c3d_dir):
    # Real EMG hovers near the thresholds, where any difference in the band-passed signal
    # moves an edge or decides a merge: the fixed-lag live filter reproduces the batch
    # path's zero-phase output, so with the baseline known the contractions are the same.
    for path in sorted((c3d_dir / "ghostly").glob("*.c3d")):
        rec = read_recording(path)
        batch = analyse_recording(rec, include_envelope=False)
        noise = {c["label"]: c["noise"] for c in batch["channels"]}
        activity = {c["label"]: c["activity_level"] for c in batch["channels"]}
        events = _stream(rec, noise=noise, activity=activity)
        for ch in batch["channels"]:
            live = _ends(events, ch["label"])
            assert len(live) == len(ch["contractions"]), (path.name, ch["label"])
            for got, ref in zip(live, ch["contractions"], strict=True):
                assert abs(got["start_s"] - ref["start_s"]) <= 0.005, (path.name, ref)
                assert abs(got["end_s"] - ref["end_s"]) <= 0.030, (path.name, ref)


def test_the_live_band_pass_equals_the_batch_zero_phase_band_pass_after_the_lag():
    rec, _ = generate_session(35, duration_s=30.0, rate_hz=990.0, channels=1, contractions=3)
    x = rec.channel("CH1 Raw").values.astype(np.float64)
    cfg = AnalysisConfig()
    path = LiveSignal(rec.rate_hz, cfg)
    live, zi = [], path.steady_zi * x[0]
    for k in range(0, x.size, 50):
        forward, zi = signal.sosfilt(path.sos, x[k : k + 50], zi=zi)
        live.append(path._zero_phase(forward, final=k + 50 >= x.size))
    live = np.concatenate(live)
    batch = dsp.bandpass(x, rec.rate_hz, cfg)
    assert live.size == batch.size
    assert np.max(np.abs(live - batch)) <= 1e-9 * np.max(np.abs(batch))


def test_envelope_frames_never_show_gaps_and_drop_outs_are_blanked_live():
    rec, _ = generate_session(34, duration_s=30.0, rate_hz=1000.0, channels=1, contractions=3)
    values = rec.channel("CH1 Raw").values.copy()
    values[2500:2800] = np.float32(-5.5e-3)  # a drop-out in the rest before the first hold
    analyser = StreamingAnalyser(rec.rate_hz, ["CH1 Raw"])
    events = []
    for k in range(0, values.size, 37):  # odd block size: runs straddle blocks
        events += analyser.feed(values[k : k + 37, None])
    events += analyser.finish()
    frames = [e["values"]["CH1 Raw"] for e in events if e["type"] == "envelope"]
    assert min(frames[50:]) > 0  # no 0.0 placeholders once the envelope has started
    ends = [e for e in events if e["type"] == "contraction_end" and not e["discarded"]]
    assert len(ends) == 3
    assert all(e["start_s"] > 3.0 for e in ends)


@pytest.mark.parametrize(
    "scenario",
    [
        s
        for s in HARD_SCENARIOS
        if s.name in ("mixed_shapes_wobble_30", "coloured_nonstationary_spikes")
    ],
    ids=lambda s: s.name,
)
def test_live_edges_walk_to_the_baseline_as_the_batch_edges_do(scenario):
    # the signals: ramps of several shapes, wobble, coloured noise and spikes
    kwargs = {**scenario.kwargs, "rate_hz": 990.0}
    rec, _ = generate_session(36, duration_s=60.0, contractions=6, **kwargs)
    batch = analyse_recording(rec, include_envelope=False)
    events = _stream(rec)
    for ch in batch["channels"]:
        live = _ends(events, ch["label"])
        assert len(live) == len(ch["contractions"]) == 6
        for got, ref in zip(live, ch["contractions"], strict=True):
            assert abs(got["start_s"] - ref["start_s"]) <= 0.020
            assert abs(got["end_s"] - ref["end_s"]) <= 0.030
