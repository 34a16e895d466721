"""The performance score: one definition, configurable weights (:class:`ScoringConfig`).

* compliance per muscle (0-100) = weighted mean of completion = min(count / target, 1),
  intensity rate = share of contractions with peak >= target % MVC, and duration rate =
  share held >= target seconds (sub-weights ``compliance_weights``);
* symmetry (0-100) = mean over left/right pairs of the same muscle of
  100 x (1 - |C_l - C_r| / (C_l + C_r)) (100 when both are 0);
* effort (0-100) = ``rpe_table`` at the post-session Borg CR-10 RPE (linear between
  entries); missing when no RPE was recorded;
* game (0-100) = 100 x min(score / max, 1) when the game's maximum score is known;
* overall = sum(w_i x S_i) / sum(w_i) over the components that exist; ``missing`` lists
  the others, ``missing_reasons`` says why (a code per component). BFR pressure outside
  the safe band gates the score: overall becomes None.

:func:`combine_score` is the one definition of the block from component values; the
document's score and the session pages (with the session's current RPE and BFR) both use it.
Importing this module loads numpy only (no scipy, no numba): the web process imports it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .config import ScoringConfig

COMPONENTS = ("compliance", "symmetry", "effort", "game")


def compliance_of(summary: dict, scoring: ScoringConfig) -> float:
    """Compliance (0-100) of one channel from its summary counts."""
    count = summary["count"]
    parts = {
        "completion": min(count / scoring.target_count, 1.0),
        "intensity": summary["intensity_ok"] / count if count else 0.0,
        "duration": summary["duration_ok"] / count if count else 0.0,
    }
    w = scoring.compliance_weights
    total = sum(float(w.get(k, 0.0)) for k in parts)
    return 100.0 * sum(float(w.get(k, 0.0)) * v for k, v in parts.items()) / total


def effort_of(rpe: float | None, scoring: ScoringConfig) -> float | None:
    """Effort (0-100) from the RPE through the mapping table; None when no RPE."""
    return effort_from_table(rpe, scoring.rpe_table)


def effort_from_table(rpe: float | None, rpe_table) -> float | None:
    """Effort (0-100) at ``rpe`` in ``rpe_table`` ((RPE, effort) pairs or a {RPE: effort}
    mapping, as stored in JSON), linear between entries; None when no RPE."""
    if rpe is None:
        return None
    rpe = float(rpe)
    if not (0.0 <= rpe <= 10.0) or math.isnan(rpe):
        raise ValueError(f"RPE must be a Borg CR-10 value between 0 and 10 (got {rpe:g})")
    items = rpe_table.items() if isinstance(rpe_table, dict) else rpe_table
    pairs = sorted((float(k), float(v)) for k, v in items)
    keys = np.array([k for k, _ in pairs], dtype=float)
    values = np.array([v for _, v in pairs], dtype=float)
    return float(np.interp(rpe, keys, values))


def symmetry_of(channels: list[dict], compliance: dict[str, float]) -> float | None:
    """Mean left/right symmetry over muscles that have both sides; None without a pair."""
    by_muscle: dict[str, dict[str, list[float]]] = {}
    for ch in channels:
        if ch["side"] in ("left", "right") and ch["muscle"]:
            by_muscle.setdefault(ch["muscle"], {}).setdefault(ch["side"], []).append(
                compliance[ch["label"]]
            )
    values = []
    for sides in by_muscle.values():
        if "left" in sides and "right" in sides:
            left, right = float(np.mean(sides["left"])), float(np.mean(sides["right"]))
            total = left + right
            values.append(100.0 if total == 0 else 100.0 * (1.0 - abs(left - right) / total))
    return float(np.mean(values)) if values else None


# Why a component is missing, as a code the pages and the API translate into words.
NO_RECORDING = "no_recording_analysed"
NO_CHANNELS = "no_channels"
NO_LEFT_RIGHT_PAIR = "no_left_right_pair"
NO_RPE = "no_rpe"
NO_GAME_MAXIMUM = "no_game_score_max"
NO_GAME_SCORE = "no_game_score"


def bfr_gate(bfr_pct_aop: float | None, safe_band_pct_aop) -> dict[str, Any]:
    """The BFR block: the pressure, the safe band, and whether it withholds the score."""
    lo, hi = (float(v) for v in safe_band_pct_aop)
    if bfr_pct_aop is None:
        return {
            "pressure_pct_aop": None,
            "in_safe_band": None,
            "gated": False,
            "safe_band_pct_aop": [lo, hi],
        }
    pressure = float(bfr_pct_aop)
    if not math.isfinite(pressure) or pressure < 0:
        raise ValueError(f"BFR pressure must be a finite % AOP >= 0 (got {bfr_pct_aop!r})")
    in_band = lo <= pressure <= hi
    return {
        "pressure_pct_aop": pressure,
        "in_safe_band": in_band,
        "gated": not in_band,
        "safe_band_pct_aop": [lo, hi],
    }


def combine_score(
    *,
    values: dict[str, float | None],
    weights: dict,
    bfr_pct_aop: float | None,
    bfr_safe_band_pct_aop,
    compliance_by_channel: dict[str, float] | None = None,
    missing_reasons: dict[str, str] | None = None,
) -> dict[str, Any]:
    """THE definition of the score block from component values, weights and the BFR pressure.

    ``values`` holds the four components (0-100, None when absent); overall is the weighted
    mean of those present (weights renormalised), withheld (None) when the BFR pressure is
    outside the safe band. ``missing_reasons`` maps each absent component to a code
    (``NO_RPE``...); absent ones without a code get ``"not_computed"``. The stored analysis
    and the session pages both call this, so there is one score.
    """
    present = {k: float(v) for k in COMPONENTS if (v := values.get(k)) is not None}
    weights = {k: float((weights or {}).get(k, 0.0)) for k in COMPONENTS}
    w_sum = sum(weights[k] for k in present)
    overall = sum(weights[k] * v for k, v in present.items()) / w_sum if w_sum > 0 else None
    bfr = bfr_gate(bfr_pct_aop, bfr_safe_band_pct_aop)
    if bfr["gated"]:
        overall = None
    missing = [k for k in COMPONENTS if k not in present]
    reasons = missing_reasons or {}
    return {
        "overall": overall,
        "compliance": {**(compliance_by_channel or {}), "mean": present.get("compliance")},
        "symmetry": present.get("symmetry"),
        "effort": present.get("effort"),
        "game": present.get("game"),
        "missing": missing,
        "missing_reasons": {k: reasons.get(k, "not_computed") for k in missing},
        "weights": weights,
        "bfr": bfr,
    }


def game_of(game_score: float | None, game_score_max: float | None) -> float | None:
    """Game (0-100) = 100 x min(score / max, 1); None without a known maximum or score."""
    if not game_score_max or game_score is None:
        return None
    return 100.0 * min(max(float(game_score), 0.0) / float(game_score_max), 1.0)


def game_missing_reason(game_score: float | None, game_score_max: float | None) -> str:
    """Why the game component is absent: no maximum set, or no score in the file."""
    return NO_GAME_MAXIMUM if not game_score_max else NO_GAME_SCORE


def score_session(
    *,
    channels: list[dict],
    metadata: dict,
    scoring: ScoringConfig,
    rpe: float | None,
    bfr_pct_aop: float | None,
) -> dict[str, Any]:
    """The ``score`` block of the result document (through :func:`combine_score`)."""
    compliance = {ch["label"]: compliance_of(ch["summary"], scoring) for ch in channels}
    game_score = metadata.get("game_score")
    values: dict[str, float | None] = {
        "compliance": float(np.mean(list(compliance.values()))) if compliance else None,
        "symmetry": symmetry_of(channels, compliance),
        "effort": effort_of(rpe, scoring),
        "game": game_of(game_score, scoring.game_score_max),
    }
    return combine_score(
        values=values,
        weights=scoring.weights,
        bfr_pct_aop=bfr_pct_aop,
        bfr_safe_band_pct_aop=scoring.bfr_safe_band_pct_aop,
        compliance_by_channel=compliance,
        missing_reasons={
            "compliance": NO_CHANNELS,
            "symmetry": NO_LEFT_RIGHT_PAIR,
            "effort": NO_RPE,
            "game": game_missing_reason(game_score, scoring.game_score_max),
        },
    )
