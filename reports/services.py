"""The reports as services: access, variant, cache, render. Views, the API and the export
command call these; none of them renders a report another way.

* :func:`session_report_pdf` - one session (``GET /sessions/<id>/report/``);
* :func:`progress_report_pdf` - one patient over a date range
  (``GET /patients/<id>/progress-report/``).

Researchers (no ``patients.view_identifying_data``) always get the pseudonymised variant; staff
who may see identity get the identified one unless they ask for the pseudonymised one. PDFs are
cached (Django's cache) under a digest of everything they depend on
(``reports.session_report.session_facts_key`` /
``reports.progress_report.progress_facts_key``): a change of any of them is a
new key, so a stale PDF is never served; entries expire after ``REPORT_CACHE_SECONDS``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date

from django.conf import settings
from django.core.cache import cache

from clinic.access import can_see_identity, require_object_access
from reports import selectors
from reports.progress_report import (
    progress_facts_key,
    progress_report_context,
    progress_report_data,
    session_days,
)
from reports.render import json_attachment, render_pdf
from reports.session_report import session_facts_key, session_report_context, session_report_data
from sessions.models import Recording

SESSION_TEMPLATE = "reports/session_report.html"
PROGRESS_TEMPLATE = "reports/progress_report.html"
SESSION_PERM = "therapy_sessions.view_therapysession"
PATIENT_PERM = "patients.view_patient"


@dataclass(frozen=True)
class ReportFile:
    filename: str
    pdf: bytes
    cached: bool
    render_ms: float


def variant_for(user, requested: str | None = None) -> str:
    """The variant ``user`` gets: researchers always the pseudonymised one."""
    if user is not None and not can_see_identity(user):
        return selectors.PSEUDONYMISED
    if requested == selectors.PSEUDONYMISED:
        return selectors.PSEUDONYMISED
    return selectors.IDENTIFIED


def _cache_seconds() -> int:
    return int(getattr(settings, "REPORT_CACHE_SECONDS", 7 * 24 * 3600))


def _cached(key: str, build) -> tuple[bytes, bool, float]:
    started = time.perf_counter()
    pdf = cache.get(key)
    if pdf is not None:
        return pdf, True, (time.perf_counter() - started) * 1000
    pdf = build()
    cache.set(key, pdf, _cache_seconds())
    return pdf, False, (time.perf_counter() - started) * 1000


def session_cache_key(session, *, variant: str) -> str:
    return f"report:session:{session.pk}:{session_facts_key(session, variant=variant)}"


def render_session_report(session, *, variant: str) -> bytes:
    """The session report's PDF, rendered now (no access check, no cache)."""
    context = session_report_context(session, variant=variant)
    data = session_report_data(context)
    return render_pdf(
        SESSION_TEMPLATE,
        context,
        attachments=[
            json_attachment(
                "session-results.json",
                data,
                "The stored analysis results this report was made from (Myoclinic JSON).",
            )
        ],
    )


def session_analysis_finished(session) -> bool:
    """True when no active recording of ``session`` is still waiting for or in analysis."""
    return not (
        Recording.objects.active()
        .filter(
            session=session,
            status__in=(Recording.Status.PENDING, Recording.Status.PROCESSING),
        )
        .exists()
    )


def session_report_filename(session, *, variant: str) -> str:
    day = session.started_at.strftime("%Y-%m-%d")
    suffix = "-pseudonymised" if variant == selectors.PSEUDONYMISED else ""
    return f"session-{session.pk}-{session.patient.code}-{day}{suffix}.pdf"


def session_report_pdf(user, session, *, variant: str | None = None, use_cache=True) -> ReportFile:
    """The PDF of ``session`` for ``user`` (``None``: the system, e.g. the export command).

    Raises PermissionDenied outside the user's scope or without the view permission (pages
    have already answered 404 for out of scope through ``sessions.selectors.session_for``).
    """
    require_object_access(user, session, SESSION_PERM)
    variant = variant_for(user, variant)
    key = session_cache_key(session, variant=variant)
    build = lambda: render_session_report(session, variant=variant)  # noqa: E731
    if use_cache:
        pdf, cached, ms = _cached(key, build)
    else:
        started = time.perf_counter()
        pdf, cached = build(), False
        ms = (time.perf_counter() - started) * 1000
    return ReportFile(session_report_filename(session, variant=variant), pdf, cached, ms)


def progress_cache_key(patient, *, variant: str, date_from, date_to) -> str:
    digest = progress_facts_key(patient, variant=variant, date_from=date_from, date_to=date_to)
    return f"report:progress:{patient.pk}:{digest}"


def render_progress_report(patient, *, variant: str, date_from, date_to) -> bytes:
    context = progress_report_context(
        patient, variant=variant, date_from=date_from, date_to=date_to
    )
    return render_pdf(
        PROGRESS_TEMPLATE,
        context,
        attachments=[
            json_attachment(
                "progress-results.json",
                progress_report_data(context),
                "The per-session results this report was made from (Myoclinic JSON).",
            )
        ],
    )


def progress_report_filename(patient, *, variant: str, date_from, date_to) -> str:
    span = f"{date_from or 'start'}-to-{date_to or 'today'}"
    suffix = "-pseudonymised" if variant == selectors.PSEUDONYMISED else ""
    return f"progress-{patient.code}-{span}{suffix}.pdf"


def progress_report_pdf(
    user,
    patient,
    *,
    date_from: date | None = None,
    date_to: date | None = None,
    variant: str | None = None,
    use_cache=True,
) -> ReportFile:
    """The progress report of ``patient`` over [date_from, date_to] for ``user``."""
    require_object_access(user, patient, PATIENT_PERM)
    variant = variant_for(user, variant)
    key = progress_cache_key(patient, variant=variant, date_from=date_from, date_to=date_to)
    build = lambda: render_progress_report(  # noqa: E731
        patient, variant=variant, date_from=date_from, date_to=date_to
    )
    if use_cache:
        pdf, cached, ms = _cached(key, build)
    else:
        started = time.perf_counter()
        pdf, cached = build(), False
        ms = (time.perf_counter() - started) * 1000
    filename = progress_report_filename(
        patient, variant=variant, date_from=date_from, date_to=date_to
    )
    return ReportFile(filename, pdf, cached, ms)


# A progress report over many sessions renders in a Celery task (reports.tasks); the job's
# state is kept in the cache under a key of the same facts as the PDF.
JOB_PENDING, JOB_DONE, JOB_FAILED = "pending", "done", "failed"
JOB_SECONDS = 15 * 60


def progress_sessions_in_range(patient, *, date_from, date_to) -> int:
    """How many non-voided sessions the report covers (decides inline render or task)."""
    return sum(
        1
        for p in session_days(patient)
        if (date_from is None or p >= date_from) and (date_to is None or p <= date_to)
    )


def progress_job_key(user, patient, *, date_from, date_to, variant=None) -> str:
    variant = variant_for(user, variant)
    return "job:" + progress_cache_key(
        patient, variant=variant, date_from=date_from, date_to=date_to
    )


def cached_progress_report(user, patient, *, date_from, date_to, variant=None) -> ReportFile | None:
    """The cached PDF of this progress report, or None (without rendering)."""
    require_object_access(user, patient, PATIENT_PERM)
    variant = variant_for(user, variant)
    pdf = cache.get(
        progress_cache_key(patient, variant=variant, date_from=date_from, date_to=date_to)
    )
    if pdf is None:
        return None
    filename = progress_report_filename(
        patient, variant=variant, date_from=date_from, date_to=date_to
    )
    return ReportFile(filename, pdf, True, 0.0)


def progress_job_state(user, patient, *, date_from, date_to, variant=None) -> str | None:
    """pending / done / failed for a report sent to a worker, or None (never sent, expired)."""
    require_object_access(user, patient, PATIENT_PERM)
    if cached_progress_report(user, patient, date_from=date_from, date_to=date_to, variant=variant):
        return JOB_DONE
    key = progress_job_key(user, patient, date_from=date_from, date_to=date_to, variant=variant)
    state = cache.get(key)
    return JOB_PENDING if state == JOB_DONE else state  # done but evicted: sent again


def progress_job_claim(user, patient, *, date_from, date_to, variant=None) -> bool:
    """Mark the job pending; False when one is already pending (the page only waits then)."""
    key = progress_job_key(user, patient, date_from=date_from, date_to=date_to, variant=variant)
    if cache.add(key, JOB_PENDING, JOB_SECONDS):
        return True
    if cache.get(key) in (JOB_FAILED, JOB_DONE):
        cache.set(key, JOB_PENDING, JOB_SECONDS)
        return True
    return False
