"""Break-the-glass: a therapist opens a patient of their clinic not assigned to them.

The entry page asks for a code or MRN (never an id from a URL) and looks it up in the user's own
clinic only, so it cannot tell anything about other clinics. Managers acknowledge accesses from
their dashboard.
"""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST

from clinic.access import Scope, require_perm, scope_of
from clinic.audit import Action
from clinic.web import audit_note, audited, safe_next
from patients import selectors, services
from patients.forms import EmergencyAccessForm


@login_required
@require_http_methods(["GET", "POST"])
@audited()
def emergency_access(request):
    require_perm(request.user, "patients.add_emergencyaccess")
    if scope_of(request.user) is not Scope.ASSIGNED:
        # Managers, researchers and admins see their whole scope already: nothing to break.
        raise PermissionDenied("Emergency access is for therapists.")
    form = EmergencyAccessForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            patient, grant = services.emergency_access_open(
                user=request.user,
                identifier=form.cleaned_data["identifier"],
                reason=form.cleaned_data["reason"],
            )
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            if grant is None:
                messages.info(request, f"You already have access to patient {patient.code}.")
            else:
                until = timezone.localtime(grant.expires_at)
                messages.warning(
                    request,
                    f"Emergency access to patient {patient.code} until {until:%H:%M}. "
                    "Your clinic's managers are told.",
                )
            audit_note(
                request,
                action=Action.CREATE if grant else Action.VIEW,
                obj=grant,
                patients=[patient.pk],
            )
            return redirect(patient)
    grants = selectors.emergency_accesses_of(request.user)
    audit_note(request, patients=[grant.patient_id for grant in grants])  # the codes listed
    return render(
        request,
        "patients/emergency.html",
        {
            "form": form,
            "grants": grants,
            "hours": settings.EMERGENCY_ACCESS_HOURS,
        },
    )


@login_required
@require_POST
@audited()
def emergency_acknowledge(request, pk):
    grant = selectors.emergency_access_for_acknowledging(request.user, pk)
    audit_note(request, action=Action.CHANGE, obj=grant, patients=[grant.patient_id])
    services.emergency_access_acknowledge(by=request.user, grant=grant)
    messages.success(request, f"Emergency access of {grant.user} to {grant.patient.code} seen.")
    return redirect(safe_next(request, "clinic:dashboard"))
