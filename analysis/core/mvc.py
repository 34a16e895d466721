"""MVC (maximum voluntary contraction): measured from a calibration, entered, or estimated.

Method: band-pass and RMS envelope exactly as in the analysis, then the highest mean
envelope over any ``mvc_window_s`` (1 s) window, i.e. the strongest *sustained* effort, not
a single spike (the 1 s window of amplitude normalisation practice; Konrad 2005, "The ABC
of EMG"). The same
rule measures a calibration recording (:func:`calibrate_mvc`) and, when no MVC is known,
estimates one from the recording being analysed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from . import dsp
from .channels import normalise_map, resolve_label
from .config import AnalysisConfig
from .errors import ChannelMapMismatch, UnknownChannel
from .recording import Channel, Recording

MVC_SOURCES = ("calibration", "entered")


@dataclass(frozen=True)
class MvcEstimate:
    """One channel's MVC measured by :func:`calibrate_mvc` (RMS volts)."""

    label: str
    muscle: str | None
    side: str | None
    value_v: float


def mvc_from_envelope(env: np.ndarray, rate_hz: float, cfg: AnalysisConfig, k: int = 1) -> float:
    """MVC (volts): highest mean RMS envelope over any ``mvc_window_s`` window.

    ``env`` holds every ``k``-th sample's envelope value.
    """
    step = max(1, int(rate_hz // 100) // k)
    width = max(1, dsp.window_samples(cfg.mvc_window_s, rate_hz) // k)
    return dsp.moving_mean_max(env, width, step=step)


def calibrate_mvc(
    recording: Recording,
    *,
    channel: str | None = None,
    config: AnalysisConfig | None = None,
    channel_map=None,
) -> dict[str, MvcEstimate]:
    """MVC of each EMG channel of a calibration recording, ``{label: MvcEstimate}``.

    ``channel_map`` relabels muscles (as for ``read_recording``; one that does not fit
    raises :class:`~.errors.ChannelMapMismatch`). With ``channel`` (a label or ``CHn``)
    the dict has exactly that channel's entry; a channel that is not among the EMG
    channels raises :class:`~.errors.UnknownChannel`.
    """
    cfg = config or AnalysisConfig()
    channels = recording.emg_channels
    if channel_map:
        try:
            mapping = normalise_map(channel_map, recording.labels)
        except ValueError as exc:
            raise ChannelMapMismatch(f"channel mapping does not fit this file: {exc}") from None
        channels = [
            Channel(
                label=c.label,
                unit=c.unit,
                values=c.values,
                is_emg=True,
                muscle=mapping[c.label][0],
                side=mapping[c.label][1],
            )
            for c in recording.channels
            if c.label in mapping
        ]
    if channel is not None:
        label = resolve_label(str(channel), [c.label for c in channels])
        if label is None:
            raise UnknownChannel(f"no EMG channel {channel!r} in this recording")
        channels = [c for c in channels if c.label == label]
    out = {}
    for c in channels:
        conditioned = dsp.condition_channel(c.values, recording.rate_hz, cfg)
        value = mvc_from_envelope(
            conditioned.envelope_v, recording.rate_hz, cfg, conditioned.grid_step
        )
        out[c.label] = MvcEstimate(label=c.label, muscle=c.muscle, side=c.side, value_v=value)
    return out


def _mvc_entry(value) -> tuple[float, str]:
    if isinstance(value, list | tuple):
        if len(value) != 2:
            raise ValueError(f"an MVC must be a value or (value, source), got {value!r}")
        volts, source = value
    else:
        volts, source = value, "entered"
    if source not in MVC_SOURCES:
        raise ValueError(f"MVC source must be one of {', '.join(MVC_SOURCES)} (got {source!r})")
    try:
        volts = float(volts)
    except (TypeError, ValueError):
        raise ValueError(f"MVC value must be a number of volts (got {volts!r})") from None
    if not (math.isfinite(volts) and volts > 0):
        raise ValueError(f"MVC value must be > 0 volts (got {volts!r})")
    return volts, source


def resolve_mvc(mvc: dict | None, channels: list[Channel]) -> dict[str, tuple[float, str]]:
    """``mvc`` keys (label, ``CHn``, or "<side> <muscle>") -> {label: (volts, source)}.

    Keys that name nothing in this file are ignored (a patient's calibrations cover muscles
    a given recording may not have); a label beats a muscle key. Raises ``ValueError`` for
    a value that is not a positive number of volts or a source that is not known.
    """
    if not mvc:
        return {}
    labels = [c.label for c in channels]
    out: dict[str, tuple[float, str]] = {}
    by_muscle: dict[str, tuple[float, str]] = {}
    for key, value in mvc.items():
        entry = _mvc_entry(value)
        label = resolve_label(str(key), labels)
        if label is not None:
            out[label] = entry
        else:
            by_muscle[" ".join(str(key).lower().split())] = entry
    for c in channels:
        if c.label not in out and c.muscle_key and c.muscle_key.lower() in by_muscle:
            out[c.label] = by_muscle[c.muscle_key.lower()]
    return out
