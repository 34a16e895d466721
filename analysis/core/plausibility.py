"""Warnings for values no surface EMG produces, and the estimated MVC's one-line note.

Surface EMG of a voluntary contraction stays under a few millivolts RMS (De Luca 1997;
Konrad 2005: typically 0.05-5 mV peak-to-peak-ish envelopes well under 5 mV RMS), and
nearly all of its power lies within 20-450 Hz (SENIAM, Hermens et al. 2000). A channel far
outside those ranges has a wrong gain or unit, or is not raw EMG (an already-processed
envelope, a force or movement signal): its numbers are flagged, not silently reported.
"""

from __future__ import annotations

import math

import numpy as np

MAX_SURFACE_EMG_RMS_V = 5e-3
MIN_IN_BAND_FRACTION = 0.3

MVC_ESTIMATE_NOTE = (
    "MVC estimated from this recording (no calibration or entered value): the peak of its "
    "100 ms RMS envelope, so % MVC figures are relative to the strongest moment of this "
    "recording (never above 100 %), not to a maximal effort"
)


def estimated_mvc(envelope_v: np.ndarray) -> float:
    """The estimated MVC (volts): the peak of the RMS envelope over the recording, so that
    no contraction's peak exceeds 100 % of it."""
    return float(np.max(envelope_v)) if envelope_v.size else 0.0


def plausibility_warnings(
    *,
    peak_rms_v: float,
    mvc_v: float,
    mvc_source: str,
    threshold_v: float,
    target_pct_mvc: float,
    in_band: float,
) -> list[str]:
    """One human line per implausible figure of a channel (empty when all look like EMG)."""
    out = []
    biggest = max(peak_rms_v, mvc_v if mvc_source != "estimated" else 0.0)
    if biggest > MAX_SURFACE_EMG_RMS_V:
        out.append(
            f"RMS amplitude of {biggest * 1e3:,.1f} mV: surface EMG stays under "
            f"{MAX_SURFACE_EMG_RMS_V * 1e3:g} mV RMS; check the channel's gain and unit "
            "(the figures of this channel are not trustworthy)"
        )
    target_v = target_pct_mvc / 100.0 * mvc_v
    if mvc_v > 0 and threshold_v > target_v:
        out.append(
            f"detection threshold {threshold_v * 1e6:,.0f} uV lies above the MVC target "
            f"({target_pct_mvc:g} % of {mvc_v * 1e6:,.0f} uV = {target_v * 1e6:,.0f} uV): "
            "contractions cannot be graded against this MVC"
        )
    if math.isfinite(in_band) and in_band < MIN_IN_BAND_FRACTION:
        out.append(
            f"only {100 * in_band:.0f} % of the signal's power lies in 20-450 Hz: this does "
            "not look like raw EMG (an already-processed envelope, movement artefact or drift?)"
        )
    return out
