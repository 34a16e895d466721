"""Session forms: the session (therapist from the patient's clinic, RPE 0-10, BFR 0-150 % AOP)
and the upload of its recordings."""

import datetime as dt

from django import forms
from django.db.models import Case, When
from django.utils import timezone

from clinic.models import User
from sessions.models import TherapySession
from sessions.services import move_targets


class DateTimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, **kwargs):
        super().__init__(format="%Y-%m-%dT%H:%M", **kwargs)


class TherapySessionForm(forms.ModelForm):
    """Create or edit a session of ``patient``; the therapist defaults to the current user."""

    class Meta:
        model = TherapySession
        fields = ["started_at", "therapist", "rpe", "bfr_pressure_pct_aop", "notes"]
        widgets = {
            "started_at": DateTimeInput(),
            "rpe": forms.NumberInput(attrs={"min": 0, "max": 10, "step": 1}),
            "bfr_pressure_pct_aop": forms.NumberInput(attrs={"min": 0, "max": 150, "step": "0.1"}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"started_at": "Date and time"}

    def __init__(self, *args, patient, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["started_at"].input_formats = ["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"]
        therapists = User.objects.therapists_of_clinic(patient.clinic_id).order_by(
            "full_name", "email"
        )
        self.fields["therapist"].queryset = therapists
        self.fields["therapist"].required = True
        if self.instance.pk is None:
            self.instance.patient = patient
            if therapists.filter(pk=user.pk).exists():
                self.initial.setdefault("therapist", user.pk)

    def clean_started_at(self):
        """In UTC: an ISO time with an offset beyond ±15:59 parses, but PostgreSQL refuses it."""
        started = self.cleaned_data["started_at"]
        return started.astimezone(dt.UTC) if started is not None else started


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


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        when = timezone.localtime(obj.started_at)
        same = " (this patient)" if obj.patient_id == self.patient_id else ""
        return f"{obj.patient.code}{same} · session of {when:%Y-%m-%d %H:%M}"


class RecordingMoveForm(forms.Form):
    """Where to file a recording: another live session the user may see (same patient first)."""

    to_session = SessionChoiceField(
        queryset=TherapySession.objects.none(),
        label="Move to session",
        help_text=(
            "A session of this patient or of another patient you may see. Moved to another "
            "patient, the recording is analysed again with that patient's MVC and protocol."
        ),
    )

    def __init__(self, *args, recording, sessions, **kwargs):
        super().__init__(*args, **kwargs)
        field = self.fields["to_session"]
        field.patient_id = recording.session.patient_id
        field.queryset = (
            move_targets(recording, sessions)
            .select_related("patient")
            .annotate(
                other_patient=Case(When(patient_id=recording.session.patient_id, then=0), default=1)
            )
            .order_by("other_patient", "patient__code", "-started_at", "-pk")
        )
