"""Patient endpoints: records, MVC calibrations and protocol targets (/api/v1/patients/).

Thin like the pages: the lookups are ``patients.selectors`` (404 out of scope, then 403), the
writes ``patients.services`` after the pages' own forms validated the body. Researchers get
the pseudonymised view: identity fields are null (``clinic.access.can_see_identity``).
"""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.forms.models import model_to_dict
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from analysis import exports, fhir
from clinic.access import require_perm
from clinic.api.base import AuditedMixin, IgnoreClientContentNegotiation
from clinic.api.errors import ERRORS
from clinic.api.forms import cleaned, form_data
from clinic.audit import Action
from clinic.models import PROTOCOL_FIELDS
from patients import forms, selectors, services
from patients.api_downloads import (
    RETRY_AFTER_S,
    VARIANT_PARAMETER,
    ProgressPendingSerializer,
    json_download,
    report_variant,
)
from patients.filters import PatientFilter
from patients.models import MvcCalibration, Patient
from patients.serializers import (
    MvcCalibrationSerializer,
    MvcEntrySerializer,
    MvcMeasureSerializer,
    PatientPatchSerializer,
    PatientSerializer,
    PatientWriteSerializer,
    ProtocolSerializer,
    ProtocolWriteSerializer,
    VoidSerializer,
    protocol_document,
)
from reports import services as report_services
from reports.tasks import render_progress_report
from reports.views import BadRange, date_range, pdf_response


class PatientApiFilter(PatientFilter):
    """The patient list's own filters (search, active, therapist, voided) plus ordering."""

    ordering = django_filters.OrderingFilter(
        fields=(("code", "code"), ("created_at", "created_at"), ("id", "id"))
    )

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None):
        super().__init__(data, queryset=queryset, prefix=prefix, user=request.user)


def _patient_form_base(patient: Patient) -> dict:
    """The patient's current values as form data, under a PATCH's fields."""
    values = model_to_dict(patient, fields=forms.PatientForm.Meta.fields)
    out = {}
    for name, value in values.items():
        if name == "therapists":
            out[name] = [str(t.pk) for t in value]
        elif value is None:
            out[name] = ""
        elif isinstance(value, bool):
            out[name] = "true" if value else ""
        else:
            out[name] = str(value.isoformat() if hasattr(value, "isoformat") else value)
    return out


@extend_schema_view(
    list=extend_schema(
        summary="Patients you may see", responses={200: PatientSerializer, **ERRORS}
    ),
)
class PatientViewSet(AuditedMixin, mixins.ListModelMixin, viewsets.GenericViewSet):
    serializer_class = PatientSerializer
    audit_model = Patient
    audit_actions = {
        "void": Action.VOID,
        "progress_report": Action.DOWNLOAD,
        "fhir": Action.EXPORT,
        "export": Action.EXPORT,
    }
    queryset = Patient.objects.none()  # the model for permissions and the schema
    filterset_class = PatientApiFilter
    http_method_names = ["get", "post", "put", "patch", "head", "options"]
    action_perms = {
        "retrieve": ["patients.view_patient"],
        "partial_update": ["patients.change_patient"],
        "void": ["patients.void_patient"],
        "calibrations": ["patients.view_mvccalibration"],
        "protocol": ["patients.view_patientprotocol"],
    }

    def get_queryset(self):
        return selectors.patients_listed(self.request.user)

    @extend_schema(summary="One patient", responses={200: PatientSerializer, **ERRORS})
    def retrieve(self, request, pk=None):
        return self._out(selectors.patient_for(request.user, pk, perm="patients.view_patient"))

    @extend_schema(
        summary="Create a patient",
        request=PatientWriteSerializer,
        responses={201: PatientSerializer, **ERRORS},
    )
    def create(self, request):
        # Absent fields take the model's defaults (a form would read them as blank or false).
        body = form_data(request.data, multi={"therapists"}, base=_patient_form_base(Patient()))
        form = forms.PatientForm(body, user=request.user)
        data = cleaned(form)
        patient = services.patient_create(
            by=request.user, patient=form.save(commit=False), therapists=data.get("therapists")
        )
        return self._out(patient, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a patient (only the fields given)",
        request=PatientPatchSerializer,
        responses={200: PatientSerializer, **ERRORS},
    )
    def partial_update(self, request, pk=None):
        patient = selectors.patient_for(
            request.user, pk, perm="patients.change_patient", active_only=True
        )
        data = form_data(request.data, multi={"therapists"}, base=_patient_form_base(patient))
        form = forms.PatientForm(data, instance=patient, user=request.user)
        values = cleaned(form)
        services.patient_update(
            by=request.user,
            patient=form.save(commit=False),
            therapists=values.get("therapists") if "therapists" in form.fields else None,
        )
        return self._out(selectors.patient_for(request.user, pk))

    @extend_schema(
        summary="Void a patient (with a reason)",
        request=VoidSerializer,
        responses={200: PatientSerializer, **ERRORS},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        patient = selectors.patient_for(
            request.user, pk, perm="patients.void_patient", active_only=True
        )
        reason = cleaned(forms.VoidForm(form_data(request.data)))["reason"]
        return self._out(services.patient_void(by=request.user, patient=patient, reason=reason))

    @extend_schema(
        methods=["GET"],
        summary="MVC calibrations of a patient, newest first",
        responses={200: MvcCalibrationSerializer(many=True), **ERRORS},
    )
    @extend_schema(
        methods=["POST"],
        summary="Add an MVC calibration: a value (JSON) or measured from a recording (multipart)",
        request={
            "application/json": MvcEntrySerializer,
            "multipart/form-data": MvcMeasureSerializer,
        },
        responses={201: MvcCalibrationSerializer, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=[JSONParser, MultiPartParser, FormParser],
        pagination_class=None,
        filterset_class=None,
    )
    def calibrations(self, request, pk=None):
        patient = selectors.patient_for(request.user, pk, perm="patients.view_mvccalibration")
        if request.method == "GET":
            rows = MvcCalibration.objects.filter(patient=patient).select_related("created_by")
            rows = rows.order_by("side", "muscle", "-created_at", "-pk")
            return Response(
                MvcCalibrationSerializer(
                    rows, many=True, context=self.get_serializer_context()
                ).data
            )
        require_perm(request.user, "patients.add_mvccalibration")
        if "file" in request.data:
            form = forms.MvcUploadForm(form_data(request.data), request.data)
            data = cleaned(form)
            row = services.mvc_calibration_measure(
                patient=patient,
                muscle=data["muscle"],
                side=data["side"],
                channel=data["channel"],
                uploaded_file=data["file"],
                user=request.user,
            )
        else:
            form = forms.MvcEntryForm(form_data(request.data))
            data = cleaned(form)
            row = services.mvc_calibration_enter(
                patient=patient,
                muscle=data["muscle"],
                side=data["side"],
                value_v=form.value_v,
                notes=data["notes"],
                user=request.user,
            )
        context = self.get_serializer_context()
        return Response(MvcCalibrationSerializer(row, context=context).data, status=201)

    @extend_schema(
        methods=["GET"],
        summary="The patient's protocol targets",
        responses={200: ProtocolSerializer, **ERRORS},
    )
    @extend_schema(
        methods=["PUT"],
        summary="Set the patient's protocol overrides (null = the clinic default)",
        request=ProtocolWriteSerializer,
        responses={200: ProtocolSerializer, **ERRORS},
    )
    @action(detail=True, methods=["get", "put"], pagination_class=None, filterset_class=None)
    def protocol(self, request, pk=None):
        patient = selectors.patient_for(request.user, pk, perm="patients.view_patientprotocol")
        if request.method == "PUT":
            require_perm(request.user, "patients.change_patientprotocol")
            body = request.data
            if not isinstance(body, dict):
                body = {}
            weights = body.get("scoring_weights")
            if weights is not None and not isinstance(weights, dict):
                raise serializers.ValidationError(
                    {"scoring_weights": ["Expected an object or null."]}
                )
            flat = {k: v for k, v in body.items() if k in PROTOCOL_FIELDS}
            flat |= forms.PatientProtocolForm.weights_initial(weights)
            form = forms.PatientProtocolForm(form_data(flat))
            services.patient_protocol_update(
                patient=patient, values=cleaned(form), user=request.user
            )
        return Response(protocol_document(patient))

    @extend_schema(
        summary="The patient's progress report (PDF); 202 while a worker renders a big one",
        parameters=[
            OpenApiParameter("from", OpenApiTypes.DATE, required=False),
            OpenApiParameter("to", OpenApiTypes.DATE, required=False),
            VARIANT_PARAMETER,
        ],
        responses={
            (200, "application/pdf"): OpenApiTypes.BINARY,
            202: OpenApiResponse(
                ProgressPendingSerializer,
                description="Being rendered: ask again after Retry-After seconds.",
            ),
            **ERRORS,
        },
    )
    @action(
        detail=True,
        methods=["get"],
        url_path="progress-report",
        url_name="progress-report",
        pagination_class=None,
        filterset_class=None,
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def progress_report(self, request, pk=None, format=None):  # noqa: A002
        """Like the page: the PDF when cached or small enough to render now, else a worker
        renders it (once) and this answers 202 until it is cached."""
        user = request.user
        patient = selectors.patient_for(user, pk, perm=report_services.PATIENT_PERM)
        try:
            date_from, date_to = date_range(request)
        except BadRange as exc:
            field = "to" if str(exc).startswith("to") else "from"
            raise exceptions.ValidationError({field: [str(exc)]}) from exc
        args = {
            "date_from": date_from,
            "date_to": date_to,
            "variant": report_services.variant_for(user, report_variant(request)),
        }
        self.audit(obj=patient)
        cached = report_services.cached_progress_report(user, patient, **args)
        if cached is not None:
            return pdf_response(cached)
        sessions = report_services.progress_sessions_in_range(
            patient, date_from=date_from, date_to=date_to
        )
        if sessions <= settings.REPORT_INLINE_MAX_SESSIONS:
            return pdf_response(report_services.progress_report_pdf(user, patient, **args))
        if report_services.progress_job_claim(user, patient, **args):
            render_progress_report.delay(
                user_id=user.pk,
                patient_id=patient.pk,
                date_from=date_from.isoformat() if date_from else None,
                date_to=date_to.isoformat() if date_to else None,
                variant=args["variant"],
                job_key=report_services.progress_job_key(user, patient, **args),
            )
        self.audit(obj=patient, action=Action.VIEW)  # the count was shown, not the report
        return Response(
            {
                "detail": "The report is being rendered; ask again after Retry-After seconds.",
                "state": report_services.progress_job_state(user, patient, **args),
                "sessions": sessions,
            },
            status=status.HTTP_202_ACCEPTED,
            headers={"Retry-After": str(RETRY_AFTER_S)},
        )

    @extend_schema(
        summary="The patient's FHIR R4 Bundle (researchers: pseudonymised)",
        responses={(200, "application/fhir+json"): OpenApiTypes.OBJECT, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filterset_class=None,
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def fhir(self, request, pk=None, format=None):  # noqa: A002
        bundle = fhir.patient_bundle(request.user, pk)
        return json_download(bundle, content_type="application/fhir+json")

    @extend_schema(
        summary="The patient's whole export as JSON (sessions, recordings, channels, contractions)",
        responses={200: OpenApiTypes.OBJECT, **ERRORS},
    )
    @action(
        detail=True,
        methods=["get"],
        pagination_class=None,
        filterset_class=None,
        content_negotiation_class=IgnoreClientContentNegotiation,
    )
    def export(self, request, pk=None, format=None):  # noqa: A002
        document = exports.patient_export_document(request.user, pk)
        return json_download(document, content_type="application/json")
