"""The treatment plan that applies to a patient: clinic defaults with the patient's overrides.

Read by the pipeline (the core's targets and weights), the protocol and progress pages, and
reports. A clinic that never saved settings uses ClinicSettings' field defaults (GHOSTLY+).
"""

from __future__ import annotations

import dataclasses

from analysis.grading import standard_weights, weights_text
from clinic.models import GAME_CHANNEL_MAP, PROTOCOL_FIELDS, ClinicSettings
from patients.models import PatientProtocol

PROTOCOL_LABELS = {
    "contractions_per_round": "Contractions per round",
    "target_pct_mvc": "Target % MVC",
    "hold_s": "Hold duration (s)",
    "rounds_per_session": "Rounds per session",
    "sessions_per_week": "Sessions per week",
    "programme_weeks": "Programme length (weeks)",
}


@dataclasses.dataclass(frozen=True)
class EffectiveProtocol:
    """Clinic defaults with this patient's overrides applied; ``overridden`` names the latter."""

    contractions_per_round: int
    target_pct_mvc: float
    hold_s: float
    rounds_per_session: int
    sessions_per_week: int
    programme_weeks: int
    scoring_weights: dict
    bfr_safe_band_pct_aop: tuple
    game_score_max: float | None
    channel_map: dict
    clinic_settings_version: int | None = None
    overridden: tuple = ()

    @property
    def planned_sessions(self) -> int:
        return self.sessions_per_week * self.programme_weeks

    def expected_sessions_by(self, *, start, today) -> int:
        """Sessions the plan expects from ``start`` up to ``today`` (inclusive), capped."""
        if start is None or today < start:
            return 0
        days = (today - start).days + 1
        return min(self.planned_sessions, (days * self.sessions_per_week + 6) // 7)


def clinic_defaults(clinic_id) -> ClinicSettings:
    """The clinic's newest settings, or an unsaved row holding the built-in defaults."""
    return ClinicSettings.objects.current_for(clinic_id) or ClinicSettings(clinic_id=clinic_id)


def effective_protocol(patient) -> EffectiveProtocol:
    """Merge the clinic's newest settings with the patient's PatientProtocol overrides."""
    defaults = clinic_defaults(patient.clinic_id)
    values = {name: getattr(defaults, name) for name in PROTOCOL_FIELDS}
    values["scoring_weights"] = dict(defaults.scoring_weights or {})
    overridden = []
    protocol = own_protocol(patient)
    if protocol is not None:
        for name in PROTOCOL_FIELDS:
            value = getattr(protocol, name)
            if value is not None:
                values[name] = value
                overridden.append(name)
        if protocol.scoring_weights:
            values["scoring_weights"] = {**values["scoring_weights"], **protocol.scoring_weights}
            overridden.append("scoring_weights")
    return EffectiveProtocol(
        **values,
        bfr_safe_band_pct_aop=(defaults.bfr_safe_low_pct_aop, defaults.bfr_safe_high_pct_aop),
        game_score_max=defaults.game_score_max,
        channel_map=dict(defaults.channel_map or GAME_CHANNEL_MAP),
        clinic_settings_version=defaults.version,
        overridden=tuple(overridden),
    )


def own_protocol(patient) -> PatientProtocol | None:
    """The patient's own overrides, or None when the clinic defaults apply unchanged."""
    return PatientProtocol.objects.filter(patient=patient).first()


def protocol_placeholders(patient) -> dict:
    """The value each protocol field takes when left blank: the clinic default."""
    defaults = clinic_defaults(patient.clinic_id)
    return {name: getattr(defaults, name) for name in PROTOCOL_FIELDS} | {
        "scoring_weights": {**standard_weights(), **(defaults.scoring_weights or {})}
    }


def effective_protocol_rows(patient) -> list[dict]:
    """What applies to this patient now, and whether it is the patient's own or the clinic's."""
    protocol = effective_protocol(patient)
    rows = [
        {"label": label, "value": getattr(protocol, name), "own": name in protocol.overridden}
        for name, label in PROTOCOL_LABELS.items()
    ]
    rows.append(
        {
            "label": "Scoring weights",
            "value": weights_text({**standard_weights(), **protocol.scoring_weights}),
            "own": "scoring_weights" in protocol.overridden,
        }
    )
    return rows
