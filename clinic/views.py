"""Clinic pages: the dashboard, the audit trail and the clinic's settings (protocol defaults,
scoring)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from analysis.selectors import channel_labels_seen
from clinic import forms, selectors, services
from clinic.access import require_perm
from clinic.models import ApiToken
from clinic.web import audit_note, audited


@login_required
@audited()
def dashboard(request):
    context = selectors.dashboard_for(request.user, params=request.GET)
    # One entry for the page, naming every patient it shows (every list of it).
    shown = {card.pk for card in context["patients"]}
    for key in (
        "todays_sessions",
        "week_sessions",
        "recent_sessions",
        "missing_rounds",
        "behind",
        "adherence_by_patient",
        "attention",
        "emergency",
    ):
        shown.update(row["patient"].pk for row in context[key])
    audit_note(request, patients=sorted(shown), object_type="patients.patient")
    return render(request, "clinic/dashboard.html", context)


@login_required
@audited()
def audit_log(request):
    """The clinic's audit trail, filtered by user, patient, action, purpose and date (managers)."""
    require_perm(request.user, "clinic.view_auditentry")
    filterset, page, rows = selectors.audit_page(request.user, request.GET, request.GET.get("page"))
    # The page names patients and who saw them: itself one read, of the patients it lists.
    audit_note(
        request,
        patients=sorted({pk for row in rows for pk in row["patient_ids"]}),
        object_type="clinic.auditentry",
    )
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "clinic/audit.html",
        {"filter": filterset, "page": page, "rows": rows, "query": query.urlencode()},
    )


@login_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request):
    """The clinic's protocol defaults, scoring weights and channel map, versioned (managers)."""
    require_perm(request.user, "clinic.add_clinicsettings")
    if request.user.is_superuser:
        clinic_id = request.GET.get("clinic") or request.POST.get("clinic")
        if not clinic_id:
            return render(
                request,
                "clinic/settings_choose.html",
                {"clinics": selectors.clinics_for_choice()},
            )
        clinic = selectors.clinic_or_404(clinic_id)
    elif request.user.clinic_id is None:
        raise PermissionDenied("You belong to no clinic.")
    else:
        clinic = request.user.clinic
    versions = selectors.settings_versions(clinic)
    current = versions[0] if versions else None
    if request.method == "POST":
        form = forms.ClinicSettingsForm(request.POST)
        # A post without the map's rows (an older form) leaves the map as it is.
        posted_map = f"{forms.CHANNEL_MAP_PREFIX}-TOTAL_FORMS" in request.POST
        if posted_map:
            channels = forms.channel_map_formset(request.POST)
        else:
            channels = forms.channel_map_formset(channel_map=current and current.channel_map)
        if form.is_valid() and (not posted_map or channels.is_valid()):
            values = form.cleaned_data
            if posted_map:
                values = values | {"channel_map": channels.channel_map()}
            try:
                row = services.clinic_settings_create(
                    clinic=clinic, values=values, user=request.user
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(request, f"Settings saved as version {row.version}.")
                url = reverse("clinic:settings")
                if request.user.is_superuser:
                    url += f"?clinic={clinic.pk}"
                return redirect(url)
    else:
        form = forms.ClinicSettingsForm(initial=forms.ClinicSettingsForm.initial_from(current))
        channels = forms.channel_map_formset(channel_map=current and current.channel_map)
    return render(
        request,
        "clinic/settings.html",
        {
            "clinic": clinic,
            "form": form,
            "channels": channels,
            "labels_seen": channel_labels_seen(clinic),
            "current": current,
            "versions": versions,
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def api_tokens(request):
    """The user's personal API tokens: list, create (shown once), revoke."""
    new_token = None
    form = forms.ApiTokenForm()
    if request.method == "POST" and "revoke" in request.POST:
        try:
            row = services.api_token_revoke(user=request.user, token_id=request.POST["revoke"])
        except ApiToken.DoesNotExist as exc:
            raise Http404("No such token.") from exc
        messages.success(request, f"Token “{row.name}” revoked.")
        return redirect("clinic:api_tokens")
    if request.method == "POST":
        form = forms.ApiTokenForm(request.POST)
        if form.is_valid():
            try:
                row, new_token = services.api_token_create(
                    user=request.user,
                    name=form.cleaned_data["name"],
                    expires_days=form.cleaned_data["expires_days"],
                )
            except ValidationError as exc:
                form.add_error(None, exc)
            else:
                form = forms.ApiTokenForm()
    return render(
        request,
        "clinic/api_tokens.html",
        {"form": form, "tokens": selectors.api_tokens_of(request.user), "new_token": new_token},
    )
