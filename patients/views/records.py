"""Patient record pages: list, detail, create, edit, void.

Out of scope is 404, a missing permission 403 (``patients.selectors.patient_for``).
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from analysis.selectors import session_scores
from clinic.access import is_emergency_read, require_perm
from clinic.audit import Action
from clinic.web import audit_note, audited
from patients import selectors, services
from patients.forms import PatientForm, VoidForm
from patients.models import Patient


@login_required
@audited()
def patient_list(request):
    require_perm(request.user, "patients.view_patient")
    filterset, patients = selectors.patients_for_list(request.user, request.GET)
    page = Paginator(patients, selectors.PAGE_SIZE).get_page(request.GET.get("page"))
    therapists = selectors.therapists_by_patient([p.pk for p in page.object_list])
    rows = [
        {
            "card": selectors.patient_card(p, identity=filterset.identity),
            "therapists": therapists.get(p.pk, []),
            "session_count": p.session_count,
        }
        for p in page.object_list
    ]
    # One entry for the page, naming the patients it shows.
    audit_note(request, patients=[row["card"].pk for row in rows], object_type="patients.patient")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "patients/list.html",
        {"filter": filterset, "page": page, "rows": rows, "query": query.urlencode()},
    )


@login_required
@audited(Patient)
def patient_detail(request, pk):
    patient = selectors.patient_for(request.user, pk, perm="patients.view_patient")
    page = Paginator(
        selectors.patient_sessions(patient, user=request.user), selectors.PAGE_SIZE
    ).get_page(request.GET.get("page"))
    scores = session_scores(page.object_list) if page.object_list else {}
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "card": selectors.card_for(request.user, patient),
            "therapists": patient.therapists.all(),
            "page": page,
            "session_rows": [{"session": s, "score": scores.get(s.pk)} for s in page],
            "summary": selectors.patient_session_summary(patient, user=request.user),
            "emergency": selectors.emergency_access_now(request.user, patient)
            if is_emergency_read(request.user, patient)
            else None,
        },
    )


@login_required
@audited()
def patient_create(request):
    require_perm(request.user, "patients.add_patient")
    form = PatientForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            patient = services.patient_create(
                by=request.user,
                patient=form.save(commit=False),
                therapists=form.cleaned_data.get("therapists"),
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            audit_note(request, action=Action.CREATE, obj=patient)
            messages.success(request, f"Patient {patient.code} created.")
            return redirect(patient)
    return render(request, "patients/form.html", {"form": form, "creating": True})


@login_required
@audited(Patient)
def patient_edit(request, pk):
    patient = selectors.patient_for(
        request.user, pk, perm="patients.change_patient", active_only=True
    )
    form = PatientForm(request.POST or None, instance=patient, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_update(
                by=request.user,
                patient=form.save(commit=False),
                therapists=form.cleaned_data.get("therapists")
                if "therapists" in form.fields
                else None,
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Patient {patient.code} saved.")
            return redirect(patient)
    card = selectors.card_for(request.user, patient)
    return render(request, "patients/form.html", {"form": form, "patient": patient, "card": card})


@login_required
@require_http_methods(["GET", "POST"])
@audited(Patient, write=Action.VOID)
def patient_void(request, pk):
    patient = selectors.patient_for(
        request.user, pk, perm="patients.void_patient", active_only=True
    )
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.patient_void(
                by=request.user, patient=patient, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Patient {patient.code} is now void.")
            return redirect("patients:list")
    card = selectors.card_for(request.user, patient)
    return render(
        request,
        "void_confirm.html",
        {
            "form": form,
            "card": card,
            "object_label": f"patient {card.label}",
            "cancel_url": patient.get_absolute_url(),
        },
    )
