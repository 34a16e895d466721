"""Reads of stored results: a recording's analysis, a session's recordings and score.

Shaped for pages, reports and the API: plain dicts and lists of model instances, with a fixed
number of queries whatever the number of rows (the tests pin them). Access is the caller's job
(``clinic.access``), except in ``session_statuses_for`` which the websocket consumer calls with
a user.
"""

from __future__ import annotations

from statistics import fmean

from django.db.models import Prefetch, prefetch_related_objects

from analysis.grading import mvc_target_v
from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.pipeline.notify import recording_status_payload
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
    if not TherapySession.objects.visible_to(user).filter(pk=session_id).exists():
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
                "target_v": mvc_target_v(channel.mvc_v, target_pct),
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


def _current_analysis_prefetch():
    """The current analysis of each recording, slim (no document, no envelopes)."""
    return Prefetch(
        "analyses",
        queryset=RecordingAnalysis.objects.filter(is_current=True)
        .defer("document", "parameters")
        .prefetch_related(Prefetch("channels", queryset=ChannelResult.objects.defer("envelope"))),
        to_attr="current_analyses",
    )


def _recording_row(recording: Recording) -> dict:
    analysis = recording.current_analyses[0] if recording.current_analyses else None
    return {
        "recording": recording,
        "status": recording_status_payload(recording),
        "analysis": analysis,
        "channels": list(analysis.channels.all()) if analysis else [],
    }


def recording_summary(recording: Recording) -> dict:
    """One row of the session page: status, current analysis and its channels (2 queries)."""
    prefetch_related_objects([recording], _current_analysis_prefetch())
    return _recording_row(recording)


def session_summary(session: TherapySession) -> dict:
    """A session's recordings (with their current analysis) and its score (4 queries)."""
    recordings = (
        Recording.objects.filter(session=session)
        .order_by("pk")
        .prefetch_related(_current_analysis_prefetch())
    )
    rows = [_recording_row(recording) for recording in recordings]
    analyses = [row["analysis"] for row in rows if row["analysis"] is not None]
    return {
        "session": session,
        "recordings": rows,
        "score": session_score(analyses),
        "rpe": session.rpe,
        "bfr_pressure_pct_aop": session.bfr_pressure_pct_aop,
        "notes": session.notes,
    }
