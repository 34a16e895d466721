"""Forms of the pipeline's staff pages: uploads, MVC calibrations, protocol, clinic settings.

Forms only parse and validate input; saving goes through services.
"""

from __future__ import annotations

import json

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator

from analysis.services import PROTOCOL_FIELDS
from patients.models import Side

SCORE_COMPONENTS = ("compliance", "symmetry", "effort", "game")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>`` (Django's documented recipe)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"multiple": True, "accept": ".c3d"}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            if not data and self.required:
                raise forms.ValidationError(self.error_messages["required"], code="required")
            return [single(d, initial) for d in data]
        return [single(data, initial)]


class RecordingUploadForm(forms.Form):
    """One or several C3D files for a session; each is checked by the upload service."""

    files = MultipleFileField(label="C3D recordings")


class SingleC3dForm(forms.Form):
    """One C3D file (the stateless analysis)."""

    file = forms.FileField(
        label="C3D recording", widget=forms.ClearableFileInput(attrs={"accept": ".c3d"})
    )


class MvcEntryForm(forms.Form):
    """An MVC value the therapist measured elsewhere, entered in microvolts."""

    side = forms.ChoiceField(choices=Side.choices, initial=Side.LEFT, required=False)
    muscle = forms.CharField(max_length=60, initial="quadriceps")
    value_uv = forms.FloatField(
        label="MVC (µV)",
        validators=[MinValueValidator(0.001), MaxValueValidator(100_000_000)],
        help_text="Peak of the RMS envelope during a maximal contraction, in microvolts.",
    )
    notes = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    def clean_muscle(self):
        return self.cleaned_data["muscle"].strip().lower()

    @property
    def value_v(self):
        return self.cleaned_data["value_uv"] / 1e6


class MvcUploadForm(forms.Form):
    """A calibration recording: the core measures the MVC of the chosen channel."""

    side = forms.ChoiceField(choices=Side.choices, initial=Side.LEFT, required=False)
    muscle = forms.CharField(max_length=60, initial="quadriceps")
    channel = forms.CharField(
        max_length=64,
        required=False,
        help_text="Channel label in the file (e.g. CH1 Raw); blank = the one mapped to the muscle.",
    )
    file = forms.FileField(
        label="Calibration recording (C3D)",
        widget=forms.ClearableFileInput(attrs={"accept": ".c3d"}),
    )

    def clean_muscle(self):
        return self.cleaned_data["muscle"].strip().lower()


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


class PatientProtocolForm(forms.Form):
    """The patient's deviations from the clinic defaults; blank = the clinic default."""

    contractions_per_round = forms.IntegerField(required=False, min_value=1, max_value=500)
    target_pct_mvc = forms.FloatField(
        label="Target % MVC", required=False, min_value=1.0, max_value=200.0
    )
    hold_s = forms.FloatField(
        label="Hold duration (s)", required=False, min_value=0.1, max_value=60.0
    )
    rounds_per_session = forms.IntegerField(required=False, min_value=1, max_value=50)
    sessions_per_week = forms.IntegerField(required=False, min_value=1, max_value=21)
    programme_weeks = forms.IntegerField(
        label="Programme length (weeks)", required=False, min_value=1, max_value=520
    )
    scoring_weights = _weights_field("JSON weights; blank = the clinic's weights.")

    def __init__(self, *args, placeholders=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, value in (placeholders or {}).items():
            if name in self.fields and value not in (None, {}):
                shown = json.dumps(value) if isinstance(value, dict) else value
                self.fields[name].widget.attrs["placeholder"] = f"{shown} (clinic default)"

    def clean_scoring_weights(self):
        return clean_weights(self.cleaned_data.get("scoring_weights"))

    @classmethod
    def initial_from(cls, protocol) -> dict:
        if protocol is None:
            return {}
        initial = {name: getattr(protocol, name) for name in PROTOCOL_FIELDS}
        if protocol.scoring_weights:
            initial["scoring_weights"] = json.dumps(protocol.scoring_weights)
        return initial


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
        if current is None:
            from clinic.models import ClinicSettings

            current = ClinicSettings()
        initial = {name: getattr(current, name) for name in cls.FIELDS}
        initial["scoring_weights"] = (
            json.dumps(current.scoring_weights) if current.scoring_weights else ""
        )
        return initial
