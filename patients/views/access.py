"""The patient access report (GDPR Art. 15): who read or changed the record, when, what, why.

For managers (``clinic.view_auditentry``); out of scope is 404 like every patient page. The
page lists the entries; ``?format=<name>`` downloads them through ``ACCESS_REPORT_FORMATS``.
"""

from __future__ import annotations

import csv

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import render

from clinic.audit import Action, entries_for_patient, report_rows
from clinic.web import audit_note, audited
from patients import selectors
from patients.models import Patient

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


# The downloads of the report, by ``?format=``: each renderer takes the request, the patient, its
# card and every row, and returns the response. A PDF is one more line here:
# ``"pdf": access_report_pdf`` (rendered with the reports app's renderer).
ACCESS_REPORT_FORMATS = {"csv": access_report_csv}


@login_required
@audited(Patient)
def patient_access_report(request, pk):
    patient = selectors.patient_for(request.user, pk, perm=ACCESS_REPORT_PERM)
    card = selectors.card_for(request.user, patient)
    entries = entries_for_patient(patient.pk)
    fmt = request.GET.get("format")
    if fmt:
        renderer = ACCESS_REPORT_FORMATS.get(fmt)
        if renderer is None:
            raise Http404("No such format.")
        audit_note(request, action=Action.EXPORT, obj=patient)
        return renderer(request, patient=patient, card=card, rows=report_rows(entries))
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
