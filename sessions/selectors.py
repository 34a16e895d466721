"""Reads for the session and recording pages."""

from sessions.models import Recording, TherapySession


def session_recordings(session):
    """The session's recordings, oldest first (one per game round)."""
    return session.recordings.select_related("uploaded_by").order_by("created_at")


def recordings_queryset(user):
    return Recording.objects.visible_to(user).select_related(
        "session__patient", "session__therapist", "uploaded_by"
    )


def sessions_queryset(user):
    return TherapySession.objects.visible_to(user).select_related("patient", "therapist")
