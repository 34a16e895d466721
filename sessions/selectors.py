"""Reads for the session and recording pages, and the lookups every surface uses for them."""

from django.http import Http404

from clinic.access import get_visible_or_404, hide_voided_from_non_voiders, require_perm
from sessions.models import Recording, TherapySession


def session_for(user, pk, *, perm: str | None = None, active_only: bool = False) -> TherapySession:
    """A session in the user's scope (404), with ``perm`` (403); voided ones for voiders only.

    With ``active_only`` a voided session (or one of a voided patient) is 404 for everyone:
    nothing edits or voids a voided record.
    """
    session = get_visible_or_404(
        TherapySession.objects.select_related("patient", "therapist"), user=user, pk=pk
    )
    # Voided is out of scope for non-voiders: 404 before the permission's 403, or the 403
    # would tell that the voided session exists.
    hide_voided_from_non_voiders(user, patient=session.patient, session=session)
    if active_only and (session.is_voided or session.patient.is_voided):
        raise Http404("Not found.")
    if perm is not None:
        require_perm(user, perm)
    return session


def recording_for(
    user, pk, *, perm: str | None = None, active_only: bool = False, people: bool = True
) -> Recording:
    """A recording in the user's scope (404), with ``perm`` (403).

    Hidden like its session: with a voided patient or a voided session, only those who may void
    them still read it (the voided rule follows every object below a voided one); a voided
    recording only those who may void recordings. With ``active_only`` any voided one is 404.
    The session and its patient are loaded with it; with ``people`` (the pages show them) the
    session's therapist and the uploader too.
    """
    related = ("session__patient", "session__therapist", "uploaded_by") if people else ()
    recording = get_visible_or_404(
        Recording.objects.select_related("session__patient", *related),
        user=user,
        pk=pk,
    )
    hide_voided_from_non_voiders(
        user, patient=recording.session.patient, session=recording.session, recording=recording
    )
    if active_only and (
        recording.is_voided or recording.session.is_voided or recording.session.patient.is_voided
    ):
        raise Http404("Not found.")
    if perm is not None:
        require_perm(user, perm)
    return recording


def may_void_recordings(user) -> bool:
    """Who may void and move recordings also reads the voided ones (struck through)."""
    return user.has_perm("therapy_sessions.void_recording")


def session_recordings(session):
    """The session's live recordings, oldest first (one per game round)."""
    return session.recordings.active().select_related("uploaded_by").order_by("created_at")


def recording_name(recording, *, identity: bool) -> str:
    """The name a page shows for a recording: its file name, which often names the player
    (``Hollis_Quenby_D001.c3d``), only to those who may see identity; "Recording 57" otherwise."""
    return recording.original_name if identity else f"Recording {recording.pk}"


def sessions_listed(user):
    """The sessions ``user`` may see, newest first; void ones (or a void patient's) only for
    those who may void them, like the pages."""
    sessions = TherapySession.objects.visible_to(user)
    if not user.has_perm("therapy_sessions.void_therapysession"):
        sessions = sessions.active()
    if not user.has_perm("patients.void_patient"):
        sessions = sessions.filter(patient__voided_at__isnull=True)
    return sessions.order_by("-started_at", "-pk")


def recordings_listed(user):
    """The recordings ``user`` may see, oldest first, hidden like their session; voided ones
    only for those who may void recordings."""
    recordings = Recording.objects.visible_to(user)
    if not may_void_recordings(user):
        recordings = recordings.active()
    if not user.has_perm("therapy_sessions.void_therapysession"):
        recordings = recordings.filter(session__voided_at__isnull=True)
    if not user.has_perm("patients.void_patient"):
        recordings = recordings.filter(session__patient__voided_at__isnull=True)
    return recordings.order_by("created_at", "pk")
