"""Celery tasks of the pipeline: they adapt Celery (delivery, retries, limits) to ``pipeline``.

Delivery is at-least-once (``acks_late``; a killed worker's message is rejected back to the
queue); ``pipeline.worker`` makes a second run of the same message harmless.
"""

from __future__ import annotations

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import worker_init
from django.conf import settings

from analysis import core
from analysis.pipeline import live, queue, worker


@worker_init.connect
def preload_numeric_core(**kwargs):
    """Load numpy/scipy/numba once in the worker's main process, before the pool forks.

    Otherwise every pool process pays about a second of imports on its first recording. The
    web process never loads them this way (``analysis.core`` loads lazily).
    """
    core.preload()


@shared_task(
    bind=True,
    name=queue.PROCESS_RECORDING,
    acks_late=True,
    reject_on_worker_lost=True,
    time_limit=settings.RECORDING_TASK_TIME_LIMIT_S,
    soft_time_limit=settings.RECORDING_TASK_SOFT_TIME_LIMIT_S,
    autoretry_for=worker.TRANSIENT_ERRORS,
    retry_backoff=2,
    retry_backoff_max=60,
    retry_jitter=True,
    max_retries=5,
)
def process_recording(self, recording_id: int) -> str:
    """Analyse one recording: claim it, run the core, store results; returns the final state."""
    try:
        return worker.recording_process(
            recording_id=recording_id,
            task_id=self.request.id or "local",
            is_retry=bool(self.request.retries),
            release_on=(SoftTimeLimitExceeded,),
        )
    except SoftTimeLimitExceeded:
        # Too slow this time: the claim was given back; the retry's claim counts another
        # attempt, and the cap ends it as failed if it never fits in the limit.
        raise self.retry(countdown=5) from None


@shared_task(
    name=queue.REQUEUE_STUCK,
    acks_late=True,
    ignore_result=True,
    time_limit=120,
    soft_time_limit=100,
)
def requeue_stuck_recordings() -> list[int]:
    """Periodic (Celery beat): re-enqueue recordings stuck in pending or processing."""
    return queue.recordings_requeue_stuck()


@shared_task(
    name="analysis.tasks.stop_abandoned_live_streams",
    acks_late=True,
    ignore_result=True,
    time_limit=300,
    soft_time_limit=280,
)
def stop_abandoned_live_streams() -> list[int]:
    """Periodic (Celery beat): streams whose device never came back become recordings."""
    return live.streams_stop_abandoned()
