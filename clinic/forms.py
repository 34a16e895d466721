"""Forms of the clinic pages: the clinic's protocol defaults and scoring weights."""

from __future__ import annotations

import json

from django import forms

from clinic.models import PROTOCOL_FIELDS, ClinicSettings

SCORE_COMPONENTS = ("compliance", "symmetry", "effort", "game")


def _weights_field(help_text):
    return forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=help_text,
    )


def clean_weights(raw: str) -> dict | None:
    """Scoring weights as JSON ``{"compliance": 0.5, ...}``; blank -> None."""
    raw = (raw or "").strip()
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError as exc:
        raise forms.ValidationError('Enter the weights as JSON, e.g. {"compliance": 0.5}.') from exc
    if not isinstance(value, dict):
        raise forms.ValidationError("Enter the weights as a JSON object.")
    unknown = set(value) - set(SCORE_COMPONENTS)
    if unknown:
        raise forms.ValidationError(
            f"Unknown component(s): {', '.join(sorted(unknown))}; "
            f"use {', '.join(SCORE_COMPONENTS)}."
        )
    weights = {}
    for name, weight in value.items():
        if isinstance(weight, bool) or not isinstance(weight, int | float):
            raise forms.ValidationError(f"The weight of {name} must be a number.")
        if not 0 <= weight <= 1:
            raise forms.ValidationError(f"The weight of {name} must be between 0 and 1.")
        weights[name] = float(weight)
    return weights


class ClinicSettingsForm(forms.Form):
    """A new version of the clinic's defaults (every field required: a version is complete)."""

    contractions_per_round = forms.IntegerField(min_value=1, max_value=500)
    target_pct_mvc = forms.FloatField(label="Target % MVC", min_value=1.0, max_value=200.0)
    hold_s = forms.FloatField(label="Hold duration (s)", min_value=0.1, max_value=60.0)
    rounds_per_session = forms.IntegerField(min_value=1, max_value=50)
    sessions_per_week = forms.IntegerField(min_value=1, max_value=21)
    programme_weeks = forms.IntegerField(
        label="Programme length (weeks)", min_value=1, max_value=520
    )
    scoring_weights = _weights_field("JSON weights; blank = the numeric core's defaults.")
    bfr_safe_low_pct_aop = forms.FloatField(
        label="BFR safe band low (% AOP)", min_value=0, max_value=150
    )
    bfr_safe_high_pct_aop = forms.FloatField(
        label="BFR safe band high (% AOP)", min_value=0, max_value=150
    )
    game_score_max = forms.FloatField(required=False, min_value=0)

    FIELDS = (
        *PROTOCOL_FIELDS,
        "scoring_weights",
        "bfr_safe_low_pct_aop",
        "bfr_safe_high_pct_aop",
        "game_score_max",
    )

    def clean_scoring_weights(self):
        return clean_weights(self.cleaned_data.get("scoring_weights")) or {}

    def clean(self):
        cleaned = super().clean()
        low, high = cleaned.get("bfr_safe_low_pct_aop"), cleaned.get("bfr_safe_high_pct_aop")
        if low is not None and high is not None and low > high:
            self.add_error("bfr_safe_high_pct_aop", "The high end must not be below the low end.")
        return cleaned

    @classmethod
    def initial_from(cls, current) -> dict:
        current = current or ClinicSettings()
        initial = {name: getattr(current, name) for name in cls.FIELDS}
        initial["scoring_weights"] = (
            json.dumps(current.scoring_weights) if current.scoring_weights else ""
        )
        return initial
