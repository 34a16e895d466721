"""Status events of recordings, pushed to the session's open pages over the channel layer."""

from __future__ import annotations

import logging

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from analysis.grading import failure_advice
from sessions.models import Recording

logger = logging.getLogger(__name__)

# What the session page shows as the progress of one file.
PROGRESS = {
    "pending": 0.0,
    "processing": 0.1,
    "read": 0.5,
    "analysed": 0.9,
    "done": 1.0,
    "failed": 1.0,
}


def session_group(session_id: int) -> str:
    return f"session-{session_id}"


def recording_status_payload(recording: Recording, *, stage: str | None = None) -> dict:
    """The message the session page receives for one recording (also sent on connect).

    No file name: the group's viewers may include those who may not see identity. A failure
    comes with its advice (what the person can do, as the row shows it after a reload) beside
    the technical reason.
    """
    stage = stage or recording.status
    reason = recording.failure_reason
    return {
        "recording": recording.pk,
        "status": recording.status,
        "stage": stage,
        "progress": PROGRESS.get(stage, 0.0),
        "failure_reason": reason,
        "failure_advice": failure_advice(reason) if reason else "",
        "attempts": recording.attempts,
    }


def status_notify(*, recording: Recording, stage: str | None = None) -> bool:
    """Push a status event to the session's group; never fails the caller if Redis is away."""
    layer = get_channel_layer()
    if layer is None:
        return False
    event = {"type": "recording.status", **recording_status_payload(recording, stage=stage)}
    try:
        async_to_sync(layer.group_send)(session_group(recording.session_id), event)
    except Exception:  # noqa: BLE001 - a notification must never cost the result
        logger.warning("could not notify session %s", recording.session_id, exc_info=True)
        return False
    return True
