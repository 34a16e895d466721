"""The worker's job: claim a recording, run the numeric core on it, store or fail it.

Delivery is at-least-once (the task acks late; a killed worker's message comes back), so
processing must be safe to run twice: the claim makes a duplicate a no-op, and the attempt
counter on the row (Celery keeps none) ends a file that keeps killing its worker as ``failed``
instead of looping.
"""

from __future__ import annotations

import logging
import time
import uuid

import kombu.exceptions
import redis.exceptions
from django.conf import settings
from django.db import InterfaceError, OperationalError
from django.db.models import Case, F, Q, When
from django.utils import timezone

from analysis import core
from analysis.models import RecordingAnalysis
from analysis.pipeline.inputs import analysis_inputs, recording_read, stored_file_copy
from analysis.pipeline.notify import status_notify
from analysis.pipeline.store import analysis_save
from sessions.models import Recording, processing_stale_after

logger = logging.getLogger(__name__)

# Errors of the database or the broker that a later attempt may not meet: retried, not failed.
TRANSIENT_ERRORS = (
    OperationalError,
    InterfaceError,
    kombu.exceptions.OperationalError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    ConnectionError,
)


def recording_claim(*, recording_id: int, task_id: str, is_retry: bool = False) -> str | None:
    """Atomically take a recording for analysis; the claim token, or None if not ours to take.

    Takes a ``pending`` row, a ``processing`` row whose claim went stale (its worker vanished
    long ago), or a ``processing`` row claimed by this same task id (the same message
    redelivered after its worker was killed). A different message for a row another worker is
    processing, or one already done/failed, gets None: a duplicate delivery does nothing. Each
    claim counts an attempt except a retry reclaiming its own row (a transient error).
    """
    now = timezone.now()
    token = f"{task_id}:{uuid.uuid4().hex[:12]}"
    ours = Q(status=Recording.Status.PROCESSING, claim_token__startswith=f"{task_id}:")
    takeable = (
        Q(status=Recording.Status.PENDING)
        | Q(
            status=Recording.Status.PROCESSING,
            processing_started_at__lt=now - processing_stale_after(),
        )
        | ours
    )
    attempts = F("attempts") + 1
    if is_retry:
        attempts = Case(When(ours, then=F("attempts")), default=F("attempts") + 1)
    claimed = (
        Recording.objects.filter(pk=recording_id)
        .filter(takeable)
        .update(
            status=Recording.Status.PROCESSING,
            attempts=attempts,
            processing_started_at=now,
            claim_token=token,
            failure_reason="",
        )
    )
    return token if claimed else None


def gave_up_reason(attempts: int) -> str:
    return (
        f"gave up after {attempts} attempts (the file repeatedly crashed or timed out the worker)"
    )


def recording_fail(*, recording_id: int, reason: str, token: str | None = None) -> bool:
    """Mark failed with a human reason (only if ``token`` still holds the claim, when given)."""
    qs = Recording.objects.filter(pk=recording_id)
    if token is not None:
        qs = qs.filter(claim_token=token, status=Recording.Status.PROCESSING)
    updated = qs.update(
        status=Recording.Status.FAILED,
        failure_reason=reason[:2000],
        processed_at=timezone.now(),
        claim_token="",
    )
    if updated:
        status_notify(recording=Recording.objects.get(pk=recording_id))
    return bool(updated)


def recording_release(*, recording_id: int, token: str) -> bool:
    """Give a claim back (status pending) so a later delivery can try again."""
    return bool(
        Recording.objects.filter(
            pk=recording_id, claim_token=token, status=Recording.Status.PROCESSING
        ).update(status=Recording.Status.PENDING, claim_token="")
    )


def recording_analyse(*, recording: Recording, token: str) -> RecordingAnalysis | None:
    """Run the core on a claimed recording and store the results; None if it failed or was lost.

    ``InvalidRecording`` ends the recording ``failed`` with the core's one-line reason. Other
    exceptions propagate to the caller (transient ones are retried by the task).
    """
    t0 = time.perf_counter()
    try:
        inputs = analysis_inputs(recording)
        with stored_file_copy(recording.file) as path:
            t_read = time.perf_counter()
            raw = recording_read(path, channel_map=inputs.channel_map)
            read_ms = (time.perf_counter() - t_read) * 1000
            status_notify(recording=recording, stage="read")
            t_analyse = time.perf_counter()
            document = core.analyse_recording(raw, include_envelope=True, **inputs.core_kwargs())
            analyse_ms = (time.perf_counter() - t_analyse) * 1000
    except core.InvalidRecording as exc:
        recording_fail(recording_id=recording.pk, reason=str(exc), token=token)
        return None
    except ValueError as exc:
        # The core refuses settings that do not fit this file (an MVC or channel mapping).
        reason = f"the analysis settings do not fit this recording: {exc}"
        recording_fail(recording_id=recording.pk, reason=reason, token=token)
        return None
    except FileNotFoundError:
        recording_fail(
            recording_id=recording.pk, reason="the stored file is missing from storage", token=token
        )
        return None
    status_notify(recording=recording, stage="analysed")
    trigger = (
        RecordingAnalysis.Trigger.REANALYSIS
        if RecordingAnalysis.objects.filter(recording=recording).exists()
        else RecordingAnalysis.Trigger.UPLOAD
    )
    analysis = analysis_save(
        recording=recording,
        token=token,
        document=document,
        parameters=inputs.as_json(),
        trigger=trigger,
        timings={
            "read_ms": read_ms,
            "analyse_ms": analyse_ms,
            "total_ms": (time.perf_counter() - t0) * 1000,
        },
    )
    if analysis is not None:
        recording.refresh_from_db()
        status_notify(recording=recording)
    return analysis


def recording_process(
    *, recording_id: int, task_id: str, is_retry: bool = False, release_on: tuple = ()
) -> str:
    """One delivery of the analysis task: the recording's state afterwards ("skipped" if taken).

    Exceptions in ``release_on`` (the task's soft time limit) give the claim back and
    propagate, so the task can retry; transient errors propagate with the claim kept (a retry
    of the same task id reclaims it); any other error is a bug, not a bad file: the recording
    ends ``failed`` with the error named rather than waiting for the sweeper's retries.
    """
    token = recording_claim(recording_id=recording_id, task_id=task_id, is_retry=is_retry)
    if token is None:
        logger.info("recording %s not claimable (done, failed or taken): skipped", recording_id)
        return "skipped"
    recording = Recording.objects.select_related("session__patient").get(pk=recording_id)
    if recording.attempts > settings.RECORDING_MAX_ATTEMPTS:
        recording_fail(
            recording_id=recording_id, reason=gave_up_reason(recording.attempts - 1), token=token
        )
        return Recording.Status.FAILED
    status_notify(recording=recording)
    try:
        analysis = recording_analyse(recording=recording, token=token)
    except release_on:
        recording_release(recording_id=recording_id, token=token)
        raise
    except TRANSIENT_ERRORS:
        raise
    except Exception as exc:
        logger.exception("recording %s: analysis crashed", recording_id)
        recording_fail(
            recording_id=recording_id,
            reason=f"the analysis crashed ({type(exc).__name__}: {exc})",
            token=token,
        )
        raise
    if analysis is None:
        recording.refresh_from_db()
        return recording.status
    return Recording.Status.DONE
