"""Changes to therapy sessions: create, update, void."""

import datetime as dt
import zoneinfo

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction

from sessions.models import TherapySession


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
