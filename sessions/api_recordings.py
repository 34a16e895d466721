"""Recording endpoints (/api/v1/recordings/; uploads are the sessions' ``recordings`` action in
``sessions.api``, with the serializers here).

Lookups are ``sessions.selectors`` (404 out of scope or hidden by a void, then 403); the file
needs identity access (``can_download_recordings``); re-analysis and moves go through the
pipeline (``recording_reanalyse``, ``recording_move``), voids through ``sessions.services``.
"""

from __future__ import annotations

import django_filters
from auditlog.signals import accessed
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import FileResponse
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from analysis.pipeline.queue import recording_move as pipeline_recording_move
from analysis.pipeline.queue import recording_reanalyse
from analysis.selectors import recording_document
from clinic.access import can_download_recordings, can_see_identity
from clinic.api.base import AuditedMixin, StaticFilterSet
from clinic.api.errors import ERROR, ERRORS, django_validation_detail
from clinic.api.fastread import FastReadMixin
from clinic.api.forms import cleaned, form_data
from clinic.audit import Action
from patients.forms import VoidForm
from patients.serializers import VoidSerializer
from sessions import selectors, services
from sessions.forms import RecordingMoveForm
from sessions.models import Recording


class RecordingSerializer(FastReadMixin, serializers.ModelSerializer):
    name = serializers.SerializerMethodField()
    url = serializers.SerializerMethodField()

    class Meta:
        model = Recording
        fields = [
            "id",
            "session",
            "name",
            "source",
            "status",
            "failure_reason",
            "size_bytes",
            "created_at",
            "processed_at",
            "url",
        ]
        read_only_fields = fields

    def get_name(self, recording) -> str:
        """The file name for clinical staff; "Recording <id>" for pseudonymised roles."""
        identity = self.context.get("identity")
        if identity is None:
            identity = self.context["identity"] = can_see_identity(self.context["request"].user)
        return selectors.recording_name(recording, identity=identity)

    def get_url(self, recording) -> str:
        return self.context["request"].build_absolute_uri(
            reverse("api:recording-detail", args=[recording.pk])
        )


class RecordingDetailSerializer(RecordingSerializer):
    results = serializers.SerializerMethodField()

    class Meta(RecordingSerializer.Meta):
        fields = [*RecordingSerializer.Meta.fields, "results"]
        read_only_fields = fields

    def get_results(self, recording) -> dict | None:
        """The numeric core's JSON document when the analysis is done (envelopes left out)."""
        if recording.status != Recording.Status.DONE:
            return None
        self.get_name(recording)  # sets context["identity"]
        return recording_document(recording, identity=self.context["identity"])


class RecordingMoveSerializer(serializers.Serializer):
    to_session = serializers.IntegerField(
        help_text="The session to file the recording under (this or another patient in scope)."
    )


class UploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="One C3D recording (one game round).")


class RecordingFilter(StaticFilterSet):
    session = django_filters.NumberFilter(field_name="session_id")
    status = django_filters.ChoiceFilter(choices=Recording.Status.choices)
    ordering = django_filters.OrderingFilter(fields=(("created_at", "created_at"), ("id", "id")))

    class Meta:
        model = Recording
        fields: list[str] = []


@extend_schema_view(
    list=extend_schema(
        summary="Recordings you may see (filter by session)",
        responses={200: RecordingSerializer, **ERRORS},
    ),
)
class RecordingViewSet(AuditedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = RecordingSerializer
    audit_model = Recording
    audit_actions = {
        "file": Action.DOWNLOAD,
        "reanalyse": Action.CHANGE,
        "void": Action.VOID,
        "move": Action.CHANGE,
    }
    queryset = Recording.objects.none()
    filterset_class = RecordingFilter
    action_perms = {
        "retrieve": ["therapy_sessions.view_recording"],
        "file": ["therapy_sessions.download_recording"],
        "reanalyse": ["therapy_sessions.change_recording"],
        "void": ["therapy_sessions.void_recording"],
        "move": ["therapy_sessions.void_recording"],
    }

    def get_queryset(self):
        return selectors.recordings_listed(self.request.user)

    @extend_schema(
        summary="One recording: status, and when done the numeric core's results",
        responses={200: RecordingDetailSerializer, **ERRORS},
    )
    def retrieve(self, request, pk=None):
        recording = selectors.recording_for(
            request.user, pk, perm="therapy_sessions.view_recording", people=False
        )
        self.audit(obj=recording)  # its patient is on the session already loaded: no query
        context = self.get_serializer_context()
        return Response(RecordingDetailSerializer(recording, context=context).data)

    @extend_schema(
        summary="The original C3D file (needs identity access: it names the player)",
        responses={
            (200, "application/octet-stream"): OpenApiTypes.BINARY,
            **ERRORS,
        },
    )
    @action(detail=True, methods=["get"], filterset_class=None)
    def file(self, request, pk=None):
        recording = selectors.recording_for(
            request.user, pk, perm="therapy_sessions.download_recording"
        )
        if not can_download_recordings(request.user):
            raise exceptions.PermissionDenied("Identifiable files are not available to your role.")
        try:
            handle = recording.file.open("rb")
        except (FileNotFoundError, ValueError) as exc:
            raise exceptions.NotFound("The file of this recording is missing.") from exc
        accessed.send(sender=Recording, instance=recording)
        return FileResponse(
            handle,
            as_attachment=True,
            filename=recording.original_name or f"recording-{recording.pk}.c3d",
            content_type="application/octet-stream",
        )

    @extend_schema(
        summary="Analyse a finished recording again with the current settings",
        request=None,
        responses={
            202: RecordingSerializer,
            409: OpenApiResponse(ERROR.response, description="Still pending or processing."),
            **ERRORS,
        },
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def reanalyse(self, request, pk=None):
        recording = selectors.recording_for(
            request.user, pk, perm="therapy_sessions.view_recording"
        )
        if not recording_reanalyse(recording=recording, user=request.user):
            return Response(
                {"detail": "The recording is still pending or processing.", "code": "conflict"},
                status=status.HTTP_409_CONFLICT,
            )
        context = self.get_serializer_context()
        return Response(
            RecordingSerializer(recording, context=context).data, status=status.HTTP_202_ACCEPTED
        )

    @extend_schema(
        summary="Void a wrong or failed recording with a reason (kept, left out of every result)",
        request=VoidSerializer,
        responses={200: RecordingSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def void(self, request, pk=None):
        recording = selectors.recording_for(
            request.user, pk, perm="therapy_sessions.void_recording", active_only=True
        )
        reason = cleaned(VoidForm(form_data(request.data)))["reason"]
        try:
            services.recording_void(by=request.user, recording=recording, reason=reason)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(django_validation_detail(exc)) from exc
        return self._out(recording)

    @extend_schema(
        summary="Move a recording to another session in scope (another patient: analysed again)",
        request=RecordingMoveSerializer,
        responses={200: RecordingSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def move(self, request, pk=None):
        recording = selectors.recording_for(
            request.user, pk, perm="therapy_sessions.void_recording", active_only=True
        )
        from_patient = recording.session.patient_id
        form = RecordingMoveForm(
            form_data(request.data),
            recording=recording,
            sessions=selectors.sessions_listed(request.user),
        )
        to_session = cleaned(form)["to_session"]
        try:
            pipeline_recording_move(by=request.user, recording=recording, to_session=to_session)
        except DjangoValidationError as exc:
            raise exceptions.ValidationError(django_validation_detail(exc)) from exc
        recording.refresh_from_db()
        self.audit(obj=recording, patients=[from_patient, to_session.patient_id])
        return Response(self.get_serializer(recording).data)
