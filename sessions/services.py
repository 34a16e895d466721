"""Changes to therapy sessions: create, update, void."""

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
