"""Clinical display rules shared by result pages, charts and reports.

One home for each rule, so that a page, a PDF and the admin never disagree about a figure.
"""

from __future__ import annotations

from analysis import core

SCORE_COMPONENTS = ("compliance", "symmetry", "effort", "game")
# What each part of the score means, in one line (score panels, weight fields, reports).
SCORE_MEANINGS = {
    "overall": "Weighted mean of the components that could be computed.",
    "compliance": "Share of the target contractions done at the target intensity and duration.",
    "symmetry": "Balance between the left and right of the same muscle (100 = equal).",
    "effort": "From the session's RPE (Borg CR-10) by the clinic's table.",
    "game": "The game's score against the clinic's maximum game score.",
}


def contraction_grade(*, meets_intensity, meets_duration) -> str:
    """Grade a contraction for shading: both criteria (good), one of them, or neither."""
    if meets_intensity and meets_duration:
        return "good"
    if meets_intensity:
        return "intensity"
    if meets_duration:
        return "duration"
    return "neither"


def mvc_target_v(mvc_v, target_pct_mvc) -> float | None:
    """The MVC-target line in volts (``target_pct_mvc`` % of the MVC), or None without either."""
    if mvc_v is None or target_pct_mvc is None:
        return None
    return mvc_v * target_pct_mvc / 100


def standard_weights() -> dict[str, float]:
    """The score's weights when neither the clinic nor the patient set any (the core's)."""
    return dict(core.ScoringConfig().weights)


def weights_text(weights: dict) -> str:
    """ "compliance 0.5, symmetry 0.2, ..." in the components' order."""
    return ", ".join(f"{name} {weights[name]:g}" for name in SCORE_COMPONENTS if name in weights)
