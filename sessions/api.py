"""Session endpoints (/api/v1/sessions/); the recordings' are in ``sessions.api_recordings``.

Lookups are ``sessions.selectors`` (404 out of scope or hidden by a void, then 403); writes go
through the session page's form and ``sessions.services``; uploads through
``sessions.uploads.recording_upload`` (the same size, header and duplicate checks as the page).
"""

from __future__ import annotations

import datetime as dt

import django_filters
from django.forms.models import model_to_dict
from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from clinic.api.base import AuditedMixin, IgnoreClientContentNegotiation, StaticFilterSet
from clinic.api.errors import ERROR, ERRORS
from clinic.api.forms import cleaned, form_data
from clinic.audit import Action
from patients.api_downloads import VARIANT_PARAMETER, report_variant
from patients.forms import VoidForm
from patients.models import Patient
from patients.selectors import patient_for
from patients.serializers import IdentityNulledSerializer, VoidSerializer
from reports import services as report_services
from reports.views import pdf_response
from sessions import selectors, services
from sessions.api_recordings import RecordingSerializer, UploadSerializer
from sessions.forms import TherapySessionForm
from sessions.models import Recording, TherapySession
from sessions.uploads import UploadRefused, recording_upload

UPLOAD_STATUS = {"too_large": 413, "duplicate": 409}


class TherapySessionSerializer(IdentityNulledSerializer):
    identity_fields = ("notes", "void_reason")
    notes = serializers.CharField(allow_null=True)
    void_reason = serializers.CharField(allow_null=True)
    bfr_pressure_pct_aop = serializers.DecimalField(
        max_digits=5, decimal_places=1, coerce_to_string=False, allow_null=True
    )
    is_voided = serializers.BooleanField()

    class Meta:
        model = TherapySession
        fields = [
            "id",
            "patient",
            "therapist",
            "started_at",
            "rpe",
            "bfr_pressure_pct_aop",
            "notes",
            "is_voided",
            "void_reason",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class TherapySessionWriteSerializer(serializers.Serializer):
    """A session's body (validated by the session page's form)."""

    patient = serializers.IntegerField(help_text="On create only.")
    started_at = serializers.DateTimeField(required=False)
    therapist = serializers.IntegerField(help_text="A therapist of the patient's clinic.")
    rpe = serializers.IntegerField(min_value=0, max_value=10, required=False, allow_null=True)
    bfr_pressure_pct_aop = serializers.DecimalField(
        max_digits=5, decimal_places=1, min_value=0, max_value=150, required=False, allow_null=True
    )
    notes = serializers.CharField(required=False, allow_blank=True)


class TherapySessionPatchSerializer(TherapySessionWriteSerializer):
    patient = None
    therapist = serializers.IntegerField(required=False)


class UtcDateTimeFilter(django_filters.IsoDateTimeFilter):
    """An ISO 8601 instant, compared in UTC: PostgreSQL refuses offsets beyond ±15:59."""

    def filter(self, qs, value):
        if value is not None:
            value = value.astimezone(dt.UTC)
        return super().filter(qs, value)


class SessionFilter(StaticFilterSet):
    patient = django_filters.NumberFilter(field_name="patient_id")
    therapist = django_filters.NumberFilter(field_name="therapist_id")
    started_after = UtcDateTimeFilter(field_name="started_at", lookup_expr="gte")
    started_before = UtcDateTimeFilter(field_name="started_at", lookup_expr="lt")
    ordering = django_filters.OrderingFilter(fields=(("started_at", "started_at"), ("id", "id")))

    class Meta:
        model = TherapySession
        fields: list[str] = []


def _session_form_base(session: TherapySession) -> dict:
    values = model_to_dict(session, fields=TherapySessionForm.Meta.fields)
    out = {}
    for name, value in values.items():
        if name == "started_at" and value is not None:
            out[name] = value.isoformat()
        else:
            out[name] = "" if value is None else str(value)
    return out


def _patient_of_body(user, data) -> Patient:
    """The body's patient: one the user may add sessions to (a 400 names the field)."""
    raw = data.get("patient") if hasattr(data, "get") else None
    if raw in (None, "") or isinstance(raw, bool | dict | list):
        raise exceptions.ValidationError({"patient": ["A patient id is required."]})
    try:
        return patient_for(user, raw, perm="therapy_sessions.add_therapysession", active_only=True)
    except Http404 as exc:  # not one of the user's patients (or void): nothing to say more
        raise exceptions.ValidationError({"patient": ["No such patient."]}) from exc


@extend_schema_view(
    list=extend_schema(
        summary="Sessions you may see, newest first",
        responses={200: TherapySessionSerializer, **ERRORS},
    ),
)
class TherapySessionViewSet(AuditedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = TherapySessionSerializer
    audit_model = TherapySession
    audit_actions = {"void": Action.VOID, "report": Action.DOWNLOAD}
    queryset = TherapySession.objects.none()
    filterset_class = SessionFilter
    http_method_names = ["get", "post", "patch", "head", "options"]
    action_perms = {
        "retrieve": ["therapy_sessions.view_therapysession"],
        "partial_update": ["therapy_sessions.change_therapysession"],
        "void": ["therapy_sessions.void_therapysession"],
        "recordings": ["therapy_sessions.add_recording"],
    }

    def get_queryset(self):
        return selectors.sessions_listed(self.request.user)

    @extend_schema(summary="One session", responses={200: TherapySessionSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return self._out(
            selectors.session_for(request.user, pk, perm="therapy_sessions.view_therapysession")
        )

    @extend_schema(
        summary="Create a session of a patient",
        request=TherapySessionWriteSerializer,
        responses={201: TherapySessionSerializer, **ERRORS},
    )
    def create(self, request):
        patient = _patient_of_body(request.user, request.data)
        # Absent fields take the page's defaults: now, and the user when they are a therapist.
        base = _session_form_base(TherapySession())
        base["therapist"] = str(
            TherapySessionForm(patient=patient, user=request.user).initial.get("therapist") or ""
        )
        body = form_data(request.data, base=base)
        body.pop("patient", None)
        form = TherapySessionForm(body, patient=patient, user=request.user)
        cleaned(form)
        session = services.session_create(by=request.user, session=form.save(commit=False))
        return self._out(session, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a session's time, therapist, notes, RPE or BFR pressure",
        request=TherapySessionPatchSerializer,
        responses={200: TherapySessionSerializer, **ERRORS},
    )
    def partial_update(self, request, pk=None):
        session = selectors.session_for(
            request.user, pk, perm="therapy_sessions.change_therapysession"
        )
        if session.is_voided:
            raise exceptions.NotFound()
        body = form_data(request.data, base=_session_form_base(session))
        body.pop("patient", None)
        form = TherapySessionForm(
            body, instance=session, patient=session.patient, user=request.user
        )
        cleaned(form)
        services.session_update(by=request.user, session=form.save(commit=False))
        return self._out(session)

    @extend_schema(
        summary="Void a session (with a reason)",
        request=VoidSerializer,
        responses={200: TherapySessionSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        session = selectors.session_for(
            request.user, pk, perm="therapy_sessions.void_therapysession"
        )
        if session.is_voided:
            raise exceptions.NotFound()
        reason = cleaned(VoidForm(form_data(request.data)))["reason"]
        return self._out(services.session_void(by=request.user, session=session, reason=reason))

    @extend_schema(
        summary="Upload a recording (C3D) to the session; its analysis is queued",
        request={"multipart/form-data": UploadSerializer},
        responses={
            202: RecordingSerializer,
            409: OpenApiResponse(ERROR.response, description="Already uploaded to this session."),
            413: OpenApiResponse(ERROR.response, description="Above the upload size limit."),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], parser_classes=[MultiPartParser], filterset_class=None)
    def recordings(self, request, pk=None):
        session = selectors.session_for(
            request.user, pk, perm="therapy_sessions.view_therapysession"
        )
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise exceptions.ValidationError({"file": ["Attach one C3D file as 'file'."]})
        try:
            recording = recording_upload(
                session=session,
                uploaded_file=uploaded,
                user=request.user,
                source=Recording.Source.API,
            )
        except UploadRefused as exc:
            code = exc.code or "invalid"
            message = " ".join(exc.messages)
            if code in UPLOAD_STATUS:
                return Response(
                    {"detail": message, "code": code, "errors": {"file": [message]}},
                    status=UPLOAD_STATUS[code],
                )
            raise exceptions.ValidationError({"file": [message]}) from exc
        self.audit(obj=recording)
        data = RecordingSerializer(recording, context=self.get_serializer_context()).data
        return Response(data, status=status.HTTP_202_ACCEPTED, headers={"Location": data["url"]})

    @extend_schema(
        summary="The session's PDF report (researchers always get the pseudonymised variant)",
        parameters=[VARIANT_PARAMETER],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        filterset_class=None,
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def report(self, request, pk=None, format=None):  # noqa: A002 (the router's suffix)
        session = selectors.session_for(request.user, pk, perm=report_services.SESSION_PERM)
        variant = report_variant(request)
        self.audit(obj=session)
        return pdf_response(
            report_services.session_report_pdf(request.user, session, variant=variant)
        )
