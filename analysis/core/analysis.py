"""Batch analysis: one validated :class:`Recording` in, one JSON-ready result document out.

Per EMG channel: band-pass, RMS envelope, noise floor, thresholds, contractions with
amplitude/spectral metrics and target flags, the game's own contractions, a summary and
fatigue trends; then the session score (:mod:`.scoring`). Amplitudes are volts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dsp, kernels
from ._alloc import tune_allocator
from .channels import resolve_label
from .config import AnalysisConfig, ReadLimits, ScoringConfig
from .reader import read_recording
from .recording import Channel, Recording
from .scoring import score_session

MVC_SOURCES = ("calibration", "entered")
UNITS = {
    "amplitude": "V (volts); peak/mean/threshold/noise/mvc/rms/mav/envelope values",
    "area": "V*s",
    "time": "s",
    "frequency": "Hz",
    "pct_mvc": "% of the channel's MVC",
    "score": "0-100",
}


def _version() -> str:
    from . import __version__

    return __version__


def clean(value: Any) -> Any:
    """Plain JSON types; NaN/inf become None (the document never carries NaN)."""
    if isinstance(value, dict):
        return {str(k): clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return [clean(v) for v in value.tolist()]
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, float | np.floating):
        value = float(value)
        return value if math.isfinite(value) else None
    return value


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
    a given recording may not have); a label beats a muscle key.
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


def _runs_in_seconds(values: np.ndarray, rate_hz: float) -> list[dict]:
    starts, ends = dsp.runs_of(np.asarray(values) != 0)
    return [
        {"start_s": s / rate_hz, "end_s": e / rate_hz, "duration_s": (e - s) / rate_hz}
        for s, e in zip(starts.tolist(), ends.tolist(), strict=True)
    ]


def _line_fit(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """Least-squares line through the finite ``y``: (slope, intercept, first x used);
    None for fewer than 3 points or a single x (the closed form of a degree-1 polyfit)."""
    used, slope, intercept, x0 = kernels.line_fit(x, y)
    if used < 3 or not math.isfinite(slope):
        return None
    return slope, intercept, x0


def _slope(x: np.ndarray, y: np.ndarray) -> float | None:
    fit = _line_fit(x, y)
    return fit[0] if fit else None


def _pct_per_min(t_min: np.ndarray, y: np.ndarray) -> float | None:
    """Regression slope over time as % per minute of the fitted value at the first one."""
    fit = _line_fit(t_min, y)
    if fit is None:
        return None
    slope, intercept, t0 = fit
    first = slope * t0 + intercept
    return 100.0 * slope / first if first > 0 else None


def process_channel(values: np.ndarray, rate_hz: float, cfg: AnalysisConfig) -> dict:
    """Band-pass, envelopes and noise floor of one channel (shared by MVC and analysis)."""
    values, dropouts = dsp.blank_dropouts(values, rate_hz, cfg)
    bp = dsp.bandpass(values, rate_hz, cfg)
    n = bp.size
    csq = dsp.cumsum_squares(bp)
    k = dsp.grid_step(rate_hz, cfg)
    width = dsp.window_samples(cfg.envelope_window_s, rate_hz)
    env = dsp.envelope_on_grid(csq, n, width, k)
    noise = dsp.noise_floor(csq, n, rate_hz, cfg)
    return {"bp": bp, "csq": csq, "env": env, "k": k, "noise": noise, "dropouts": dropouts}


def mvc_from_envelope(env: np.ndarray, rate_hz: float, cfg: AnalysisConfig, k: int = 1) -> float:
    """MVC (volts): highest mean RMS envelope over any ``mvc_window_s`` window.

    ``env`` holds every ``k``-th sample's envelope value.
    """
    step = max(1, int(rate_hz // 100) // k)
    width = max(1, dsp.window_samples(cfg.mvc_window_s, rate_hz) // k)
    return dsp.moving_mean_max(env, width, step=step)


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _contraction_rows(onsets, ends, peaks, means, mnf, mdf, fi, *, rate, pct, scoring) -> list:
    """One JSON-ready dict per contraction (volts; NaN as None).

    Plain Python over a few dozen values: cheaper than a numpy call per column.
    """
    rows = []
    columns = (onsets, ends, peaks, means, mnf, mdf, fi)
    for s, e, peak, mean, f_mnf, f_mdf, f_fi in zip(*(c.tolist() for c in columns), strict=True):
        duration = (e - s) / rate
        meets_intensity = peak * pct >= scoring.target_pct_mvc
        meets_duration = duration >= scoring.target_duration_s
        rows.append(
            {
                "start_s": s / rate,
                "end_s": e / rate,
                "duration_s": duration,
                "peak": peak,
                "mean": mean,
                "peak_pct_mvc": _finite(peak * pct),
                "mean_pct_mvc": _finite(mean * pct),
                "area": mean * (e - s) / rate,  # the envelope's integral
                "mnf_hz": _finite(f_mnf),
                "mdf_hz": _finite(f_mdf),
                "fi_nsm5": _finite(f_fi),
                "meets_intensity": meets_intensity,
                "meets_duration": meets_duration,
                "good": meets_intensity and meets_duration,
            }
        )
    return rows


def analyse_channel(
    rec: Recording,
    ch: Channel,
    *,
    cfg: AnalysisConfig,
    scoring: ScoringConfig,
    mvc: tuple[float, str] | None,
    include_envelope: bool,
) -> dict:
    rate = rec.rate_hz
    p = process_channel(ch.values, rate, cfg)
    bp, env, noise, k = p["bp"], p["env"], p["noise"], p["k"]
    if mvc is None:
        mvc_value, mvc_source = mvc_from_envelope(env, rate, cfg, k), "estimated"
    else:
        mvc_value, mvc_source = mvc
    th = dsp.thresholds(noise, mvc_value if mvc_source != "estimated" else None, cfg)
    onsets, ends, too_long = dsp.detect(env, p["csq"], th, rate, cfg, k)
    # amplitudes from the envelope grid: [onset, end) in samples -> grid points inside it
    g0 = np.minimum(-(-onsets // k), env.size - 1)
    g1 = np.maximum(np.minimum(-(-ends // k), env.size), g0 + 1)
    peaks, means, _ = dsp.segment_stats(env, g0, g1)
    mnf, mdf, fi = dsp.welch_segments(bp, onsets, ends, rate, cfg)
    pct = 100.0 / mvc_value if mvc_value > 0 else math.nan
    contractions = _contraction_rows(
        onsets, ends, peaks, means, mnf, mdf, fi, rate=rate, pct=pct, scoring=scoring
    )
    game = []
    if ch.activated_label:
        game = _runs_in_seconds(rec.channel(ch.activated_label).values, rate)
    csq = p["csq"]
    in_sum = float(np.sum(csq[ends] - csq[onsets])) if onsets.size else 0.0
    in_n = int(np.sum(ends - onsets))
    if in_n:
        rms = math.sqrt(in_sum / in_n)
        mav = float(kernels.segment_peaks_sums(bp, onsets, ends, True)[1].sum()) / in_n
    else:
        rms = mav = None
    mid_min = (onsets + ends) / 2.0 / rate / 60.0
    index = np.arange(onsets.size, dtype=float)
    sat = rec.saturation.get(ch.label) or {"pct": 0.0}
    warnings = []
    if p["dropouts"]:
        warnings.append(
            f"{p['dropouts']} sensor drop-out(s) (flat at the rail for >= "
            f"{cfg.dropout_min_s * 1000:g} ms) set to the baseline before analysis"
        )
    if too_long:
        warnings.append(
            f"{too_long} activation(s) longer than {cfg.max_duration_s:g} s ignored "
            "(sustained artefact or baseline shift?)"
        )
    summary = {
        "count": len(contractions),
        "good": sum(c["good"] for c in contractions),
        "intensity_ok": sum(c["meets_intensity"] for c in contractions),
        "duration_ok": sum(c["meets_duration"] for c in contractions),
        "time_under_tension_s": float(sum(c["duration_s"] for c in contractions)),
        "rms": rms,
        "mav": mav,
        "mnf_slope_hz_per_contraction": _slope(index, mnf),
        "mdf_slope_hz_per_contraction": _slope(index, mdf),
        "mnf_slope_pct_per_min": _pct_per_min(mid_min, mnf),
        "mdf_slope_pct_per_min": _pct_per_min(mid_min, mdf),
        "fi_nsm5_ratio": (fi[-1] / fi[0]) if fi.size >= 2 and fi[0] > 0 else None,
        "saturation_pct": sat["pct"],
        "snr_db": 20.0 * math.log10(rms / noise) if rms and noise > 0 else None,
        "game_count": len(game) if ch.activated_label else None,
    }
    out = {
        "label": ch.label,
        "muscle": ch.muscle,
        "side": ch.side,
        "mvc": mvc_value,
        "mvc_source": mvc_source,
        "threshold": th.on,
        "threshold_off": th.off,
        "noise": noise,
        "contractions": contractions,
        "game_contractions": game,
        "summary": summary,
        "warnings": warnings,
    }
    if include_envelope:
        step = max(1, round(rate / cfg.envelope_display_hz / k))
        out["envelope"] = {
            "rate_hz": rate / (step * k),
            "values": np.round(env[step // 2 :: step], 9).tolist(),
        }
    return out


def analyse_recording(
    recording: Recording,
    *,
    config: AnalysisConfig | None = None,
    scoring: ScoringConfig | None = None,
    mvc: dict | None = None,
    rpe: float | None = None,
    bfr_pct_aop: float | None = None,
    include_envelope: bool = True,
) -> dict:
    """Analyse and score a recording; returns the JSON-ready result document (volts).

    Raises ``ValueError`` for settings that do not fit (bad MVC, RPE, BFR, config).
    """
    # Only processes that analyse (workers, the CLI) tune the allocator, not every importer.
    tune_allocator()
    cfg = config or AnalysisConfig()
    scoring = scoring or ScoringConfig()
    dsp.sos_for(recording.rate_hz, cfg)  # an impossible band raises ValueError first
    mvcs = resolve_mvc(mvc, recording.channels)
    channels = [
        analyse_channel(
            recording,
            ch,
            cfg=cfg,
            scoring=scoring,
            mvc=mvcs.get(ch.label),
            include_envelope=include_envelope,
        )
        for ch in recording.emg_channels
    ]
    score = score_session(
        channels=channels,
        metadata=recording.metadata,
        scoring=scoring,
        rpe=rpe,
        bfr_pct_aop=bfr_pct_aop,
    )
    warnings = list(recording.warnings)
    for ch in channels:
        warnings.extend(f"{ch['label']}: {w}" for w in ch.pop("warnings"))
        if ch["mvc_source"] == "estimated":
            warnings.append(
                f"{ch['label']}: MVC estimated from this recording (no calibration or entered "
                "value): % MVC figures are relative to the strongest contraction here"
            )
    # long per-contraction lists are already plain and finite: only the rest is cleaned
    bulky = [
        {k: ch.pop(k) for k in ("contractions", "game_contractions", "envelope") if k in ch}
        for ch in channels
    ]
    doc = {
        "version": _version(),
        "units": UNITS,
        "recording": {
            "rate_hz": recording.rate_hz,
            "duration_s": recording.duration_s,
            "n_samples": recording.n_samples,
            "started_at": recording.started_at.isoformat() if recording.started_at else None,
            "metadata": recording.metadata,
            "warnings": warnings,
            "saturation": recording.saturation,
        },
        "channels": channels,
        "score": score,
        "parameters": {"analysis": cfg.to_dict(), "scoring": scoring.to_dict()},
    }
    doc = clean(doc)
    for ch, parts in zip(doc["channels"], bulky, strict=True):
        ch.update(parts)
    return doc


def analyse_file(
    path,
    *,
    limits: ReadLimits | None = None,
    isolated: bool = True,
    config: AnalysisConfig | None = None,
    scoring: ScoringConfig | None = None,
    mvc: dict | None = None,
    rpe: float | None = None,
    bfr_pct_aop: float | None = None,
    channel_map=None,
    include_envelope: bool = True,
) -> dict:
    """Read (isolated by default) + analyse + score; raises :class:`InvalidRecording`."""
    rec = read_recording(path, limits=limits, isolated=isolated, channel_map=channel_map)
    return analyse_recording(
        rec,
        config=config,
        scoring=scoring,
        mvc=mvc,
        rpe=rpe,
        bfr_pct_aop=bfr_pct_aop,
        include_envelope=include_envelope,
    )


def calibrate_mvc(
    recording: Recording,
    *,
    config: AnalysisConfig | None = None,
    channel_map=None,
    channel: str | None = None,
):
    """MVC per EMG channel from a calibration recording: ``{label: {value, muscle, side, method}}``.

    Method: band-pass and RMS envelope exactly as in the analysis, then the highest mean
    envelope over any ``mvc_window_s`` (1 s) window, i.e. the strongest *sustained* effort,
    not a single spike. ``channel_map`` relabels muscles; with ``channel`` (a label or
    ``CHn``) only that channel's value in volts is returned (a float).
    """
    cfg = config or AnalysisConfig()
    channels = recording.emg_channels
    if channel_map:
        from .channels import _normalise_map

        mapping = _normalise_map(channel_map, recording.labels)
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
            raise ValueError(f"no EMG channel {channel!r} in this recording")
        channels = [c for c in channels if c.label == label]
    method = (
        f"highest {cfg.mvc_window_s:g} s mean of the {cfg.envelope_window_s * 1000:g} ms RMS "
        f"envelope after a {cfg.bandpass_low_hz:g}-{cfg.bandpass_high_hz:g} Hz band-pass"
    )
    out = {}
    for c in channels:
        p = process_channel(c.values, recording.rate_hz, cfg)
        out[c.label] = {
            "value": mvc_from_envelope(p["env"], recording.rate_hz, cfg, p["k"]),
            "muscle": c.muscle,
            "side": c.side,
            "method": method,
        }
    if channel is not None:
        return next(iter(out.values()))["value"]
    return out
