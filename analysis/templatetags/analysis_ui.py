"""Template pieces of the recording pipeline that other apps' pages include.

``{% session_pipeline session %}`` (session page: score, upload form, live recording rows,
re-analysis) and ``{% recording_results recording %}`` (recording page: charts and metrics)
compute their own context, so the pages that include them need only a one-line hook.
"""

from __future__ import annotations

from functools import lru_cache

from django import template
from django.conf import settings
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils import timezone
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.html import conditional_escape, escape
from django.utils.safestring import SafeString, mark_safe

from analysis import presentation
from analysis.grading import METRIC_MEANINGS
from analysis.grading import failure_advice as _failure_advice
from analysis.pipeline.queue import may_reanalyse
from analysis.values import finite_or_none
from clinic.access import can_download_recordings, can_see_identity
from sessions.forms import RecordingUploadForm
from sessions.selectors import may_void_recordings
from sessions.selectors import recording_name as _recording_name

register = template.Library()
DASH = "–"
_SLOT = "2147483647"  # an id no table reaches: where the id goes in a reversed URL


@lru_cache(maxsize=256)
def _url_parts(prefix: str, urlconf: str, name: str) -> tuple[str, str]:
    url = reverse(name, urlconf=urlconf, args=[int(_SLOT)])
    if url.count(_SLOT) != 1:
        raise ValueError(f"{name} does not take one id")
    head, _, tail = url.partition(_SLOT)
    return escape(head), escape(tail)  # escaped once here, as the url tag escapes each URL


@register.filter
def url_of(pk, name):
    """``{{ row.session.pk|url_of:"sessions:detail" }}`` is ``{% url "sessions:detail"
    row.session.pk %}`` for URL patterns of one integer id: the pattern is reversed once per
    script prefix and URLconf, then the id formatted into it (lists of rows reverse no more)."""
    head, tail = _url_parts(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name)
    return SafeString(f"{head}{int(pk)}{tail}")


@register.filter
def recording_name(recording, user):
    """``{{ recording|recording_name:request.user }}``: the file name, or a neutral name for
    those who may not see identity (file names often carry the player's name)."""
    return _recording_name(recording, identity=can_see_identity(user))


@register.filter
def metric_meaning(name):
    """``{{ "snr_db"|metric_meaning }}``: the figure's one-line plain explanation."""
    return METRIC_MEANINGS.get(name, "")


@register.filter
def failure_advice(reason):
    """``{{ recording.failure_reason|failure_advice }}``: what the person can do about it."""
    return _failure_advice(reason)


@register.filter
def num(value, digits=1):
    """A number with ``digits`` decimals, or a dash for None/NaN (never "nan")."""
    number = finite_or_none(value)
    if number is None:
        return DASH
    return f"{number:.{int(digits)}f}"


@register.filter
def uv(value, digits=1):
    """Volts shown in microvolts."""
    number = finite_or_none(value)
    return DASH if number is None else f"{number * 1e6:.{int(digits)}f}"


@register.filter
def pct(value, digits=0):
    """A 0-1 fraction as a percentage."""
    number = finite_or_none(value)
    return DASH if number is None else f"{number * 100:.{int(digits)}f}"


@register.filter
def may(user, perm):
    """Whether ``user`` has the model permission ``perm`` (links only for those who may act)."""
    return bool(user is not None and getattr(user, "has_perm", None) and user.has_perm(perm))


_SESSION_TABLE_HEAD = (
    '\n<div class="table-wrap">\n  <table>\n    <caption class="visually-hidden">{caption}'
    '</caption>\n    <thead><tr><th scope="col">Date</th><th scope="col">Patient</th>'
    '<th scope="col">Therapist</th><th scope="col" class="num">Rounds</th>{score_head}'
    "</tr></thead>\n    <tbody>\n    "
)
_SESSION_TABLE_ROW = (
    '\n      <tr>\n        <td><a href="{session_url}">{date}</a></td>\n        <td><a href="'
    '{patient_url}">{patient}</a></td>\n        <td>{therapist}</td>\n        <td class="num">'
    "{recordings} of {planned}{missing}</td>\n        {score}\n      </tr>\n    "
)
_SESSION_TABLE_FOOT = "\n    </tbody>\n  </table>\n</div>\n"


def _session_date(started_at) -> str:
    """``{{ started_at|date:"D j M, H:i" }}``: the local time, formatted, escaped."""
    if not started_at:
        return ""
    if timezone.is_aware(started_at):
        started_at = timezone.localtime(started_at)
    # dateformat's D, j, M, H and i, without its parsing of the format on every call
    day, month = WEEKDAYS_ABBR[started_at.weekday()], MONTHS_3[started_at.month].title()
    return escape(f"{day} {started_at.day} {month}, {started_at.hour:02d}:{started_at.minute:02d}")


def _session_score(score) -> str:
    """The score cell: the overall score without decimals, or a muted dash without one (or
    without a score block: the template's ``{% if %}`` read a missing value as None)."""
    try:
        overall = score["overall"]
    except (TypeError, KeyError):
        overall = None
    if overall is None:
        return '<span class="muted">–</span>'
    return escape(num(overall, 0))


@register.simple_tag
def session_table(rows, caption, with_score=False):
    """``{% session_table rows "Caption" True %}``: the dashboard's table of session rows
    (``clinic.selectors.dashboard``'s ``_session_rows``) with the markup the template
    ``clinic/_session_table.html`` gives, byte for byte (tested), written out in Python: three
    such tables of up to 20 rows were a third of the dashboard's template time."""
    session_url = _url_parts(
        get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, "sessions:detail"
    )
    patient_url = _url_parts(
        get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, "patients:detail"
    )
    out = [
        _SESSION_TABLE_HEAD.format(
            caption=conditional_escape(caption),
            score_head='<th scope="col" class="num">Score</th>' if with_score else "",
        )
    ]
    for row in rows:
        session, therapist = row["session"], row["session"].therapist
        missing = row["missing_rounds"]
        out.append(
            _SESSION_TABLE_ROW.format(
                session_url=f"{session_url[0]}{int(session.pk)}{session_url[1]}",
                date=_session_date(session.started_at),
                patient_url=f"{patient_url[0]}{int(row['patient'].pk)}{patient_url[1]}",
                patient=conditional_escape(row["patient"].label),
                therapist=DASH if not therapist else conditional_escape(str(therapist)),
                recordings=conditional_escape(row["recordings"]),
                planned=conditional_escape(row["planned_rounds"]),
                missing=(
                    f' <span class="badge badge-warn">{conditional_escape(missing)} missing</span>'
                    if missing
                    else ""
                ),
                score=(
                    f'<td class="num">{_session_score(row["score"])}</td>' if with_score else ""
                ),
            )
        )
    out.append(_SESSION_TABLE_FOOT)
    return mark_safe("".join(out))  # noqa: S308 - every value escaped above


def _id_url(name: str) -> tuple[str, str]:
    """The escaped parts around the id of URL pattern ``name`` (``url_of``'s, reversed once)."""
    return _url_parts(get_script_prefix(), get_urlconf() or settings.ROOT_URLCONF, name)


@register.simple_tag
def patient_links(cards, url_name):
    """``{% patient_links patients "patients:detail" %}``: ``<li>`` links to patient cards,
    the markup of ``{% for p in patients %}<li><a href="{{ p.pk|url_of:url_name }}">{{
    p.label }}</a></li>{% endfor %}`` byte for byte (tested), written out in Python: the loop
    over a dashboard's 50 patients cost more than the rest of its list sections."""
    head, tail = _id_url(url_name)
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            f'<li><a href="{head}{int(card.pk)}{tail}">{conditional_escape(card.label)}</a></li>'
            for card in cards
        )
    )


def _adherence_cells(row) -> dict:
    """The escaped sessions done, planned and adherence % of an adherence row (per therapist
    or per patient)."""
    return {
        "done": conditional_escape(row["done"]),
        "expected": conditional_escape(row["expected"]),
        "ratio": conditional_escape(pct(row["ratio"])),
    }


_THERAPIST_ROW = (
    '\n        <tr>\n          <td><a href="?therapist={pk}">{therapist}</a></td>\n'
    '          <td class="num">{patients}</td>\n          <td class="num">{done}</td>\n'
    '          <td class="num">{expected}</td>\n          <td class="num">{ratio}</td>\n'
    "        </tr>\n      "
)


@register.simple_tag
def therapist_adherence_rows(rows):
    """``{% therapist_adherence_rows adherence_by_therapist %}``: the dashboard's rows of
    adherence per therapist (``_adherence_by_therapist``), the markup of the template loop
    they replace byte for byte (tested): a row per therapist of the clinic on every manager's
    dashboard."""
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            _THERAPIST_ROW.format(
                pk=conditional_escape(row["therapist"].pk),
                therapist=conditional_escape(str(row["therapist"])),
                patients=conditional_escape(row["patients"]),
                **_adherence_cells(row),
            )
            for row in rows
        )
    )


_PATIENT_ROW = (
    '\n        <tr>\n          <td><a href="{url}">{patient}</a></td>\n'
    '          <td class="num">{done}</td>\n          <td class="num">{expected}</td>\n'
    '          <td class="num">{ratio}</td>\n        </tr>\n      '
)


@register.simple_tag
def patient_adherence_rows(rows):
    """``{% patient_adherence_rows adherence_by_patient %}``: the dashboard's rows of
    adherence per patient (lowest first), the markup of the template loop they replace byte
    for byte (tested)."""
    head, tail = _id_url("patients:progress")
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            _PATIENT_ROW.format(
                url=f"{head}{int(row['patient'].pk)}{tail}",
                patient=conditional_escape(row["patient"].label),
                **_adherence_cells(row),
            )
            for row in rows
        )
    )


_MISSING_ITEM = (
    '\n      <li><a href="{url}">{date}</a>\n        <span class="muted">{patient}</span>\n'
    '        <span class="badge badge-warn">{recordings} of {planned} rounds</span></li>\n      '
)


@register.simple_tag
def missing_round_items(rows):
    """``{% missing_round_items missing_rounds %}``: the dashboard's ``<li>`` of sessions
    missing rounds (``_session_rows``), the markup of the template loop they replace byte for
    byte (tested)."""
    head, tail = _id_url("sessions:detail")
    return mark_safe(  # noqa: S308 - every value escaped here
        "".join(
            _MISSING_ITEM.format(
                url=f"{head}{int(row['session'].pk)}{tail}",
                date=_session_date(row["session"].started_at),
                patient=conditional_escape(row["patient"].label),
                recordings=conditional_escape(row["recordings"]),
                planned=conditional_escape(row["planned_rounds"]),
            )
            for row in rows
        )
    )


@register.inclusion_tag("analysis/_session_pipeline.html", takes_context=True)
def session_pipeline(context, session):
    request = context.get("request")
    user = request.user
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "session": session,
        "summary": presentation.session_page(session, user=user),
        "upload_form": RecordingUploadForm(),
        "can_download": can_download_recordings(user),
        "can_upload": user.has_perm("therapy_sessions.add_recording") and not session.is_voided,
        "can_reanalyse": may_reanalyse(user, session),
        "can_void_recordings": may_void_recordings(user) and not session.is_voided,
        "can_see_identity": can_see_identity(user),
    }


@register.inclusion_tag("analysis/_recording_results.html", takes_context=True)
def recording_results(context, recording):
    return {
        "request": context.get("request"),
        "results": presentation.recording_results(recording),
        "recording": recording,
    }
