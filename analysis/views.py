"""Staff pages of the recording pipeline: upload, live status, results, calibrations, protocol,
progress, clinic settings and the stateless analysis.

Thin views: every object comes through ``clinic.access`` (out of scope 404, missing permission
403), every change through a service, every read through a selector.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from analysis import forms, ui_selectors, ui_services
from analysis.services import session_reanalyse
from analysis.templatetags.analysis_ui import can_download
from clinic.access import (
    can_see_identity,
    get_visible_or_404,
    hide_voided_from_non_voiders,
    patients_visible_to,
    recordings_visible_to,
    require_perm,
    sessions_visible_to,
)
from patients.selectors import patient_card
from sessions.models import Recording
from sessions.uploads import UploadRefused, recording_upload


def _session_or_404(request, pk, perm):
    """A session in scope, hidden like the session page hides it (voided records: managers)."""
    session = get_visible_or_404(
        sessions_visible_to(request.user).select_related("patient"),
        user=request.user,
        perm=perm,
        pk=pk,
    )
    hide_voided_from_non_voiders(request.user, patient=session.patient, session=session)
    return session


def _recording_or_404(request, pk):
    recording = get_visible_or_404(
        recordings_visible_to(request.user).select_related("session__patient"),
        user=request.user,
        perm="therapy_sessions.view_recording",
        pk=pk,
    )
    hide_voided_from_non_voiders(request.user, patient=recording.session.patient)
    return recording


def _card(request, patient):
    return patient_card(patient, identity=can_see_identity(request.user))


def _wants_json(request) -> bool:
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


def session_url(session) -> str:
    """The session page, where the pipeline's rows live."""
    return session.get_absolute_url()


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _messages(exc: ValidationError) -> list[str]:
    return list(exc.messages)


# ---------------------------------------------------------------------------------------------
# Sessions: upload, re-analysis, live rows
# ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def session_upload(request, pk):
    """Upload C3D files to a session (works without JavaScript; upload.js adds XHR progress).

    GET shows the session's recordings with the upload form; POST runs every file through
    ``sessions.uploads.recording_upload`` and lists each refused file and why.
    """
    session = _session_or_404(request, pk, "therapy_sessions.view_therapysession")
    if request.method == "GET":
        return render(
            request,
            "analysis/session_upload.html",
            {"session": session, "card": _card(request, session.patient)},
        )
    require_perm(request.user, "therapy_sessions.add_recording")
    # Each file is judged by the upload service alone (empty, too big, not C3D, duplicate).
    uploads = request.FILES.getlist("files")
    accepted, refused = [], []
    for uploaded in uploads:
        try:
            accepted.append(
                recording_upload(session=session, uploaded_file=uploaded, user=request.user)
            )
        except UploadRefused as exc:
            refused.append({"name": uploaded.name, "reason": " ".join(_messages(exc))})
    if not uploads:
        refused.append({"name": "", "reason": "Choose one or more C3D files to upload."})
    if _wants_json(request):
        return JsonResponse(
            {
                "accepted": [
                    {
                        "id": r.pk,
                        "name": r.original_name,
                        "row_html": _row_html(request, r),
                    }
                    for r in accepted
                ],
                "refused": refused,
            },
            status=200 if accepted or not refused else 400,
        )
    for recording in accepted:
        messages.success(request, f"{recording.original_name} uploaded; analysis queued.")
    for item in refused:
        messages.error(request, item["reason"])
    return redirect(_safe_next(request, session_url(session)))


def _row_context(recording, *, user, with_results=False) -> dict:
    row = ui_selectors.recording_row(recording)
    context = {"row": row, "with_results": with_results, "can_download": can_download(user)}
    if with_results and row["recording"].status == Recording.Status.DONE:
        context["results"] = ui_selectors.recording_results(recording)
        context["recording"] = recording
    return context


def _row_html(request, recording) -> str:
    return render_to_string(
        "analysis/_recording_row.html", _row_context(recording, user=request.user), request=request
    )


@login_required
@require_POST
def session_reanalyse_view(request, pk):
    """Queue every finished recording of the session again (after an MVC/target change)."""
    session = _session_or_404(request, pk, "therapy_sessions.change_therapysession")
    try:
        queued = session_reanalyse(session=session, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(_messages(exc)))
    else:
        if queued:
            messages.success(
                request, f"{len(queued)} recording(s) queued for re-analysis with current settings."
            )
        else:
            messages.info(request, "No finished recording to re-analyse.")
    return redirect(_safe_next(request, session_url(session)))


@login_required
def session_score(request, pk):
    """The session score panel alone (session-status.js refreshes it when a recording is done)."""
    session = _session_or_404(request, pk, "therapy_sessions.view_therapysession")
    return render(
        request,
        "analysis/_session_score.html",
        {"session": session, "summary": ui_selectors.session_page(session)},
    )


@login_required
def recording_row(request, pk):
    """One recording's row on the session page (session-status.js reloads it when done)."""
    recording = _recording_or_404(request, pk)
    with_results = request.GET.get("results") == "1"
    return render(
        request,
        "analysis/_recording_row.html",
        _row_context(recording, user=request.user, with_results=with_results),
    )


@login_required
def recording_results(request, pk):
    """The results of one recording as a fragment (``?fragment=1``) or a page."""
    recording = _recording_or_404(request, pk)
    context = {"results": ui_selectors.recording_results(recording), "recording": recording}
    if request.GET.get("fragment") == "1":
        return render(request, "analysis/_recording_results.html", context)
    context["session"] = recording.session
    context["card"] = _card(request, recording.session.patient)
    return render(request, "analysis/recording_results.html", context)


# ---------------------------------------------------------------------------------------------
# Patients: calibrations, protocol, progress
# ---------------------------------------------------------------------------------------------


def _patient(request, pk, perm):
    patient = get_visible_or_404(
        patients_visible_to(request.user), user=request.user, perm=perm, pk=pk
    )
    hide_voided_from_non_voiders(request.user, patient=patient)
    return patient


@login_required
@require_http_methods(["GET", "POST"])
def patient_calibrations(request, pk):
    """MVC calibrations per muscle: enter a value (µV) or measure one from a recording."""
    patient = _patient(request, pk, "patients.view_mvccalibration")
    entry_form = forms.MvcEntryForm(prefix="enter")
    upload_form = forms.MvcUploadForm(prefix="measure")
    if request.method == "POST":
        require_perm(request.user, "patients.add_mvccalibration")
        action = request.POST.get("action")
        try:
            if action == "enter":
                entry_form = forms.MvcEntryForm(request.POST, prefix="enter")
                if entry_form.is_valid():
                    data = entry_form.cleaned_data
                    ui_services.mvc_calibration_enter(
                        patient=patient,
                        muscle=data["muscle"],
                        side=data["side"],
                        value_v=entry_form.value_v,
                        notes=data["notes"],
                        user=request.user,
                    )
                    messages.success(request, "MVC value saved.")
                    return redirect("analysis:patient_calibrations", pk=patient.pk)
            elif action == "measure":
                upload_form = forms.MvcUploadForm(request.POST, request.FILES, prefix="measure")
                if upload_form.is_valid():
                    data = upload_form.cleaned_data
                    cal = ui_services.mvc_calibration_measure(
                        patient=patient,
                        muscle=data["muscle"],
                        side=data["side"],
                        channel=data["channel"],
                        uploaded_file=data["file"],
                        user=request.user,
                    )
                    messages.success(
                        request, f"MVC measured: {cal.value_v * 1e6:.1f} µV ({cal.muscle_key})."
                    )
                    return redirect("analysis:patient_calibrations", pk=patient.pk)
            else:
                messages.error(request, "Unknown action.")
        except ValidationError as exc:
            form = entry_form if action == "enter" else upload_form
            for message in _messages(exc):
                form.add_error(None, message)
    return render(
        request,
        "analysis/patient_calibrations.html",
        {
            "patient": patient,
            "card": _card(request, patient),
            "groups": ui_selectors.calibrations_by_muscle(patient),
            "entry_form": entry_form,
            "upload_form": upload_form,
            "can_add": request.user.has_perm("patients.add_mvccalibration"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def patient_protocol(request, pk):
    """The patient's protocol targets and scoring weights; blank = the clinic default."""
    from patients.models import PatientProtocol

    patient = _patient(request, pk, "patients.view_patientprotocol")
    placeholders = ui_selectors.protocol_placeholders(patient)
    protocol = PatientProtocol.objects.filter(patient=patient).first()
    can_change = request.user.has_perm("patients.change_patientprotocol")
    if request.method == "POST":
        require_perm(request.user, "patients.change_patientprotocol")
        form = forms.PatientProtocolForm(request.POST, placeholders=placeholders)
        if form.is_valid():
            try:
                ui_services.patient_protocol_update(
                    patient=patient, values=form.cleaned_data, user=request.user
                )
            except ValidationError as exc:
                for message in _messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    "Protocol saved. Re-analyse sessions for their scores to use it.",
                )
                return redirect("analysis:patient_protocol", pk=patient.pk)
    else:
        form = forms.PatientProtocolForm(
            initial=forms.PatientProtocolForm.initial_from(protocol), placeholders=placeholders
        )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "analysis/patient_protocol.html",
        {
            "patient": patient,
            "card": _card(request, patient),
            "form": form,
            "protocol": protocol,
            "effective": ui_selectors.effective_protocol_rows(patient),
            "can_change": can_change,
        },
    )


@login_required
def patient_progress(request, pk):
    """Progress across this patient's sessions, and adherence to the planned protocol."""
    patient = _patient(request, pk, "patients.view_patient")
    return render(
        request,
        "analysis/patient_progress.html",
        {
            "patient": patient,
            "card": _card(request, patient),
            **ui_selectors.progress_page(patient),
        },
    )


# ---------------------------------------------------------------------------------------------
# Clinic settings and the stateless analysis
# ---------------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def clinic_settings(request):
    """The clinic's protocol defaults and scoring weights, versioned (managers only)."""
    from clinic.models import Clinic, ClinicSettings

    require_perm(request.user, "clinic.add_clinicsettings")
    if request.user.is_superuser:
        clinic_id = request.GET.get("clinic") or request.POST.get("clinic")
        if not clinic_id:
            return render(
                request,
                "analysis/clinic_settings_choose.html",
                {"clinics": Clinic.objects.order_by("name")},
            )
        try:
            clinic = Clinic.objects.get(pk=int(clinic_id))
        except (Clinic.DoesNotExist, ValueError) as exc:
            raise Http404("Not found.") from exc
    elif request.user.clinic_id is None:
        raise PermissionDenied("You belong to no clinic.")
    else:
        clinic = request.user.clinic
    versions = list(
        ClinicSettings.objects.filter(clinic=clinic)
        .select_related("created_by")
        .order_by("-version")
    )
    current = versions[0] if versions else None
    if request.method == "POST":
        form = forms.ClinicSettingsForm(request.POST)
        if form.is_valid():
            try:
                row = ui_services.clinic_settings_create(
                    clinic=clinic, values=form.cleaned_data, user=request.user
                )
            except ValidationError as exc:
                for message in _messages(exc):
                    form.add_error(None, message)
            else:
                messages.success(request, f"Settings saved as version {row.version}.")
                url = reverse("analysis:clinic_settings")
                if request.user.is_superuser:
                    url += f"?clinic={clinic.pk}"
                return redirect(url)
    else:
        form = forms.ClinicSettingsForm(initial=forms.ClinicSettingsForm.initial_from(current))
    return render(
        request,
        "analysis/clinic_settings.html",
        {"clinic": clinic, "form": form, "current": current, "versions": versions},
    )


@login_required
@require_http_methods(["GET", "POST"])
def stateless(request):
    """Analyse one uploaded file and show the results without storing anything."""
    from analysis import core
    from analysis.services import analysis_stateless

    require_perm(request.user, "analysis.view_recordinganalysis")
    results = None
    if request.method == "POST":
        form = forms.SingleC3dForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                document = analysis_stateless(uploaded_file=uploaded)
            except UploadRefused as exc:
                form.add_error("file", " ".join(_messages(exc)))
            except core.InvalidRecording as exc:
                form.add_error("file", f"{uploaded.name}: {exc}")
            else:
                results = ui_selectors.results_from_document(document)
    else:
        form = forms.SingleC3dForm()
    return render(request, "analysis/stateless.html", {"form": form, "results": results})
