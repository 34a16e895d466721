"""The live contraction detector of one EMG channel: the batch rules as a state machine.

The same hysteresis, gap merging, minimum/maximum duration and edge refinement as
:func:`.dsp.detect` (Bonato et al. 1998; Hodges & Bui 1996), run over the envelope history
of a :class:`~.stream_signal.LiveSignal` as it grows. It jumps from threshold crossing to
threshold crossing (vectorised within what has arrived) through three phases: ``idle``
(below OFF), ``run`` (above OFF since ``start``) and ``gap`` (below OFF since ``end``, for
less than ``merge_gap_s`` so far).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from . import dsp
from .config import AnalysisConfig
from .stream_signal import LiveSignal


@dataclass
class _Run:
    """A run above OFF (gaps shorter than ``merge_gap_s`` merged); indices are centred."""

    start: int
    first_on: int | None = None  # first index at or above ON
    last_on: int | None = None
    peak_v: float = 0.0
    envelope_sum_v: float = 0.0
    envelope_count: int = 0
    started: bool = False  # contraction_start emitted
    onset: int | None = None
    end: int | None = None  # first index below OFF once the run has ended


class LiveDetector:
    """Contraction events of one channel from its live envelope."""

    def __init__(
        self,
        label: str,
        live: LiveSignal,
        cfg: AnalysisConfig,
        mvc: tuple[float, str] | None,
        noise_v: float | None = None,
    ) -> None:
        self.label = label
        self.live = live
        self.cfg = cfg
        self.mvc = mvc  # (volts, source) or None
        self.known_noise_v = noise_v
        self.min_duration_samples = dsp.window_samples(cfg.min_duration_s, live.rate_hz)
        self.envelope_window_samples = live.envelope_window_samples
        self.merge_gap_samples = dsp.window_samples(cfg.merge_gap_s, live.rate_hz)
        self.warmup_samples = dsp.window_samples(cfg.stream_warmup_s, live.rate_hz)
        self.next_index = 0  # the next centred index the detector looks at
        self.phase = "idle"
        self.run: _Run | None = None

    def thresholds(self) -> dsp.Thresholds | None:
        """ON/OFF as in the batch path, from the known or the running noise floor."""
        if self.known_noise_v is not None:
            noise = self.known_noise_v
        elif not self.live.noise_block_rms_v:
            return None
        else:
            noise = float(np.percentile(self.live.noise_block_rms_v, self.cfg.noise_percentile))
        known = self.mvc[0] if self.mvc is not None else None
        return dsp.thresholds(noise, known, self.cfg)

    def detect(self, finishing: bool = False) -> list[dict]:
        """Events for everything the envelope history holds now; ``finishing`` releases
        the held-back samples first and closes an open contraction at the end."""
        events: list[dict] = []
        th = self.thresholds()
        warmup = 0 if self.known_noise_v is not None else self.warmup_samples
        if th is None or self.live.n_filtered < warmup:
            return events
        envelope = self.live.envelope
        self.next_index = max(self.next_index, envelope.first, warmup // 2)
        end = envelope.end
        while self.next_index < end:
            i = self.next_index
            if self.phase == "idle":
                above = np.flatnonzero(envelope.between(i, end) > th.off)
                if not above.size:
                    self.next_index = end
                    break
                start = i + int(above[0])
                self.run = _Run(start=start)
                self.phase, self.next_index = "run", start
            elif self.phase == "run":
                below = np.flatnonzero(envelope.between(i, end) <= th.off)
                stop = i + int(below[0]) if below.size else end
                self._absorb(i, stop, th)
                self.next_index = stop
                events += self._maybe_start(th)
                if below.size:
                    self.run.end = stop
                    self.phase = "gap"
            else:
                limit = self.run.end + self.merge_gap_samples
                above = np.flatnonzero(envelope.between(i, min(end, limit)) > th.off)
                if above.size:
                    self.phase, self.next_index = "run", i + int(above[0])
                    continue
                if min(end, limit) < limit:
                    self.next_index = end
                    break
                events += self._close(th)
                self.next_index = limit
        if finishing and self.live.holds_samples():
            self.live.flush()
            return events + self.detect(finishing=True)
        if finishing and self.run is not None:
            if self.phase == "run":
                self.run.end = end
            events += self._maybe_start(th, force=True)
            events += self._close(th)
        return events

    def _absorb(self, a: int, b: int, th: dsp.Thresholds) -> None:
        """Add the envelope over [a, b), all above OFF, to the open run."""
        seg = self.live.envelope.between(a, b)
        if not seg.size:
            return
        r = self.run
        r.peak_v = max(r.peak_v, float(seg.max()))
        r.envelope_sum_v += float(seg.sum())
        r.envelope_count += seg.size
        on = np.flatnonzero(seg >= th.on)
        if on.size:
            if r.first_on is None:
                r.first_on = a + int(on[0])
            r.last_on = a + int(on[-1])

    def _maybe_start(self, th: dsp.Thresholds, *, force: bool = False) -> list[dict]:
        """``contraction_start`` once the run has reached ON and lasted ``min_duration_s``
        and the short envelope's crossing before it has arrived."""
        r = self.run
        if r is None or r.started or r.first_on is None:
            return []
        f, m, w = r.first_on, self.min_duration_samples, self.envelope_window_samples
        envelope, onset_envelope = self.live.envelope, self.live.onset_envelope
        if not force and envelope.end < f + m:
            return []
        hi = f + w + m
        early = envelope.between(f, f + m)
        level = max(th.off, self.cfg.edge_fraction * float(early.max() if early.size else 0.0))
        if not force and onset_envelope.end < hi:
            # below the level at the anchor, the crossing lies ahead: wait until it has arrived
            ahead = onset_envelope.between(f, onset_envelope.end)
            if ahead.size and ahead[0] <= level and not (ahead > level).any():
                return []
        lo = max(r.start - w, onset_envelope.first)
        onset = self._refine_onset(f, level, lo, hi)
        r.onset, r.started = onset, True
        t = self.live.time_s(onset)
        return [{"type": "contraction_start", "label": self.label, "t": t, "onset_s": t}]

    def _refine_onset(self, anchor: int, level: float, lo: int, hi: int) -> int:
        s = self.live.onset_envelope.between(lo, hi)
        if not s.size:
            return anchor
        base = max(lo, self.live.onset_envelope.first)
        return base + dsp.refine_onset(s, min(anchor - base, s.size - 1), level, 0, s.size)

    def _close(self, th: dsp.Thresholds) -> list[dict]:
        """``contraction_end`` for the run that ended (its end refined like its onset)."""
        r, self.run, self.phase = self.run, None, "idle"
        if r is None or r.first_on is None:
            return []
        events = []
        if not r.started:
            events += self._start_late(r, th)
        level = max(th.off, self.cfg.edge_fraction * r.peak_v)
        hi = r.end + self.envelope_window_samples
        s = self.live.onset_envelope.between(r.last_on, hi)
        below = np.flatnonzero(s <= level)
        end = r.last_on + int(below[0]) if below.size else min(hi, self.live.onset_envelope.end)
        end = max(end, r.onset + 1)
        duration = (end - r.onset) / self.live.rate_hz
        discarded = not (self.cfg.min_duration_s <= duration <= self.cfg.max_duration_s)
        event = {
            "type": "contraction_end",
            "label": self.label,
            "t": self.live.time_s(end),
            "start_s": self.live.time_s(r.onset),
            "end_s": self.live.time_s(end),
            "duration_s": duration,
            "peak": r.peak_v,
            "mean": r.envelope_sum_v / r.envelope_count if r.envelope_count else 0.0,
            "peak_pct_mvc": None,
            "meets_intensity": None,
            "meets_duration": None,
            "good": None,
            "discarded": discarded,
        }
        if self.mvc is not None and self.mvc[0] > 0:
            event["peak_pct_mvc"] = 100.0 * r.peak_v / self.mvc[0]
        events.append(event)
        return events

    def _start_late(self, r: _Run, th: dsp.Thresholds) -> list[dict]:
        """The start event of a run that ended before it could be announced."""
        self.run = r
        try:
            return self._maybe_start(th, force=True)
        finally:
            self.run = None
