"""Report downloads: thin views over ``reports.services`` (the access policy of the pages).

Out of scope answers 404 (``sessions.selectors.session_for`` / ``patients.selectors.patient_for``),
a missing permission 403; researchers always get the pseudonymised variant.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest
from django.views.decorators.http import require_GET

from reports import selectors as report_selectors
from reports import services
from sessions.selectors import session_for


def _variant(request) -> str | None:
    variant = request.GET.get("variant")
    if variant is not None and variant not in report_selectors.VARIANTS:
        return ""
    return variant


def pdf_response(report: services.ReportFile) -> HttpResponse:
    response = HttpResponse(report.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report.filename}"'
    response["X-Report-Cache"] = "hit" if report.cached else "miss"
    return response


@login_required
@require_GET
def session_report(request, pk):
    session = session_for(request.user, pk, perm=services.SESSION_PERM)
    variant = _variant(request)
    if variant == "":
        return HttpResponseBadRequest("variant must be identified or pseudonymised.")
    return pdf_response(services.session_report_pdf(request.user, session, variant=variant))
