"""Session and recording pages, and the upload of recordings to a session.

Recordings are streamed from private storage, never linked. Out of scope is 404, a missing
permission 403 (``sessions.selectors.session_for`` / ``recording_for``).
"""

from auditlog.signals import accessed
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET, require_http_methods

from analysis.pipeline.queue import recording_move as pipeline_recording_move
from analysis.presentation import recording_row_context
from clinic.access import can_download_recordings, require_perm
from clinic.audit import Action
from clinic.web import audit_note, audited, safe_next, wants_json
from patients.forms import VoidForm
from patients.models import Patient
from patients.selectors import card_for, patient_for
from sessions import selectors, services
from sessions.forms import RecordingMoveForm, TherapySessionForm
from sessions.models import Recording, TherapySession
from sessions.uploads import UploadRefused, recording_upload


@login_required
@audited(Patient, write=Action.CREATE)
def session_create(request, pk):
    patient = patient_for(
        request.user, pk, perm="therapy_sessions.add_therapysession", active_only=True
    )
    form = TherapySessionForm(request.POST or None, patient=patient, user=request.user)
    if request.method == "POST" and form.is_valid():
        try:
            session = services.session_create(by=request.user, session=form.save(commit=False))
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            audit_note(request, action=Action.CREATE, obj=session)
            messages.success(request, "Session saved.")
            return redirect(session)
    return render(
        request,
        "sessions/form.html",
        {"form": form, "card": card_for(request.user, patient), "creating": True},
    )


@login_required
@audited(TherapySession)
def session_detail(request, pk):
    session = selectors.session_for(request.user, pk, perm="therapy_sessions.view_therapysession")
    # the audit entry names the patient already loaded (no lookup query of its own)
    audit_note(request, obj=session, patients=[session.patient_id])
    return render(
        request,
        "sessions/detail.html",
        {
            "session": session,
            "card": card_for(request.user, session.patient),
            "recordings": selectors.session_recordings(session),
        },
    )


@login_required
@audited(TherapySession)
def session_edit(request, pk):
    session = selectors.session_for(
        request.user, pk, perm="therapy_sessions.change_therapysession", active_only=True
    )
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
        {"form": form, "card": card_for(request.user, session.patient), "session": session},
    )


@login_required
@require_http_methods(["GET", "POST"])
@audited(TherapySession, write=Action.VOID)
def session_void(request, pk):
    session = selectors.session_for(
        request.user, pk, perm="therapy_sessions.void_therapysession", active_only=True
    )
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
    card = card_for(request.user, session.patient)
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


@login_required
@audited(Recording)
def recording_detail(request, pk):
    recording = selectors.recording_for(request.user, pk, perm="therapy_sessions.view_recording")
    audit_note(request, obj=recording, patients=[recording.session.patient_id])
    return render(
        request,
        "sessions/recording_detail.html",
        {
            "recording": recording,
            "session": recording.session,
            "card": card_for(request.user, recording.session.patient),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@audited(Recording, write=Action.VOID)
def recording_void(request, pk):
    """Void a wrong or failed recording with a reason (404 out of scope or voided, then 403)."""
    recording = selectors.recording_for(
        request.user, pk, perm="therapy_sessions.void_recording", active_only=True
    )
    form = VoidForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.recording_void(
                by=request.user, recording=recording, reason=form.cleaned_data["reason"]
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, "Recording is now void.")
            return redirect(recording.session)
    card = card_for(request.user, recording.session.patient)
    name = selectors.recording_name(recording, identity=card.identity)
    return render(
        request,
        "void_confirm.html",
        {
            "form": form,
            "card": card,
            "object_label": (
                f"{name} (session of {recording.session.started_at:%Y-%m-%d %H:%M}, {card.code})"
            ),
            "cancel_url": recording.get_absolute_url(),
            "void_note": (
                "A void recording stays on the session, struck through, for those who may void; "
                "it is left out of the score, the counts, the exports and the reports."
            ),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
@audited(Recording, write=Action.CHANGE)
def recording_move(request, pk):
    """Move a recording to another session of this or another patient in scope.

    The audit entry names both patients; a move to another patient re-analyses the recording
    with that patient's MVC and protocol (``analysis.pipeline.queue.recording_move``).
    """
    recording = selectors.recording_for(
        request.user, pk, perm="therapy_sessions.void_recording", active_only=True
    )
    from_session = recording.session
    form = RecordingMoveForm(
        request.POST or None,
        recording=recording,
        sessions=selectors.sessions_listed(request.user),
    )
    if request.method == "POST" and form.is_valid():
        to_session = form.cleaned_data["to_session"]
        try:
            reanalysed = pipeline_recording_move(
                by=request.user, recording=recording, to_session=to_session
            )
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            audit_note(
                request,
                action=Action.CHANGE,
                obj=recording,
                patients=[from_session.patient_id, to_session.patient_id],
            )
            messages.success(
                request,
                "Recording moved; it is analysed again with this patient's MVC and protocol."
                if reanalysed
                else "Recording moved.",
            )
            return redirect(to_session)
    card = card_for(request.user, from_session.patient)
    return render(
        request,
        "sessions/recording_move.html",
        {
            "form": form,
            "card": card,
            "recording": recording,
            "session": from_session,
            "name": selectors.recording_name(recording, identity=card.identity),
        },
    )


@login_required
@require_GET
@audited(Recording, action=Action.DOWNLOAD)
def recording_download(request, pk):
    """Stream the C3D as an attachment, and leave an 'accessed' entry in the audit log."""
    recording = selectors.recording_for(
        request.user, pk, perm="therapy_sessions.download_recording"
    )
    if not can_download_recordings(request.user):
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


@login_required
@require_http_methods(["GET", "POST"])
@audited(TherapySession, write=Action.CREATE)
def session_upload(request, pk):
    """Upload C3D files to a session (works without JavaScript; upload.js adds XHR progress).

    GET shows the session's recordings with the upload form; POST runs every file through
    ``sessions.uploads.recording_upload`` and lists each refused file and why.
    """
    session = selectors.session_for(request.user, pk, perm="therapy_sessions.view_therapysession")
    if request.method == "GET":
        return render(
            request,
            "sessions/upload.html",
            {"session": session, "card": card_for(request.user, session.patient)},
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
            refused.append({"name": uploaded.name, "reason": " ".join(exc.messages)})
    # The entry says create only when a file was stored; refused files changed nothing.
    audit_note(request, action=Action.CREATE if accepted else Action.VIEW, obj=session)
    if not uploads:
        refused.append({"name": "", "reason": "Choose one or more C3D files to upload."})
    if wants_json(request):
        return JsonResponse(
            {
                "accepted": [
                    {
                        "id": r.pk,
                        "name": r.original_name,
                        "row_html": recording_row_html(request, r),
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
    return redirect(safe_next(request, session.get_absolute_url()))


def recording_row_html(request, recording) -> str:
    """The session page's row of a new upload (upload.js inserts it without a reload)."""
    return render_to_string(
        "analysis/_recording_row.html",
        recording_row_context(recording, user=request.user),
        request=request,
    )
