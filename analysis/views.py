"""Result pages: a recording's results and row, the session's score panel, re-analysis, and
the stateless analysis ("try a file").

Thin views: objects come through the selectors' scoped lookups (out of scope 404, missing
permission 403), changes through the pipeline's services.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from analysis import core, forms, presentation, research
from analysis.pipeline.queue import session_reanalyse
from analysis.pipeline.stateless import analysis_stateless
from clinic.access import require_perm
from clinic.audit import Action
from clinic.web import audit_note, audited, safe_next, streaming_download
from patients.selectors import card_for
from sessions.models import Recording, TherapySession
from sessions.selectors import recording_for, session_for
from sessions.uploads import UploadRefused


@login_required
@require_POST
@audited(TherapySession, write=Action.CHANGE)
def session_reanalyse_view(request, pk):
    """Queue every finished recording of the session again (after an MVC/target change)."""
    session = session_for(request.user, pk, perm="therapy_sessions.view_therapysession")
    try:
        queued = session_reanalyse(session=session, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        if queued:
            messages.success(
                request, f"{len(queued)} recording(s) queued for re-analysis with current settings."
            )
        else:
            messages.info(request, "No finished recording to re-analyse.")
    return redirect(safe_next(request, session.get_absolute_url()))


@login_required
@audited(TherapySession)
def session_score(request, pk):
    """The session score panel alone (session-status.js refreshes it when a recording is done)."""
    session = session_for(request.user, pk, perm="therapy_sessions.view_therapysession")
    return render(
        request,
        "analysis/_session_score.html",
        {"session": session, "summary": presentation.session_page(session)},
    )


@login_required
@audited(Recording)
def recording_row(request, pk):
    """One recording's row on the session page (session-status.js reloads it when done)."""
    recording = recording_for(request.user, pk, perm="therapy_sessions.view_recording")
    return render(
        request,
        "analysis/_recording_row.html",
        presentation.recording_row_context(
            recording, user=request.user, with_results=request.GET.get("results") == "1"
        ),
    )


@login_required
@audited(Recording)
def recording_results(request, pk):
    """The results of one recording as a fragment (``?fragment=1``) or a page."""
    recording = recording_for(request.user, pk, perm="therapy_sessions.view_recording")
    context = {"results": presentation.recording_results(recording), "recording": recording}
    if request.GET.get("fragment") == "1":
        return render(request, "analysis/_recording_results.html", context)
    context["session"] = recording.session
    context["card"] = card_for(request.user, recording.session.patient)
    return render(request, "analysis/recording_results.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def stateless(request):
    """Analyse one uploaded file and show the results without storing anything."""
    require_perm(request.user, "analysis.view_recordinganalysis")
    results = None
    if request.method == "POST":
        form = forms.SingleC3dForm(request.POST, request.FILES)
        if form.is_valid():
            uploaded = form.cleaned_data["file"]
            try:
                document = analysis_stateless(uploaded_file=uploaded)
            except UploadRefused as exc:
                form.add_error("file", " ".join(exc.messages))
            except core.InvalidRecording as exc:
                form.add_error("file", f"{uploaded.name}: {exc}")
            else:
                results = presentation.results_from_document(document)
    else:
        form = forms.SingleC3dForm()
    return render(request, "analysis/stateless.html", {"form": form, "results": results})


@login_required
@require_GET
def research_export_page(request):
    """What the researchers' dataset holds, and its download."""
    require_perm(request.user, research.EXPORT_PERMISSION)
    return render(request, "analysis/exports.html")


@login_required
@require_GET
@audited(action=Action.EXPORT)
def research_export_csv(request):
    """The clinic's pseudonymised dataset as a streamed CSV (403 without the permission)."""
    lines = research.research_export_csv(request.user)
    audit_note(
        request,
        patients=research.research_patient_ids(request.user),
        object_type="analysis.research_export",
    )
    return streaming_download(
        request,
        lines,
        filename=f"research-{timezone.localdate():%Y%m%d}.csv",
        content_type="text/csv; charset=utf-8",
    )
