"""Read-only queries for clinic pages."""

from patients.models import Patient
from sessions.models import Recording, TherapySession


def dashboard_for(user, *, recent=10):
    """My patients, recent sessions, and recordings that need attention (failed or stuck)."""
    patients = Patient.objects.visible_to(user).active().filter(is_active=True)
    sessions = (
        TherapySession.objects.visible_to(user).active().select_related("patient", "therapist")
    )
    attention = (
        Recording.objects.visible_to(user)
        .exclude(status=Recording.Status.DONE)
        .select_related("session__patient")
        .order_by("-created_at")
    )
    return {
        "patients": patients.order_by("code")[:50],
        "patient_count": patients.count(),
        "recent_sessions": sessions[:recent],
        "attention": attention[:recent],
    }
