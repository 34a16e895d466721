"""Live analysis: blocks of samples in, envelope frames and contraction events out.

Per EMG channel, a :class:`~.stream_signal.LiveSignal` (causal versions of the batch
path's drop-out blanking, band-pass, envelopes and noise floor) feeds a
:class:`~.stream_detector.LiveDetector` (the batch detection rules as a state machine).
The channels of a block are band-passed together where they move in lockstep
(:func:`~.stream_rows.feed_rows`: the same numbers as one at a time).
By default the band-pass is a fixed-lag form of the batch's zero-phase filter, so live sees
the batch signal ``stream_lookahead_s`` late; ``stream_lookahead_s=0`` trades that lag for
edges that can differ from the batch path's where real EMG hovers near a threshold.

With the noise floor known (``noise=``), the live path finds the batch path's
contractions: on the synthetic scenarios and on the real GHOSTLY recordings, the same count
with the same onsets (tested). Without it the noise floor is the same percentile of block
RMS values over everything seen so far (no detection before ``stream_warmup_s``); early in
a session it can differ from the batch path's whole-recording estimate, and so can the
contractions found then: pass the known baseline when there is one.

Events: ``{"type": "envelope", "t", "values": {label: volts}}`` at ``envelope_display_hz``;
``{"type": "contraction_start", "label", "t", "onset_s"}`` once a contraction has reached
ON and lasted ``min_duration_s``; ``{"type": "contraction_end", "label", "t", "start_s",
"end_s", "duration_s", "peak", "mean", "peak_pct_mvc", "meets_intensity",
"meets_duration", "good", "discarded"}``. Times are seconds from the first sample.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np

from . import dsp
from .channels import select_emg
from .config import AnalysisConfig, ScoringConfig
from .mvc import resolve_mvc
from .recording import Channel
from .stream_detector import LiveDetector
from .stream_rows import feed_rows, share_filter
from .stream_signal import LiveSignal


class StreamingAnalyser:
    """Feed blocks (e.g. 50 ms) of a live recording; get envelope frames and contraction
    events computed with causal filters. See the module docstring for the events.

    ``labels`` name the columns of the blocks; EMG channels are chosen as in the batch
    path (``channel_map`` overrides). ``mvc`` is as for ``analyse_recording``; a known MVC
    raises the thresholds to ``on_pct_mvc``/``off_pct_mvc`` and adds % MVC to events.
    ``noise`` ({label: volts RMS}, e.g. the ``noise`` of a previous analysis or of a rest
    period) fixes the baseline instead of learning it from the stream, which also removes
    the warm-up; without it the running estimate can differ from the batch path's
    whole-recording estimate early in a session, and so can the contractions found.
    ``activity`` ({label: volts}, the ``activity_level`` of a previous analysis) fixes the
    channel's burst level the same way (:func:`.activity.activity_level`).
    """

    def __init__(
        self,
        rate_hz: float,
        labels,
        *,
        config: AnalysisConfig | None = None,
        mvc: dict | None = None,
        channel_map=None,
        scoring: ScoringConfig | None = None,
        noise: dict | None = None,
        activity: dict | None = None,
    ) -> None:
        rate_hz = float(rate_hz)
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be finite and > 0 (got {rate_hz!r})")
        self.cfg = config or AnalysisConfig()
        self.scoring = scoring or ScoringConfig()
        self.rate_hz = rate_hz
        self.labels = [str(x).strip() for x in labels]
        emg = select_emg(self.labels, channel_map)
        if not emg:
            raise ValueError("no EMG channel among " + ", ".join(self.labels))
        dsp.sos_for(rate_hz, self.cfg)
        chans = [Channel(e.label, "V", np.zeros(0), True, e.muscle, e.side) for e in emg]
        mvcs = resolve_mvc(mvc, chans)
        self.columns = {e.label: self.labels.index(e.label) for e in emg}
        noise = {str(k): float(v) for k, v in (noise or {}).items()}
        for label, value in noise.items():
            if label not in self.columns:
                raise ValueError(f"noise given for unknown channel {label!r}")
            if not (math.isfinite(value) and value > 0):
                raise ValueError(f"noise for {label} must be > 0 volts (got {value!r})")
        activity = {str(k): float(v) for k, v in (activity or {}).items()}
        for label, value in activity.items():
            if label not in self.columns:
                raise ValueError(f"activity given for unknown channel {label!r}")
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"activity for {label} must be >= 0 volts (got {value!r})")
        self.detectors = {
            e.label: LiveDetector(
                e.label,
                LiveSignal(rate_hz, self.cfg),
                self.cfg,
                mvcs.get(e.label),
                noise.get(e.label),
                activity.get(e.label),
            )
            for e in emg
        }
        self.lives = [detector.live for detector in self.detectors.values()]
        share_filter(self.lives)
        self.frame_step = max(1, round(rate_hz / self.cfg.envelope_display_hz))
        self.next_frame = self.frame_step
        self.finished = False

    def feed(self, block) -> list[dict]:
        """Process one block: ndarray (n_samples, n_channels) or {label: 1-D array}."""
        if self.finished:
            raise ValueError("the analyser has finished; start a new one")
        cols = self._columns(block)
        feed_rows(self.lives, [cols[label] for label in self.detectors])
        events = self._frames()
        for detector in self.detectors.values():
            events += detector.detect()
        return self._flagged(events)

    def finish(self) -> list[dict]:
        """Close any open contraction at the end of the stream."""
        if self.finished:
            return []
        self.finished = True
        events = []
        for detector in self.detectors.values():
            events += detector.detect(finishing=True)  # releases what was held back
        return self._flagged(self._frames() + events)

    def _columns(self, block) -> dict[str, np.ndarray]:
        if isinstance(block, Mapping):
            missing = [lab for lab in self.detectors if lab not in block]
            if missing:
                raise ValueError(f"block lacks channel(s): {', '.join(missing)}")
            cols = {lab: np.asarray(block[lab], dtype=np.float64).ravel() for lab in self.detectors}
        else:
            arr = np.asarray(block, dtype=np.float64)
            if arr.ndim != 2 or arr.shape[1] != len(self.labels):
                raise ValueError(f"block must be (n_samples, {len(self.labels)}) (got {arr.shape})")
            cols = {lab: arr[:, k] for lab, k in self.columns.items()}
        sizes = {v.size for v in cols.values()}
        if len(sizes) != 1:
            raise ValueError("all channels of a block must have the same length")
        for lab, v in cols.items():
            if not np.isfinite(v).all():
                raise ValueError(f"block has non-finite samples on {lab}")
        return cols

    def _frames(self) -> list[dict]:
        """The envelope frames due: every ``frame_step`` samples that every channel has
        filtered (samples held back by a channel, a possible drop-out's start, wait for the
        next block), each channel's envelope at that sample (0.0 where it holds none)."""
        lives, step = self.lives, self.frame_step
        available = min(live.n_filtered for live in lives)
        if self.next_frame > available:
            return []
        g0 = self.next_frame - 1
        m = (available - self.next_frame) // step + 1
        self.next_frame += m * step
        columns = []
        for live in lives:
            history = live.envelope
            a = g0 - live.envelope_shift_samples - history.first
            b = a + (m - 1) * step
            if a >= 0 and b < history.end - history.first:  # all held: one slice
                columns.append(history.values_v[a : b + 1 : step].tolist())
                continue
            column = []
            for j in range(m):
                i = g0 + j * step - live.envelope_shift_samples
                seg = history.between(i, i + 1)
                column.append(float(seg[0]) if seg.size else 0.0)
            columns.append(column)
        shift, rate, labels = lives[0].envelope_shift_samples, self.rate_hz, list(self.detectors)
        events = []
        for j, row in enumerate(zip(*columns, strict=True)):
            t = (g0 + j * step - shift) / rate
            values = dict(zip(labels, row, strict=True))
            events.append({"type": "envelope", "t": t, "values": values})
        return events

    def _flagged(self, events: list[dict]) -> list[dict]:
        for ev in events:
            if ev["type"] == "contraction_end" and ev["peak_pct_mvc"] is not None:
                ev["meets_intensity"] = ev["peak_pct_mvc"] >= self.scoring.target_pct_mvc
            if ev["type"] == "contraction_end":
                ev["meets_duration"] = ev["duration_s"] >= self.scoring.target_duration_s
                if ev["meets_intensity"] is not None:
                    ev["good"] = bool(ev["meets_intensity"] and ev["meets_duration"])
        return events
