"""The live contraction detector of one EMG channel: the batch rules as a state machine.

The same hysteresis, gap merging, minimum/maximum duration and edge refinement as
:func:`.dsp.detect` (Bonato et al. 1998; Hodges & Bui 1996), run over the envelope history
of a :class:`~.stream_signal.LiveSignal` as it grows. It jumps from threshold crossing to
threshold crossing (vectorised within what has arrived) through three phases: ``idle``
(below OFF), ``run`` (above OFF since ``start``) and ``gap`` (below OFF since ``end``, for
less than ``merge_gap_s`` so far).
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass

import numpy as np

from . import dsp
from .activity import RunningActivityLevel, split_holds
from .config import AnalysisConfig
from .stream_edges import EdgeWalks
from .stream_signal import LiveSignal


def sorted_percentile(ordered: list[float], pct: float) -> float:
    """``float(np.percentile(ordered, pct))`` (its default linear method) of sorted values:
    numpy's arithmetic step for step, so the same float (tested), without a partition of
    every block seen on each call."""
    n = len(ordered)
    index = (n - 1) * (pct / 100)
    if index >= n - 1:
        return float(ordered[-1])
    below = math.floor(index)
    a, b = ordered[below], ordered[below + 1]
    gamma = index - below
    diff = b - a
    return float(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)


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
    crossing: int | None = None  # the onset's threshold crossing (before backtracking)
    # what counts as back at baseline (:mod:`.edges`): the level on the short envelope,
    # the level on the fine one and the fine baseline level (before the crossing ratio)
    levels: tuple[float, float, float] = (0.0, 0.0, 0.0)


class LiveDetector(EdgeWalks):
    """Contraction events of one channel from its live envelope (the edge walks:
    :class:`~.stream_edges.EdgeWalks`)."""

    def __init__(
        self,
        label: str,
        live: LiveSignal,
        cfg: AnalysisConfig,
        mvc: tuple[float, str] | None,
        noise_v: float | None = None,
        activity_v: float | None = None,
    ) -> None:
        self.label = label
        self.live = live
        self.cfg = cfg
        self.mvc = mvc  # (volts, source) or None
        self.known_noise_v = noise_v
        self.known_activity_v = activity_v
        self._activity = (-1, 0.0)  # (blocks seen, burst level) of the running estimate
        self._burst = RunningActivityLevel(cfg.tonic_ratio)  # that estimate, kept up to date
        self._sorted_blocks: list[float] = []  # the noise blocks seen so far, sorted
        self._thresholds: tuple[int, dsp.Thresholds | None] = (-1, None)  # (blocks, result)
        self.min_duration_samples = dsp.window_samples(cfg.min_duration_s, live.rate_hz)
        self.envelope_window_samples = live.envelope_window_samples
        self.merge_gap_samples = dsp.window_samples(cfg.merge_gap_s, live.rate_hz)
        self.warmup_samples = dsp.window_samples(cfg.stream_warmup_s, live.rate_hz)
        self.search_samples = dsp.window_samples(cfg.edge_search_s, live.rate_hz)
        self.baseline_samples = dsp.window_samples(cfg.edge_baseline_s, live.rate_hz)
        self.guard_samples = dsp.window_samples(cfg.edge_guard_s, live.rate_hz)
        # a run closes once the merge gap has passed and the end's walk has its samples
        self.close_samples = self.merge_gap_samples
        if cfg.edge_backtrack:
            reach = max(self.search_samples, self.guard_samples + self.baseline_samples)
            self.close_samples = max(self.merge_gap_samples, self.envelope_window_samples + reach)
        self.prev_end = 0  # the last contraction's end (walks never cross it)
        self.noise_now_v = 0.0
        self.next_index = 0  # the next centred index the detector looks at
        self.phase = "idle"
        self.run: _Run | None = None

    def thresholds(self) -> dsp.Thresholds | None:
        """ON/OFF as in the batch path, from the known or the running noise floor (computed
        again only when a noise block has been added: nothing else they depend on moves)."""
        blocks = self.live.noise_block_rms_v
        if self._thresholds[0] == len(blocks):
            return self._thresholds[1]
        if self.known_noise_v is not None:
            noise = self.known_noise_v
        elif not blocks:
            return None
        else:
            for value in blocks[len(self._sorted_blocks) :]:
                bisect.insort(self._sorted_blocks, value)
            noise = sorted_percentile(self._sorted_blocks, self.cfg.noise_percentile)
        known = self.mvc[0] if self.mvc is not None else None
        self.noise_now_v = noise
        th = dsp.thresholds(noise, known, self.cfg, self.activity_v())
        self._thresholds = (len(blocks), th)
        return th

    def activity_v(self) -> float:
        """The burst level (:func:`.activity.activity_level`): known, or over every noise
        block seen so far (recomputed once per new block)."""
        if not self.cfg.activity_thresholds:
            return 0.0
        if self.known_activity_v is not None:
            return self.known_activity_v
        blocks = self.live.noise_block_rms_v
        if self._activity[0] != len(blocks):
            level = self._burst.level(blocks)
            self._activity = (len(blocks), level)
        return self._activity[1]

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
                if min(end, limit) < limit or (
                    not finishing
                    and self.live.onset_envelope.end < self.run.end + self.close_samples
                ):
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
        r.crossing = self._refine_onset(f, level, lo, hi)
        onset, r.levels = self._backtrack(r.crossing)
        r.onset, r.started = onset, True
        t = self.live.time_s(onset)
        return [{"type": "contraction_start", "label": self.label, "t": t, "onset_s": t}]

    def _next_start(self, r: _Run, th: dsp.Thresholds) -> int:
        """Where the envelope next rises above OFF after the run's merge gap (the batch's
        next candidate), or past the end's search window."""
        a = r.end + self.merge_gap_samples
        b = r.end + self.close_samples + self.search_samples
        above = np.flatnonzero(self.live.envelope.between(a, b) > th.off)
        return a + int(above[0]) if above.size else b

    def _pieces(self, r: _Run, th: dsp.Thresholds) -> list[tuple[int, int, int, int]]:
        """The run split at its hold level as the batch splits it (:func:`.split_holds`):
        (start, end, first_on, last_on) per piece, centred indices."""
        envelope = self.live.envelope
        base = max(r.start, envelope.first)
        if self.cfg.hold_release_fraction <= 0 or r.end <= base:
            return [(r.start, r.end, r.first_on, r.last_on)]
        seg = envelope.between(base, r.end)
        one = np.zeros(1, np.int64)
        pieces = split_holds(
            seg,
            one,
            one + seg.size,
            th.on,
            th.off,
            self.cfg.hold_release_fraction,
            1,
            seg.size,
            self.merge_gap_samples,
            reonset_ratio=self.cfg.reonset_ratio,
            dip=dsp.window_samples(self.cfg.reonset_dip_s, self.live.rate_hz),
            rise=dsp.window_samples(self.cfg.reonset_rise_s, self.live.rate_hz),
        )
        rows = [tuple(int(v) + base for v in row) for row in zip(*pieces, strict=True)]
        return rows or [(r.start, r.end, r.first_on, r.last_on)]

    def _piece_onset(self, start: int, first_on: int, th: dsp.Thresholds) -> int:
        """A piece's onset, refined as :meth:`_maybe_start` refines a run's."""
        m, w = self.min_duration_samples, self.envelope_window_samples
        early = self.live.envelope.between(first_on, first_on + m)
        level = max(th.off, self.cfg.edge_fraction * float(early.max() if early.size else 0.0))
        lo = max(start - w, self.live.onset_envelope.first)
        return self._refine_onset(first_on, level, lo, first_on + w + m)

    def _pieces_onsets(self, r: _Run, pieces, th: dsp.Thresholds):
        """(crossing, onset, level) per piece; the first piece keeps the announced onset
        when it is the run's own."""
        out = []
        for k, p in enumerate(pieces):
            if k == 0 and p[2] == r.first_on and p[0] == r.start and r.crossing is not None:
                out.append((r.crossing, r.onset, r.levels))
                continue
            crossing = self._piece_onset(p[0], p[2], th)
            onset, level = self._backtrack(crossing)
            out.append((crossing, onset, level))
        return out

    def _close(self, th: dsp.Thresholds) -> list[dict]:
        """``contraction_end`` for each piece of the run that ended (its hold split at its
        own level, each end refined like its onset)."""
        r, self.run, self.phase = self.run, None, "idle"
        if r is None or r.first_on is None:
            return []
        events = []
        if not r.started:
            events += self._start_late(r, th)
        pieces = self._pieces(r, th)
        whole = len(pieces) == 1 and pieces[0][2] == r.first_on and pieces[0][0] == r.start
        next_start = self._next_start(r, th)
        for i, (start, stop, _, last_on) in enumerate(pieces):
            crossing, onset, levels = (
                self._pieces_onsets(r, pieces[i : i + 1], th)[0]
                if (i or not whole)
                else (r.crossing if r.crossing is not None else r.onset, r.onset, r.levels)
            )
            if i and not whole:
                t = self.live.time_s(onset)
                events.append(
                    {"type": "contraction_start", "label": self.label, "t": t, "onset_s": t}
                )
            if whole:
                peak = r.peak_v
            else:
                seg = self.live.envelope.between(start, stop)
                peak = float(seg.max()) if seg.size else 0.0
            level = max(th.off, self.cfg.edge_fraction * peak)
            hi = stop + self.envelope_window_samples
            s = self.live.onset_envelope.between(last_on, hi)
            below = np.flatnonzero(s <= level)
            end = last_on + int(below[0]) if below.size else min(hi, self.live.onset_envelope.end)
            end = max(end, crossing + 1)
            bound = pieces[i + 1][0] if i + 1 < len(pieces) else next_start
            if i + 1 < len(pieces):
                nxt = self._piece_onset(pieces[i + 1][0], pieces[i + 1][2], th)
                end = min(end, nxt)
            above_s = (end - crossing) / self.live.rate_hz
            end = self._walk_end(end, bound, levels)
            self.prev_end = end
            inside = self.live.envelope.between(onset, end)
            if whole:
                mean = r.envelope_sum_v / r.envelope_count if r.envelope_count else 0.0
            else:
                mean = float(inside.mean()) if inside.size else 0.0
                peak = float(inside.max()) if inside.size else peak
            events.append(self._end_event(onset, end, peak, mean, above_s))
        return events

    def _end_event(self, onset: int, end: int, peak: float, mean: float, above_s: float) -> dict:
        duration = (end - onset) / self.live.rate_hz
        discarded = not (self.cfg.min_duration_s <= above_s and duration <= self.cfg.max_duration_s)
        event = {
            "type": "contraction_end",
            "label": self.label,
            "t": self.live.time_s(end),
            "start_s": self.live.time_s(onset),
            "end_s": self.live.time_s(end),
            "duration_s": duration,
            "peak": peak,
            "mean": mean,
            "peak_pct_mvc": None,
            "meets_intensity": None,
            "meets_duration": None,
            "good": None,
            "discarded": discarded,
        }
        if self.mvc is not None and self.mvc[0] > 0:
            event["peak_pct_mvc"] = 100.0 * peak / self.mvc[0]
        return event

    def _start_late(self, r: _Run, th: dsp.Thresholds) -> list[dict]:
        """The start event of a run that ended before it could be announced."""
        self.run = r
        try:
            return self._maybe_start(th, force=True)
        finally:
            self.run = None
