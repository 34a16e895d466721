"""Live analysis: blocks of samples in, envelope frames and contraction events out.

Causal versions of the batch steps (:mod:`.dsp`), so that live and batch agree:

* Band-pass: by default a fixed-lag form of the batch's zero-phase filter. The forward
  pass runs causally with its state carried between blocks (started at the first
  sample's level, which is what the batch's mean removal amounts to); the backward pass
  runs over the forward output held back for ``stream_lookahead_s`` (0.3 s), started at
  the newest sample's steady state like the batch's at the last sample. Its start-up has
  decayed by the time a sample leaves the lag, so each released sample equals the batch
  path's band-passed value (to ~1e-9 relative): live sees the batch signal, 0.3 s late.
  ``stream_lookahead_s=0`` runs the band-pass twice forward instead: the same magnitude
  response, its group delay compensated in the event times, ~0.3 s less latency, and
  edges that can differ from the batch path's where real EMG hovers near a threshold.
* Envelopes: trailing moving-RMS windows whose values are re-aligned to the centre of
  their window (the batch's centred windows).
* Noise floor: given (``noise=``), or the same percentile of block RMS values over
  everything seen so far (then no detection before ``stream_warmup_s``).
* The same hysteresis state machine with gap merging, min/max duration, edge refinement.

With the noise floor known, the live path finds the batch path's contractions: on the
synthetic scenarios and on the real GHOSTLY recordings, the same count with the same
onsets (measured: identical to the millisecond). A running noise estimate early in a
session can differ from the batch path's whole-recording one, and so can the
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
from scipy import signal

from . import dsp
from .analysis import resolve_mvc
from .channels import select_emg
from .config import AnalysisConfig, ScoringConfig
from .recording import Channel

HISTORY_S = 12.0


class _ChannelState:
    """Filter state, envelope history and the detector of one EMG channel."""

    def __init__(
        self, label: str, rate: float, cfg: AnalysisConfig, mvc, noise: float | None = None
    ) -> None:
        self.label = label
        self.fixed_noise = noise
        self.rate = rate
        self.cfg = cfg
        self.mvc = mvc  # (volts, source) or None
        self.lag = round(cfg.stream_lookahead_s * rate)
        if self.lag:
            # fixed lag: the batch's forward pass, carried between blocks, and its backward
            # pass over the forward output held back for ``lag`` samples (_zero_phase)
            self.sos = dsp.sos_for(rate, cfg)
            self.delay = 0.0
        else:
            # no lag: the band-pass twice forward, the same magnitude response (|H|^2) as
            # the batch's forward-backward pass; only the phase differs, and its group
            # delay is compensated in the event times
            self.sos = np.vstack([dsp.sos_for(rate, cfg)] * 2)
            self.delay = _group_delay_samples(self.sos, rate)
        self.zi_unit = signal.sosfilt_zi(self.sos)
        self.zi = None
        self.forward = np.zeros(0)  # forward-filtered samples still inside the lag
        self.wl = dsp.window_samples(cfg.envelope_window_s, rate)
        self.ws = dsp.window_samples(cfg.onset_window_s, rate)
        # a trailing window ending at sample g is the batch's centred window at g - d
        self.dl = self.wl - self.wl // 2 - 1
        self.ds = self.ws - self.ws // 2 - 1
        self.tail = np.zeros(0)  # last wl - 1 squared samples
        self.pending = np.zeros(0)  # raw samples held back (a possible drop-out's start)
        self.dropout_value: float | None = None
        self.n_dropout = dsp.dropout_samples(rate, cfg)
        self.baseline = 0.0
        self.dropouts = 0
        self.seen = 0  # samples fed
        self.block = dsp.window_samples(cfg.noise_block_s, rate)
        self.block_acc = 0.0
        self.block_n = 0
        self.block_rms: list[float] = []
        # history in centred-index space: L[i] for i in [h0, h0 + len(L)), same for S
        self.h0 = 0
        self.L = np.zeros(0)
        self.S = np.zeros(0)
        self.s_h0 = 0
        self.i = 0  # next centred index the detector looks at
        self.state = "idle"
        self.run: dict | None = None
        self.m = dsp.window_samples(cfg.min_duration_s, rate)
        self.w = self.wl
        self.gap_ok = dsp.window_samples(cfg.merge_gap_s, rate)
        self.warmup = dsp.window_samples(cfg.stream_warmup_s, rate)

    # ------------------------------------------------------------------ signal path
    def push(self, x: np.ndarray) -> None:
        self.push_released(self._blank(np.asarray(x, dtype=np.float64)))

    def push_released(self, x: np.ndarray, *, final: bool = False) -> None:
        if x.size:
            if self.zi is None:
                self.zi = self.zi_unit * x[0]
            bp, self.zi = signal.sosfilt(self.sos, x, zi=self.zi)
        else:
            bp = x
        if self.lag:
            bp = self._zero_phase(bp, final=final)
        if bp.size == 0:
            return
        sq = bp * bp
        self._noise(sq)
        ext = np.concatenate((self.tail, sq))
        c = np.concatenate(([0.0], np.cumsum(ext)))
        n_new = sq.size
        ends = np.arange(ext.size - n_new + 1, ext.size + 1)  # cumsum index after each new
        glob = self.seen + np.arange(n_new)  # global index of each new sample
        for width, shift, name in ((self.wl, self.dl, "L"), (self.ws, self.ds, "S")):
            count = np.minimum(glob + 1, width)
            lo = np.maximum(ends - count, 0)
            env = np.sqrt(np.maximum((c[ends] - c[lo]) / count, 0.0))
            self._append(name, env, self.seen - shift)
        self.tail = ext[-(self.wl - 1) :] if self.wl > 1 else np.zeros(0)
        self.seen += n_new

    def _zero_phase(self, forward: np.ndarray, *, final: bool) -> np.ndarray:
        """The batch's backward pass over the forward output, final up to ``lag`` samples ago.

        Each call runs the backward filter from the newest sample (started at its steady
        state, as the batch path starts at the last sample) down through the held-back
        samples; by ``lag`` samples later its start-up has decayed (below 1e-9 for the
        default 20 Hz corner and 0.3 s), so the released samples equal the batch path's
        band-passed signal. At the end of the stream everything is released, exactly as
        the batch pass ends.
        """
        held = np.concatenate((self.forward, forward)) if self.forward.size else forward
        n_out = held.size if final else held.size - self.lag
        if n_out <= 0 or held.size == 0:
            self.forward = held
            return np.zeros(0)
        back = held[::-1]
        out, _ = signal.sosfilt(self.sos, back, zi=self.zi_unit * back[0])
        self.forward = held[n_out:]
        return out[::-1][:n_out]

    def _blank(self, x: np.ndarray, *, final: bool = False) -> np.ndarray:
        """Drop-outs blanked as in the batch path, holding back a possible run's start.

        The trailing run of identical samples (shorter than a drop-out) waits for the next
        block, so a run is blanked from its first sample; that costs at most
        ``dropout_min_s`` of latency, and one sample on a living signal.
        """
        buf = np.concatenate((self.pending, x)) if self.pending.size else x
        if buf.size == 0:
            return buf
        buf = buf.copy()
        if self.dropout_value is not None:
            lead = np.flatnonzero(buf != self.dropout_value)
            n_lead = int(lead[0]) if lead.size else buf.size
            buf[:n_lead] = self.baseline
            if n_lead < buf.size:
                self.dropout_value = None
        starts, ends = dsp.flat_runs(buf, self.n_dropout)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b == buf.size:
                self.dropout_value = float(buf[a])
            buf[a:b] = self.baseline
            self.dropouts += 1
        # hold back the trailing run of identical values unless it is already a drop-out
        tail = 1
        if self.dropout_value is None and not final:
            diffs = np.flatnonzero(buf[1:] != buf[:-1])
            tail = buf.size - (int(diffs[-1]) + 1) if diffs.size else buf.size
            self.pending = buf[-tail:].copy()
            release = buf[:-tail]
        else:
            self.pending = np.zeros(0)
            release = buf
        live = release[release != self.baseline] if self.dropouts else release
        if live.size:
            self.baseline = float(np.mean(live)) if self.seen else float(live[0])
        return release

    def _append(self, name: str, env: np.ndarray, first_centre: int) -> None:
        # centred indices below 0 (the first half-window) are dropped
        if first_centre < 0:
            env = env[-first_centre:]
            first_centre = 0
        keep = int(HISTORY_S * self.rate)
        if name == "L":
            if self.L.size == 0:
                self.h0 = first_centre
            self.L = np.concatenate((self.L, env))
            if self.L.size > keep:
                cut = self.L.size - keep
                self.L, self.h0 = self.L[cut:], self.h0 + cut
        else:
            if self.S.size == 0:
                self.s_h0 = first_centre
            self.S = np.concatenate((self.S, env))
            if self.S.size > keep:
                cut = self.S.size - keep
                self.S, self.s_h0 = self.S[cut:], self.s_h0 + cut

    def push_final(self) -> None:
        """Release the held-back samples at the end of the stream."""
        rest = self._blank(np.zeros(0), final=True)
        self.pending = np.zeros(0)
        self.push_released(rest, final=True)

    def _noise(self, sq: np.ndarray) -> None:
        k = 0
        while k < sq.size:
            take = min(self.block - self.block_n, sq.size - k)
            self.block_acc += float(sq[k : k + take].sum())
            self.block_n += take
            k += take
            if self.block_n == self.block:
                self.block_rms.append(math.sqrt(self.block_acc / self.block))
                self.block_acc, self.block_n = 0.0, 0

    def thresholds(self) -> dsp.Thresholds | None:
        if self.fixed_noise is not None:
            noise = self.fixed_noise
        elif not self.block_rms:
            return None
        else:
            noise = float(np.percentile(self.block_rms, self.cfg.noise_percentile))
        known = self.mvc[0] if self.mvc is not None else None
        return dsp.thresholds(noise, known, self.cfg)

    @property
    def l_end(self) -> int:
        return self.h0 + self.L.size

    @property
    def s_end(self) -> int:
        return self.s_h0 + self.S.size

    def Lat(self, a: int, b: int) -> np.ndarray:  # noqa: N802 - the envelope's symbol
        a, b = max(a, self.h0), min(b, self.l_end)
        return self.L[a - self.h0 : b - self.h0] if b > a else np.zeros(0)

    def Sat(self, a: int, b: int) -> np.ndarray:  # noqa: N802
        a, b = max(a, self.s_h0), min(b, self.s_end)
        return self.S[a - self.s_h0 : b - self.s_h0] if b > a else np.zeros(0)

    def time(self, centred_index: float) -> float:
        return (centred_index - self.delay) / self.rate

    # ------------------------------------------------------------------ detector
    def detect(self, finishing: bool = False) -> list[dict]:
        events: list[dict] = []
        th = self.thresholds()
        warmup = 0 if self.fixed_noise is not None else self.warmup
        if th is None or self.seen < warmup:
            return events
        self.i = max(self.i, self.h0, warmup // 2)
        end = self.l_end
        while self.i < end:
            seg = self.Lat(self.i, end)
            if self.state == "idle":
                above = np.flatnonzero(seg > th.off)
                if not above.size:
                    self.i = end
                    break
                start = self.i + int(above[0])
                self.run = {
                    "start": start,
                    "first_on": None,
                    "last_on": None,
                    "peak": 0.0,
                    "sum": 0.0,
                    "n": 0,
                    "started": False,
                    "onset": None,
                }
                self.state, self.i = "run", start
            elif self.state == "run":
                below = np.flatnonzero(seg <= th.off)
                stop = self.i + int(below[0]) if below.size else end
                self._absorb(self.i, stop, th)
                self.i = stop
                events += self._maybe_start(th)
                if below.size:
                    self.run["end"] = stop
                    self.state = "gap"
            else:  # gap: below OFF since run["end"]
                limit = self.run["end"] + self.gap_ok
                seg = self.Lat(self.i, min(end, limit))
                above = np.flatnonzero(seg > th.off)
                if above.size:
                    self.state, self.i = "run", self.i + int(above[0])
                    continue
                if min(end, limit) < limit:
                    self.i = end
                    break
                events += self._close(th)
                self.i = limit
        if finishing and (self.pending.size or self.forward.size):
            self.push_final()
            return events + self.detect(finishing=True)
        if finishing and self.run is not None:
            if self.state == "run":
                self.run["end"] = end
            events += self._maybe_start(th, force=True)
            events += self._close(th)
        return events

    def _absorb(self, a: int, b: int, th: dsp.Thresholds) -> None:
        seg = self.Lat(a, b)
        if not seg.size:
            return
        r = self.run
        r["peak"] = max(r["peak"], float(seg.max()))
        r["sum"] += float(seg.sum())
        r["n"] += seg.size
        on = np.flatnonzero(seg >= th.on)
        if on.size:
            if r["first_on"] is None:
                r["first_on"] = a + int(on[0])
            r["last_on"] = a + int(on[-1])

    def _maybe_start(self, th: dsp.Thresholds, *, force: bool = False) -> list[dict]:
        r = self.run
        if r is None or r["started"] or r["first_on"] is None:
            return []
        f = r["first_on"]
        if not force and self.l_end < f + self.m:
            return []
        hi = f + self.w + self.m
        early = self.Lat(f, f + self.m)
        level = max(th.off, self.cfg.edge_fraction * float(early.max() if early.size else 0.0))
        if not force and self.s_end < hi:
            # below the level at the anchor, the crossing lies ahead: wait until it has arrived
            ahead = self.Sat(f, self.s_end)
            if ahead.size and ahead[0] <= level and not (ahead > level).any():
                return []
        lo = max(r["start"] - self.w, self.s_h0)
        onset = self._refine_onset(f, level, lo, hi)
        r["onset"], r["started"] = onset, True
        return [
            {
                "type": "contraction_start",
                "label": self.label,
                "t": self.time(onset),
                "onset_s": self.time(onset),
            }
        ]

    def _refine_onset(self, anchor: int, level: float, lo: int, hi: int) -> int:
        s = self.Sat(lo, hi)
        if not s.size:
            return anchor
        base = max(lo, self.s_h0)
        return base + dsp.refine_onset(s, min(anchor - base, s.size - 1), level, 0, s.size)

    def _close(self, th: dsp.Thresholds) -> list[dict]:
        r, self.run, self.state = self.run, None, "idle"
        if r is None or r["first_on"] is None:
            return []
        events = []
        if not r["started"]:
            events += self._start_late(r, th)
        level = max(th.off, self.cfg.edge_fraction * r["peak"])
        last_on = r["last_on"]
        hi = r["end"] + self.w
        s = self.Sat(last_on, hi)
        below = np.flatnonzero(s <= level)
        end = last_on + int(below[0]) if below.size else min(hi, self.s_end)
        onset = r["onset"]
        end = max(end, onset + 1)
        duration = (end - onset) / self.rate
        discarded = not (self.cfg.min_duration_s <= duration <= self.cfg.max_duration_s)
        mean = r["sum"] / r["n"] if r["n"] else 0.0
        ev = {
            "type": "contraction_end",
            "label": self.label,
            "t": self.time(end),
            "start_s": self.time(onset),
            "end_s": self.time(end),
            "duration_s": duration,
            "peak": r["peak"],
            "mean": mean,
            "peak_pct_mvc": None,
            "meets_intensity": None,
            "meets_duration": None,
            "good": None,
            "discarded": discarded,
        }
        if self.mvc is not None and self.mvc[0] > 0:
            ev["peak_pct_mvc"] = 100.0 * r["peak"] / self.mvc[0]
        events.append(ev)
        return events

    def _start_late(self, r: dict, th: dsp.Thresholds) -> list[dict]:
        self.run = r
        try:
            return self._maybe_start(th, force=True)
        finally:
            self.run = None


def _group_delay_samples(sos, rate: float) -> float:
    """The causal band-pass's group delay (samples) at the band's geometric centre."""
    b, a = signal.sos2tf(sos)
    nyq = rate / 2.0
    centre = math.sqrt(20.0 * min(450.0, 0.95 * nyq))
    _, gd = signal.group_delay((b, a), w=[centre], fs=rate)
    return float(gd[0])


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
    ) -> None:
        rate_hz = float(rate_hz)
        if not (math.isfinite(rate_hz) and rate_hz > 0):
            raise ValueError(f"rate_hz must be finite and > 0 (got {rate_hz!r})")
        self.cfg = config or AnalysisConfig()
        self.scoring = scoring or ScoringConfig()
        self.rate = rate_hz
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
        self.states = {
            e.label: _ChannelState(
                e.label, rate_hz, self.cfg, mvcs.get(e.label), noise.get(e.label)
            )
            for e in emg
        }
        self.samples = 0
        self.frame_step = max(1, round(rate_hz / self.cfg.envelope_display_hz))
        self.next_frame = self.frame_step
        self.finished = False

    def feed(self, block) -> list[dict]:
        """Process one block: ndarray (n_samples, n_channels) or {label: 1-D array}."""
        if self.finished:
            raise ValueError("the analyser has finished; start a new one")
        cols = self._columns(block)
        n = len(next(iter(cols.values())))
        for label, state in self.states.items():
            state.push(cols[label])
        self.samples += n
        events = self._frames()
        for state in self.states.values():
            events += state.detect()
        return self._flagged(events)

    def finish(self) -> list[dict]:
        """Close any open contraction at the end of the stream."""
        if self.finished:
            return []
        self.finished = True
        events = []
        for state in self.states.values():
            events += state.detect(finishing=True)  # releases what was held back
        return self._flagged(self._frames() + events)

    def _columns(self, block) -> dict[str, np.ndarray]:
        if isinstance(block, Mapping):
            missing = [lab for lab in self.states if lab not in block]
            if missing:
                raise ValueError(f"block lacks channel(s): {', '.join(missing)}")
            cols = {lab: np.asarray(block[lab], dtype=np.float64).ravel() for lab in self.states}
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
        events = []
        # samples held back by a channel (a possible drop-out's start) wait for the next block
        available = min(st.seen for st in self.states.values())
        while self.next_frame <= available:
            g = self.next_frame - 1
            values = {}
            for label, st in self.states.items():
                i = g - st.dl
                seg = st.Lat(i, i + 1)
                values[label] = float(seg[0]) if seg.size else 0.0
            t = (g - next(iter(self.states.values())).dl) / self.rate
            events.append({"type": "envelope", "t": t, "values": values})
            self.next_frame += self.frame_step
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
