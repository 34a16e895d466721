"""Forms of the clinic pages: the clinic's protocol defaults, scoring weights and channel map."""

from __future__ import annotations

from django import forms

from analysis.grading import SCORE_COMPONENTS, SCORE_MEANINGS, standard_weights
from clinic.models import GAME_CHANNEL_MAP, PROTOCOL_FIELDS, ClinicSettings

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


SIDES = (("left", "Left"), ("right", "Right"), ("", "Not lateral"))


def channel_map_rows(channel_map: dict | None) -> list[dict]:
    """The stored map (``{"CH1": "left quadriceps"}``) as form rows (label, muscle, side)."""
    rows = []
    for label, target in (channel_map or {}).items():
        words = str(target).strip().split(maxsplit=1)
        if len(words) == 2 and words[0].lower() in ("left", "right"):
            side, muscle = words[0].lower(), words[1]
        else:
            side, muscle = "", str(target).strip()
        rows.append({"label": label, "muscle": muscle, "side": side})
    return rows


class ChannelMapRowForm(forms.Form):
    """One channel of the clinic's recordings: which muscle, on which side, it records."""

    # The page explains the columns once, above the rows (no help text per cell).
    label = forms.CharField(
        label="Channel label",
        max_length=64,
        widget=forms.TextInput(attrs={"list": "channel-labels-seen", "autocomplete": "off"}),
    )
    muscle = forms.CharField(label="Muscle", max_length=60)
    side = forms.ChoiceField(label="Side", choices=SIDES, required=False)

    def clean_label(self):
        return " ".join(self.cleaned_data["label"].split())

    def clean_muscle(self):
        muscle = " ".join(self.cleaned_data["muscle"].split()).lower()
        if muscle.split(maxsplit=1)[0] in ("left", "right"):
            raise forms.ValidationError("Give the side in its own column, not in the muscle.")
        return muscle


class BaseChannelMapFormSet(forms.BaseFormSet):
    """The rows of the channel map: each label once (compared case-insensitively, as the
    analysis matches them). No rows: the game's own map applies."""

    def clean(self):
        if any(self.errors):
            return
        seen = {}
        for form in self.forms:
            if self.can_delete and self._should_delete_form(form):
                continue
            label = form.cleaned_data.get("label")
            if not label:
                continue
            key = label.upper()
            if key in seen:
                form.add_error("label", f"{label} is mapped twice: give each channel one row.")
                raise forms.ValidationError(f"The channel {label} appears in two rows.")
            seen[key] = form

    def channel_map(self) -> dict:
        """The rows as the stored map, ``{"CH1": "left quadriceps"}``; {} for none."""
        out = {}
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if not data.get("label") or (self.can_delete and self._should_delete_form(form)):
                continue
            out[data["label"]] = f"{data.get('side') or ''} {data['muscle']}".strip()
        return out


ChannelMapFormSet = forms.formset_factory(
    ChannelMapRowForm,
    formset=BaseChannelMapFormSet,
    extra=2,
    can_delete=True,
    max_num=32,
    validate_max=True,
)
CHANNEL_MAP_PREFIX = "channels"


def channel_map_formset(data=None, *, channel_map: dict | None = None) -> BaseChannelMapFormSet:
    """The channel map's rows: bound to ``data``, or filled from the stored ``channel_map``."""
    if data is not None:
        return ChannelMapFormSet(data, prefix=CHANNEL_MAP_PREFIX)
    initial = channel_map_rows(GAME_CHANNEL_MAP if channel_map is None else channel_map)
    return ChannelMapFormSet(initial=initial, prefix=CHANNEL_MAP_PREFIX)


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
