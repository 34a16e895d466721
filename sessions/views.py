"""Session and recording pages; recordings are streamed from private storage, never linked.

Out of scope is 404 (``get_visible_or_404``), a missing permission 403.
"""

from auditlog.signals import accessed
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from clinic.access import can_see_identity, get_visible_or_404, hide_voided_from_non_voiders
from patients.forms import VoidForm
from patients.models import Patient
from patients.selectors import patient_card
from sessions import selectors, services
from sessions.forms import TherapySessionForm
from sessions.models import Recording


def _session_or_404(request, pk, perm=None):
    session = get_visible_or_404(
        selectors.sessions_queryset(request.user), user=request.user, perm=perm, pk=pk
    )
    hide_voided_from_non_voiders(request.user, patient=session.patient)
    return session


def _card(request, patient):
    return patient_card(patient, identity=can_see_identity(request.user))


@login_required
def session_create(request, pk):
    patient = get_visible_or_404(
        Patient.objects.visible_to(request.user).active(),
        user=request.user,
        perm="therapy_sessions.add_therapysession",
        pk=pk,
    )
    form = TherapySessionForm(request.POST or None, patient=patient, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(by=request.user, session=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session saved.")
            return redirect(session)
    return render(
        request,
        "sessions/form.html",
        {"form": form, "card": _card(request, patient), "creating": True},
    )


@login_required
def session_detail(request, pk):
    session = _session_or_404(request, pk, "therapy_sessions.view_therapysession")
    hide_voided_from_non_voiders(request.user, patient=session.patient, session=session)
    return render(
        request,
        "sessions/detail.html",
        {
            "session": session,
            "card": _card(request, session.patient),
            "recordings": selectors.session_recordings(session),
        },
    )


@login_required
def session_edit(request, pk):
    session = _session_or_404(request, pk, "therapy_sessions.change_therapysession")
    if session.is_voided:
        raise Http404("Not found.")
    form = TherapySessionForm(
        request.POST or None, instance=session, patient=session.patient, user=request.user
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.session_update(by=request.user, session=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session saved.")
            return redirect(session)
    return render(
        request,
        "sessions/form.html",
        {"form": form, "card": _card(request, session.patient), "session": session},
    )


@login_required
@require_http_methods(["GET", "POST"])
def session_void(request, pk):
    session = _session_or_404(request, pk, "therapy_sessions.void_therapysession")
    if session.is_voided:
        raise Http404("Not found.")
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.session_void(
                by=request.user, session=session, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Session is now void.")
            return redirect(session.patient)
    card = _card(request, session.patient)
    return render(
        request,
        "void_confirm.html",
        {
            "form": form,
            "card": card,
            "object_label": f"session of {session.started_at:%Y-%m-%d %H:%M} ({card.code})",
            "cancel_url": session.get_absolute_url(),
        },
    )


def _recording_or_404(request, pk, perm):
    recording = get_visible_or_404(
        selectors.recordings_queryset(request.user), user=request.user, perm=perm, pk=pk
    )
    hide_voided_from_non_voiders(request.user, patient=recording.session.patient)
    return recording


@login_required
def recording_detail(request, pk):
    recording = _recording_or_404(request, pk, "therapy_sessions.view_recording")
    return render(
        request,
        "sessions/recording_detail.html",
        {
            "recording": recording,
            "session": recording.session,
            "card": _card(request, recording.session.patient),
        },
    )


@login_required
@require_GET
def recording_download(request, pk):
    """Stream the C3D as an attachment, and leave an 'accessed' entry in the audit log."""
    recording = _recording_or_404(request, pk, "therapy_sessions.download_recording")
    if not can_see_identity(request.user):
        # A C3D carries the player's name: pseudonymised roles never get the raw file.
        raise PermissionDenied("Identifiable files are not available to your role.")
    try:
        handle = recording.file.open("rb")
    except (FileNotFoundError, ValueError) as exc:
        raise Http404("The file of this recording is missing.") from exc
    accessed.send(sender=Recording, instance=recording)
    return FileResponse(
        handle,
        as_attachment=True,
        filename=recording.original_name or f"recording-{recording.pk}.c3d",
        content_type="application/octet-stream",
    )
