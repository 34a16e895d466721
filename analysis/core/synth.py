"""Seeded synthetic EMG sessions with known answers, for tests, demo data and benchmarks.

Model (per channel): band-limited Gaussian noise (a 2nd-order Butterworth band-pass of
white noise, ``carrier_band_hz``) amplitude-modulated by a trapezoid with raised-cosine
ramps per contraction (level = % of the channel's MVC RMS amplitude), plus a white noise
floor, optional 50 Hz hum, baseline drift with a DC offset, and amplifier clipping.
Spectral fatigue shifts the carrier band down linearly across contractions (band x
``1 - fatigue * k / (n - 1)``); the ground-truth MNF/MDF of each contraction come from
the carrier filter's exact frequency response over the analysis band, not from any
estimator. ``CHn activated`` channels mimic the game: 5-25 Hz band-pass, rectified,
100-sample moving average, exactly 0 below the game's threshold.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from scipy import signal

from .c3d_write import write_recording
from .recording import Channel, Recording, saturation_runs

GAME_METADATA = {
    "game_name": "Ghostly",
    "game_level": 1,
    "game_duration_s": None,
    "therapist_id": "---",
    "group_id": "N/A",
    "player": "Synthetic",
    "game_score": None,
}
ANALYSIS_BAND_HZ = (20.0, 450.0)


@dataclass(frozen=True)
class Scenario:
    """Named parameter sets used by the tests and the benchmark."""

    name: str
    kwargs: dict


SCENARIOS = (
    Scenario("clean", {}),
    Scenario("hum_50hz", {"hum_uv": 40.0}),
    Scenario("drift_dc", {"drift_uv": 400.0, "dc_offset_uv": 2000.0}),
    Scenario("low_snr_30uv", {"noise_uv": 30.0}),
    Scenario("weak_30pct", {"levels_pct": (30.0, 30.0)}),
    Scenario("clipping", {"clip_uv": 500.0}),
)
# The harder signals (issue 11): truth = the burst's support. ``slow_ramps`` has
# ramps up to 500 ms; all others rise and fall within 100 ms.
_HARD = {"levels_pct": (30.0, 90.0), "ramp_s": 0.1, "wobble_pct": 10.0}
HARD_SCENARIOS = (
    Scenario("cosine_100ms_wobble", _HARD),
    Scenario("hum_drift_dc", dict(_HARD, hum_uv=40.0, drift_uv=400.0, dc_offset_uv=2000.0)),
    Scenario("noise_30uv", dict(_HARD, noise_uv=30.0)),
    Scenario("weak_20_40pct", dict(_HARD, levels_pct=(20.0, 40.0), noise_uv=10.0)),
    Scenario(
        "mixed_shapes_wobble_30",
        dict(_HARD, ramp_s=(0.05, 0.1), ramp_shape="mixed", wobble_pct=(0.0, 30.0)),
    ),
    Scenario(
        "coloured_nonstationary_spikes",
        dict(_HARD, noise_uv=15.0, pink_uv=20.0, noise_swing=0.6, spikes_per_min=6.0),
    ),
    Scenario("game_rate_990hz_noise_40uv", dict(_HARD, rate_hz=990.0, noise_uv=40.0)),
    Scenario("slow_ramps", dict(_HARD, ramp_s=(0.05, 0.5), ramp_shape="mixed", noise_uv=10.0)),
)


def _carrier_sos(rate_hz: float, band: tuple[float, float], scale: float):
    nyq = rate_hz / 2.0
    lo, hi = band[0] * scale, min(band[1] * scale, 0.95 * nyq)
    return signal.butter(2, [lo, hi], btype="bandpass", fs=rate_hz, output="sos")


def _spectral_truth(sos, rate_hz: float) -> tuple[float, float]:
    """MNF and MDF (Hz) of the carrier's exact PSD over the analysis band."""
    hi = min(ANALYSIS_BAND_HZ[1], 0.95 * rate_hz / 2.0)
    f = np.linspace(ANALYSIS_BAND_HZ[0], hi, 4096)
    _, h = signal.sosfreqz(sos, worN=f, fs=rate_hz)
    p = np.abs(h) ** 2
    cum = np.cumsum(p)
    return float((f * p).sum() / p.sum()), float(f[np.searchsorted(cum, cum[-1] / 2)])


def _game_envelope(x: np.ndarray, rate_hz: float, threshold_v: float) -> np.ndarray:
    hi = min(ANALYSIS_BAND_HZ[1], 0.95 * rate_hz / 2.0)
    sos = signal.butter(2, [ANALYSIS_BAND_HZ[0], hi], btype="bandpass", fs=rate_hz, output="sos")
    rect = np.abs(signal.sosfilt(sos, x))
    c = np.concatenate(([0.0], np.cumsum(rect)))
    avg = np.empty_like(rect)
    avg[100:] = (c[101:] - c[1:-100]) / 100.0
    avg[:100] = c[1:101] / np.arange(1, 101)
    return np.where(avg >= threshold_v, avg, 0.0)


RAMP_SHAPES = ("cosine", "linear", "exp")


def _edge(shape: str, ramp: int) -> np.ndarray:
    """A rising edge of ``ramp`` samples from 0 (the burst's first sample) towards 1."""
    x = np.arange(ramp) / ramp
    if shape == "linear":
        return x
    if shape == "exp":
        return np.expm1(3.0 * x) / np.expm1(3.0)
    return 0.5 - 0.5 * np.cos(np.pi * x)


def _hold_shape(rng, m: int, rate_hz: float, ramp_s, ramp_shape: str, wobble_pct) -> np.ndarray:
    """Amplitude shape of one burst: rise, hold (with slow wobble), fall; draws from
    ``rng`` only for the features in use (the default sessions stay bit-identical)."""
    shape = np.ones(m)
    ramps = []
    for _ in range(2):
        length = ramp_s if np.isscalar(ramp_s) else rng.uniform(*ramp_s)
        kind = ramp_shape if ramp_shape != "mixed" else RAMP_SHAPES[rng.integers(3)]
        ramps.append(_edge(kind, min(max(2, round(length * rate_hz)), m // 2)))
    rise, fall = ramps
    if np.any(wobble_pct):
        depth = (wobble_pct if np.isscalar(wobble_pct) else rng.uniform(*wobble_pct)) / 100.0
        freq, phase = rng.uniform(0.3, 1.5), rng.uniform(0, 2 * np.pi)
        shape *= 1.0 + depth * np.sin(2 * np.pi * freq * np.arange(m) / rate_hz + phase)
    shape[: rise.size] *= rise
    shape[m - fall.size :] *= fall[::-1]
    return shape


def _pink(rng, n: int) -> np.ndarray:
    """Unit-RMS 1/f noise (white noise shaped in the frequency domain)."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.arange(spec.size, dtype=float)
    f[0] = 1.0
    x = np.fft.irfft(spec / np.sqrt(f), n)
    return x / np.sqrt(np.mean(x**2))


def _spikes(rng, n: int, rate_hz: float, per_min: float, spike_uv: float) -> np.ndarray:
    """Motion spikes: 5-15 ms biphasic pulses (one sine period) at random times."""
    out = np.zeros(n)
    for at in rng.uniform(0, n, rng.poisson(per_min * n / rate_hz / 60.0)).astype(int):
        width = max(4, int(rng.uniform(0.005, 0.015) * rate_hz))
        pulse = np.sin(2 * np.pi * np.arange(width) / width) * spike_uv * 1e-6
        out[at : at + width] += pulse[: n - at]
    return out


def _schedule(rng, n: int, duration_s: float, durations_s, lead_s: float, min_rest_s: float):
    slot = (duration_s - lead_s - 1.0) / n
    lo, hi = durations_s
    if slot < hi + min_rest_s:
        raise ValueError(
            f"{n} contractions of up to {hi:g} s with {min_rest_s:g} s rest do not fit "
            f"in {duration_s:g} s"
        )
    dur = rng.uniform(lo, hi, n)
    onset = lead_s + np.arange(n) * slot + rng.uniform(0, 1, n) * (slot - dur - min_rest_s)
    return onset, dur


def generate_session(
    seed: int,
    *,
    duration_s: float = 300.0,
    rate_hz: float = 2000.0,
    channels: int = 2,
    contractions: int = 12,
    levels_pct: tuple[float, float] = (60.0, 100.0),
    durations_s: tuple[float, float] = (1.5, 4.0),
    mvc_uv: float = 500.0,
    noise_uv: float = 5.0,
    hum_uv: float = 0.0,
    hum_hz: float = 50.0,
    drift_uv: float = 0.0,
    dc_offset_uv: float = 0.0,
    clip_uv: float | None = None,
    fatigue: float = 0.3,
    carrier_band_hz: tuple[float, float] = (40.0, 160.0),
    ramp_s: float | tuple[float, float] = 0.05,
    ramp_shape: str = "cosine",
    wobble_pct: float | tuple[float, float] = 0.0,
    pink_uv: float = 0.0,
    noise_swing: float = 0.0,
    spikes_per_min: float = 0.0,
    spike_uv: float = 300.0,
    lead_s: float = 3.0,
    min_rest_s: float = 1.5,
    game_threshold_pct: float = 10.0,
    started_at: datetime | None = None,
    **aliases: Any,
) -> tuple[Recording, dict]:
    """A synthetic GHOSTLY-style session and its ground truth (amplitudes in volts).

    ``aliases`` accepts the issue's short names: ``noise`` (= noise_uv), ``hum`` (uV),
    ``drift`` (uV), ``clipping`` (uV clip level). Channel k is ``CHk Raw`` (left/right
    quadriceps alternating) with ``CHk activated`` beside it.

    Harder signals (off by default; see :data:`HARD_SCENARIOS`): ``ramp_s`` as a range
    draws each ramp's length, ``ramp_shape`` is ``cosine``, ``linear``, ``exp`` (a slow
    exponential start) or ``mixed`` (one of them per ramp); ``wobble_pct`` (a value or a
    range) is a slow force wobble (0.3-1.5 Hz sine) of the hold's level; ``pink_uv`` adds
    1/f noise (RMS), ``noise_swing`` makes the white floor non-stationary (its level x
    1 +/- swing, over tens of seconds); ``spikes_per_min`` motion spikes (5-15 ms biphasic
    pulses of ``spike_uv``). Truth is always the burst's support: rise start to fall end.
    """
    if ramp_shape not in RAMP_SHAPES + ("mixed",):
        raise ValueError(f"ramp_shape must be one of {RAMP_SHAPES + ('mixed',)}")
    names = {"noise": "noise_uv", "hum": "hum_uv", "drift": "drift_uv", "clipping": "clip_uv"}
    unknown = set(aliases) - set(names)
    if unknown:
        raise TypeError(f"unknown argument(s): {', '.join(sorted(unknown))}")
    local = {
        "noise_uv": noise_uv,
        "hum_uv": hum_uv,
        "drift_uv": drift_uv,
        "clip_uv": clip_uv,
    }
    for short, value in aliases.items():
        local[names[short]] = value if value is not None else local[names[short]]
    noise_uv, hum_uv, drift_uv, clip_uv = (
        local["noise_uv"],
        local["hum_uv"],
        local["drift_uv"],
        local["clip_uv"],
    )
    rng = np.random.default_rng(seed)
    n = round(duration_s * rate_hz)
    t = np.arange(n) / rate_hz
    out_channels: list[Channel] = []
    truth_channels: dict[str, Any] = {}
    for k in range(1, channels + 1):
        label = f"CH{k} Raw"
        onset, dur = _schedule(rng, contractions, duration_s, durations_s, lead_s, min_rest_s)
        levels = rng.uniform(levels_pct[0], levels_pct[1], contractions)
        x = np.zeros(n)
        rows = []
        for i in range(contractions):
            scale = 1.0 - fatigue * (i / max(contractions - 1, 1))
            sos = _carrier_sos(rate_hz, carrier_band_hz, scale)
            s0 = round(onset[i] * rate_hz)
            s1 = min(round((onset[i] + dur[i]) * rate_hz), n)
            m = s1 - s0
            warm = 256
            carrier = signal.sosfilt(sos, rng.standard_normal(m + warm))[warm:]
            carrier /= np.sqrt(np.mean(carrier**2))
            shape = _hold_shape(rng, m, rate_hz, ramp_s, ramp_shape, wobble_pct)
            amp = levels[i] / 100.0 * mvc_uv * 1e-6
            x[s0:s1] += amp * shape * carrier
            mnf, mdf = _spectral_truth(sos, rate_hz)
            rows.append(
                {
                    "start_s": s0 / rate_hz,
                    "end_s": s1 / rate_hz,
                    "duration_s": m / rate_hz,
                    "level_pct_mvc": float(levels[i]),
                    "rms_v": amp,
                    "mnf_hz": mnf,
                    "mdf_hz": mdf,
                }
            )
        floor = rng.standard_normal(n) * noise_uv * 1e-6
        if noise_swing:
            phase = rng.uniform(0, 2 * np.pi)
            floor *= 1.0 + noise_swing * np.sin(2 * np.pi * t / 40.0 + phase)
        x += floor
        if pink_uv:
            x += _pink(rng, n) * pink_uv * 1e-6
        if spikes_per_min:
            x += _spikes(rng, n, rate_hz, spikes_per_min, spike_uv)
        if hum_uv:
            x += hum_uv * 1e-6 * np.sin(2 * np.pi * hum_hz * t + rng.uniform(0, 2 * np.pi))
        if drift_uv or dc_offset_uv:
            slow = np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 2 * np.pi)) + 0.5 * np.sin(
                2 * np.pi * 0.13 * t
            )
            x += (dc_offset_uv + drift_uv * slow) * 1e-6
        if clip_uv is not None:
            x = np.clip(x, -clip_uv * 1e-6, clip_uv * 1e-6)
        threshold = game_threshold_pct / 100.0 * mvc_uv * 1e-6 * 0.8  # envelope ~0.8 x RMS
        act = _game_envelope(x - np.mean(x), rate_hz, threshold)
        muscle_side = ("quadriceps", "left" if k % 2 else "right")
        out_channels.append(
            Channel(label, "V", x.astype(np.float32), True, *muscle_side, f"CH{k} activated")
        )
        out_channels.append(Channel(f"CH{k} activated", "V", act.astype(np.float32)))
        idx = np.arange(contractions, dtype=float)
        truth_channels[label] = {
            "muscle": muscle_side[0],
            "side": muscle_side[1],
            "mvc_v": mvc_uv * 1e-6,
            "contractions": rows,
            "mnf_slope_hz_per_contraction": float(
                np.polyfit(idx, [r["mnf_hz"] for r in rows], 1)[0]
            )
            if contractions >= 2
            else None,
            "mdf_slope_hz_per_contraction": float(
                np.polyfit(idx, [r["mdf_hz"] for r in rows], 1)[0]
            )
            if contractions >= 2
            else None,
        }
    # raw channels first, then the game's envelopes, like the game writes them
    ordered = [c for c in out_channels if c.is_emg] + [c for c in out_channels if not c.is_emg]
    metadata = dict(GAME_METADATA, game_duration_s=float(int(duration_s)))
    started = started_at or datetime(2024, 1, 15, 10, 30)  # noqa: DTZ001 - game wall time
    rec = Recording(
        channels=ordered,
        rate_hz=float(rate_hz),
        n_samples=n,
        duration_s=n / rate_hz,
        started_at=started,
        metadata=metadata,
        warnings=[],
        saturation={c.label: saturation_runs(c.values) for c in ordered if c.is_emg},
        source=f"synthetic seed {seed}",
    )
    truth = {
        "seed": seed,
        "rate_hz": float(rate_hz),
        "duration_s": n / rate_hz,
        "parameters": {
            "contractions": contractions,
            "levels_pct": list(levels_pct),
            "durations_s": list(durations_s),
            "mvc_uv": mvc_uv,
            "noise_uv": noise_uv,
            "hum_uv": hum_uv,
            "hum_hz": hum_hz,
            "drift_uv": drift_uv,
            "dc_offset_uv": dc_offset_uv,
            "clip_uv": clip_uv,
            "fatigue": fatigue,
            "carrier_band_hz": list(carrier_band_hz),
        },
        "channels": truth_channels,
    }
    return rec, truth


def write_session(path, recording: Recording, truth: dict | None = None) -> Path:
    """Write the recording as a GHOSTLY-format C3D and its truth as ``<name>.truth.json``."""
    path = Path(path)
    write_recording(
        path,
        rate_hz=recording.rate_hz,
        channels={c.label: c.values for c in recording.channels},
        metadata=recording.metadata,
        started_at=recording.started_at,
    )
    if truth is not None:
        path.with_suffix(".truth.json").write_text(json.dumps(truth, indent=1))
    return path


def ghostly_name(started_at: datetime) -> str:
    """``Ghostly_Emg_YYYYMMDD_HH-MM-SS-mmmm.c3d`` as the game names its files."""
    return started_at.strftime("Ghostly_Emg_%Y%m%d_%H-%M-%S-") + "0000.c3d"
