"""Batch analysis: one validated :class:`Recording` in, one JSON-ready result document out.

Per EMG channel: band-pass, RMS envelope, noise floor, thresholds, contractions with
amplitude/spectral metrics and target flags, the game's own contractions, a summary and
fatigue trends; then the session score (:mod:`.scoring`). The MVC that % MVC figures and
thresholds refer to comes from :mod:`.mvc`. Amplitudes are volts.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from . import dsp, kernels
from ._alloc import tune_allocator
from .config import AnalysisConfig, ReadLimits, ScoringConfig
from .game import agreement, game_contractions
from .mvc import resolve_mvc
from .plausibility import (
    MVC_ESTIMATE_NOTE,
    estimated_mvc,
    plausibility_warnings,
)
from .reader import read_recording
from .recording import Channel, Recording
from .scoring import score_session
from .version import __version__

UNITS = {
    "amplitude": "V (volts); peak/mean/threshold/noise/mvc/rms/mav/envelope values",
    "area": "V*s",
    "time": "s",
    "frequency": "Hz",
    "pct_mvc": "% of the channel's MVC",
    "score": "0-100",
}


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


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _contraction_rows(onsets, ends, peaks, means, mnf, mdf, fi, *, rate, mvc, scoring) -> list:
    """One JSON-ready dict per contraction (volts; NaN as None).

    Plain Python over a few dozen values: cheaper than a numpy call per column.
    """
    rows = []
    columns = (onsets, ends, peaks, means, mnf, mdf, fi)
    for s, e, peak, mean, f_mnf, f_mdf, f_fi in zip(*(c.tolist() for c in columns), strict=True):
        duration = (e - s) / rate
        peak_pct = 100.0 * peak / mvc if mvc > 0 else math.nan
        meets_intensity = peak_pct >= scoring.target_pct_mvc
        meets_duration = duration >= scoring.target_duration_s
        rows.append(
            {
                "start_s": s / rate,
                "end_s": e / rate,
                "duration_s": duration,
                "peak": peak,
                "mean": mean,
                "peak_pct_mvc": _finite(peak_pct),
                "mean_pct_mvc": _finite(100.0 * mean / mvc if mvc > 0 else math.nan),
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
    """One EMG channel's part of the result document (its warnings not yet prefixed)."""
    rate = rec.rate_hz
    conditioned = dsp.condition_channel(ch.values, rate, cfg)
    bp, csq = conditioned.bandpassed_v, conditioned.cumsum_squares
    env, noise, k = conditioned.envelope_v, conditioned.noise_v, conditioned.grid_step
    if mvc is None:
        mvc_value, mvc_source = estimated_mvc(env), "estimated"
    else:
        mvc_value, mvc_source = mvc
    known = mvc_value if mvc_source != "estimated" else None
    th = dsp.thresholds(noise, known, cfg, conditioned.activity_v)
    onsets, ends, too_long = dsp.detect(env, csq, th, rate, cfg, k, noise)
    # amplitudes from the envelope grid: [onset, end) in samples -> grid points inside it
    g0 = np.minimum(-(-onsets // k), env.size - 1)
    g1 = np.maximum(np.minimum(-(-ends // k), env.size), g0 + 1)
    peaks, means, _ = dsp.segment_stats(env, g0, g1)
    mnf, mdf, fi = dsp.welch_segments(bp, onsets, ends, rate, cfg)
    contractions = _contraction_rows(
        onsets, ends, peaks, means, mnf, mdf, fi, rate=rate, mvc=mvc_value, scoring=scoring
    )
    game = []
    if ch.activated_label:
        game = game_contractions(rec.channel(ch.activated_label).values, rate)
        agree, game_match = agreement(contractions, game)
        for row, index in zip(contractions, game_match, strict=True):
            row["game_match"] = index
    else:
        agree = None
        for row in contractions:
            row["game_match"] = None
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
    if conditioned.dropouts:
        warnings.append(
            f"{conditioned.dropouts} sensor drop-out(s) (flat at the rail for >= "
            f"{cfg.dropout_min_s * 1000:g} ms) set to the baseline before analysis"
        )
    warnings += plausibility_warnings(
        peak_rms_v=float(env.max()) if env.size else 0.0,
        mvc_v=mvc_value,
        mvc_source=mvc_source,
        threshold_v=th.on,
        target_pct_mvc=scoring.target_pct_mvc,
        in_band=conditioned.in_band_fraction,
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
        "mvc_note": MVC_ESTIMATE_NOTE if mvc_source == "estimated" else None,
        "threshold": th.on,
        "threshold_off": th.off,
        "noise": noise,
        "activity_level": conditioned.activity_v,
        "contractions": contractions,
        "game_contractions": game,
        "agreement": agree,
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
            warnings.append(f"{ch['label']}: {MVC_ESTIMATE_NOTE}")
    # long per-contraction lists are already plain and finite: only the rest is cleaned
    bulky = [
        {k: ch.pop(k) for k in ("contractions", "game_contractions", "envelope") if k in ch}
        for ch in channels
    ]
    doc = {
        "version": __version__,
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
