"""Frozen configuration objects with documented defaults.

Every number the analysis uses lives here, so a result document can carry the
exact parameters that produced it (``parameters`` key) and be reproduced.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any


class _ConfigMixin:
    """``from_dict``/``to_dict`` shared by the config dataclasses (unknown keys refused)."""

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None):
        if data is None:
            return cls()
        if not isinstance(data, dict):
            raise ValueError(f"{cls.__name__} expects a JSON object, got {type(data).__name__}")
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(
                f"unknown {cls.__name__} key(s): {', '.join(unknown)}; "
                f"valid keys are: {', '.join(sorted(names))}"
            )
        kwargs = {}
        for f in dataclasses.fields(cls):
            if f.name in data:
                value = data[f.name]
                conv = cls._converters().get(f.name)
                kwargs[f.name] = conv(value) if conv else value
        return cls(**kwargs)

    @classmethod
    def _converters(cls) -> dict:
        return {}

    def to_dict(self) -> dict[str, Any]:
        out = {}
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if isinstance(value, tuple):
                value = [list(v) if isinstance(v, tuple) else v for v in value]
            out[f.name] = value
        return out


def _positive(name: str, value: float | None, *, allow_none: bool = False) -> None:
    if value is None and allow_none:
        return
    if value is None or not (float(value) > 0):
        raise ValueError(f"{name} must be > 0 (got {value!r})")


@dataclass(frozen=True)
class ReadLimits(_ConfigMixin):
    """Limits applied while reading an untrusted C3D file.

    ``max_memory_mb`` is the extra address space the isolated parser may take on
    top of the (forked) interpreter; ``timeout_s`` is the wall-clock limit.
    ``min_rate_hz`` refuses files whose analog rate cannot carry raw surface EMG
    (a 20-450 Hz band-pass needs roughly >= 500 Hz; 100 Hz files are envelopes).
    """

    max_memory_mb: int = 1024
    timeout_s: float = 20.0
    max_file_mb: int = 512
    max_channels: int = 512
    max_duration_s: float = 4 * 3600.0
    max_samples: int = 200_000_000
    min_duration_s: float = 0.5
    min_rate_hz: float = 500.0
    max_rate_hz: float = 100_000.0

    def __post_init__(self) -> None:
        for name in (
            "max_memory_mb",
            "timeout_s",
            "max_file_mb",
            "max_channels",
            "max_duration_s",
            "max_samples",
            "min_rate_hz",
            "max_rate_hz",
        ):
            _positive(name, getattr(self, name))


@dataclass(frozen=True)
class AnalysisConfig(_ConfigMixin):
    """Signal-processing and detection parameters (SENIAM-style defaults).

    Filtering: zero-phase Butterworth band-pass ``bandpass_low_hz``-``bandpass_high_hz``
    (the high corner is clamped to ``nyquist_fraction`` x Nyquist) of design order
    ``filter_order`` in second-order sections, run forward and backward
    (effective order doubled, no phase shift).

    Envelope: moving RMS over ``envelope_window_s`` (centred in batch, trailing and
    re-aligned by half a window in streaming). The batch path evaluates it every
    ``rate // detection_grid_hz`` samples (2 ms at 2 kHz, every sample at 990 Hz): a 100 ms
    RMS does not change within 2 ms, and edges are refined at full resolution anyway.

    Baseline noise: the ``noise_percentile``-th percentile of the RMS of
    non-overlapping ``noise_block_s`` blocks of the band-passed signal (rest
    periods dominate the low percentiles).

    Detection (double threshold with hysteresis, after Hodges & Bui 1996 and the
    double-threshold detectors of Bonato et al. 1998): a contraction is a run of the
    envelope above the OFF threshold that reaches the ON threshold somewhere;
    ``on = max(on_noise_factor * noise, on_pct_mvc % of MVC)``,
    ``off = max(off_noise_factor * noise, off_pct_mvc % of MVC)`` (off <= on).
    Runs separated by less than ``merge_gap_s`` are merged (a weak contraction that
    dips briefly is not fragmented), runs shorter than ``min_duration_s`` or longer
    than ``max_duration_s`` are dropped. Onsets/offsets are refined on a short
    ``onset_window_s`` RMS envelope within one envelope window of the coarse edge, at
    ``max(off, edge_fraction x the contraction's peak)`` (see ``dsp.detect``).

    Edges (``edges.py``): with ``edge_backtrack`` the threshold crossings move out to where
    the short envelope returns to ``edge_baseline_factor`` x the median of the short
    envelope over ``edge_baseline_s`` ending ``edge_guard_s`` before the onset crossing
    (Hodges & Bui 1996; backward search), at most ``edge_search_s``; the level is at least
    ``edge_crossing_ratio`` x the crossing's own level (on strong, clean signals a level
    at the noise is reached by the short window's leading edge, half a window early).
    Each edge is also walked on an ``edge_fine_window_s`` envelope (floor
    ``edge_fine_crossing_ratio`` x its crossing level; 0 s disables it) and blended in by
    the contraction's peak-to-baseline ratio: none at ``edge_fine_snr_low`` or under, all
    at ``edge_fine_snr_high`` or over (log-linear between), and only on steep edges: in
    full when the 40 ms envelope reaches half its peak within ``edge_fine_rise_short_s``
    of the fine edge, not at all from ``edge_fine_rise_long_s`` (linear between).

    Activity (``activity.py``): with ``activity_thresholds`` ON is at least the channel's
    burst level (a three-class Otsu split of the log block RMS, used when the middle class
    is tonic activity under ``tonic_ratio`` of the bursts) and OFF at least half of it; a
    hold ends where its envelope falls below ``hold_release_fraction`` of the hold's own
    median level (0 disables the split), so rest between bursts separates them; and a new
    contraction starts inside a hold where its envelope stays under ON for ``reonset_dip_s``
    (longer than the merge gap: the game merges shorter relaxations too) and then climbs
    to ``reonset_ratio`` x its lowest point there within ``reonset_rise_s`` (0 disables
    it): relaxing under the activation level, then contracting again.

    Spectral: Welch PSD (Hann, 50 % overlap, segments of ``welch_segment_s`` rounded
    to a power of two) on the band-passed contraction segment only.

    MVC: highest mean of the RMS envelope over a sliding ``mvc_window_s`` window. The
    ``*_pct_mvc`` thresholds apply only when the MVC is known (calibration or entered):
    an MVC estimated from the same recording would make the threshold circular.

    Drop-outs: runs of identical samples lasting >= ``dropout_min_s`` (sensor drop-outs,
    e.g. GHOSTLY's -5.5 mV) are set to the baseline before filtering, in batch and live,
    so their steps are not mistaken for contractions (``dsp.blank_dropouts``).

    Display: the envelope in the result is sampled at ``envelope_display_hz``.

    Streaming: the live path runs the batch's zero-phase band-pass as a fixed-lag
    filter, final for each sample once ``stream_lookahead_s`` of later samples are in
    (the backward pass's memory has decayed by then), so live and batch see the same
    band-passed signal; ``0`` runs the band-pass twice forward instead (lowest latency,
    same magnitude response, different phase). Without a known noise floor there is no
    detection before ``stream_warmup_s``.
    """

    bandpass_low_hz: float = 20.0
    bandpass_high_hz: float = 450.0
    filter_order: int = 2
    nyquist_fraction: float = 0.95
    envelope_window_s: float = 0.100
    detection_grid_hz: float = 500.0
    onset_window_s: float = 0.04
    edge_fraction: float = 0.1
    edge_backtrack: bool = True
    edge_search_s: float = 0.5
    edge_baseline_s: float = 0.45
    edge_guard_s: float = 0.15
    edge_baseline_factor: float = 1.5
    edge_sd_factor: float = 2.0
    edge_crossing_ratio: float = 0.2
    edge_fine_window_s: float = 0.015
    edge_fine_crossing_ratio: float = 0.1
    edge_fine_snr_low: float = 13.0
    edge_fine_snr_high: float = 16.0
    edge_fine_rise_short_s: float = 0.035
    edge_fine_rise_long_s: float = 0.055
    noise_block_s: float = 0.25
    noise_percentile: float = 10.0
    on_noise_factor: float = 4.0
    off_noise_factor: float = 2.5
    on_pct_mvc: float | None = 10.0
    off_pct_mvc: float | None = 5.0
    min_duration_s: float = 0.15
    activity_thresholds: bool = True
    tonic_ratio: float = 0.3
    hold_release_fraction: float = 0.5
    reonset_ratio: float = 2.0
    reonset_dip_s: float = 0.3
    reonset_rise_s: float = 0.5
    merge_gap_s: float = 0.25
    max_duration_s: float = 30.0
    welch_segment_s: float = 0.25
    mvc_window_s: float = 1.0
    saturation_min_run: int = 3
    dropout_min_s: float = 0.02
    envelope_display_hz: float = 25.0
    stream_warmup_s: float = 2.0
    stream_lookahead_s: float = 0.3

    def __post_init__(self) -> None:
        for name in (
            "bandpass_low_hz",
            "bandpass_high_hz",
            "envelope_window_s",
            "onset_window_s",
            "noise_block_s",
            "on_noise_factor",
            "off_noise_factor",
            "min_duration_s",
            "max_duration_s",
            "welch_segment_s",
            "mvc_window_s",
            "dropout_min_s",
            "envelope_display_hz",
            "detection_grid_hz",
        ):
            _positive(name, getattr(self, name))
        if self.bandpass_low_hz >= self.bandpass_high_hz:
            raise ValueError("bandpass_low_hz must be below bandpass_high_hz")
        if not (0 < self.nyquist_fraction < 1):
            raise ValueError("nyquist_fraction must be in (0, 1)")
        if not (1 <= int(self.filter_order) <= 8):
            raise ValueError("filter_order must be between 1 and 8")
        if self.off_noise_factor > self.on_noise_factor:
            raise ValueError("off_noise_factor must not exceed on_noise_factor (hysteresis)")
        if not (0 <= self.edge_fine_window_s <= self.onset_window_s):
            raise ValueError("edge_fine_window_s must be in [0, onset_window_s]")
        if not (0 <= self.edge_fine_rise_short_s < self.edge_fine_rise_long_s):
            raise ValueError("edge_fine_rise_short_s must be in [0, edge_fine_rise_long_s)")
        if not (0 < self.edge_fine_snr_low < self.edge_fine_snr_high):
            raise ValueError("edge_fine_snr_low must be positive and below edge_fine_snr_high")
        if not (0 <= self.edge_fraction < 1):
            raise ValueError("edge_fraction must be in [0, 1)")
        if not (0 <= self.noise_percentile <= 100):
            raise ValueError("noise_percentile must be in [0, 100]")
        if not (0 <= self.hold_release_fraction < 1):
            raise ValueError("hold_release_fraction must be in [0, 1)")
        if self.reonset_ratio != 0 and self.reonset_ratio <= 1:
            raise ValueError("reonset_ratio must be 0 (off) or above 1")
        if self.reonset_rise_s < 0 or self.reonset_dip_s < 0:
            raise ValueError("reonset_rise_s and reonset_dip_s must be >= 0")
        if not (0 < self.tonic_ratio <= 1):
            raise ValueError("tonic_ratio must be in (0, 1]")
        if self.merge_gap_s < 0:
            raise ValueError("merge_gap_s must be >= 0")
        if self.min_duration_s >= self.max_duration_s:
            raise ValueError("min_duration_s must be below max_duration_s")
        if int(self.saturation_min_run) < 2:
            raise ValueError("saturation_min_run must be >= 2")
        if not (0 <= self.stream_lookahead_s <= 5):
            raise ValueError("stream_lookahead_s must be in [0, 5]")


# Borg CR-10 RPE -> effort 0-100. Strength training with BFR aims at "hard" (5-7): less
# means the load was too light, more (8-10) that the session was exhausting.
DEFAULT_RPE_TABLE: tuple[tuple[int, float], ...] = (
    (0, 0.0),
    (1, 10.0),
    (2, 25.0),
    (3, 50.0),
    (4, 75.0),
    (5, 100.0),
    (6, 100.0),
    (7, 100.0),
    (8, 75.0),
    (9, 50.0),
    (10, 25.0),
)


@dataclass(frozen=True)
class ScoringConfig(_ConfigMixin):
    """Performance-score parameters (GHOSTLY+ protocol defaults).

    * compliance per muscle = weighted mean of completion (count / ``target_count``,
      capped at 1), intensity rate (share of contractions with peak >=
      ``target_pct_mvc``) and duration rate (share >= ``target_duration_s``),
      sub-weights ``compliance_weights`` = (completion, intensity, duration);
    * symmetry = 100 x (1 - |C_left - C_right| / (C_left + C_right)) per muscle pair;
    * effort = ``rpe_table`` [Borg CR-10 RPE -> 0-100, linear between entries]: "hard"
      (5-7) is the therapeutic target, too easy or exhausting scores lower; no RPE means
      no effort component (never a default RPE);
    * game = 100 x game score / ``game_score_max`` (only when a maximum is known);
    * overall = weighted mean (``weights``) of the components that exist,
      renormalised; absent components are listed in ``missing``;
    * BFR pressure outside ``bfr_safe_band_pct_aop`` gates (withholds) the score.
    """

    target_count: int = 12
    target_pct_mvc: float = 75.0
    target_duration_s: float = 2.0
    weights: dict = field(
        default_factory=lambda: {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, "game": 0.1}
    )
    compliance_weights: dict = field(
        default_factory=lambda: {"completion": 1 / 3, "intensity": 1 / 3, "duration": 1 / 3}
    )
    rpe_table: tuple = DEFAULT_RPE_TABLE
    bfr_safe_band_pct_aop: tuple = (45.0, 55.0)
    game_score_max: float | None = None

    def __hash__(self) -> int:
        return hash(
            (
                self.target_count,
                self.target_pct_mvc,
                self.target_duration_s,
                tuple(sorted(self.weights.items())),
                tuple(sorted(self.compliance_weights.items())),
                self.rpe_table,
                self.bfr_safe_band_pct_aop,
                self.game_score_max,
            )
        )

    @classmethod
    def _converters(cls) -> dict:
        def table(value):
            if isinstance(value, dict):
                items = value.items()
            else:
                items = value
            return tuple(sorted((int(k), float(v)) for k, v in items))

        return {"rpe_table": table, "bfr_safe_band_pct_aop": lambda v: tuple(float(x) for x in v)}

    def __post_init__(self) -> None:
        if int(self.target_count) < 1:
            raise ValueError("target_count must be >= 1")
        _positive("target_pct_mvc", self.target_pct_mvc)
        _positive("target_duration_s", self.target_duration_s)
        _positive("game_score_max", self.game_score_max, allow_none=True)
        for name, allowed in (
            ("weights", {"compliance", "symmetry", "effort", "game"}),
            ("compliance_weights", {"completion", "intensity", "duration"}),
        ):
            value = getattr(self, name)
            unknown = set(value) - allowed
            if unknown:
                raise ValueError(
                    f"unknown {name} key(s): {', '.join(sorted(unknown))}; "
                    f"valid keys are: {', '.join(sorted(allowed))}"
                )
            if any(float(v) < 0 for v in value.values()) or sum(value.values()) <= 0:
                raise ValueError(f"{name} must be >= 0 with a positive sum")
        lo, hi = self.bfr_safe_band_pct_aop
        if not (0 <= lo < hi):
            raise ValueError("bfr_safe_band_pct_aop must be (low, high) with low < high")
        rpes = [k for k, _ in self.rpe_table]
        if not rpes or any(not (0 <= k <= 10) for k in rpes):
            raise ValueError("rpe_table keys must be Borg CR-10 values 0-10")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["rpe_table"] = {str(k): v for k, v in self.rpe_table}
        out["bfr_safe_band_pct_aop"] = list(self.bfr_safe_band_pct_aop)
        out["weights"] = dict(self.weights)
        out["compliance_weights"] = dict(self.compliance_weights)
        return out
