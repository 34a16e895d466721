"""A patient's progress across sessions and adherence to the planned protocol.

Reads for the progress page: a fixed number of queries whatever the number of sessions, and
work bounded by what the page shows. The charts draw one point per session while the sessions
fit on a chart (``CHART_MAX_POINTS``), and beyond that one point per week (per month past two
years) from aggregate queries; the table is paginated, newest first; adherence is one
aggregate query. Drawn per week, the points, their drawings and the table's pages are kept in
the cache under the patient's ``ProgressVersion`` (:func:`_kept_for_patient`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import inspect
from collections import defaultdict
from pathlib import Path
from statistics import fmean

from django.conf import settings
from django.core.cache import cache
from django.core.paginator import Paginator
from django.db.models import Avg, Count, Max, Min, Q, Subquery, Sum
from django.db.models.functions import TruncMonth, TruncWeek
from django.utils import timezone
from django.utils.safestring import mark_safe

from analysis.core import scoring as core_scoring
from analysis.models import ChannelResult, ProgressVersion, RecordingAnalysis
from analysis.selectors import SCORE_FIELDS, session_score
from patients.progress_charts import DRAWING_CODE, chart_specs, trend_charts
from patients.protocol import effective_protocol
from sessions.models import TherapySession

PAGE_SIZE = 25
CHART_MAX_POINTS = 60  # sessions drawn one by one; more are drawn per week
CHART_MAX_WEEKS = 104  # weeks drawn one by one; a longer history is drawn per month
KEPT_FORMAT = 1  # part of the kept figures' key: a change of what is kept leaves the old unread


def _mean(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def patient_progress(patient, sessions=None) -> list[dict]:
    """One point per session for the progress table (3 queries).

    ``sessions``: the sessions to score (a page of them); all non-voided ones when omitted.
    Each point: date, session score and components, compliance and MDF slope per muscle
    ("left quadriceps": value), symmetry, RPE, number of analysed recordings. The score is
    ``analysis.selectors.session_score``: stored components with the session's current RPE
    and BFR pressure, so it matches the session page.
    """
    if sessions is None:
        sessions = TherapySession.objects.filter(patient=patient, voided_at__isnull=True)
        sessions = sessions.order_by("started_at", "pk")
    sessions = list(sessions)
    analyses = list(
        RecordingAnalysis.objects.filter(
            recording__session__in=[s.pk for s in sessions],
            recording__voided_at__isnull=True,
            is_current=True,
        )
        .select_related("recording")
        .only(
            "pk",
            "recording__session_id",
            "created_at",
            "parameters",
            *(f"score_{name}" for name in SCORE_FIELDS),
        )
    )
    by_session = defaultdict(list)
    for analysis in analyses:
        by_session[analysis.recording.session_id].append(analysis)
    channels = ChannelResult.objects.filter(analysis__in=[a.pk for a in analyses]).values(
        "analysis__recording__session_id",
        "side",
        "muscle",
        "label",
        "compliance",
        "mdf_slope_pct_per_min",
    )
    per_muscle = defaultdict(lambda: defaultdict(lambda: {"compliance": [], "mdf_slope": []}))
    for row in channels:
        key = f"{row['side']} {row['muscle']}".strip() or row["label"]
        slot = per_muscle[row["analysis__recording__session_id"]][key]
        slot["compliance"].append(row["compliance"])
        slot["mdf_slope"].append(row["mdf_slope_pct_per_min"])
    points = []
    for session in sessions:
        score = session_score(
            by_session.get(session.pk, []),
            rpe=session.rpe,
            bfr_pct_aop=session.bfr_pressure_pct_aop,
        )
        muscles = per_muscle.get(session.pk, {})
        points.append(
            {
                "session": session,
                "date": timezone.localtime(session.started_at).date(),
                "score": score,
                "compliance": {k: _mean(v["compliance"]) for k, v in sorted(muscles.items())},
                "mdf_slope_pct_per_min": {
                    k: _mean(v["mdf_slope"]) for k, v in sorted(muscles.items())
                },
                "symmetry": score["symmetry"],
                "rpe": session.rpe,
                "recordings": score["recordings"],
            }
        )
    return points


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


def _window(patient, today: dt.date) -> dict:
    """The adherence window's lookups: from ``treatment_start`` to the end of ``today``."""
    window = {"started_at__lt": _local_midnight(today + dt.timedelta(days=1))}
    if patient.treatment_start is not None:
        window["started_at__gte"] = _local_midnight(patient.treatment_start)
    return window


def session_span(
    patient,
    *,
    today: dt.date | None = None,
    rounds_per_session: int | None = None,
    with_version: bool = False,
) -> dict:
    """One aggregate over the patient's non-voided sessions: how many, first, last, and how
    many fall in the adherence window (from ``treatment_start``, else the first session, to the
    end of ``today``, the clinic's local days). No session row reaches Python.

    With ``rounds_per_session`` the same query also counts the game rounds done in the window
    (live recordings: voided or moved-away ones do not count) and the sessions short of it.
    With ``with_version`` it also reads the patient's ``ProgressVersion`` ("version": None
    without sessions or without a number yet), before any figure the charts are drawn from.
    """
    today = today or timezone.localdate()
    window = Q(**_window(patient, today))
    sessions = TherapySession.objects.filter(patient=patient, voided_at__isnull=True)
    figures = {}
    if rounds_per_session is not None:
        # each session's live recordings counted once, by a join grouped per session (a
        # counting subquery would run twice per session: the two figures below read it)
        sessions = sessions.annotate(
            rounds=Count("recordings", filter=Q(recordings__voided_at__isnull=True))
        )
        figures = {
            "rounds_done": Sum("rounds", filter=window, default=0),
            "sessions_short": Count("pk", filter=window & Q(rounds__lt=rounds_per_session)),
        }
    if with_version:
        # one row, the same for every session: its maximum is itself, read in this query
        number = ProgressVersion.objects.filter(patient=patient.pk).values("version")
        figures["version"] = Max(Subquery(number[:1]))
    return sessions.aggregate(
        n=Count("pk"),
        first=Min("started_at"),
        last=Max("started_at"),
        done=Count("pk", filter=window),
        **figures,
    )


def patient_adherence(
    patient, *, today: dt.date | None = None, span: dict | None = None, protocol=None
) -> dict:
    """Sessions done vs expected by today under the patient's protocol (this patient only),
    and the game rounds done of those planned, with the sessions that fall short.

    The programme starts at ``treatment_start``, or the first session when that is unset.
    ``span``: ``session_span(patient, today=today, rounds_per_session=...)`` and ``protocol``:
    ``effective_protocol(patient)`` when the caller has them already.
    """
    protocol = protocol or effective_protocol(patient)
    today = today or timezone.localdate()
    per_session = protocol.rounds_per_session
    if span is None or "rounds_done" not in span:
        span = session_span(patient, today=today, rounds_per_session=per_session)
    start = patient.treatment_start
    if start is None and span["first"] is not None:
        start = timezone.localtime(span["first"]).date()
    done = span["done"] if start is not None else 0
    expected = protocol.expected_sessions_by(start=start, today=today)
    return {
        "start": start,
        "done": done,
        "expected": expected,
        "planned_total": protocol.planned_sessions,
        "ratio": (done / expected) if expected else None,
        "sessions_per_week": protocol.sessions_per_week,
        "programme_weeks": protocol.programme_weeks,
        "rounds_done": span["rounds_done"],
        "rounds_planned": span["done"] * per_session,
        "rounds_per_session": per_session,
        "sessions_short": span["sessions_short"],
    }


def _muscle_key(side: str, muscle: str, label: str) -> str:
    return f"{side} {muscle}".strip() or label


def bucketed_progress(patient, *, span_days: int) -> tuple[str, list[dict]]:
    """Per-week (or per-month) means of the non-voided sessions, from 3 aggregate queries.

    Each point: the bucket's first day, the number of sessions, mean RPE, and the mean of the
    current analyses' stored scores (overall, symmetry) and per-muscle compliance and MDF slope.
    Stored scores carry the RPE and BFR pressure of when they were computed; the per-session
    table shows the current ones.
    """
    unit, trunc = ("week", TruncWeek) if span_days <= CHART_MAX_WEEKS * 7 else ("month", TruncMonth)
    live = {"voided_at__isnull": True}
    sessions = (
        TherapySession.objects.filter(patient=patient, **live)
        .annotate(bucket=trunc("started_at"))
        .values("bucket")
        .annotate(n=Count("pk"), rpe=Avg("rpe"))
        .order_by("bucket")
    )
    through = "recording__session__"
    analyses = (
        RecordingAnalysis.objects.filter(
            is_current=True,
            recording__session__patient=patient,
            recording__session__voided_at__isnull=True,
            recording__voided_at__isnull=True,
        )
        .annotate(bucket=trunc(f"{through}started_at"))
        .values("bucket")
        .annotate(score=Avg("score_overall"), symmetry=Avg("score_symmetry"), n=Count("pk"))
        .order_by()
    )
    channels = (
        ChannelResult.objects.filter(
            analysis__is_current=True,
            analysis__recording__session__patient=patient,
            analysis__recording__session__voided_at__isnull=True,
            analysis__recording__voided_at__isnull=True,
        )
        .annotate(bucket=trunc(f"analysis__{through}started_at"))
        .values("bucket", "side", "muscle", "label")
        .annotate(compliance=Avg("compliance"), mdf=Avg("mdf_slope_pct_per_min"))
        .order_by()
    )
    by_bucket = {row["bucket"]: row for row in analyses}
    muscles = defaultdict(dict)
    for row in channels:
        muscles[row["bucket"]][_muscle_key(row["side"], row["muscle"], row["label"])] = row
    points = []
    for row in sessions:
        bucket = row["bucket"]
        scored = by_bucket.get(bucket, {})
        per_muscle = dict(sorted(muscles.get(bucket, {}).items()))
        points.append(
            {
                "date": timezone.localtime(bucket).date() if timezone.is_aware(bucket) else bucket,
                "sessions": row["n"],
                "score": {"overall": scored.get("score")},
                "symmetry": scored.get("symmetry"),
                "rpe": row["rpe"],
                "recordings": scored.get("n", 0),
                "compliance": {k: v["compliance"] for k, v in per_muscle.items()},
                "mdf_slope_pct_per_min": {k: v["mdf"] for k, v in per_muscle.items()},
            }
        )
    return unit, points


def chart_points(patient, *, span: dict | None = None) -> tuple[str, list[dict]]:
    """The points the trend charts draw, and what one point stands for ("session", "week"...).

    Up to ``CHART_MAX_POINTS`` sessions are drawn one by one, more as weekly (or monthly) means
    from aggregate queries, so the work never grows past a chart's worth of points.
    ``span``: ``session_span(patient)`` when the caller has it already.
    """
    span = span or session_span(patient)
    if span["n"] <= CHART_MAX_POINTS:
        return "session", patient_progress(patient)
    return bucketed_progress(patient, span_days=(span["last"] - span["first"]).days)


# The source of the code that computes a patient's kept figures (this module, the charts'
# specs, the session score, the drawings): part of their cache key, so a deployment never
# reads older figures.
_FIGURES_CODE = hashlib.sha256(
    b"".join(
        Path(inspect.getsourcefile(f)).read_bytes()
        for f in (session_span, chart_specs, session_score, core_scoring.combine_score)
    )
    + DRAWING_CODE.encode()
).hexdigest()


def _kept_for_patient(patient, span: dict | None, what: tuple, compute):
    """``compute()``, kept in the cache under the patient's ``ProgressVersion`` when ``span``
    carries it (``session_span(..., with_version=True)``): the number is read before the
    figures are computed, and every write they depend on (committed) gives the patient a new
    one, so kept figures are never older than the data the page could read. The key also holds
    ``what`` (which figures), the time zone (local weeks and days) and the code's digest.
    ``CHART_CACHE_SECONDS = 0``, or no number: computed each time."""
    version = (span or {}).get("version")
    seconds = settings.CHART_CACHE_SECONDS
    if version is None or not seconds:
        return compute()
    key = ":".join(
        str(part)
        for part in (
            "progress-kept",
            KEPT_FORMAT,
            *what,
            patient.pk,
            version,
            timezone.get_current_timezone_name(),
            _FIGURES_CODE,
        )
    )
    kept = cache.get(key)
    if kept is None:
        kept = compute()
        cache.set(key, kept, timeout=seconds)
    return kept


def progress_charts(patient, *, span: dict | None = None) -> dict:
    """Trend charts across this patient's non-voided sessions, what one point stands for, and
    the points (per session or per week). Drawn per week (or month), the points and their
    drawings are kept under the patient's ``ProgressVersion`` (:func:`_kept_for_patient`)."""
    if span is None or span["n"] <= CHART_MAX_POINTS:
        unit, points = chart_points(patient, span=span)
        return {"charts": trend_charts(points), "chart_unit": unit, "chart_points": points}

    def compute():
        unit, points = chart_points(patient, span=span)
        return unit, points, [str(chart) for chart in trend_charts(points)]

    unit, points, drawings = _kept_for_patient(patient, span, ("trends",), compute)
    # our own drawings, kept as plain text: safe as they were drawn
    charts = [mark_safe(svg) for svg in drawings]  # noqa: S308
    return {"charts": charts, "chart_unit": unit, "chart_points": points}


def progress_table(patient, page_number=None, *, span: dict, chart: dict):
    """A page of the per-session table, newest first, each row scored.

    When the charts drew every session, the page is a slice of their points (no query);
    otherwise a page of sessions is read and scored (3 queries; the count comes from ``span``),
    its rows kept under the patient's ``ProgressVersion`` (:func:`_kept_for_patient`).
    """
    if chart["chart_unit"] == "session":
        return Paginator(chart["chart_points"][::-1], PAGE_SIZE).get_page(page_number)
    sessions = TherapySession.objects.filter(patient=patient, voided_at__isnull=True).order_by(
        "-started_at", "-pk"
    )
    paginator = Paginator(sessions, PAGE_SIZE)
    paginator.count = span["n"]  # known from the aggregate: no second COUNT
    page = paginator.get_page(page_number)
    rows = page.object_list
    page.object_list = _kept_for_patient(
        patient, span, ("rows", PAGE_SIZE, page.number), lambda: patient_progress(patient, rows)
    )
    return page


def progress_page(patient, *, page_number=None) -> dict:
    """The progress page: trend charts, a page of the table, and adherence to the plan."""
    protocol = effective_protocol(patient)
    span = session_span(patient, rounds_per_session=protocol.rounds_per_session, with_version=True)
    adherence = patient_adherence(patient, span=span, protocol=protocol)
    adherence["planned_sessions"] = patient.planned_sessions
    chart = progress_charts(patient, span=span)
    page = progress_table(patient, page_number, span=span, chart=chart)
    return {**chart, "page": page, "points": page.object_list, "adherence": adherence}
