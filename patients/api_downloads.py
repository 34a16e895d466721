"""What the API's downloads share (the report ``variant`` parameter, JSON documents, the
progress report's 202) and the patient export's CSV tables
(/api/v1/patients/{id}/export.csv)."""

from __future__ import annotations

import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import exceptions, serializers
from rest_framework.views import APIView

from analysis import exports
from clinic.api.base import AuditedMixin, IgnoreClientContentNegotiation
from clinic.api.errors import ERRORS
from clinic.audit import Action
from clinic.web import streaming_download
from patients.models import Patient
from reports import selectors as report_selectors

VARIANT_PARAMETER = OpenApiParameter(
    "variant",
    str,
    enum=list(report_selectors.VARIANTS),
    required=False,
    description="identified (default) or pseudonymised; researchers always get pseudonymised.",
)
RETRY_AFTER_S = 5


def report_variant(request) -> str | None:
    """The ``variant`` query parameter, or a 400 naming it."""
    variant = request.query_params.get("variant")
    if variant is not None and variant not in report_selectors.VARIANTS:
        raise exceptions.ValidationError(
            {"variant": [f"One of: {', '.join(report_selectors.VARIANTS)}."]}
        )
    return variant


def json_download(document, *, content_type: str) -> HttpResponse:
    return HttpResponse(
        json.dumps(document, cls=DjangoJSONEncoder, allow_nan=False), content_type=content_type
    )


ProgressPendingSerializer = inline_serializer(
    "ProgressReportPending",
    fields={
        "detail": serializers.CharField(),
        "state": serializers.CharField(allow_null=True),
        "sessions": serializers.IntegerField(),
    },
)


class PatientExportCsvView(AuditedMixin, APIView):
    """GET /api/v1/patients/{id}/export.csv?table=...: one table of the patient's export."""

    audit_model = Patient
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(
        summary="One table of the patient's export as CSV (streamed)",
        parameters=[
            OpenApiParameter("id", int, OpenApiParameter.PATH, description="The patient."),
            OpenApiParameter(
                "table", str, enum=list(exports.TABLES), required=False, default="sessions"
            ),
        ],
        responses={(200, "text/csv"): OpenApiTypes.STR, **ERRORS},
    )
    def get(self, request, pk):
        table = request.query_params.get("table", "sessions")
        try:
            lines = exports.patient_export_csv(request.user, pk, table)
        except exports.UnknownTable as exc:
            raise exceptions.ValidationError({"table": [str(exc)]}) from exc
        self.audit(action=Action.EXPORT)
        return streaming_download(
            request._request,
            lines,
            filename=f"patient-{pk}-{table}.csv",
            content_type="text/csv; charset=utf-8",
        )
