"""Read-only queries for clinic pages."""

from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from clinic.access import can_see_identity
from patients.models import Patient
from patients.selectors import patient_card
from sessions.models import Recording, TherapySession

# A recording still pending or processing after this long needs someone to look at it.
STUCK_AFTER = timedelta(minutes=30)


def dashboard_for(user, *, recent=10):
    """My patients, recent sessions, and recordings that need attention (failed or stuck).

    Patients come as cards (patients.selectors) so researchers see codes only.
    """
    identity = can_see_identity(user)
    patients = Patient.objects.visible_to(user).active().filter(is_active=True)
    sessions = (
        TherapySession.objects.visible_to(user)
        .active()
        .select_related("patient", "therapist")
        .order_by("-started_at")
    )
    stuck_before = timezone.now() - STUCK_AFTER
    attention = (
        Recording.objects.visible_to(user)
        .filter(
            Q(status=Recording.Status.FAILED)
            | Q(status__in=[Recording.Status.PENDING, Recording.Status.PROCESSING])
            & Q(created_at__lt=stuck_before)
        )
        .select_related("session__patient")
        .order_by("-created_at")
    )
    return {
        "patients": [patient_card(p, identity=identity) for p in patients.order_by("code")[:50]],
        "patient_count": patients.count(),
        "recent_sessions": [
            {"session": s, "patient": patient_card(s.patient, identity=identity)}
            for s in sessions[:recent]
        ],
        "attention": [
            {"recording": r, "patient": patient_card(r.session.patient, identity=identity)}
            for r in attention[:recent]
        ],
    }
