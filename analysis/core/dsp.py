"""Signal processing: band-pass, envelopes, noise floor, detection, spectra.

No Python loops over samples: numpy/scipy, and for the per-sample passes of the batch
path the compiled loops of :mod:`.kernels`. Methods:

* Band-pass 20-450 Hz, Butterworth in second-order sections run forward and backward (zero
  phase), as recommended for surface EMG by SENIAM (Hermens et al. 2000) and Merletti & Di
  Torino (1999); the upper corner is clamped below Nyquist. Not ``sosfiltfilt``: each pass
  starts from the filter's steady state after the mean is removed, instead of padding the
  edges with an odd extension (:func:`bandpass`); the same output away from the edges.
* Envelope: moving RMS via one cumulative sum of squares (centred window).
* Noise floor: a low percentile of the RMS of non-overlapping blocks (rest periods dominate
  the low percentiles, so the estimate needs no marked rest segment).
* Detection: double threshold with hysteresis (Bonato et al. 1998; Hodges & Bui 1996),
  gap merging, minimum/maximum length; onsets/offsets refined on a short envelope.
* Spectra: Welch (Hann, 50 % overlap) on the band-passed contraction only, all
  contractions in one FFT call; MNF, MDF and Dimitrov's FInsm5 (Dimitrov et al. 2006).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy import signal

from . import kernels
from .activity import activity_level, block_rms, split_holds
from .config import AnalysisConfig
from .edges import extend_edges
from .runs import flat_runs, runs_of


@lru_cache(maxsize=64)
def bandpass_sos(rate_hz: float, low_hz: float, high_hz: float, order: int, nyq_fraction: float):
    """Butterworth band-pass SOS; ``high_hz`` clamped to ``nyq_fraction`` x Nyquist."""
    nyq = rate_hz / 2.0
    high = min(high_hz, nyq_fraction * nyq)
    if not low_hz < high:
        raise ValueError(
            f"a {low_hz:g}-{high_hz:g} Hz band-pass is impossible at {rate_hz:g} Hz "
            f"(Nyquist {nyq:g} Hz)"
        )
    return signal.butter(order, [low_hz, high], btype="bandpass", fs=rate_hz, output="sos")


def sos_for(rate_hz: float, cfg: AnalysisConfig):
    return bandpass_sos(
        float(rate_hz),
        float(cfg.bandpass_low_hz),
        float(cfg.bandpass_high_hz),
        int(cfg.filter_order),
        float(cfg.nyquist_fraction),
    )


@lru_cache(maxsize=64)
def _zi(sos_bytes: bytes, n_sections: int) -> np.ndarray:
    sos = np.frombuffer(sos_bytes).reshape(n_sections, 6)
    return signal.sosfilt_zi(sos)


def bandpass(x: np.ndarray, rate_hz: float, cfg: AnalysisConfig) -> np.ndarray:
    """Zero-phase band-pass (float64 out); DC offset and drift go with the low corner.

    Forward-backward ``sosfilt`` (:func:`.kernels.zero_phase_sos`), not
    ``scipy.signal.sosfiltfilt``: instead of padding the edges with an odd extension (more
    copies and longer passes), the mean is removed first (a large DC offset would otherwise
    ring at the edges) and each pass starts from the filter's steady state for its first
    sample, so there is no start-up transient to hide. Away from the edges the output
    equals ``sosfiltfilt``'s of the mean-removed signal (tested).
    """
    sos = sos_for(rate_hz, cfg)
    zi = _zi(sos.tobytes(), sos.shape[0])
    return kernels.zero_phase_sos(np.ascontiguousarray(x), sos, zi)


def window_samples(window_s: float, rate_hz: float) -> int:
    return max(1, round(window_s * rate_hz))


def dropout_samples(rate_hz: float, cfg: AnalysisConfig) -> int:
    return max(3, window_samples(cfg.dropout_min_s, rate_hz))


def blank_dropouts(x: np.ndarray, rate_hz: float, cfg: AnalysisConfig):
    """Sensor drop-outs (flat for >= ``dropout_min_s``) set to the baseline.

    A GHOSTLY drop-out sits at exactly -5.5 mV for ~0.3 s: band-passed, its two steps ring
    like a strong contraction (and would inflate an estimated MVC). A living EMG signal
    never repeats a value for 20 ms, so such runs are replaced by the channel's mean
    outside them (its baseline, as far as the band-pass is concerned). Amplifier
    saturation at the peaks of a real contraction lasts a few samples and is left alone.
    Returns the (possibly copied) samples and the number of runs blanked.
    """
    x = np.asarray(x)
    starts, ends = flat_runs(x, dropout_samples(rate_hz, cfg))
    if not starts.size:
        return x, 0
    out = np.array(x, dtype=np.float64)
    spans = list(zip(starts.tolist(), ends.tolist(), strict=True))
    flat_sum = sum(float(out[a:b].sum()) for a, b in spans)
    flat_n = sum(b - a for a, b in spans)
    rest_n = out.size - flat_n
    baseline = (float(out.sum()) - flat_sum) / rest_n if rest_n else 0.0  # mean outside
    for a, b in spans:
        out[a:b] = baseline
    return out, len(spans)


def grid_step(rate_hz: float, cfg: AnalysisConfig) -> int:
    """Samples between envelope evaluations in the batch path (>= 1)."""
    return max(1, int(rate_hz // cfg.detection_grid_hz))


def envelope_on_grid(csq: np.ndarray, n: int, width: int, k: int) -> np.ndarray:
    """The centred moving RMS of ``width`` samples at samples 0, k, 2k, ... < ``n``.

    ``csq`` is :func:`cumsum_squares` of the signal; near the edges the window holds the
    samples that exist (shorter window), so every sample has a value.
    """
    return kernels.rms_on_grid(csq, int(n), int(width), int(k))


def cumsum_squares(x: np.ndarray) -> np.ndarray:
    """Cumulative sum of squares with a leading 0: window energies by one subtraction."""
    return kernels.cumsum_squares(np.ascontiguousarray(x, dtype=np.float64))


def noise_floor(csq: np.ndarray, n: int, rate_hz: float, cfg: AnalysisConfig) -> float:
    """Baseline noise (RMS, volts): ``noise_percentile`` of block RMS values."""
    block = window_samples(cfg.noise_block_s, rate_hz)
    return float(kernels.block_rms_percentile(csq, int(n), block, float(cfg.noise_percentile)))


@dataclass(frozen=True)
class ConditionedChannel:
    """One channel after the batch path's shared first steps (analysis and MVC alike)."""

    bandpassed_v: np.ndarray  # float64, drop-outs blanked
    cumsum_squares: np.ndarray  # of ``bandpassed_v``, with a leading 0
    envelope_v: np.ndarray  # centred moving RMS at every ``grid_step``-th sample
    grid_step: int
    noise_v: float
    dropouts: int
    activity_v: float = 0.0  # the burst level of :func:`.activity.activity_level` (0: none)
    in_band_fraction: float = float("nan")  # band-passed power / raw power (drop-outs blanked)


def condition_channel(
    values: np.ndarray, rate_hz: float, cfg: AnalysisConfig
) -> ConditionedChannel:
    """Drop-outs blanked, band-pass, RMS envelope on the detection grid, noise floor."""
    values, dropouts = blank_dropouts(values, rate_hz, cfg)
    bp = bandpass(values, rate_hz, cfg)
    csq = cumsum_squares(bp)
    k = grid_step(rate_hz, cfg)
    width = window_samples(cfg.envelope_window_s, rate_hz)
    activity = 0.0
    if cfg.activity_thresholds:
        blocks = block_rms(csq, bp.size, window_samples(cfg.noise_block_s, rate_hz))
        activity = activity_level(blocks, cfg.tonic_ratio)
    return ConditionedChannel(
        bandpassed_v=bp,
        cumsum_squares=csq,
        envelope_v=envelope_on_grid(csq, bp.size, width, k),
        grid_step=k,
        noise_v=noise_floor(csq, bp.size, rate_hz, cfg),
        dropouts=dropouts,
        activity_v=activity,
        in_band_fraction=_power_ratio(bp, csq, values),
    )


def _power_ratio(bp: np.ndarray, csq: np.ndarray, raw: np.ndarray) -> float:
    """Share of the raw signal's power (mean removed) that the band-pass keeps; the raw
    power from every 8th sample (a plausibility check needs no more, at 1/8 of the cost)."""
    raw_power = float(np.var(raw[::8], dtype=np.float64))
    return float(csq[-1]) / bp.size / raw_power if raw_power > 0 and bp.size else float("nan")


def moving_mean_max(env: np.ndarray, width: int, *, step: int = 1) -> float:
    """Highest mean of ``env`` over any ``width``-sample window (the whole signal if shorter).

    ``step`` > 1 evaluates it on every ``step``-th sample: a 100 ms RMS envelope sampled at
    100 Hz changes its 1 s means by well under 1 %, for far fewer additions.
    """
    return float(kernels.moving_mean_max(env, int(width), max(1, int(step))))


@dataclass(frozen=True)
class Thresholds:
    on: float
    off: float


def thresholds(
    noise: float, mvc: float | None, cfg: AnalysisConfig, activity: float = 0.0
) -> Thresholds:
    """ON/OFF levels (volts): noise multiples, raised to the channel's burst level
    (``activity``, ON; half of it, OFF) and to % MVC when the MVC is known."""
    on = max(cfg.on_noise_factor * noise, activity)
    off = max(cfg.off_noise_factor * noise, activity / 2.0)
    if mvc is not None and mvc > 0:
        if cfg.on_pct_mvc is not None:
            on = max(on, cfg.on_pct_mvc / 100.0 * mvc)
        if cfg.off_pct_mvc is not None:
            off = max(off, cfg.off_pct_mvc / 100.0 * mvc)
    off = min(off, on)
    if not on > 0:  # a digitally silent channel: nothing can be detected
        on = off = np.finfo(float).tiny
    return Thresholds(float(on), float(off))


def refine_onset(short_env: np.ndarray, anchor: int, level: float, lo: int, hi: int) -> int:
    """Where the short envelope crosses ``level`` around ``anchor`` (the first ON sample).

    Above the level at the anchor: walk back to where it last rose; below: walk forward to
    where it first rises (the long, centred envelope reaches ON early on a steep onset).
    """
    hi = min(hi, short_env.size)
    if short_env[anchor] > level:
        below = np.flatnonzero(short_env[lo : anchor + 1] <= level)
        return lo + int(below[-1]) + 1 if below.size else lo
    above = np.flatnonzero(short_env[anchor:hi] > level)
    return anchor + int(above[0]) if above.size else anchor


def detect(
    env: np.ndarray,
    csq: np.ndarray,
    th: Thresholds,
    rate_hz: float,
    cfg: AnalysisConfig,
    k: int = 1,
    noise_v: float = 0.0,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Contractions as (onsets, ends) sample indices, plus how many were too long.

    1. runs of ``env > off``; 2. runs closer than ``merge_gap_s`` merged; 3. kept if the
    envelope reaches ``on`` inside; 4. edges refined on the short envelope
    (:func:`refine_onset`): the onset where it crosses ``max(off, edge_fraction x early
    peak)`` around the first ON sample (early peak = the envelope's maximum over the first
    ``min_duration_s`` after it, which a live detector also knows by then), the end where
    it first falls below ``max(off, edge_fraction x peak)`` after the last ON sample. A
    level relative to the contraction keeps onsets honest on very clean signals, where a
    noise-relative level is crossed by the filters' leakage tens of milliseconds early;
    5. edges moved out to the baseline (:func:`.edges.extend_edges`); 6. kept if the
    contraction lasts ``min_duration_s`` between its threshold crossings and at most
    ``max_duration_s`` in all.
    """
    n = csq.size - 1  # samples; ``env`` holds every k-th of them
    gap = window_samples(cfg.merge_gap_s, rate_hz)
    runs = runs_of(env > th.off)  # grid indices
    starts, ends, first_on, last_on = kernels.threshold_runs(env, *runs, th.on, k, n, gap)
    parent_ends = ends
    if cfg.hold_release_fraction > 0 and starts.size:
        parents = starts
        starts, ends, first_on, last_on = split_holds(
            env,
            starts,
            ends,
            th.on,
            th.off,
            cfg.hold_release_fraction,
            k,
            n,
            gap,
            reonset_ratio=cfg.reonset_ratio,
            dip=window_samples(cfg.reonset_dip_s, rate_hz),
            rise=window_samples(cfg.reonset_rise_s, rate_hz) // k,
        )
        parent_ends = parent_ends[np.searchsorted(parents, starts, side="right") - 1]
    bounds_hi = _walk_bounds(starts, parent_ends, runs[0] * k, n)
    onset, end = kernels.refine_edges(
        env,
        csq,
        n,
        k,
        starts,
        ends,
        first_on,
        last_on,
        th.off,
        float(cfg.edge_fraction),
        window_samples(cfg.envelope_window_s, rate_hz),
        window_samples(cfg.min_duration_s, rate_hz),
        window_samples(cfg.onset_window_s, rate_hz),
    )
    above_s = (end - onset) / rate_hz  # between the threshold crossings
    onset, end = extend_edges(onset, end, starts, bounds_hi, csq, n, rate_hz, noise_v, cfg)
    too_long = (end - onset) / rate_hz > cfg.max_duration_s
    ok = (above_s >= cfg.min_duration_s) & ~too_long
    return onset[ok], end[ok], int(too_long.sum())


def _walk_bounds(starts, parent_ends, run_starts, n) -> np.ndarray:
    """Where each contraction's end may walk to: the next piece of the same candidate, or
    else the next rise of the envelope above OFF after the candidate (a live detector
    knows both when it closes a run)."""
    if not starts.size:
        return starts
    after = np.searchsorted(run_starts, parent_ends, side="left")
    next_rise = np.append(run_starts, n)[after]
    same = np.append(parent_ends[1:] == parent_ends[:-1], False)
    return np.where(same, np.append(starts[1:], n), np.minimum(next_rise, n))


def segment_stats(env: np.ndarray, onsets: np.ndarray, ends: np.ndarray):
    """Peak, mean and sum of ``env`` over each non-empty [onset, end)."""
    peaks, sums = kernels.segment_peaks_sums(env, onsets, ends, False)
    return peaks, sums / (ends - onsets), sums


@lru_cache(maxsize=16)
def _hann(nper: int) -> np.ndarray:
    window = signal.windows.hann(nper, sym=False)
    window.flags.writeable = False
    return window


@lru_cache(maxsize=32)
def _filter_power_cached(rate_hz, low, high, order, nyq_fraction, nper):
    sos = bandpass_sos(rate_hz, low, high, order, nyq_fraction)
    freqs = np.fft.rfftfreq(nper, 1.0 / rate_hz)
    _, h = signal.sosfreqz(sos, worN=freqs, fs=rate_hz)
    return np.maximum(np.abs(h) ** 4, 1e-12)


def _filter_power(rate_hz: float, cfg: AnalysisConfig, nper: int) -> np.ndarray:
    return _filter_power_cached(
        float(rate_hz),
        float(cfg.bandpass_low_hz),
        float(cfg.bandpass_high_hz),
        int(cfg.filter_order),
        float(cfg.nyquist_fraction),
        int(nper),
    )


def welch_segments(
    bp: np.ndarray, onsets: np.ndarray, ends: np.ndarray, rate_hz: float, cfg: AnalysisConfig
):
    """MNF, MDF (Hz) and FInsm5 per contraction from one batched Welch estimate.

    Each contraction is cut into Hann-windowed, 50 %-overlapping segments of
    ``welch_segment_s`` (a power of two, at most the contraction); all segments of all
    contractions go through one ``rfft``, and their power is averaged per contraction
    (:func:`.kernels.spectral_indices`: MNF, MDF interpolated within its bin, FInsm5).
    """
    k = onsets.size
    nan = np.full(k, np.nan)
    if k == 0:
        return nan, nan, nan
    shortest = int(np.min(ends - onsets))
    nper = 1 << round(np.log2(max(window_samples(cfg.welch_segment_s, rate_hz), 8)))
    nper = max(8, min(nper, 1 << int(np.floor(np.log2(max(shortest, 8))))))
    freqs = np.fft.rfftfreq(nper, 1.0 / rate_hz)
    # Welch's constant detrend; with a periodic Hann window a frame's mean only moves bins
    # 0 and 1, so it is needed only when bin 1 lies in the band
    detrend = bool(freqs[1] >= cfg.bandpass_low_hz)
    frames, counts = kernels.welch_frames(bp, onsets, ends, nper, _hann(nper), detrend)
    if not frames.shape[0]:
        return nan, nan, nan
    spec = np.fft.rfft(frames, axis=1)
    top = min(cfg.bandpass_high_hz, cfg.nyquist_fraction * rate_hz / 2.0)
    lo = int(np.searchsorted(freqs, cfg.bandpass_low_hz, side="left"))
    hi = int(np.searchsorted(freqs, top, side="right"))
    # the band-pass's own shaping (|H|^2 twice: forward and backward) is divided out, so
    # the spectral indices describe the EMG rather than the filter's skirts near 20 Hz
    return kernels.spectral_indices(spec, counts, freqs, _filter_power(rate_hz, cfg, nper), lo, hi)
