"""Reads for the pipeline's pages: recording results, session summaries, patient progress.

Shaped for the templates and the API: plain dicts and lists of model instances, with a fixed
number of queries whatever the number of rows (the tests pin them). Access is the caller's job
(``clinic.access``), except in ``session_statuses_for`` which the websocket consumer calls with
a user.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from statistics import fmean

from django.db.models import Prefetch
from django.utils import timezone

from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.services import effective_protocol, recording_status_payload
from sessions.models import Recording, TherapySession

SCORE_FIELDS = ("overall", "compliance", "symmetry", "effort", "game")


def recording_statuses(session_id: int) -> list[dict]:
    """Status, stage and progress of each recording of a session (one query)."""
    return [
        recording_status_payload(recording)
        for recording in Recording.objects.filter(session_id=session_id).order_by("pk")
    ]


def session_statuses_for(*, user, session_id: int) -> list[dict] | None:
    """The statuses if ``user`` may see the session, else None (the consumer closes 4404)."""
    from clinic.access import sessions_visible_to

    if not sessions_visible_to(user).filter(pk=session_id).exists():
        return None
    return recording_statuses(session_id)


def _channels_prefetch():
    contractions = Contraction.objects.order_by("source", "index")
    return Prefetch(
        "channels",
        queryset=ChannelResult.objects.order_by("position").prefetch_related(
            Prefetch("contractions", queryset=contractions)
        ),
    )


def current_analysis(recording: Recording) -> RecordingAnalysis | None:
    """The current analysis with channels and contractions prefetched (3 queries), or None."""
    return (
        RecordingAnalysis.objects.filter(recording=recording, is_current=True)
        .defer("document")
        .prefetch_related(_channels_prefetch())
        .first()
    )


def recording_result(recording: Recording) -> dict:
    """Everything the recording result page shows.

    ``channels``: per muscle the envelope (decimated, ``{"rate_hz", "values"}``), threshold and
    MVC target lines in volts, the detected contractions with their ``grade`` (good /
    intensity / duration / neither), the game's own contractions and count beside ours, and
    where the MVC came from (calibration / entered / estimated).
    """
    analysis = current_analysis(recording)
    if analysis is None:
        return {"recording": recording, "analysis": None, "channels": []}
    target_pct = (analysis.parameters.get("scoring") or {}).get("target_pct_mvc")
    channels = []
    for channel in analysis.channels.all():
        contractions = list(channel.contractions.all())
        channels.append(
            {
                "channel": channel,
                "envelope": channel.envelope,
                "threshold_v": channel.threshold_v,
                "mvc_v": channel.mvc_v,
                "mvc_source": channel.mvc_source,
                "target_v": (
                    channel.mvc_v * target_pct / 100
                    if channel.mvc_v is not None and target_pct is not None
                    else None
                ),
                "contractions": [
                    c for c in contractions if c.source == Contraction.Source.DETECTED
                ],
                "game_contractions": [
                    c for c in contractions if c.source == Contraction.Source.GAME
                ],
            }
        )
    return {
        "recording": recording,
        "analysis": analysis,
        "channels": channels,
        "warnings": analysis.warnings,
        "metadata": analysis.metadata,
        "score": {name: getattr(analysis, f"score_{name}") for name in SCORE_FIELDS}
        | {"missing": analysis.score_missing, "bfr_gated": analysis.bfr_gated},
    }


def analysis_history(recording: Recording) -> list[RecordingAnalysis]:
    """Every analysis of a recording, newest first: which core version produced what."""
    return list(
        RecordingAnalysis.objects.filter(recording=recording)
        .defer("document")
        .order_by("-created_at", "-pk")
    )


def _mean(values):
    values = [v for v in values if v is not None]
    return fmean(values) if values else None


def session_score(analyses: list[RecordingAnalysis]) -> dict:
    """The session's score: the mean of each component over its analysed recordings.

    ``missing`` lists the components no recording could compute (for example effort without
    an RPE), so the page can say what is missing rather than show a silent zero.
    """
    score = {name: _mean(getattr(a, f"score_{name}") for a in analyses) for name in SCORE_FIELDS}
    score["missing"] = sorted(
        {m for a in analyses for m in (a.score_missing or [])}
        | {name for name in SCORE_FIELDS if score[name] is None and analyses}
    )
    score["bfr_gated"] = any(a.bfr_gated for a in analyses)
    score["recordings"] = len(analyses)
    return score


def session_summary(session: TherapySession) -> dict:
    """A session's recordings (with their current analysis) and its score (4 queries)."""
    recordings = list(
        Recording.objects.filter(session=session)
        .order_by("pk")
        .prefetch_related(
            Prefetch(
                "analyses",
                queryset=RecordingAnalysis.objects.filter(is_current=True)
                .defer("document", "parameters")
                .prefetch_related(
                    Prefetch("channels", queryset=ChannelResult.objects.defer("envelope"))
                ),
                to_attr="current_analyses",
            )
        )
    )
    rows = []
    for recording in recordings:
        analysis = recording.current_analyses[0] if recording.current_analyses else None
        rows.append(
            {
                "recording": recording,
                "status": recording_status_payload(recording),
                "analysis": analysis,
                "channels": list(analysis.channels.all()) if analysis else [],
            }
        )
    analyses = [row["analysis"] for row in rows if row["analysis"] is not None]
    return {
        "session": session,
        "recordings": rows,
        "score": session_score(analyses),
        "rpe": session.rpe,
        "bfr_pressure_pct_aop": session.bfr_pressure_pct_aop,
        "notes": session.notes,
    }


def patient_progress(patient) -> list[dict]:
    """One point per (non-voided) session for the progress charts (3 queries).

    Each point: date, session score and components, compliance and MDF slope per muscle
    ("left quadriceps": value), symmetry, RPE, number of analysed recordings.
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
            *(f"score_{name}" for name in SCORE_FIELDS),
            "score_missing",
            "bfr_gated",
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
        score = session_score(by_session.get(session.pk, []))
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
    planned = protocol.sessions_per_week * protocol.programme_weeks
    return {
        "start": start,
        "done": done,
        "expected": expected,
        "planned_total": planned,
        "ratio": (done / expected) if expected else None,
        "sessions_per_week": protocol.sessions_per_week,
        "programme_weeks": protocol.programme_weeks,
    }


def current_calibrations(patient) -> list:
    """The calibration that applies for each muscle of the patient (newest per muscle)."""
    from patients.models import MvcCalibration

    seen = {}
    for cal in MvcCalibration.objects.filter(patient=patient).order_by("-created_at", "-pk"):
        seen.setdefault((cal.side, cal.muscle), cal)
    return sorted(seen.values(), key=lambda c: (c.side, c.muscle))
