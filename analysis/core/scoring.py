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
  the others. BFR pressure outside the safe band gates the score: overall becomes None.
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
    if rpe is None:
        return None
    rpe = float(rpe)
    if not (0.0 <= rpe <= 10.0) or math.isnan(rpe):
        raise ValueError(f"RPE must be a Borg CR-10 value between 0 and 10 (got {rpe:g})")
    keys = np.array([k for k, _ in scoring.rpe_table], dtype=float)
    values = np.array([v for _, v in scoring.rpe_table], dtype=float)
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


def score_session(
    *,
    channels: list[dict],
    metadata: dict,
    scoring: ScoringConfig,
    rpe: float | None,
    bfr_pct_aop: float | None,
) -> dict[str, Any]:
    """The ``score`` block of the result document."""
    compliance = {ch["label"]: compliance_of(ch["summary"], scoring) for ch in channels}
    values: dict[str, float | None] = {
        "compliance": float(np.mean(list(compliance.values()))) if compliance else None,
        "symmetry": symmetry_of(channels, compliance),
        "effort": effort_of(rpe, scoring),
        "game": None,
    }
    game_score = metadata.get("game_score")
    if scoring.game_score_max and game_score is not None:
        values["game"] = 100.0 * min(max(float(game_score), 0.0) / scoring.game_score_max, 1.0)
    present = {k: v for k, v in values.items() if v is not None}
    weights = {k: float(scoring.weights.get(k, 0.0)) for k in COMPONENTS}
    w_sum = sum(weights[k] for k in present)
    overall = sum(weights[k] * v for k, v in present.items()) / w_sum if w_sum > 0 else None
    bfr = {"pressure_pct_aop": None, "in_safe_band": None, "gated": False}
    if bfr_pct_aop is not None:
        pressure = float(bfr_pct_aop)
        if not math.isfinite(pressure) or pressure < 0:
            raise ValueError(f"BFR pressure must be a finite % AOP >= 0 (got {bfr_pct_aop!r})")
        lo, hi = scoring.bfr_safe_band_pct_aop
        in_band = lo <= pressure <= hi
        bfr = {"pressure_pct_aop": pressure, "in_safe_band": in_band, "gated": not in_band}
        if not in_band:
            overall = None
    return {
        "overall": overall,
        "compliance": {**compliance, "mean": values["compliance"]},
        "symmetry": values["symmetry"],
        "effort": values["effort"],
        "game": values["game"],
        "missing": [k for k in COMPONENTS if values[k] is None],
        "weights": weights,
        "bfr": bfr,
    }
