"""Serializers of the patient endpoints (/api/v1/patients/): what the API reads and writes.

Identity fields are nulled for anyone who may not see identity (researchers:
``clinic.access.can_see_identity``); reads go through ``FastReadMixin``'s per-class plan. The
views that use them are in ``patients.api``; ``sessions.api`` builds on the same base.
"""

from rest_framework import serializers

from clinic.access import age_band, can_see_identity
from clinic.api.fastread import FastReadMixin
from clinic.models import PROTOCOL_FIELDS
from patients import protocol, selectors
from patients.models import MvcCalibration, Patient, Side

PATIENT_IDENTITY_FIELDS = (
    "first_name",
    "last_name",
    "mrn",
    "date_of_birth",
    "notes",
    "treatment_start",
    "void_reason",
)


def _identity(context) -> bool:
    request = context.get("request")
    if "identity" not in context:
        context["identity"] = bool(request and can_see_identity(request.user))
    return context["identity"]


class IdentityNulledSerializer(FastReadMixin, serializers.ModelSerializer):
    """Fields in ``identity_fields`` are null for users who may not see identity."""

    identity_fields: tuple = ()

    def to_representation(self, instance):
        data = super().to_representation(instance)
        if not _identity(self.context):
            for name in self.identity_fields:
                if name in data:
                    data[name] = None
        return data


class PatientListSerializer(serializers.ListSerializer):
    """A page of patients: their therapists' ids in one query for the page (no prefetch of
    whole user rows per patient)."""

    def to_representation(self, data):
        rows = list(data.all() if hasattr(data, "all") else data)
        missing = [p for p in rows if not hasattr(p, "therapist_ids")]
        if missing:
            ids = selectors.therapist_ids_by_patient([p.pk for p in missing])
            for patient in missing:
                patient.therapist_ids = ids.get(patient.pk, [])
        return super().to_representation(rows)


class PatientSerializer(IdentityNulledSerializer):
    identity_fields = PATIENT_IDENTITY_FIELDS
    first_name = serializers.CharField(allow_null=True)
    last_name = serializers.CharField(allow_null=True)
    mrn = serializers.CharField(allow_null=True)
    date_of_birth = serializers.DateField(allow_null=True)
    notes = serializers.CharField(allow_null=True)
    treatment_start = serializers.DateField(allow_null=True)
    void_reason = serializers.CharField(allow_null=True)
    age_band = serializers.SerializerMethodField()
    is_voided = serializers.BooleanField()
    session_count = serializers.SerializerMethodField()
    therapists = serializers.SerializerMethodField()

    class Meta:
        model = Patient
        fields = [
            "id",
            "code",
            "clinic",
            "first_name",
            "last_name",
            "mrn",
            "date_of_birth",
            "age_band",
            "sex",
            "diagnosis",
            "notes",
            "treatment_start",
            "planned_sessions",
            "is_active",
            "therapists",
            "session_count",
            "is_voided",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields
        list_serializer_class = PatientListSerializer

    def get_age_band(self, patient) -> str:
        return age_band(patient.date_of_birth)

    def get_session_count(self, patient) -> int | None:
        """Sessions that are not void (lists only; null on a single patient)."""
        return getattr(patient, "session_count", None)

    def get_therapists(self, patient) -> list[int]:
        ids = getattr(patient, "therapist_ids", None)
        if ids is None:
            ids = [t.pk for t in patient.therapists.all()]
        return sorted(ids)


class PatientWriteSerializer(serializers.Serializer):
    """The body of a create or update (validated by the patient page's form)."""

    clinic = serializers.IntegerField(required=False, help_text="Administrators only.")
    code = serializers.CharField(max_length=20)
    mrn = serializers.CharField(max_length=40, required=False, allow_blank=True)
    first_name = serializers.CharField(max_length=100)
    last_name = serializers.CharField(max_length=100)
    date_of_birth = serializers.DateField(required=False, allow_null=True)
    sex = serializers.ChoiceField(choices=Patient.Sex.choices, required=False)
    diagnosis = serializers.CharField(max_length=300, required=False, allow_blank=True)
    notes = serializers.CharField(required=False, allow_blank=True)
    treatment_start = serializers.DateField(required=False, allow_null=True)
    planned_sessions = serializers.IntegerField(required=False, min_value=0, max_value=1000)
    is_active = serializers.BooleanField(required=False)
    therapists = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="Therapist ids of the patient's clinic (needs patients.assign_therapists).",
    )


class PatientPatchSerializer(PatientWriteSerializer):
    code = serializers.CharField(max_length=20, required=False)
    first_name = serializers.CharField(max_length=100, required=False)
    last_name = serializers.CharField(max_length=100, required=False)


class VoidSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=2000, help_text="Why this record is void.")


def protocol_document(patient) -> dict:
    """The patient's own overrides (null = clinic default) and what applies now."""
    own = protocol.own_protocol(patient)
    effective = protocol.effective_protocol(patient)
    overrides = {name: getattr(own, name, None) for name in (*PROTOCOL_FIELDS, "scoring_weights")}
    return {
        "patient": patient.pk,
        "overrides": overrides,
        "effective": {
            **{name: getattr(effective, name) for name in PROTOCOL_FIELDS},
            "scoring_weights": effective.scoring_weights,
            "planned_sessions": effective.planned_sessions,
            "clinic_settings_version": effective.clinic_settings_version,
            "overridden": list(effective.overridden),
        },
    }


class MvcCalibrationSerializer(IdentityNulledSerializer):
    identity_fields = ("original_name", "notes")
    original_name = serializers.CharField(allow_null=True)
    notes = serializers.CharField(allow_null=True)
    muscle_key = serializers.CharField()
    value_uv = serializers.SerializerMethodField()

    class Meta:
        model = MvcCalibration
        fields = [
            "id",
            "patient",
            "muscle",
            "side",
            "muscle_key",
            "value_v",
            "value_uv",
            "source",
            "original_name",
            "notes",
            "created_at",
        ]
        read_only_fields = fields

    def get_value_uv(self, row) -> float:
        return row.value_v * 1e6


class MvcEntrySerializer(serializers.Serializer):
    """An MVC value measured elsewhere (JSON), in microvolts like the page."""

    muscle = serializers.CharField(max_length=60)
    side = serializers.ChoiceField(choices=Side.choices, required=False)
    value_uv = serializers.FloatField(min_value=0.001, max_value=100_000_000)
    notes = serializers.CharField(required=False, allow_blank=True)


class MvcMeasureSerializer(serializers.Serializer):
    """A calibration recording (multipart): the core measures the MVC of the channel."""

    muscle = serializers.CharField(max_length=60)
    side = serializers.ChoiceField(choices=Side.choices, required=False)
    channel = serializers.CharField(max_length=64, required=False, allow_blank=True)
    file = serializers.FileField()


def _protocol_fields(required: bool):
    fields = {}
    for name in PROTOCOL_FIELDS:
        kind = (
            serializers.FloatField
            if name in ("target_pct_mvc", "hold_s")
            else serializers.IntegerField
        )
        fields[name] = kind(allow_null=not required, required=required)
    fields["scoring_weights"] = serializers.DictField(
        child=serializers.FloatField(), allow_null=not required, required=required
    )
    return fields


class ProtocolWriteSerializer(serializers.Serializer):
    """Overrides of the clinic defaults; null or absent = the clinic default."""

    locals().update(_protocol_fields(required=False))


class EffectiveProtocolSerializer(serializers.Serializer):
    locals().update(_protocol_fields(required=True))
    planned_sessions = serializers.IntegerField()
    clinic_settings_version = serializers.IntegerField(allow_null=True)
    overridden = serializers.ListField(child=serializers.CharField())


class ProtocolSerializer(serializers.Serializer):
    patient = serializers.IntegerField()
    overrides = ProtocolWriteSerializer()
    effective = EffectiveProtocolSerializer()
