"""POST /api/v1/analyze/: a C3D file in, the numeric core's document out, nothing stored; and
GET /api/v1/research-export/, the researchers' pseudonymised dataset (``analysis.research``)."""

from __future__ import annotations

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.throttling import ScopedRateThrottle, UserRateThrottle
from rest_framework.views import APIView

from analysis import core, research
from analysis.pipeline.stateless import analysis_stateless
from clinic.access import require_perm
from clinic.api.base import AuditedMixin, IgnoreClientContentNegotiation
from clinic.api.errors import ERROR, ERRORS
from clinic.audit import Action
from clinic.web import streaming_download
from sessions.uploads import UploadRefused


class AnalyzeSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="One C3D recording; it is deleted after the analysis.")


class AnalyzeView(APIView):
    """The same analysis and JSON document as the command-line tool (with envelopes)."""

    parser_classes = [MultiPartParser]
    throttle_classes = [UserRateThrottle, ScopedRateThrottle]
    throttle_scope = "analyze"
    read_only_post = True  # stores nothing: researchers may use it like the page

    @extend_schema(
        summary="Analyse a C3D file without storing it (throttled per user)",
        request={"multipart/form-data": AnalyzeSerializer},
        responses={
            200: OpenApiResponse(OpenApiTypes.OBJECT, description="The numeric core's document."),
            413: OpenApiResponse(ERROR.response, description="Above the upload size limit."),
            **ERRORS,
        },
    )
    def post(self, request):
        require_perm(request.user, "analysis.view_recordinganalysis")
        uploaded = request.FILES.get("file")
        if uploaded is None:
            raise exceptions.ValidationError({"file": ["Attach one C3D file as 'file'."]})
        try:
            document = analysis_stateless(uploaded_file=uploaded)
        except UploadRefused as exc:
            message = " ".join(exc.messages)
            if exc.code == "too_large":
                return Response(
                    {"detail": message, "code": "too_large", "errors": {"file": [message]}},
                    status=413,
                )
            raise exceptions.ValidationError({"file": [message]}) from exc
        except core.InvalidRecording as exc:
            raise exceptions.ValidationError({"file": [f"{uploaded.name}: {exc}"]}) from exc
        return Response(document)


class ResearchExportView(AuditedMixin, APIView):
    """GET /api/v1/research-export/: the clinic's pseudonymised dataset (researchers)."""

    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        summary="The clinic-wide pseudonymised research dataset as CSV (streamed)",
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    def get(self, request):
        lines = research.research_export_csv(request.user)  # 403 before the first line
        shown = research.research_patients(request.user).values_list("pk", flat=True)
        self.audit(action=Action.EXPORT, patients=list(shown), object_type="patients.patient")
        return streaming_download(
            request._request,
            lines,
            filename=f"research-{timezone.localdate():%Y%m%d}.csv",
            content_type="text/csv; charset=utf-8",
        )
