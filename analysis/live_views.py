"""The live page of a session (``/sessions/<id>/live/``): the view, its Stop and the demo's
replay of a stored recording. The page's script (static/js/live.js) does the rest."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from analysis.pipeline import live
from clinic.web import audited
from patients.selectors import card_for
from sessions.models import TherapySession
from sessions.selectors import recording_for, session_for

VIEW = "therapy_sessions.view_therapysession"


def ws_base(request) -> str:
    return ("wss://" if request.is_secure() else "ws://") + request.get_host()


@login_required
@audited(TherapySession)
def session_live(request, pk):
    session = session_for(request.user, pk, perm=VIEW)
    may_stream = request.user.has_perm(live.INGEST_PERMISSION) and not session.is_voided
    context = {
        "session": session,
        "card": card_for(request.user, session.patient),
        "may_stream": may_stream,
        "ws_path": f"/ws/sessions/{session.pk}/live/",
    }
    if may_stream:
        token = live.ingest_token_issue(session=session, user=request.user)
        ingest = f"{ws_base(request)}/ws/sessions/{session.pk}/ingest/"
        context.update(
            ingest_url=ingest,
            ingest_token=token,
            ingest_qr_svg=live.qr_svg(f"{ingest}?token={token}"),
            token_hours=settings.LIVE_INGEST_TOKEN_MAX_AGE_S // 3600,
            replay_candidates=live.replay_candidates(session) if settings.LIVE_DEMO_REPLAY else [],
        )
    return render(request, "analysis/live.html", context)


@login_required
@require_POST
@audited(TherapySession)
def session_live_stop(request, pk):
    session = session_for(request.user, pk, perm=live.INGEST_PERMISSION)
    if live.live_stop_request(session=session, user=request.user):
        messages.success(request, "The live stream is stopping; its recording follows.")
    else:
        messages.info(request, "No live stream was open.")
    return redirect(reverse("analysis:session_live", args=[session.pk]))


@login_required
@require_POST
@audited(TherapySession)
def session_live_replay(request, pk):
    if not settings.LIVE_DEMO_REPLAY:
        raise Http404("Not found.")
    session = session_for(request.user, pk, perm=live.INGEST_PERMISSION)
    try:
        recording_id = int(request.POST.get("recording", ""))
    except ValueError:
        raise Http404("Not found.") from None
    recording = recording_for(request.user, recording_id)
    if recording.session.patient_id != session.patient_id:
        raise Http404("Not found.")
    live.live_replay_start(
        session=session, user=request.user, recording=recording, base_url=ws_base(request)
    )
    messages.success(request, "Replaying the recording live through the ingest websocket.")
    return redirect(reverse("analysis:session_live", args=[session.pk]))
