"""What viewers of a live stream get: the streaming analysis of each frame, counts, alerts.

Pure bookkeeping around :class:`analysis.core.streaming.StreamingAnalyser`; the ingest
consumer feeds it frames and publishes :meth:`LiveAnalysis.frame` to the viewers' group.
Raw samples stay here: viewers get a decimated signal (the largest magnitude of each
bucket, ~100 Hz) and the envelope at the core's display rate.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from analysis.core.c3d_metadata import volts_factor
from analysis.core.kernels import bucket_peaks
from analysis.core.live_protocol import Hello
from analysis.core.streaming import StreamingAnalyser
from analysis.pipeline.live_hum import MainsHum

SIGNAL_DISPLAY_HZ = 100.0
HUM_RATIO = 0.5  # share of a second's power within 1 Hz of 50/60 Hz and harmonics
SATURATION_SHARE = 0.01  # of a second's samples at 99 % of the announced full scale or more
FATIGUE_DROP = 0.15  # contraction MDF this far below the session's first contractions
FATIGUE_REFERENCE = 3  # the first contractions the MDF is compared with
ANALYSIS_BLOCK_S = 0.2  # frames are analysed in blocks this long: the analyser's cost is
# mostly per call (its fixed-lag filter re-runs the 0.3 s lag each time), so 4 frames per call
# cost little more than one; the envelope is 0.3 s late anyway (the lag)
RAW_KEEP_S = 32.0  # raw history kept for the spectra of contractions (max duration 30 s)


class LiveAnalysis:
    def __init__(self, hello: Hello, inputs, *, next_sample: int = 0, stagger: float = 0.0) -> None:
        self.hello = hello
        self.inputs = inputs
        self.factors = np.array([volts_factor(u) or 1.0 for u in hello.units])
        self.decimate = max(1, round(hello.rate_hz / SIGNAL_DISPLAY_HZ))
        self.alerts: list[dict] = []
        self.counts: dict[str, dict] = {}
        self.last_pct: dict[str, float | None] = {}
        self.analyser = None
        self.problem = ""
        try:
            self.analyser = StreamingAnalyser(
                hello.rate_hz,
                list(hello.labels),
                mvc=inputs.mvc,
                channel_map=inputs.channel_map,
                scoring=inputs.scoring,
                noise={k: v for k, v in inputs.noise.items() if k in hello.labels} or None,
                activity={k: v for k, v in inputs.activity.items() if k in hello.labels} or None,
            )
        except ValueError as exc:
            self.problem = str(exc)
        self.emg = list(self.analyser.detectors) if self.analyser else []
        self.lives = [self.analyser.detectors[lab].live for lab in self.emg]
        self.mvcs = {lab: self.mvc_v(lab) for lab in self.emg}  # fixed for the stream
        self.counts = {lab: {"count": 0, "good": 0} for lab in self.emg}
        self.dropouts = dict.fromkeys(self.emg, 0)
        self.hum = MainsHum(hello.rate_hz)
        # the latest RAW_KEEP_S of each EMG channel (volts), written in place: a buffer of
        # twice that, its newest half moved to the front only when it is full
        self.raw_keep = int(RAW_KEEP_S * hello.rate_hz)
        self.raw_buf = np.zeros((2 * self.raw_keep, len(self.emg)))
        self.raw_size = 0
        self.raw_first = 0  # sample index of raw_buf[0]
        self.emg_columns = [hello.labels.index(lab) for lab in self.emg]
        # every column is EMG, in order: the frame's volts serve as they are (no copy)
        self.all_emg = self.emg_columns == list(range(len(hello.labels)))
        self.mdf: dict[str, list[float]] = {lab: [] for lab in self.emg}
        self.fatigued: set[str] = set()
        self.saturating: dict[str, float] = {}
        self.full_scale = {
            lab: hello.ranges[hello.labels.index(lab)] * self.factors[hello.labels.index(lab)]
            for lab in self.emg
            if hello.ranges and hello.ranges[hello.labels.index(lab)]
        }
        self.target_announced = False
        self.pending: list[np.ndarray] = []  # volts not analysed yet
        self.pending_samples = 0
        self.block_samples = max(1, int(ANALYSIS_BLOCK_S * hello.rate_hz))
        # the first block is shorter by ``stagger`` (a share of a block): streams that
        # started together (a load test, a ward's devices switched on at once) then run
        # their analyser in different frames instead of all in the same one every block
        self.block_due = self.block_samples - int(stagger * self.block_samples)
        if inputs.bfr_pct_aop is not None:
            low, high = inputs.bfr_band
            if not low <= inputs.bfr_pct_aop <= high:
                self.alert(
                    "bfr_out_of_band",
                    "danger",
                    0.0,
                    None,
                    f"BFR cuff at {inputs.bfr_pct_aop:g} % AOP, outside the safe band "
                    f"{low:g}-{high:g} %",
                )

    # -- state --------------------------------------------------------------------------

    def mvc_v(self, label: str) -> float | None:
        det = self.analyser.detectors[label] if self.analyser else None
        return det.mvc[0] if det is not None and det.mvc else None

    def state(self) -> dict:
        """What a viewer needs to draw: channels, thresholds, target lines, counts, alerts."""
        channels = []
        for label in self.emg:
            det = self.analyser.detectors[label]
            th = det.thresholds()
            mvc = self.mvc_v(label)
            channels.append(
                {
                    "label": label,
                    "mvc_v": mvc,
                    "threshold_v": th.on if th else None,
                    "target_v": mvc * self.inputs.target_pct_mvc / 100 if mvc else None,
                    **self.counts[label],
                }
            )
        return {
            "type": "state",
            "labels": list(self.hello.labels),
            "rate_hz": self.hello.rate_hz,
            "channels": channels,
            "target_count": self.inputs.target_count,
            "target_pct_mvc": self.inputs.target_pct_mvc,
            "alerts": self.alerts,
            "analysis": self.analyser is not None,
            "problem": self.problem,
        }

    def alert(self, kind, severity, t, channel, message) -> dict:
        alert = {
            "id": len(self.alerts) + 1,
            "type": kind,
            "severity": severity,
            "t": round(float(t), 3),
            "channel": channel,
            "message": message,
            "acknowledged_by": None,
            "acknowledged_at": None,
        }
        self.alerts.append(alert)
        return alert

    def acknowledge(self, alert_id: int, who: str, when: str) -> dict | None:
        for alert in self.alerts:
            if alert["id"] == alert_id and alert["acknowledged_by"] is None:
                alert["acknowledged_by"], alert["acknowledged_at"] = who, when
                return alert
        return None

    # -- one frame ----------------------------------------------------------------------

    def frame(self, sequence: int, first_sample: int, samples: np.ndarray) -> dict:
        """The viewers' message for one accepted frame (JSON-ready)."""
        rate = self.hello.rate_hz
        volts = samples.astype(np.float64) * self.factors
        out = {
            "type": "frame",
            "seq": sequence,
            "t0": first_sample / rate,
            "signal_hz": rate / self.decimate,
            "signal": {},
            "envelope": {},
            "events": [],
            "alerts": [],
        }
        if self.analyser is None:
            return out
        emg = volts if self.all_emg else volts[:, self.emg_columns]
        out["signal"] = dict(zip(self.emg, _peaks(emg, self.decimate), strict=True))
        self._keep_raw(first_sample, emg)
        new_alerts = []
        self.pending.append(volts)
        self.pending_samples += volts.shape[0]
        events = []
        if self.pending_samples >= self.block_due:
            block = np.concatenate(self.pending) if len(self.pending) > 1 else self.pending[0]
            self.pending, self.pending_samples = [], 0
            self.block_due = self.block_samples
            events = self.analyser.feed(block)
        envelope, mvcs, last_pct = out["envelope"], self.mvcs, self.last_pct
        for ev in events:
            if ev["type"] == "envelope":
                t = round(ev["t"], 4)
                for lab, v in ev["values"].items():
                    if lab in envelope:
                        envelope[lab].append([t, v])
                    else:
                        envelope[lab] = [[t, v]]
                    mvc = mvcs[lab]
                    last_pct[lab] = 100.0 * v / mvc if mvc else None
            else:
                new_alerts += self._count(ev)
                out["events"].append(_jsonable(ev))
        t_end = (first_sample + samples.shape[0]) / rate
        second = self.hum.second(emg)  # a full second of every channel, once a second
        full_scale = self.full_scale
        for j, lab in enumerate(self.emg):
            live = self.lives[j]
            if live.dropout_count > self.dropouts[lab]:
                self.dropouts[lab] = live.dropout_count
                new_alerts.append(
                    self.alert(
                        "signal_lost",
                        "warning",
                        t_end,
                        lab,
                        f"{lab}: flat signal (electrode off or signal lost)",
                    )
                )
            if second is not None:
                new_alerts += self._hum(lab, np.ascontiguousarray(second[:, j]), t_end)
            if lab in full_scale:
                new_alerts += self._saturation(lab, emg[:, j], t_end)
        out["alerts"] = new_alerts
        out["pct_mvc"] = {lab: last_pct.get(lab) for lab in self.emg}
        out["counts"] = self.counts
        return out

    def finish(self, sequence: int, next_sample: int) -> dict:
        """The last viewers' frame: the contraction still open at the stop, closed."""
        out = {
            "type": "frame",
            "seq": sequence,
            "t0": next_sample / self.hello.rate_hz,
            "signal_hz": self.hello.rate_hz / self.decimate,
            "signal": {},
            "envelope": {},
            "events": [],
            "alerts": [],
            "final": True,
        }
        if self.analyser is None:
            return out
        events = []
        if self.pending:
            events = self.analyser.feed(np.concatenate(self.pending))
            self.pending, self.pending_samples = [], 0
        for ev in events + self.analyser.finish():
            if ev["type"] != "envelope":
                out["alerts"] += self._count(ev)
                out["events"].append(_jsonable(ev))
        out["pct_mvc"] = {lab: self.last_pct.get(lab) for lab in self.emg}
        out["counts"] = self.counts
        return out

    def _count(self, ev: dict) -> list[dict]:
        if ev["type"] != "contraction_end" or ev["discarded"]:
            return []
        alerts = self._fatigue(ev)
        c = self.counts[ev["label"]]
        c["count"] += 1
        c["good"] += 1 if ev.get("good") else 0
        target = self.inputs.target_count
        if not self.target_announced and target and c["count"] >= target:
            self.target_announced = True
            return alerts + [
                self.alert(
                    "target_reached",
                    "info",
                    ev["t"],
                    ev["label"],
                    f"{ev['label']}: {c['count']} contractions, the target of {target} reached",
                )
            ]
        return alerts

    def _keep_raw(self, first_sample: int, block: np.ndarray) -> None:
        n = block.shape[0]
        if self.raw_size == 0:
            self.raw_first = first_sample
        if self.raw_size + n > self.raw_buf.shape[0]:
            cut = self.raw_size + n - self.raw_keep
            self.raw_buf[: self.raw_size - cut] = self.raw_buf[cut : self.raw_size].copy()
            self.raw_size -= cut
            self.raw_first += cut
        self.raw_buf[self.raw_size : self.raw_size + n] = block
        self.raw_size += n

    def _fatigue(self, ev: dict) -> list[dict]:
        """Median frequency of the contraction's raw signal against the first ones'."""
        lab = ev["label"]
        rate = self.hello.rate_hz
        a = round(ev["start_s"] * rate) - self.raw_first
        b = round(ev["end_s"] * rate) - self.raw_first
        seg = self.raw_buf[max(a, 0) : min(max(b, 0), self.raw_size), self.emg.index(lab)]
        if seg.size < rate * 0.25:
            return []
        seg = seg - seg.mean()
        power = np.abs(np.fft.rfft(seg * np.hanning(seg.size))) ** 2
        freqs = np.fft.rfftfreq(seg.size, 1 / rate)
        band = (freqs >= 20) & (freqs <= min(450, rate / 2))
        cum = np.cumsum(power[band])
        if not cum.size or cum[-1] <= 0:
            return []
        mdf = float(freqs[band][np.searchsorted(cum, cum[-1] / 2)])
        history = self.mdf[lab]
        history.append(mdf)
        if len(history) <= FATIGUE_REFERENCE or lab in self.fatigued:
            return []
        reference = float(np.mean(history[:FATIGUE_REFERENCE]))
        if mdf > (1 - FATIGUE_DROP) * reference:
            return []
        self.fatigued.add(lab)
        return [
            self.alert(
                "fatigue",
                "warning",
                ev["t"],
                lab,
                f"{lab}: median frequency {mdf:.0f} Hz, {100 * (1 - mdf / reference):.0f} % "
                f"below the session's first contractions ({reference:.0f} Hz): fatigue",
            )
        ]

    def _saturation(self, label: str, x: np.ndarray, t: float) -> list[dict]:
        """Samples at the announced full scale (the hello's ``range``): clipping."""
        full = self.full_scale.get(label)
        if not full or not x.size:
            return []
        share = float(np.mean(np.abs(x) >= 0.99 * full))
        last = self.saturating.get(label, -1e9)
        if share < SATURATION_SHARE or t - last < 5.0:  # at most one alert per 5 s
            return []
        self.saturating[label] = t
        return [
            self.alert(
                "saturation",
                "warning",
                t,
                label,
                f"{label}: {100 * share:.0f} % of samples at full scale "
                "(saturation: lower the gain)",
            )
        ]

    def _hum(self, label: str, seg: np.ndarray, t: float) -> list[dict]:
        """Mains hum: over each second (``seg``), the share of power at 50/60 Hz and
        harmonics (:class:`MainsHum`)."""
        ratio = self.hum.ratio(seg)
        if ratio is None or ratio < HUM_RATIO:
            return []
        return [
            self.alert(
                "mains_hum",
                "warning",
                t,
                label,
                f"{label}: {100 * ratio:.0f} % of the signal is mains hum (check the ground)",
            )
        ]


@functools.cache
def warm_up() -> None:
    """Load the live path's compiled kernels into this process (numba's cache; compiled if
    it has none) before its first stream: a fraction of a second to a second, once, that
    would otherwise hold up a device's first frames. Three seconds of noise through an
    analyser reach every kernel the frames reach (envelopes, burst level, peaks)."""
    x = np.random.default_rng(0).standard_normal((3 * 990, 1)) * 1e-5
    analyser = StreamingAnalyser(990.0, ["CH1 Raw"])
    for a in range(0, x.shape[0], 198):
        analyser.feed(x[a : a + 198])
    _peaks(x[:50], 10)


def _peaks(x: np.ndarray, step: int) -> list[list[float]]:
    """Per column of ``x`` (samples x channels), the largest-magnitude sample of each bucket
    of ``step`` samples (signed), rounded to 0.1 uV: one compiled pass for all channels."""
    if step <= 1:
        return np.round(x, 7).T.tolist()
    return np.round(bucket_peaks(x, step), 7).T.tolist()


def _jsonable(ev: dict) -> dict:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in ev.items()
    }
