"""Changes to therapy sessions and their recordings: create, update, void, move."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from clinic.access import require_object_access
from sessions.models import Recording, TherapySession

VOID_RECORDING_PERMISSION = "therapy_sessions.void_recording"


@transaction.atomic
def session_create(*, by, session: TherapySession) -> TherapySession:
    """Save a new session of a patient who is not void."""
    if session.patient.is_voided:
        raise ValidationError("Sessions cannot be added to a void patient.")
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def session_update(*, by, session: TherapySession) -> TherapySession:
    if session.is_voided:
        raise ValidationError("A void session cannot be changed.")
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def session_void(*, by, session: TherapySession, reason: str) -> TherapySession:
    """Void instead of delete; its recordings stay attached and downloadable for the record."""
    if session.is_voided:
        raise ValidationError("This session is already void.")
    session.void(by=by, reason=reason)
    return session


@transaction.atomic
def session_of_day(*, patient, when: dt.datetime) -> TherapySession:
    """The patient's active session on that local day, or a new one starting at ``when``.

    Bulk imports file each recording under the session of its day; a new session gets the
    patient's first assigned therapist.
    """
    tz = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    start = dt.datetime.combine(when.astimezone(tz).date(), dt.time.min, tzinfo=tz)
    existing = (
        TherapySession.objects.active()
        .filter(patient=patient, started_at__gte=start, started_at__lt=start + dt.timedelta(1))
        .order_by("started_at")
        .first()
    )
    if existing is not None:
        return existing
    session = TherapySession(
        patient=patient, therapist=patient.therapists.order_by("pk").first(), started_at=when
    )
    return session_create(by=None, session=session)


@transaction.atomic
def recording_void(*, by, recording: Recording, reason: str) -> Recording:
    """Void a wrong or failed recording: kept with who, when and why, left out of every result.

    Scores, counts, adherence rounds, exports and reports read live recordings only, so the
    void shows at once everywhere. A recording of a voided session or patient is already out of
    everything and is not voided again on its own.
    """
    require_object_access(by, recording, VOID_RECORDING_PERMISSION)
    recording = (
        Recording.objects.select_for_update()
        .select_related("session__patient")
        .get(pk=recording.pk)
    )
    if recording.is_voided:
        raise ValidationError("This recording is already void.")
    if recording.session.is_voided or recording.session.patient.is_voided:
        raise ValidationError("This recording belongs to a void session; it cannot be changed.")
    recording.void(by=by, reason=reason)
    return recording


def move_targets(recording: Recording, sessions):
    """The sessions ``recording`` may move to, from ``sessions`` (the user's visible ones):
    not voided, of a patient not voided, not its own, without this file already."""
    return (
        sessions.filter(voided_at__isnull=True, patient__voided_at__isnull=True)
        .exclude(pk=recording.session_id)
        .exclude(recordings__sha256=recording.sha256)
    )


@transaction.atomic
def recording_move(*, by, recording: Recording, to_session: TherapySession) -> bool:
    """File ``recording`` under ``to_session``; True when the patient changed.

    Both ends must be in ``by``'s scope and not voided. Within one patient the stored analysis
    stays valid (MVC, protocol and settings are the patient's); a move to another patient must
    be analysed again with that patient's MVC and protocol, which the caller starts
    (``analysis.pipeline.queue.recording_move``), hence a recording being analysed right now is
    refused. The score of each session is computed from its recordings on every read, so both
    follow at once.
    """
    require_object_access(by, recording, VOID_RECORDING_PERMISSION)
    require_object_access(by, to_session, "therapy_sessions.add_recording")
    recording = (
        Recording.objects.select_for_update()
        .select_related("session__patient")
        .get(pk=recording.pk)
    )
    to_session = TherapySession.objects.select_related("patient").get(pk=to_session.pk)
    if recording.is_voided:
        raise ValidationError("A void recording cannot be moved.")
    if recording.session.is_voided or recording.session.patient.is_voided:
        raise ValidationError("This recording belongs to a void session; it cannot be moved.")
    if to_session.is_voided or to_session.patient.is_voided:
        raise ValidationError("Recordings cannot be moved to a void session.")
    if to_session.pk == recording.session_id:
        raise ValidationError("The recording is already in this session.")
    if Recording.objects.filter(session=to_session, sha256=recording.sha256).exists():
        raise ValidationError("That session already holds this file.")
    patient_changed = to_session.patient_id != recording.session.patient_id
    if patient_changed and recording.status == Recording.Status.PROCESSING:
        raise ValidationError(
            "This recording is being analysed; move it to another patient once it is done."
        )
    recording.session = to_session
    recording.save(update_fields=["session", "updated_at"])
    return patient_changed
