"""A patient's progress across sessions and adherence to the planned protocol.

Reads for the progress page (and the progress report): one point per session from the stored
analyses, a fixed number of queries whatever the number of sessions.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from statistics import fmean

from django.utils import timezone

from analysis.models import ChannelResult, RecordingAnalysis
from analysis.selectors import SCORE_FIELDS, session_score
from patients.protocol import effective_protocol
from reports.charts import HLine, Series, trend_chart
from sessions.models import TherapySession


def _mean(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def patient_progress(patient) -> list[dict]:
    """One point per (non-voided) session for the progress charts (3 queries).

    Each point: date, session score and components, compliance and MDF slope per muscle
    ("left quadriceps": value), symmetry, RPE, number of analysed recordings. The score is
    ``analysis.selectors.session_score``: stored components with the session's current RPE
    and BFR pressure, so it matches the session page.
    """
    sessions = list(
        TherapySession.objects.filter(patient=patient, voided_at__isnull=True).order_by(
            "started_at", "pk"
        )
    )
    analyses = list(
        RecordingAnalysis.objects.filter(
            recording__session__in=[s.pk for s in sessions], is_current=True
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


def patient_adherence(patient, *, today: date | None = None) -> dict:
    """Sessions done vs expected by today under the patient's protocol (this patient only).

    The programme starts at ``treatment_start``, or the first session when that is unset.
    """
    protocol = effective_protocol(patient)
    today = today or timezone.localdate()
    sessions = TherapySession.objects.filter(patient=patient, voided_at__isnull=True)
    dates = sorted(
        timezone.localtime(s).date() for s in sessions.values_list("started_at", flat=True)
    )
    start = patient.treatment_start or (dates[0] if dates else None)
    done = sum(1 for d in dates if start is not None and start <= d <= today)
    expected = protocol.expected_sessions_by(start=start, today=today)
    return {
        "start": start,
        "done": done,
        "expected": expected,
        "planned_total": protocol.planned_sessions,
        "ratio": (done / expected) if expected else None,
        "sessions_per_week": protocol.sessions_per_week,
        "programme_weeks": protocol.programme_weeks,
    }


def _series_by_key(points, attr) -> list[Series]:
    keys = sorted({k for p in points for k in p[attr]})
    return [Series(name=k, points=[(p["date"], p[attr].get(k)) for p in points]) for k in keys]


def trend_charts(points) -> list:
    """The trend charts of ``points`` (score, compliance, symmetry, MDF slope, RPE); the
    progress page and the progress report draw the same ones."""
    charts = []
    if points:
        charts = [
            trend_chart(
                series=[
                    Series(
                        name="score", points=[(p["date"], p["score"]["overall"]) for p in points]
                    )
                ],
                title="Session score",
                y_label="score (0-100)",
                y_min=0,
                y_max=100,
            ),
            trend_chart(
                series=_series_by_key(points, "compliance"),
                title="Compliance per muscle",
                y_label="compliance (0-100)",
                y_min=0,
                y_max=100,
            ),
            trend_chart(
                series=[
                    Series(name="symmetry", points=[(p["date"], p["symmetry"]) for p in points])
                ],
                title="Symmetry",
                y_label="symmetry (0-100)",
                y_min=0,
                y_max=100,
            ),
            trend_chart(
                series=_series_by_key(points, "mdf_slope_pct_per_min"),
                title="MDF slope per muscle",
                y_label="% per minute",
                reference=HLine(value=0.0, label="no fatigue"),
            ),
            trend_chart(
                series=[Series(name="RPE", points=[(p["date"], p["rpe"]) for p in points])],
                title="RPE (Borg CR-10)",
                y_label="RPE",
                y_min=0,
                y_max=10,
            ),
        ]
    return charts


def progress_charts(patient) -> dict:
    """Trend charts across this patient's non-voided sessions, and the points behind them."""
    points = patient_progress(patient)
    return {"points": points, "charts": trend_charts(points)}


def progress_page(patient) -> dict:
    """The progress page: trend charts, the table of points, and adherence to the plan."""
    adherence = patient_adherence(patient)
    adherence["planned_sessions"] = patient.planned_sessions
    return {**progress_charts(patient), "adherence": adherence}
