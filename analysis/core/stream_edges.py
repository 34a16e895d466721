"""The edge walks of the live contraction detector (:class:`~.stream_detector.LiveDetector`).

An onset found at its threshold crossing is moved back, and an end forward, to where the
envelope is back at its baseline, on the short and the fine envelopes as the batch path's
:mod:`.edges` does; the onset's crossing itself is refined as :func:`.dsp.refine_onset`
does. These read the detector's :class:`~.stream_signal.LiveSignal` histories and settings
(``live``, ``cfg``, the window lengths in samples, ``prev_end``, ``noise_now_v``).
"""

from __future__ import annotations

import numpy as np

from . import dsp
from .edges import baseline_level, fine_weight, walk_back, walk_forward


class EdgeWalks:
    """Onset and end refinement for :class:`~.stream_detector.LiveDetector` (a mixin)."""

    def _backtrack(self, crossing: int) -> tuple[int, tuple[float, float, float]]:
        """The onset moved back from its crossing to the baseline (:mod:`.edges`), and the
        levels that count as baseline (for the end too)."""
        if not self.cfg.edge_backtrack:
            return crossing, (0.0, 0.0, 0.0)
        onset, level, _ = self._walk_back_on(
            self.live.onset_envelope, crossing, self.cfg.edge_crossing_ratio
        )
        fine = self.live.fine_envelope
        if fine is None:
            return onset, (level, 0.0, 0.0)
        onset_f, level_f, base_f = self._walk_back_on(
            fine, crossing, self.cfg.edge_fine_crossing_ratio
        )
        history, m = self.live.onset_envelope, self.min_duration_samples
        peak = history.between(crossing, crossing + m)
        peak_v = float(peak.max()) if peak.size else 0.0
        rise = history.between(onset_f, crossing + m)
        w = fine_weight(peak_v, base_f, rise, self.live.rate_hz, self.cfg)
        return round((1.0 - w) * onset + w * onset_f), (level, level_f, base_f)

    def _walk_back_on(self, history, crossing: int, ratio: float) -> tuple[int, float, float]:
        """(onset, level, baseline level before the crossing ratio) on one envelope."""
        lo = max(crossing - self.search_samples, self.prev_end, history.first)
        span_end = crossing - self.guard_samples
        before = history.between(max(span_end - self.baseline_samples, self.prev_end), span_end)
        cap = history.between(crossing - 1, crossing)
        cap_v = float(cap[0]) if cap.size else 0.0
        base = baseline_level(before, self.noise_now_v, cap_v, self.cfg)
        level = max(base, ratio * cap_v)
        onset = lo + walk_back(history.between(lo, crossing + 1), level)
        return min(onset, crossing), level, base

    def _walk_end(self, end: int, bound: int, levels: tuple[float, float, float]) -> int:
        """The end moved forward from its crossing to the baseline, before ``bound``."""
        if not self.cfg.edge_backtrack:
            return end
        level, level_f, base_f = levels
        stop, _ = self._walk_forward_on(
            self.live.onset_envelope, end, bound, level, self.cfg.edge_crossing_ratio
        )
        fine = self.live.fine_envelope
        if fine is None:
            return stop
        stop_f, after_f = self._walk_forward_on(
            fine, end, bound, level_f, self.cfg.edge_fine_crossing_ratio
        )
        history, m = self.live.onset_envelope, self.min_duration_samples
        peak = history.between(end - m, end)
        peak_v = float(peak.max()) if peak.size else 0.0
        fall = history.between(end - m + 1, stop_f + 1)[::-1]
        w = fine_weight(peak_v, max(base_f, after_f), fall, self.live.rate_hz, self.cfg)
        return round((1.0 - w) * stop + w * stop_f)

    def _walk_forward_on(
        self, history, end: int, bound: int, level: float, ratio: float
    ) -> tuple[int, float]:
        """(end, baseline level after it, 0 when none) on one envelope."""
        hi = min(end + self.search_samples, bound, history.end)
        a = end + self.guard_samples
        after = history.between(a, min(a + self.baseline_samples, bound))
        after_v = 0.0
        if after.size:
            after_v = baseline_level(after, self.noise_now_v, np.inf, self.cfg)
            level = max(level, after_v)
        at_end = history.between(end, end + 1)
        if at_end.size:
            level = max(level, ratio * float(at_end[0]))
        if hi <= end:
            return end, after_v
        return end + walk_forward(history.between(end, hi), level), after_v

    def _refine_onset(self, anchor: int, level: float, lo: int, hi: int) -> int:
        s = self.live.onset_envelope.between(lo, hi)
        if not s.size:
            return anchor
        base = max(lo, self.live.onset_envelope.first)
        return base + dsp.refine_onset(s, min(anchor - base, s.size - 1), level, 0, s.size)
