"""Template pieces of the recording pipeline that other apps' pages include.

``{% session_pipeline session %}`` (session page: score, upload form, live recording rows,
re-analysis) and ``{% recording_results recording %}`` (recording page: charts and metrics)
compute their own context, so the pages that include them need only a one-line hook.
"""

from __future__ import annotations

from django import template

from analysis import forms, ui_selectors
from clinic.access import can_see_identity

register = template.Library()
DASH = "–"


@register.filter
def num(value, digits=1):
    """A number with ``digits`` decimals, or a dash for None/NaN (never "nan")."""
    number = ui_selectors.finite_or_none(value)
    if number is None:
        return DASH
    return f"{number:.{int(digits)}f}"


@register.filter
def uv(value, digits=1):
    """Volts shown in microvolts."""
    number = ui_selectors.finite_or_none(value)
    return DASH if number is None else f"{number * 1e6:.{int(digits)}f}"


@register.filter
def pct(value, digits=0):
    """A 0-1 fraction as a percentage."""
    number = ui_selectors.finite_or_none(value)
    return DASH if number is None else f"{number * 100:.{int(digits)}f}"


def can_download(user) -> bool:
    """As on the session page: C3D files carry the player's name, so identity is needed too."""
    return user.has_perm("therapy_sessions.download_recording") and can_see_identity(user)


@register.inclusion_tag("analysis/_session_pipeline.html", takes_context=True)
def session_pipeline(context, session):
    request = context.get("request")
    user = request.user
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "session": session,
        "summary": ui_selectors.session_page(session),
        "upload_form": forms.RecordingUploadForm(),
        "can_download": can_download(user),
        "can_upload": user.has_perm("therapy_sessions.add_recording") and not session.is_voided,
        "can_reanalyse": user.has_perm("therapy_sessions.change_therapysession")
        and user.has_perm("therapy_sessions.change_recording")
        and not session.is_voided,
    }


@register.inclusion_tag("analysis/_recording_results.html", takes_context=True)
def recording_results(context, recording):
    return {
        "request": context.get("request"),
        "results": ui_selectors.recording_results(recording),
        "recording": recording,
    }
