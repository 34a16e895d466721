"""Forms of the clinic pages: the clinic's protocol defaults and scoring weights."""

from __future__ import annotations

from django import forms

from analysis.grading import SCORE_COMPONENTS, SCORE_MEANINGS, standard_weights
from clinic.models import PROTOCOL_FIELDS, ClinicSettings

WEIGHT_FIELDS = {name: f"weight_{name}" for name in SCORE_COMPONENTS}


def _weight_field(name):
    return forms.FloatField(
        label=f"Weight of {name}",
        required=False,
        min_value=0.0,
        max_value=1.0,
        widget=forms.NumberInput(attrs={"step": "0.05", "min": "0", "max": "1"}),
        help_text=SCORE_MEANINGS[name],
    )


class ScoringWeightsForm(forms.Form):
    """The score's four weights as number fields: all blank (the default applies) or all four,
    adding up to 1. ``cleaned_data["scoring_weights"]`` holds the dict, or None when blank."""

    weight_compliance = _weight_field("compliance")
    weight_symmetry = _weight_field("symmetry")
    weight_effort = _weight_field("effort")
    weight_game = _weight_field("game")

    def show_default_weights(self, weights: dict, *, source: str) -> None:
        """Placeholders with the weights that apply when the fields are left blank."""
        for name, field_name in WEIGHT_FIELDS.items():
            if name in weights:
                placeholder = f"{weights[name]:g} ({source})"
                self.fields[field_name].widget.attrs["placeholder"] = placeholder

    def clean(self):
        cleaned = super().clean()
        values = {name: cleaned.pop(field, None) for name, field in WEIGHT_FIELDS.items()}
        given = {name: value for name, value in values.items() if value is not None}
        cleaned["scoring_weights"] = None
        if not given:
            return cleaned
        if len(given) < len(SCORE_COMPONENTS):
            self.add_error(None, "Give all four weights, or leave all four blank for the default.")
        elif abs(sum(given.values()) - 1.0) > 0.005:
            self.add_error(
                None, f"The weights add up to {sum(given.values()):.2f}; they must add up to 1."
            )
        else:
            cleaned["scoring_weights"] = {name: float(v) for name, v in given.items()}
        return cleaned

    @staticmethod
    def weights_initial(weights: dict | None) -> dict:
        return {
            WEIGHT_FIELDS[name]: w for name, w in (weights or {}).items() if name in WEIGHT_FIELDS
        }


class ClinicSettingsForm(ScoringWeightsForm):
    """A new version of the clinic's defaults (a version is complete; blank weights = standard)."""

    contractions_per_round = forms.IntegerField(min_value=1, max_value=500)
    target_pct_mvc = forms.FloatField(label="Target % MVC", min_value=1.0, max_value=200.0)
    hold_s = forms.FloatField(label="Hold duration (s)", min_value=0.1, max_value=60.0)
    rounds_per_session = forms.IntegerField(min_value=1, max_value=50)
    sessions_per_week = forms.IntegerField(min_value=1, max_value=21)
    programme_weeks = forms.IntegerField(
        label="Programme length (weeks)", min_value=1, max_value=520
    )
    bfr_safe_low_pct_aop = forms.FloatField(
        label="BFR safe band low (% AOP)", min_value=0, max_value=150
    )
    bfr_safe_high_pct_aop = forms.FloatField(
        label="BFR safe band high (% AOP)", min_value=0, max_value=150
    )
    game_score_max = forms.FloatField(
        label="Maximum game score",
        required=False,
        min_value=0,
        help_text="The game's best possible score: without it the score has no game component.",
    )

    field_order = (*PROTOCOL_FIELDS, *WEIGHT_FIELDS.values())
    SETTINGS_FIELDS = (
        *PROTOCOL_FIELDS,
        "bfr_safe_low_pct_aop",
        "bfr_safe_high_pct_aop",
        "game_score_max",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.show_default_weights(standard_weights(), source="standard")

    def clean(self):
        cleaned = super().clean()
        cleaned["scoring_weights"] = cleaned["scoring_weights"] or {}
        low, high = cleaned.get("bfr_safe_low_pct_aop"), cleaned.get("bfr_safe_high_pct_aop")
        if low is not None and high is not None and low > high:
            self.add_error("bfr_safe_high_pct_aop", "The high end must not be below the low end.")
        return cleaned

    @classmethod
    def initial_from(cls, current) -> dict:
        current = current or ClinicSettings()
        initial = {name: getattr(current, name) for name in cls.SETTINGS_FIELDS}
        return initial | cls.weights_initial(current.scoring_weights)


class ApiTokenForm(forms.Form):
    """A new personal API token: what it is for and how long it lives."""

    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'Ward 3 tablet'.")
    expires_days = forms.IntegerField(
        label="Expires after (days)",
        required=False,
        min_value=1,
        max_value=3650,
        initial=90,
        help_text="Leave empty for a token that never expires (revoke it when it is not needed).",
    )
