"""The live path of a block's channels together (``feed_rows``: the drop-out blanking as
one array, one call of the compiled filter per pass and of the moving RMS for all channels
in lockstep) gives every channel the same floats, bit for bit, as feeding the channels one
at a time, and the analyser the same events (its envelope frames read as slices the same as
point by point): on random noise, on signals that break the lockstep now and then
(drop-outs, quantised samples that repeat, so the blanking holds back different counts per
channel), at both lag settings and several block sizes, and on the real GHOSTLY files."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.core import AnalysisConfig, StreamingAnalyser, read_recording
from analysis.core.stream_rows import feed_rows, share_filter
from analysis.core.stream_signal import LiveSignal


class OneAtATime(StreamingAnalyser):
    """The analyser feeding its channels one at a time (the form before ``feed_rows``), and
    reading its envelope frames one point and channel at a time (before they were sliced)."""

    def _frames(self):
        events = []
        lives = {label: detector.live for label, detector in self.detectors.items()}
        available = min(live.n_filtered for live in lives.values())
        shift = next(iter(lives.values())).envelope_shift_samples
        while self.next_frame <= available:
            g = self.next_frame - 1
            values = {}
            for label, live in lives.items():
                i = g - live.envelope_shift_samples
                seg = live.envelope.between(i, i + 1)
                values[label] = float(seg[0]) if seg.size else 0.0
            events.append({"type": "envelope", "t": (g - shift) / self.rate_hz, "values": values})
            self.next_frame += self.frame_step
        return events

    def feed(self, block):
        cols = self._columns(block)
        for label, detector in self.detectors.items():
            detector.live.feed(cols[label])
        events = self._frames()
        for detector in self.detectors.values():
            events += detector.detect()
        return self._flagged(events)


def _state(live: LiveSignal) -> list:
    histories = [live.envelope, live.onset_envelope, live.fine_envelope]
    return [
        *[(h.first, h.values_v.copy()) for h in histories if h is not None],
        live.noise_block_rms_v.copy(),
        live.forward_zi.copy() if live.forward_zi is not None else None,
        live.held_forward.copy(),
        live.held_raw.copy(),
        live.baseline_v,
        live.n_filtered,
        live.dropout_count,
    ]


def _same(a, b) -> bool:
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        return np.array_equal(a, b)
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _signals(kind: str, n: int, channels: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    x = rng.standard_normal((n, channels)) * 2e-5
    bursts = np.sin(np.arange(n) / 990 * 2 * np.pi * 0.2)[:, None] > 0.6
    x *= 1 + 20 * bursts * np.linspace(0.5, 1.5, channels)
    if kind == "dropouts":  # each channel flat for a while, at different times
        for c in range(channels):
            a = 3000 + 2500 * c
            x[a : a + 400 + 50 * c, c] = x[a, c]
    if kind == "quantised":  # an ADC's steps: repeated values, differently per channel
        x = np.round(x / 2e-6) * 2e-6
    return x.astype(np.float32).astype(np.float64)


@pytest.mark.parametrize("lookahead_s", [0.3, 0.0], ids=["fixed-lag", "no-lag"])
@pytest.mark.parametrize("block", [50, 198, 37])
@pytest.mark.parametrize("kind", ["noise", "dropouts", "quantised"])
def test_channels_filtered_together_equal_one_at_a_time(kind, block, lookahead_s):
    cfg = AnalysisConfig(stream_lookahead_s=lookahead_s)
    x = _signals(kind, 20 * 990, 4)
    together = [LiveSignal(990.0, cfg) for _ in range(4)]
    alone = [LiveSignal(990.0, cfg) for _ in range(4)]
    share_filter(together)
    in_step = 0
    for a in range(0, x.shape[0], block):
        cols = [x[a : a + block, c] for c in range(4)]
        feed_rows(together, cols)
        for live, col in zip(alone, cols, strict=True):
            live.feed(col)
        # the rows path leaves every channel's filter state and squared tail a row of one
        # shared array each
        zi, tail = [live.forward_zi for live in together], [live.squared_tail for live in together]
        in_step += zi[0] is not None and zi[0].base is not None and zi[0].base is zi[3].base
        in_step += tail[0].base is not None and tail[0].base is tail[3].base
        for t, s in zip(together, alone, strict=True):
            assert _same(_state(t), _state(s))
    for live in together + alone:
        live.flush()
    for t, s in zip(together, alone, strict=True):
        assert _same(_state(t), _state(s))
    assert in_step > x.shape[0] // block  # the rows path did run, mostly


@pytest.mark.parametrize("lookahead_s", [0.3, 0.0], ids=["fixed-lag", "no-lag"])
def test_the_analyser_gives_the_same_events_on_the_real_game_files(c3d_dir, lookahead_s):
    paths = sorted((c3d_dir / "ghostly").glob("*.c3d"))
    assert paths
    for path in paths:
        rec = read_recording(path)
        data = np.stack([c.values for c in rec.channels], axis=1)
        data = data.astype(np.float32).astype(np.float64)  # as the devices send them
        cfg = AnalysisConfig(stream_lookahead_s=lookahead_s)
        rows = StreamingAnalyser(rec.rate_hz, rec.labels, config=cfg)
        alone = OneAtATime(rec.rate_hz, rec.labels, config=cfg)
        got, want = [], []
        for k in range(0, data.shape[0], 198):
            got += rows.feed(data[k : k + 198])
            want += alone.feed(data[k : k + 198])
        got += rows.finish()
        want += alone.finish()
        assert got == want, path.name
        assert sum(e["type"] == "contraction_end" for e in got) > 0
        for label in rows.detectors:
            assert _same(_state(rows.detectors[label].live), _state(alone.detectors[label].live))
