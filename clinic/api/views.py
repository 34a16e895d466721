"""The clinic's endpoints: its therapists (read only) and its scoring settings (managers)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.response import Response

from clinic.access import Scope, scope_of
from clinic.api.errors import ERRORS
from clinic.api.forms import cleaned, form_data
from clinic.forms import ClinicSettingsForm
from clinic.models import PROTOCOL_FIELDS, Clinic, ClinicSettings, User, channel_map_problems
from clinic.roles import THERAPIST
from clinic.services import clinic_settings_create


class TherapistSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "full_name", "email"]


@extend_schema_view(
    list=extend_schema(
        summary="Therapists of your clinic", responses={200: TherapistSerializer, **ERRORS}
    ),
    retrieve=extend_schema(
        summary="One therapist of your clinic", responses={200: TherapistSerializer, **ERRORS}
    ),
)
class TherapistViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Active therapists of the user's own clinic (every clinic for an administrator)."""

    serializer_class = TherapistSerializer
    action_perms = {"list": [], "retrieve": []}
    queryset = User.objects.none()  # the schema's model; get_queryset decides

    def get_queryset(self):
        user = self.request.user
        therapists = User.objects.filter(groups__name=THERAPIST, is_active=True).order_by(
            "full_name", "email", "pk"
        )
        scope = scope_of(user)
        if scope is Scope.ALL:
            return therapists
        if scope is Scope.NONE:
            return therapists.none()
        return therapists.filter(clinic_id=user.clinic_id)


class ClinicSettingsSerializer(serializers.ModelSerializer):
    class Meta:
        model = ClinicSettings
        fields = [
            "id",
            "clinic",
            "version",
            *PROTOCOL_FIELDS,
            "scoring_weights",
            "bfr_safe_low_pct_aop",
            "bfr_safe_high_pct_aop",
            "game_score_max",
            "channel_map",
            "created_at",
        ]
        read_only_fields = fields


class ClinicSettingsWriteSerializer(serializers.Serializer):
    """A complete new version (validated by the clinic settings page's form)."""

    clinic = serializers.IntegerField(required=False, help_text="Administrators only.")
    contractions_per_round = serializers.IntegerField(min_value=1, max_value=500)
    target_pct_mvc = serializers.FloatField(min_value=1.0, max_value=200.0)
    hold_s = serializers.FloatField(min_value=0.1, max_value=60.0)
    rounds_per_session = serializers.IntegerField(min_value=1, max_value=50)
    sessions_per_week = serializers.IntegerField(min_value=1, max_value=21)
    programme_weeks = serializers.IntegerField(min_value=1, max_value=520)
    bfr_safe_low_pct_aop = serializers.FloatField(min_value=0, max_value=150)
    bfr_safe_high_pct_aop = serializers.FloatField(min_value=0, max_value=150)
    game_score_max = serializers.FloatField(min_value=0, required=False, allow_null=True)
    scoring_weights = serializers.DictField(
        child=serializers.FloatField(), required=False, allow_null=True
    )
    channel_map = serializers.DictField(
        child=serializers.CharField(),
        required=False,
        help_text='C3D channel label to "side muscle", e.g. {"CH1": "left quadriceps"}; '
        "left out, the current map carries over.",
    )


@extend_schema_view(
    list=extend_schema(
        summary="Your clinic's settings versions, newest first",
        responses={200: ClinicSettingsSerializer, **ERRORS},
    ),
    create=extend_schema(
        summary="Save a new version of your clinic's settings (managers)",
        request=ClinicSettingsWriteSerializer,
        responses={201: ClinicSettingsSerializer, **ERRORS},
    ),
)
class ClinicSettingsViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Protocol defaults and scoring weights, versioned; the newest applies."""

    serializer_class = ClinicSettingsSerializer
    queryset = ClinicSettings.objects.none()
    filterset_class = None
    action_perms = {"list": ["clinic.view_clinicsettings"], "create": ["clinic.add_clinicsettings"]}

    def get_queryset(self):
        user = self.request.user
        rows = ClinicSettings.objects.order_by("clinic_id", "-version")
        if user.is_superuser:
            return rows
        if user.clinic_id is None:
            return rows.none()
        return rows.filter(clinic_id=user.clinic_id)

    def create(self, request):
        user = request.user
        body = request.data if isinstance(request.data, dict) else {}
        if user.is_superuser:
            raw = str(body.get("clinic", ""))
            clinic = (
                Clinic.objects.filter(pk=raw).first() if raw.isdigit() and len(raw) < 19 else None
            )
            if clinic is None:
                raise exceptions.ValidationError({"clinic": ["Name the clinic (its id)."]})
        elif user.clinic_id is None:
            raise exceptions.PermissionDenied("You belong to no clinic.")
        else:
            clinic = user.clinic
        weights = body.get("scoring_weights")
        if weights is not None and not isinstance(weights, dict):
            raise exceptions.ValidationError({"scoring_weights": ["Expected an object or null."]})
        flat = {k: v for k, v in body.items() if k in ClinicSettingsForm.SETTINGS_FIELDS}
        flat |= ClinicSettingsForm.weights_initial(weights)
        values = cleaned(ClinicSettingsForm(form_data(flat)))
        if "channel_map" in body:
            problems = channel_map_problems(body["channel_map"])
            if problems:
                raise exceptions.ValidationError({"channel_map": problems})
            values["channel_map"] = {
                str(k).strip(): v.strip() for k, v in body["channel_map"].items()
            }
        row = clinic_settings_create(clinic=clinic, values=values, user=user)
        return Response(self.get_serializer(row).data, status=status.HTTP_201_CREATED)
