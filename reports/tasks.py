"""Celery task of the reports: a progress report over many sessions renders in a worker while
the page shows progress, then offers the download (``reports.views.progress_report``)."""

from __future__ import annotations

from datetime import date

from celery import shared_task
from django.core.cache import cache

from clinic.models import User
from patients.models import Patient
from reports import services

RENDER_PROGRESS_REPORT = "reports.tasks.render_progress_report"


@shared_task(name=RENDER_PROGRESS_REPORT, acks_late=True, time_limit=300, soft_time_limit=240)
def render_progress_report(*, user_id, patient_id, date_from, date_to, variant, job_key):
    """Render (and cache) a progress report for ``user_id``; the job key says how it went."""
    try:
        user = User.objects.get(pk=user_id)
        patient = Patient.objects.get(pk=patient_id)
        services.progress_report_pdf(
            user,
            patient,
            date_from=date.fromisoformat(date_from) if date_from else None,
            date_to=date.fromisoformat(date_to) if date_to else None,
            variant=variant,
        )
    except Exception:
        cache.set(job_key, services.JOB_FAILED, services.JOB_SECONDS)
        raise
    cache.set(job_key, services.JOB_DONE, services.JOB_SECONDS)
