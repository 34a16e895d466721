"""Celery tasks of the reports.

* ``render_progress_report``: a progress report over many sessions renders in a worker while
  the page shows progress, then offers the download (``reports.views.progress_report``).
* ``prerender_session_report``: when the last recording of a session is analysed, a worker
  renders the session report (identified variant, the one treatment staff open) into the
  cache, so the first click on "Report" is a cache hit. Sent on commit by
  :func:`prerender_when_session_analysed` (a ``post_save`` receiver of ``Recording``: the
  pipeline's store saves the status ``done`` with ``save(update_fields=...)``). Not sent in the
  embedded mode (tasks run in the web process there: rendering on the click costs the same),
  nor with ``REPORT_PRERENDER = False``. It goes to its own queue (``REPORT_PRERENDER_QUEUE``,
  ``CELERY_TASK_ROUTES``), consumed by a worker at idle CPU priority, and expires after
  ``REPORT_PRERENDER_EXPIRES`` seconds: a cache must never delay an analysis or a page.
"""

from __future__ import annotations

import logging
from datetime import date
from functools import partial

from celery import current_app, shared_task
from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from clinic.models import User
from patients.models import Patient
from reports import selectors, services
from sessions.models import Recording, TherapySession

logger = logging.getLogger(__name__)

RENDER_PROGRESS_REPORT = "reports.tasks.render_progress_report"
PRERENDER_SESSION_REPORT = "reports.tasks.prerender_session_report"


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


@shared_task(name=PRERENDER_SESSION_REPORT, acks_late=True, time_limit=120, soft_time_limit=90)
def prerender_session_report(session_id: int) -> str:
    """Render the session's report into the cache once all its recordings are analysed.

    Returns what it did: ``rendered``, ``cached`` (already there), ``waiting`` (a recording is
    still pending or processing: its own completion sends this task again) or ``gone``.
    """
    session = (
        TherapySession.objects.select_related("patient", "patient__clinic")
        .filter(pk=session_id, voided_at__isnull=True)
        .first()
    )
    if session is None:
        return "gone"
    if not services.session_analysis_finished(session):
        return "waiting"
    report = services.session_report_pdf(None, session, variant=selectors.IDENTIFIED)
    return "cached" if report.cached else "rendered"


def prerender_enqueue(session_id: int) -> bool:
    """Send the pre-render task; a broker error is logged, never raised (it is only a cache)."""
    try:
        current_app.signature(PRERENDER_SESSION_REPORT, args=(session_id,)).apply_async(
            retry=False, expires=settings.REPORT_PRERENDER_EXPIRES
        )
    except Exception:  # noqa: BLE001 - broker errors take many shapes (kombu, redis, socket)
        logger.warning("could not send the report pre-render of session %s", session_id)
        return False
    return True


def prerender_wanted() -> bool:
    """Pre-render only where a worker does it (not in the embedded, eager mode) and when on."""
    return bool(settings.REPORT_PRERENDER) and not bool(current_app.conf.task_always_eager)


@receiver(post_save, sender=Recording, dispatch_uid="reports.prerender_when_session_analysed")
def prerender_when_session_analysed(sender, instance, update_fields=None, **kwargs):
    """A recording just became ``done``: pre-render its session's report after the commit."""
    if instance.status != Recording.Status.DONE:
        return
    if update_fields is not None and "status" not in update_fields:
        return
    if not prerender_wanted():
        return
    transaction.on_commit(partial(prerender_enqueue, instance.session_id), robust=True)
