"""A patient's exports as page downloads (CSV tables, JSON, FHIR R4 Bundle).

Thin: the documents are built by ``analysis.exports`` and ``analysis.fhir``, which look the
patient up through the access policy first (out of scope 404, missing permission 403).
"""

import json

from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from analysis import exports, fhir
from clinic.audit import Action
from clinic.web import audited, streaming_download
from patients.models import Patient


def _attachment(body: str, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(body, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@login_required
@require_GET
@audited(Patient, action=Action.EXPORT)
def patient_export_csv(request, pk):
    """One table of the patient's export (``?table=sessions|recordings|channels|contractions``)."""
    table = request.GET.get("table", "sessions")
    try:
        lines = exports.patient_export_csv(request.user, pk, table)
    except exports.UnknownTable as exc:
        return HttpResponseBadRequest(str(exc), content_type="text/plain; charset=utf-8")
    return streaming_download(
        request,
        lines,
        filename=f"patient-{pk}-{table}.csv",
        content_type="text/csv; charset=utf-8",
    )


@login_required
@require_GET
@audited(Patient, action=Action.EXPORT)
def patient_export_json(request, pk):
    document = exports.patient_export_document(request.user, pk)
    return _attachment(
        json.dumps(document, cls=DjangoJSONEncoder, allow_nan=False),
        filename=f"patient-{pk}.json",
        content_type="application/json",
    )


@login_required
@require_GET
@audited(Patient, action=Action.EXPORT)
def patient_fhir(request, pk):
    bundle = fhir.patient_bundle(request.user, pk)
    return _attachment(
        json.dumps(bundle, allow_nan=False),
        filename=f"patient-{pk}-fhir.json",
        content_type="application/fhir+json",
    )
