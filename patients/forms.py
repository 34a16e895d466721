"""Patient forms: the record (per-clinic uniqueness as field errors, assignees limited to the
clinic), voiding, MVC calibrations and the patient's protocol overrides."""

from __future__ import annotations

from datetime import date

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db.models import Q

from clinic.forms import WEIGHT_FIELDS, ScoringWeightsForm
from clinic.models import PROTOCOL_FIELDS, Clinic, User
from clinic.roles import THERAPIST
from patients.models import Patient, Side


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%d", **kwargs)


# A code or MRN taken by a patient the user may not see: the answer names neither the patient
# nor which of the two values is taken, and points to the ways that leave a trace.
HIDDEN_CONFLICT = (
    "This code or MRN cannot be used for a new record here. If the patient is already "
    "registered in this clinic, a clinic manager can assign them to you (or, when care cannot "
    "wait, open the record with Emergency access)."
)


class PatientForm(forms.ModelForm):
    """Create or edit a patient as ``user``.

    The clinic is the user's own; a superuser (no clinic) chooses it when creating. Only users
    with ``patients.assign_therapists`` see the therapists field.
    """

    clinic = forms.ModelChoiceField(queryset=Clinic.objects.filter(is_active=True), required=True)

    class Meta:
        model = Patient
        fields = [
            "clinic",
            "code",
            "mrn",
            "first_name",
            "last_name",
            "date_of_birth",
            "sex",
            "diagnosis",
            "notes",
            "treatment_start",
            "planned_sessions",
            "is_active",
            "therapists",
        ]
        widgets = {
            "date_of_birth": DateInput(),
            "treatment_start": DateInput(),
            "therapists": forms.CheckboxSelectMultiple,
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"is_active": "In treatment", "therapists": "Assigned therapists"}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        creating = self.instance.pk is None
        if creating and user.is_superuser and user.clinic_id is None:
            therapists = User.objects.filter(
                groups__name=THERAPIST, is_active=True, clinic__isnull=False
            )
        else:
            del self.fields["clinic"]
            if creating:
                self.instance.clinic_id = user.clinic_id
            therapists = User.objects.therapists_of_clinic(self.instance.clinic_id)
        if user.has_perm("patients.assign_therapists"):
            self.fields["therapists"].queryset = therapists.order_by("full_name", "email")
            self.fields["therapists"].help_text = "Therapists of the patient's clinic."
        else:
            del self.fields["therapists"]

    def clean_date_of_birth(self):
        born = self.cleaned_data.get("date_of_birth")
        if born and born > date.today():  # noqa: DTZ011 - a calendar date
            raise forms.ValidationError("The date of birth cannot be in the future.")
        if born and born.year < 1900:
            raise forms.ValidationError("Please check the year of birth.")
        return born

    def _sees(self, patients) -> bool:
        """Whether the user may see one of ``patients`` (voided ones only if they may void)."""
        visible = patients.visible_to(self.user)
        if not self.user.has_perm("patients.void_patient"):
            visible = visible.active()
        return visible.exists()

    def _clinic_id(self):
        if "clinic" in self.fields:
            clinic = self.cleaned_data.get("clinic")
            return clinic.pk if clinic else None
        return self.instance.clinic_id

    def clean(self):
        cleaned = super().clean()
        clinic_id = self._clinic_id()
        if clinic_id is None:
            return cleaned
        others = Patient.objects.filter(clinic_id=clinic_id).exclude(pk=self.instance.pk)
        code, mrn = cleaned.get("code"), cleaned.get("mrn")
        hidden_conflict = False
        for field, value, taken, message in (
            (
                "code",
                code,
                Q(code__iexact=code),
                "Another patient of this clinic already has this code.",
            ),
            ("mrn", mrn, Q(mrn=mrn), "Another patient of this clinic has this MRN."),
        ):
            if not value or not others.filter(taken).exists():
                continue
            if self._sees(others.filter(taken)):
                self.add_error(field, message)
            else:
                hidden_conflict = True
        if hidden_conflict:
            self.add_error(None, HIDDEN_CONFLICT)
        for therapist in cleaned.get("therapists") or []:
            if therapist.clinic_id != clinic_id:
                self.add_error("therapists", f"{therapist} does not work in this clinic.")
        return cleaned


class VoidForm(forms.Form):
    """The reason is required: a void without one says nothing to the next reader."""

    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why this record is void (e.g. created in error, duplicate of P007).",
    )

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


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


class PatientProtocolForm(ScoringWeightsForm):
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

    field_order = (*PROTOCOL_FIELDS, *WEIGHT_FIELDS.values())

    def __init__(self, *args, placeholders=None, **kwargs):
        super().__init__(*args, **kwargs)
        placeholders = dict(placeholders or {})
        self.show_default_weights(
            placeholders.pop("scoring_weights", None) or {}, source="clinic default"
        )
        for name, value in placeholders.items():
            if name in self.fields and value is not None:
                self.fields[name].widget.attrs["placeholder"] = f"{value} (clinic default)"

    @classmethod
    def initial_from(cls, protocol) -> dict:
        if protocol is None:
            return {}
        initial = {name: getattr(protocol, name) for name in PROTOCOL_FIELDS}
        return initial | cls.weights_initial(protocol.scoring_weights)


class EmergencyAccessForm(forms.Form):
    """Break-the-glass: which patient of the clinic (code or MRN), and why."""

    identifier = forms.CharField(
        label="Patient code or MRN",
        max_length=40,
        help_text="Exactly as on the patient's record, e.g. P014.",
    )
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="Why you need this record now (e.g. covering for an absent colleague). "
        "Your clinic's managers see it.",
    )
