"""Report downloads: thin views over ``reports.services`` (the access policy of the pages).

Out of scope answers 404 (``sessions.selectors.session_for`` / ``patients.selectors.patient_for``),
a missing permission 403; researchers always get the pseudonymised variant.
"""

from __future__ import annotations

from datetime import date

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.http import require_GET

from clinic.audit import Action
from clinic.web import audit_note, audited
from patients.models import Patient
from patients.selectors import card_for, patient_for
from reports import selectors as report_selectors
from reports import services
from reports.tasks import render_progress_report
from sessions.models import TherapySession
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
@audited(TherapySession, action=Action.DOWNLOAD)
def session_report(request, pk):
    session = session_for(request.user, pk, perm=services.SESSION_PERM)
    variant = _variant(request)
    if variant == "":
        return HttpResponseBadRequest("variant must be identified or pseudonymised.")
    return pdf_response(services.session_report_pdf(request.user, session, variant=variant))


class BadRange(ValueError):
    pass


def date_range(request) -> tuple[date | None, date | None]:
    """``from`` and ``to`` (YYYY-MM-DD, both optional, from <= to), or BadRange."""
    days = []
    for name in ("from", "to"):
        value = request.GET.get(name, "").strip()
        if not value:
            days.append(None)
            continue
        try:
            if len(value) != 10:
                raise ValueError(value)
            days.append(date.fromisoformat(value))
        except ValueError:
            raise BadRange(f"{name} must be a date as YYYY-MM-DD.") from None
    if days[0] and days[1] and days[0] > days[1]:
        raise BadRange("from must not be after to.")
    return days[0], days[1]


def _progress_request(request, pk):
    patient = patient_for(request.user, pk, perm=services.PATIENT_PERM)
    date_from, date_to = date_range(request)
    variant = _variant(request)
    if variant == "":
        raise BadRange("variant must be identified or pseudonymised.")
    variant = services.variant_for(request.user, variant)
    return patient, {"date_from": date_from, "date_to": date_to, "variant": variant}


def _query(request) -> str:
    keep = {k: request.GET[k] for k in ("from", "to", "variant") if request.GET.get(k)}
    return f"?{urlencode(keep)}" if keep else ""


@login_required
@require_GET
@audited(Patient, action=Action.DOWNLOAD)
def progress_report(request, pk):
    """The PDF when it is cached or small enough to render now; otherwise a worker renders it
    and this answers 202 with a page that waits for it, then offers the download."""
    try:
        patient, args = _progress_request(request, pk)
    except BadRange as exc:
        return HttpResponseBadRequest(str(exc))
    user = request.user
    cached = services.cached_progress_report(user, patient, **args)
    if cached is not None:
        return pdf_response(cached)
    sessions = services.progress_sessions_in_range(
        patient, date_from=args["date_from"], date_to=args["date_to"]
    )
    if sessions <= settings.REPORT_INLINE_MAX_SESSIONS:
        return pdf_response(services.progress_report_pdf(user, patient, **args))
    if services.progress_job_claim(user, patient, **args):
        render_progress_report.delay(
            user_id=user.pk,
            patient_id=patient.pk,
            date_from=args["date_from"].isoformat() if args["date_from"] else None,
            date_to=args["date_to"].isoformat() if args["date_to"] else None,
            variant=args["variant"],
            job_key=services.progress_job_key(user, patient, **args),
        )
    query = _query(request)
    audit_note(request, action=Action.VIEW)  # the waiting page shows the patient, no report yet
    return render(
        request,
        "reports/progress_pending.html",
        {
            "patient": patient,
            "card": card_for(user, patient),
            "sessions": sessions,
            "date_from": args["date_from"],
            "date_to": args["date_to"],
            "status_url": reverse("patients:progress-report-status", args=[patient.pk]) + query,
            "download_url": reverse("patients:progress-report", args=[patient.pk]) + query,
        },
        status=202,
    )


@login_required
@require_GET
def progress_report_status(request, pk):
    """``{"state": "pending" | "done" | "failed" | null}`` of a progress report being rendered."""
    try:
        patient, args = _progress_request(request, pk)
    except BadRange as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    state = services.progress_job_state(request.user, patient, **args)
    return JsonResponse({"state": state})
