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

# What each per-muscle figure of a result means, in one plain line (what it says clinically and
# which way is good), shown under the figure on result pages.
METRIC_MEANINGS = {
    "count": "Contractions the analysis found in this round.",
    "game_count": "Contractions the game itself registered; close to ours is expected.",
    "good": "Contractions that reached both the target intensity and the hold time.",
    "intensity_ok": "Contractions strong enough (at or above the % MVC target).",
    "duration_ok": "Contractions held long enough (at or above the hold time).",
    "compliance": "Share of the planned contractions done well; higher is better (100 = all).",
    "time_under_tension_s": "Total time the muscle was contracting; more means more training.",
    "rms_v": "Average electrical activity of the muscle while working; rises with effort.",
    "mvc_v": "The muscle's maximum voluntary contraction, the 100 % for intensities.",
    "threshold_v": "Activity above this level counts as a contraction (set from rest).",
    "mnf_slope": "Change of the signal's mean frequency over the round; falling suggests fatigue.",
    "mdf_slope": "Change of the signal's median frequency; a clear fall suggests fatigue.",
    "fi_nsm5_ratio": "Fatigue index at the end against the start; above 1 suggests fatigue.",
    "saturation_pct": "Share of the signal clipped by the sensor; should be 0 (check placement).",
    "snr_db": "Signal against background noise; higher is cleaner (under 10 dB is poor).",
}

# A failed recording: what the person can do, by the kind of reason the pipeline gave.
FAILURE_ADVICE = (
    (
        ("gave up after", "timed out", "time limit"),
        "The analysis kept stopping on this file. Upload it again; if it fails again, "
        "send the file to your Myoclinic support.",
    ),
    (
        ("settings do not fit",),
        "The clinic's channel map or the patient's MVC does not fit this file. Check the "
        "channel map (clinic settings) and the MVC, then re-analyse the recording.",
    ),
    (
        ("missing from storage",),
        "The stored file is missing. Upload the recording again.",
    ),
)
FAILURE_ADVICE_DEFAULT = (
    "The file is not a usable recording (damaged, or not the game's EMG export). Export the "
    "round from the game again and upload that file."
)


def failure_advice(reason: str) -> str:
    """What to do about a failed recording, in plain words, from its technical reason."""
    text = (reason or "").lower()
    for needles, advice in FAILURE_ADVICE:
        if any(needle in text for needle in needles):
            return advice
    return FAILURE_ADVICE_DEFAULT


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
