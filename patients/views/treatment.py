"""The patient's treatment plan: MVC calibrations, protocol targets, progress and adherence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from clinic.access import require_perm
from clinic.audit import Action
from clinic.web import audited
from patients import forms, progress, protocol, selectors, services
from patients.models import Patient


@login_required
@require_http_methods(["GET", "POST"])
@audited(Patient, write=Action.CREATE)
def patient_calibrations(request, pk):
    """MVC calibrations per muscle: enter a value (µV) or measure one from a recording."""
    patient = selectors.patient_for(request.user, pk, perm="patients.view_mvccalibration")
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
                    services.mvc_calibration_enter(
                        patient=patient,
                        muscle=data["muscle"],
                        side=data["side"],
                        value_v=entry_form.value_v,
                        notes=data["notes"],
                        user=request.user,
                    )
                    messages.success(request, "MVC value saved.")
                    return redirect("patients:calibrations", pk=patient.pk)
            elif action == "measure":
                upload_form = forms.MvcUploadForm(request.POST, request.FILES, prefix="measure")
                if upload_form.is_valid():
                    data = upload_form.cleaned_data
                    cal = services.mvc_calibration_measure(
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
                    return redirect("patients:calibrations", pk=patient.pk)
            else:
                messages.error(request, "Unknown action.")
        except ValidationError as exc:
            form = entry_form if action == "enter" else upload_form
            for message in exc.messages:
                form.add_error(None, message)
    return render(
        request,
        "patients/calibrations.html",
        {
            "patient": patient,
            "card": selectors.card_for(request.user, patient),
            "groups": selectors.calibrations_by_muscle(patient),
            "entry_form": entry_form,
            "upload_form": upload_form,
            "can_add": request.user.has_perm("patients.add_mvccalibration"),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@audited(Patient)
def patient_protocol(request, pk):
    """The patient's protocol targets and scoring weights; blank = the clinic default."""
    patient = selectors.patient_for(request.user, pk, perm="patients.view_patientprotocol")
    placeholders = protocol.protocol_placeholders(patient)
    own = protocol.own_protocol(patient)
    can_change = request.user.has_perm("patients.change_patientprotocol")
    if request.method == "POST":
        require_perm(request.user, "patients.change_patientprotocol")
        form = forms.PatientProtocolForm(request.POST, placeholders=placeholders)
        if form.is_valid():
            try:
                services.patient_protocol_update(
                    patient=patient, values=form.cleaned_data, user=request.user
                )
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error(None, message)
            else:
                messages.success(
                    request,
                    "Protocol saved. Re-analyse sessions for their scores to use it.",
                )
                return redirect("patients:protocol", pk=patient.pk)
    else:
        form = forms.PatientProtocolForm(
            initial=forms.PatientProtocolForm.initial_from(own), placeholders=placeholders
        )
    if not can_change:
        for field in form.fields.values():
            field.disabled = True
    return render(
        request,
        "patients/protocol.html",
        {
            "patient": patient,
            "card": selectors.card_for(request.user, patient),
            "form": form,
            "protocol": own,
            "effective": protocol.effective_protocol_rows(patient),
            "can_change": can_change,
        },
    )


@login_required
@audited(Patient)
def patient_progress(request, pk):
    """Progress across this patient's sessions, and adherence to the planned protocol."""
    patient = selectors.patient_for(request.user, pk, perm="patients.view_patient")
    return render(
        request,
        "patients/progress.html",
        {
            "patient": patient,
            "card": selectors.card_for(request.user, patient),
            **progress.progress_page(patient, page_number=request.GET.get("page")),
        },
    )
