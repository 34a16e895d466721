"""The in-memory recording: channels in volts, timing, metadata, warnings, saturation.

``build_recording`` turns what the parser extracted (:class:`~.c3d_parse.RawC3D`) into a
validated :class:`Recording`. Validation happens here, after parsing, because a reader
happily returns NaN samples, a rate of 0, thousands of channels or files with no EMG;
every refusal is an :class:`~.errors.InvalidRecording` with a one-line reason.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from .c3d_metadata import extract_metadata, extract_started_at, volts_factor
from .c3d_parse import RawC3D
from .channels import select_emg
from .config import ReadLimits
from .errors import ChannelMapMismatch, InvalidRecording
from .runs import level_runs


@dataclass
class Channel:
    """One analog channel; ``values`` are volts for voltage channels (float32 or float64)."""

    label: str
    unit: str
    values: np.ndarray
    is_emg: bool = False
    muscle: str | None = None
    side: str | None = None
    activated_label: str | None = None

    def __str__(self) -> str:  # lets callers treat channels and labels alike
        return self.label

    @property
    def muscle_key(self) -> str | None:
        if not self.muscle:
            return None
        return f"{self.side} {self.muscle}" if self.side else self.muscle


@dataclass
class Recording:
    """A validated recording: what the analysis needs and nothing from the file format."""

    channels: list[Channel]
    rate_hz: float
    n_samples: int
    duration_s: float
    started_at: datetime | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    saturation: dict[str, dict[str, Any]] = field(default_factory=dict)
    source: str | None = None
    volts_factors: list = field(default_factory=list, repr=False)

    @property
    def labels(self) -> list[str]:
        return [c.label for c in self.channels]

    @property
    def emg_channels(self) -> list[Channel]:
        return [c for c in self.channels if c.is_emg]

    def channel(self, label: str) -> Channel:
        for c in self.channels:
            if c.label == label:
                return c
        raise KeyError(label)


def _unique_labels(labels: list[str], warnings: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for k, lab in enumerate(labels):
        lab = lab.strip() or f"A{k + 1}"
        if lab in seen:
            seen[lab] += 1
            new = f"{lab} ({seen[lab]})"
            warnings.append(f"duplicate channel label {lab!r} renamed {new!r}")
            lab = new
        else:
            seen[lab] = 1
        out.append(lab)
    return out


def saturation_runs(
    values: np.ndarray, *, min_run: int = 3, extremes: tuple[float, float] | None = None
) -> dict[str, Any]:
    """Clipping: runs of >= ``min_run`` identical samples at the channel's min or max.

    An amplifier or ADC that saturates repeats its rail value (GHOSTLY drop-outs sit at
    exactly -5.5 mV); a living EMG signal in float never repeats a value three times at
    its extreme. Returns the share of samples in such runs, the run count and levels.
    ``extremes`` passes the (finite) minimum and maximum when the caller has them.
    """
    x = np.asarray(values)
    empty = {"pct": 0.0, "runs": 0, "samples": 0, "levels_v": []}
    if x.size < min_run:
        return empty
    lo, hi = extremes if extremes is not None else (x.min(), x.max())
    if lo == hi:
        return empty
    levels, runs, samples = [], 0, 0
    for level in (lo, hi):
        starts, ends = level_runs(x, level, min_run)
        if starts.size:
            levels.append(float(level))
            runs += int(starts.size)
            samples += int((ends - starts).sum())
    return {"pct": 100.0 * samples / x.size, "runs": runs, "samples": samples, "levels_v": levels}


def build_recording(
    raw: RawC3D,
    *,
    limits: ReadLimits | None = None,
    channel_map=None,
    filename: str | None = None,
    check_samples: bool = True,
) -> Recording:
    """Validate the parsed file and build a :class:`Recording` (raises InvalidRecording)."""
    limits = limits or ReadLimits()
    warnings = list(raw.warnings)
    rate = float(raw.rate_hz)
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidRecording(f"analog rate is {rate:g} Hz: duration cannot be computed")
    n_ch, n = raw.n_channels, raw.n_samples
    if n_ch == 0:
        raise InvalidRecording("the file contains no analog channels (no EMG)")
    if n_ch > limits.max_channels:
        raise InvalidRecording(f"{n_ch} analog channels exceeds the limit of {limits.max_channels}")
    duration = n / rate
    if duration > limits.max_duration_s:
        raise InvalidRecording(
            f"recording lasts {duration:.0f} s, longer than the limit of "
            f"{limits.max_duration_s:.0f} s"
        )
    if duration < limits.min_duration_s:
        raise InvalidRecording(
            f"recording lasts {duration:.2f} s, shorter than the minimum of "
            f"{limits.min_duration_s:g} s"
        )
    labels = _unique_labels(list(raw.labels), warnings)
    units = list(raw.units)
    # GHOSTLY writes no unit: volts; non-voltage channels (N, Nmm) are never EMG
    voltage = [volts_factor(unit) if unit else 1.0 for unit in units]
    candidates = [lab for lab, f in zip(labels, voltage, strict=True) if f is not None]
    try:
        emg = select_emg(candidates, channel_map)
    except ValueError as exc:
        raise ChannelMapMismatch(f"channel mapping does not fit this file: {exc}") from None
    if not emg:
        shown = ", ".join(labels[:8]) + (", ..." if len(labels) > 8 else "")
        raise InvalidRecording(f"no EMG channel found among the {n_ch} analog channels ({shown})")
    if rate < limits.min_rate_hz:
        raise InvalidRecording(
            f"analog rate {rate:g} Hz is too low for raw surface EMG: the 20-450 Hz band-pass "
            f"needs at least {limits.min_rate_hz:g} Hz (this file probably holds "
            "already-processed envelopes)"
        )
    by_label = {e.label: e for e in emg}
    channels = []
    for lab, unit, factor in zip(labels, units, voltage, strict=True):
        e = by_label.get(lab)
        channels.append(
            Channel(
                label=lab,
                unit="V" if factor is not None else unit,
                values=None,
                is_emg=e is not None,
                muscle=e.muscle if e else None,
                side=e.side if e else None,
                activated_label=e.activated_label if e else None,
            )
        )
    rec = Recording(
        channels=channels,
        rate_hz=rate,
        n_samples=int(n),
        duration_s=float(duration),
        started_at=extract_started_at(raw.parameters, filename),
        metadata=extract_metadata(raw.parameters),
        warnings=warnings,
        saturation={},
        source=filename,
    )
    rec.volts_factors = voltage
    if raw.analog is not None:
        attach_samples(rec, raw.analog, voltage)
        if check_samples:
            check_values(rec)
    return rec


def attach_samples(rec: Recording, analog: np.ndarray, factors: list) -> None:
    """Give each channel its row of ``analog``, converted to volts (in place)."""
    if analog.shape != (len(rec.channels), rec.n_samples):
        raise InvalidRecording("the file changed while it was being read")
    for c, row, factor in zip(rec.channels, analog, factors, strict=True):
        if factor not in (None, 1.0):
            row *= np.float32(factor)
        c.values = row


def check_values(rec: Recording) -> None:
    """Sample-level checks: finite EMG (and game envelope) samples, clipping runs.

    Separate from the structural checks so the isolated reader can run them in the caller:
    numbers are harmless, and these passes cost less in the caller's warm memory than in a
    freshly forked child.
    """
    needed = {c.label for c in rec.emg_channels}
    needed |= {c.activated_label for c in rec.emg_channels if c.activated_label}
    extremes = {}
    for c in rec.channels:
        if c.label not in needed or not c.values.size:
            continue
        # min and max are finite exactly when every sample is (NaN and inf propagate), in
        # two vectorised passes without a temporary mask; clipping needs them anyway
        lo, hi = c.values.min(), c.values.max()
        if not (math.isfinite(lo) and math.isfinite(hi)):
            bad = int(np.count_nonzero(~np.isfinite(c.values)))
            raise InvalidRecording(
                f"channel {c.label} contains {bad} non-finite samples (NaN or inf)"
            )
        extremes[c.label] = (lo, hi)
    for c in rec.emg_channels:
        sat = saturation_runs(c.values, min_run=3, extremes=extremes.get(c.label))
        rec.saturation[c.label] = sat
        if sat["runs"]:
            rec.warnings.append(
                f"{c.label}: {sat['runs']} clipped run(s) at "
                + ", ".join(f"{v * 1e3:.2f} mV" for v in sat["levels_v"])
                + f" ({sat['pct']:.2f} % of samples)"
            )
