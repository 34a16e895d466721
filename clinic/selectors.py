"""Read-only queries for clinic pages."""

from django.db.models import Q
from django.http import Http404

from analysis.grading import standard_weights, weights_text
from clinic.access import can_see_identity
from clinic.models import ApiToken, Clinic, ClinicSettings
from patients.models import Patient
from patients.selectors import emergency_accesses_to_acknowledge, patient_card
from sessions.models import Recording, TherapySession


def dashboard_for(user, *, recent=10):
    """My patients, recent sessions, recordings that need attention, and (for managers) the
    emergency accesses of the clinic not yet acknowledged.

    Attention: failed, or stuck as the pipeline's sweeper sees it (``Recording.objects.stuck``).

    Patients come as cards (patients.selectors) so researchers see codes only.
    """
    identity = can_see_identity(user)
    patients = Patient.objects.visible_to(user).active().filter(is_active=True)
    sessions = (
        TherapySession.objects.visible_to(user)
        .active()
        .filter(patient__voided_at__isnull=True)
        .select_related("patient", "therapist")
        .order_by("-started_at")
    )
    recordings = Recording.objects.visible_to(user).filter(
        session__voided_at__isnull=True, session__patient__voided_at__isnull=True
    )
    attention = (
        recordings.filter(
            Q(status=Recording.Status.FAILED) | Q(pk__in=recordings.stuck().values("pk"))
        )
        .select_related("session__patient")
        .order_by("-created_at")
    )
    emergency = emergency_accesses_to_acknowledge(user)
    return {
        "emergency": [
            {"grant": g, "patient": patient_card(g.patient, identity=identity)}
            for g in emergency[:50]
        ],
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


def clinics_for_choice():
    """Every clinic, for a superuser choosing whose settings to edit."""
    return Clinic.objects.order_by("name")


def clinic_or_404(clinic_id) -> Clinic:
    try:
        return Clinic.objects.get(pk=int(clinic_id))
    except (Clinic.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def settings_versions(clinic) -> list[ClinicSettings]:
    """Every settings version of the clinic, newest (the one that applies) first.

    Each carries ``weights_label``: its score weights in words ("standard" when it set none).
    """
    versions = list(
        ClinicSettings.objects.filter(clinic=clinic)
        .select_related("created_by")
        .order_by("-version")
    )
    for version in versions:
        own = version.scoring_weights or {}
        text = weights_text({**standard_weights(), **own})
        version.weights_label = text if own else f"standard ({text})"
    return versions


def api_tokens_of(user) -> list:
    """The user's own API tokens, newest first (never anyone else's)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"))
