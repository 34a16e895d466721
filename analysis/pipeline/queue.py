"""Sending recordings to the worker: on upload, on re-analysis, and by the sweeper.

Messages are sent by task name (``PROCESS_RECORDING``, unchanged so that messages queued
before a deploy still find their task), the producer side of Celery's
contract: the pipeline needs no import of the task module that consumes them.
"""

from __future__ import annotations

import logging
import time
from datetime import datetime

from celery import current_app
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from analysis.pipeline.notify import status_notify
from clinic.access import require_object_access
from sessions import services as session_services
from sessions.models import Recording, TherapySession

logger = logging.getLogger(__name__)

PROCESS_RECORDING = "analysis.tasks.process_recording"
REQUEUE_STUCK = "analysis.tasks.requeue_stuck_recordings"
# Who may send finished recordings back through the analysis (pages, admin, API).
REANALYSE_PERMISSION = "therapy_sessions.change_recording"
SWEEP_BATCH = 500


def recording_enqueue(*, recording_id: int) -> bool:
    """Send the analysis task; False (logged, row left pending) when the broker is down."""
    try:
        current_app.signature(PROCESS_RECORDING, args=(recording_id,)).apply_async(
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # noqa: BLE001 - broker errors take many shapes (kombu, redis, socket)
        logger.warning(
            "broker unavailable: recording %s stays pending for the sweeper",
            recording_id,
            exc_info=True,
        )
        return False
    Recording.objects.filter(pk=recording_id).update(enqueued_at=timezone.now())
    return True


def recording_enqueue_on_commit(recording: Recording) -> None:
    """Once the transaction commits: tell the session's pages, then send the task."""

    def announce_and_enqueue():
        status_notify(recording=recording)
        recording_enqueue(recording_id=recording.pk)

    transaction.on_commit(announce_and_enqueue, robust=True)


def recordings_requeue_stuck(*, now: datetime | None = None) -> list[int]:
    """Enqueue the recordings the pipeline left behind (``Recording.objects.stuck``)."""
    stuck = Recording.objects.active().stuck(now=now).order_by("pk").values_list("pk", flat=True)
    sent = [pk for pk in stuck[:SWEEP_BATCH] if recording_enqueue(recording_id=pk)]
    if sent:
        logger.info("re-enqueued %d stuck recording(s): %s", len(sent), sent)
    return sent


def may_reanalyse(user, session: TherapySession) -> bool:
    """The one rule of who may re-analyse: the permission, on a session that is not voided."""
    return user.has_perm(REANALYSE_PERMISSION) and not session.is_voided


def recording_reanalyse(*, recording: Recording, user=None) -> bool:
    """Queue a finished recording again; its current results stay until new ones replace them.

    ``user`` (None for commands) must see the recording and hold the re-analysis permission;
    a recording of a voided session is refused. False when it is still pending or processing.
    """
    require_object_access(user, recording, REANALYSE_PERMISSION)
    if recording.session.is_voided:
        raise ValidationError("This session is voided; it cannot be re-analysed.")
    if recording.is_voided:
        raise ValidationError("This recording is void; it cannot be re-analysed.")
    updated = Recording.objects.filter(
        pk=recording.pk, status__in=[Recording.Status.DONE, Recording.Status.FAILED]
    ).update(status=Recording.Status.PENDING, attempts=0, failure_reason="", enqueued_at=None)
    if not updated:
        return False
    recording_id = recording.pk
    transaction.on_commit(lambda: recording_enqueue(recording_id=recording_id), robust=True)
    recording.refresh_from_db()
    status_notify(recording=recording)
    return True


def session_reanalyse(*, session: TherapySession, user=None) -> list[int]:
    """Re-analyse every finished recording of a session (after an MVC, target or score change).

    Recordings still pending or processing are left alone: they will pick up the new settings
    anyway. Returns the ids queued.
    """
    require_object_access(user, session, REANALYSE_PERMISSION)
    if session.is_voided:
        raise ValidationError("This session is voided; it cannot be re-analysed.")
    queued = []
    with transaction.atomic():
        recordings = session.recordings.active().select_related("session").order_by("pk")
        for recording in recordings:
            if recording_reanalyse(recording=recording):
                queued.append(recording.pk)
    return queued


@transaction.atomic
def recording_move(*, by, recording: Recording, to_session: TherapySession) -> bool:
    """Move a recording to another session (``sessions.services.recording_move``); moved to
    another patient, it is analysed again with that patient's MVC, protocol and clinic settings
    (its earlier analyses stay in its history, the current results stay until the new ones
    replace them). True when a re-analysis was queued."""
    if not session_services.recording_move(by=by, recording=recording, to_session=to_session):
        return False
    recording = Recording.objects.select_related("session__patient").get(pk=recording.pk)
    return recording_reanalyse(recording=recording)


def recordings_wait(
    *, recording_ids: list[int], timeout_s: float = 600.0, poll_s: float = 0.5, on_progress=None
) -> dict[int, str]:
    """Wait until the recordings are done or failed (a worker does the work); their statuses.

    ``on_progress(finished_count)`` is called when the count changes. Returns when all are
    finished or when ``timeout_s`` passes (the unfinished ones keep their current status).
    """
    finished_states = {Recording.Status.DONE, Recording.Status.FAILED}
    deadline = time.monotonic() + timeout_s
    last = -1
    while True:
        statuses = dict(Recording.objects.filter(pk__in=recording_ids).values_list("pk", "status"))
        finished = sum(1 for s in statuses.values() if s in finished_states)
        if on_progress is not None and finished != last:
            on_progress(finished)
            last = finished
        if finished == len(statuses) or time.monotonic() >= deadline:
            return statuses
        time.sleep(poll_s)
