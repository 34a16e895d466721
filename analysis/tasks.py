"""Celery tasks of the pipeline: thin wrappers that take ids; the work is in services.py.

Delivery is at-least-once (``acks_late``; a killed worker's message is rejected back to the
queue), so the task must be safe to run twice: the claim in ``recording_claim`` makes a
duplicate a no-op, and the attempt counter on the row (Celery keeps none) ends a file that
keeps killing its worker as ``failed`` instead of looping.
"""

from __future__ import annotations

import logging

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings
from django.db import InterfaceError, OperationalError

from analysis import services
from sessions.models import Recording

logger = logging.getLogger(__name__)

TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
)


@worker_init.connect
def preload_numeric_core(**kwargs):
    """Import numpy/scipy once in the worker's main process, before the pool forks.

    Otherwise every pool process pays about a second of imports on its first recording. The
    web process never imports the core this way.
    """
    import analysis.core  # noqa: F401


@shared_task(
    bind=True,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.RECORDING_TASK_TIME_LIMIT_S,
    soft_time_limit=settings.RECORDING_TASK_SOFT_TIME_LIMIT_S,
    autoretry_for=TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def process_recording(self, recording_id: int) -> str:
    """Analyse one recording: claim it, run the core, store results; returns the final state."""
    task_id = self.request.id or "local"
    token = services.recording_claim(
        recording_id=recording_id, task_id=task_id, is_retry=bool(self.request.retries)
    )
    if token is None:
        logger.info("recording %s not claimable (done, failed or taken): skipped", recording_id)
        return "skipped"
    recording = Recording.objects.select_related("session__patient").get(pk=recording_id)
    if recording.attempts > settings.RECORDING_MAX_ATTEMPTS:
        services.recording_fail(
            recording_id=recording_id,
            reason=services.gave_up_reason(recording.attempts - 1),
            token=token,
        )
        return "failed"
    services.status_notify(recording=recording)
    try:
        analysis = services.recording_analyse(recording=recording, token=token)
    except SoftTimeLimitExceeded:
        # Too slow this time: give the claim back; the retry's claim counts another attempt,
        # and the cap ends it as failed if it never fits in the limit.
        services.recording_release(recording_id=recording_id, token=token)
        raise self.retry(countdown=5) from None
    except TRANSIENT_ERRORS:
        raise  # autoretry_for retries with backoff; the claim stays ours (same task id)
    except Exception as exc:
        # A bug, not a bad file: end it with a reason rather than leave it processing until the
        # sweeper retries it to the cap. Re-analysis runs it again once the bug is fixed.
        logger.exception("recording %s: analysis crashed", recording_id)
        services.recording_fail(
            recording_id=recording_id,
            reason=f"the analysis crashed ({type(exc).__name__}: {exc})",
            token=token,
        )
        raise
    if analysis is None:
        recording.refresh_from_db()
        return recording.status
    return "done"


@shared_task(acks_late=True, ignore_result=True, time_limit=120, soft_time_limit=100)
def requeue_stuck_recordings() -> list[int]:
    """Periodic (Celery beat): re-enqueue recordings stuck in pending or processing."""
    return services.recordings_requeue_stuck()
