"""The patient access report (GDPR Art. 15): who read or changed the record, when, what, why.

For managers (``clinic.view_auditentry``); out of scope is 404 like every patient page. The
page lists the entries; ``?format=<name>`` downloads them through ``ACCESS_REPORT_FORMATS``: CSV
(recorded as an export) and PDF (recorded as a download).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils import timezone

from clinic.audit import Action, entries_for_patient, report_rows
from clinic.web import audit_note, audited
from patients import selectors
from patients.models import Patient
from reports.render import render_pdf

ACCESS_REPORT_PERM = "clinic.view_auditentry"
PAGE_SIZE = 100
CSV_COLUMNS = ["time (UTC)", "who", "email", "action", "object", "page", "purpose", "address"]


def _cell(value) -> str:
    """A spreadsheet must not run a name such as ``=HYPERLINK(..)`` as a formula."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def access_report_csv(request, *, patient, card, rows) -> HttpResponse:
    """Every entry of the report as CSV, newest first."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="access-report-{card.code}.csv"'
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            _cell(value)
            for value in (
                row["time"].isoformat(),
                row["who"],
                row["email"],
                row["action"],
                row["object"],
                row["path"],
                row["purpose"],
                row["address"],
            )
        )
    return response


def access_report_pdf(request, *, patient, card, rows) -> HttpResponse:
    """Every entry of the report as a PDF (the reports' one renderer: PDF/A-3b, bundled font),
    newest first, times in UTC."""
    pdf = render_pdf(
        "patients/access_report_pdf.html",
        {
            "clinic": patient.clinic,
            "card": card,
            "rows": rows,
            "identity": card.identity,
            "requested_by": request.user.get_full_name() or request.user.get_username(),
            "generated_at": timezone.now(),
        },
    )
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="access-report-{card.code}.pdf"'
    return response


@dataclass(frozen=True)
class ReportFormat:
    """A download of the report: its renderer (request, patient, card, every row -> response)
    and the audit action it is recorded as."""

    render: Callable[..., HttpResponse]
    action: str


# The downloads of the report, by ``?format=``.
ACCESS_REPORT_FORMATS = {
    "csv": ReportFormat(access_report_csv, Action.EXPORT),
    "pdf": ReportFormat(access_report_pdf, Action.DOWNLOAD),
}


@login_required
@audited(Patient)
def patient_access_report(request, pk):
    patient = selectors.patient_for(request.user, pk, perm=ACCESS_REPORT_PERM)
    card = selectors.card_for(request.user, patient)
    entries = entries_for_patient(patient.pk)
    fmt = request.GET.get("format")
    if fmt:
        download = ACCESS_REPORT_FORMATS.get(fmt)
        if download is None:
            raise Http404("No such format.")
        audit_note(request, action=download.action, obj=patient)
        return download.render(request, patient=patient, card=card, rows=report_rows(entries))
    page = Paginator(entries, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "patients/access_report.html",
        {
            "patient": patient,
            "card": card,
            "page": page,
            "rows": report_rows(page.object_list),
            "formats": sorted(ACCESS_REPORT_FORMATS),
        },
    )
