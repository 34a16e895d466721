"""Reads of stored results: a recording's analysis, a session's recordings and score.

Shaped for pages, reports and the API: plain dicts and lists of model instances, with a fixed
number of queries whatever the number of rows (the tests pin them). Access is the caller's job
(``clinic.access``), except in ``session_statuses_for`` which the websocket consumer calls with
a user.
"""

from __future__ import annotations

from collections import defaultdict
from statistics import fmean

from django.core.exceptions import PermissionDenied
from django.db.models import Prefetch, prefetch_related_objects
from django.http import Http404

from analysis.core import scoring as core_scoring
from analysis.core.config import ScoringConfig
from analysis.grading import mvc_target_v
from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.pipeline.notify import recording_status_payload
from sessions.models import Recording, TherapySession
from sessions.selectors import session_for

SCORE_FIELDS = ("overall", "compliance", "symmetry", "effort", "game")


def channel_labels_seen(clinic, *, limit: int = 40) -> list[str]:
    """The channel labels of the clinic's analysed recordings (for its channel map's form)."""
    return list(
        ChannelResult.objects.filter(analysis__recording__session__patient__clinic=clinic)
        .order_by("label")
        .values_list("label", flat=True)
        .distinct()[:limit]
    )


def recording_statuses(session_id: int) -> list[dict]:
    """Status, stage and progress of each live recording of a session (one query)."""
    return [
        recording_status_payload(recording)
        for recording in Recording.objects.active().filter(session_id=session_id).order_by("pk")
    ]


def session_statuses_for(*, user, session_id: int) -> list[dict] | None:
    """The statuses if ``user`` may see the session as its page would, else None (the consumer
    closes 4404): in scope, with the view permission, and not hidden by a voided patient or
    session."""
    try:
        session_for(user, session_id, perm="therapy_sessions.view_therapysession")
    except (Http404, PermissionDenied):
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
        "score": _analysis_score(analysis, recording.session),
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


# The core's default scoring config as a dict: the same for every session, so built once (a
# dataclass walk of 29 us per session scored); each caller gets its own copy (:func:`_fresh`).
_DEFAULT_SCORING = ScoringConfig().to_dict()


def _fresh(value):
    """A copy of ``value`` whose dicts and lists are new (the scalars in them shared)."""
    if isinstance(value, dict):
        return {key: _fresh(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_fresh(item) for item in value]
    return value


def stored_scoring(analyses: list[RecordingAnalysis]) -> dict:
    """The scoring config the newest of ``analyses`` was computed with (core defaults filled in).

    A session's recordings are usually analysed with one config; after a settings change
    and a partial re-analysis, the newest analysis's config speaks for the session.
    """
    defaults = _fresh(_DEFAULT_SCORING)
    if not analyses:
        return defaults
    newest = max(analyses, key=lambda a: (a.created_at, a.pk))
    stored = (newest.parameters or {}).get("scoring") or {}
    return {**defaults, **stored}


def session_score(
    analyses: list[RecordingAnalysis],
    *,
    rpe=None,
    bfr_pct_aop=None,
    channels: list[ChannelResult] | None = None,
) -> dict:
    """The session's score block, by the core's one definition (``combine_score``).

    Stored per-recording components (compliance, symmetry, game: the mean over the analysed
    recordings) with the session's CURRENT facts: effort from ``rpe`` through the stored
    ``rpe_table``, the BFR gate from ``bfr_pct_aop`` against the stored safe band, the stored
    weights. So an RPE or BFR edit shows at once; the stored analyses keep what was computed
    when. ``missing_reasons`` gives a code per absent component; ``channels`` (optional) adds
    compliance per muscle. No query: the caller loads ``parameters`` and the score columns.
    """
    config = stored_scoring(analyses)
    values = {
        "compliance": _mean(a.score_compliance for a in analyses),
        "symmetry": _mean(a.score_symmetry for a in analyses),
        "game": _mean(a.score_game for a in analyses),
        "effort": None,
    }
    reasons = {
        "compliance": core_scoring.NO_RECORDING,
        "symmetry": core_scoring.NO_LEFT_RIGHT_PAIR,
        "effort": core_scoring.NO_RPE,
        "game": core_scoring.game_missing_reason(None, config.get("game_score_max")),
    }
    if not analyses:
        reasons = dict.fromkeys(reasons, core_scoring.NO_RECORDING) | (
            {"effort": core_scoring.NO_RPE} if rpe is None else {}
        )
    else:
        values["effort"] = core_scoring.effort_from_table(rpe, config["rpe_table"])
    per_muscle: dict[str, list] = {}
    for channel in channels or []:
        per_muscle.setdefault(channel.muscle_key or channel.label, []).append(channel.compliance)
    score = core_scoring.combine_score(
        values=values,
        weights=config["weights"],
        bfr_pct_aop=bfr_pct_aop,
        bfr_safe_band_pct_aop=config["bfr_safe_band_pct_aop"],
        compliance_by_channel={k: _mean(v) for k, v in sorted(per_muscle.items())},
        missing_reasons=reasons,
    )
    score["bfr_gated"] = score["bfr"]["gated"]
    score["recordings"] = len(analyses)
    score["rpe"] = rpe
    score["scoring"] = config
    return score


def session_scores(sessions) -> dict:
    """The session score (:func:`session_score`) of each of ``sessions`` by id, from one
    query of their current analyses (voided recordings left out): for lists of sessions."""
    analyses = defaultdict(list)
    rows = (
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
    for analysis in rows:
        analyses[analysis.recording.session_id].append(analysis)
    return {
        s.pk: session_score(analyses.get(s.pk, []), rpe=s.rpe, bfr_pct_aop=s.bfr_pressure_pct_aop)
        for s in sessions
    }


def _analysis_score(analysis: RecordingAnalysis, session: TherapySession) -> dict:
    """One recording's score with the session's current facts (its history row keeps the old)."""
    return session_score(
        [analysis],
        rpe=session.rpe,
        bfr_pct_aop=session.bfr_pressure_pct_aop,
        channels=list(analysis.channels.all()),
    )


def _current_analysis_prefetch():
    """The current analysis of each recording, slim (no document, no envelopes)."""
    return Prefetch(
        "analyses",
        queryset=RecordingAnalysis.objects.filter(is_current=True)
        .defer("document")
        .prefetch_related(Prefetch("channels", queryset=ChannelResult.objects.defer("envelope"))),
        to_attr="current_analyses",
    )


def _recording_row(recording: Recording, session: TherapySession) -> dict:
    analysis = recording.current_analyses[0] if recording.current_analyses else None
    return {
        "recording": recording,
        "status": recording_status_payload(recording),
        "analysis": analysis,
        "channels": list(analysis.channels.all()) if analysis else [],
        "score": _analysis_score(analysis, session) if analysis else None,
    }


def recording_summary(recording: Recording) -> dict:
    """One row of the session page: status, current analysis, channels, score (2-3 queries)."""
    prefetch_related_objects([recording], _current_analysis_prefetch())
    return _recording_row(recording, recording.session)


def session_summary(session: TherapySession, *, include_voided: bool = False) -> dict:
    """A session's recordings (with their current analysis) and its score (4 queries).

    The score, its count and ``recordings`` come from the live recordings only; with
    ``include_voided`` (for those who may void recordings) the voided ones are in
    ``voided_recordings``, shown struck through with their reason, counted nowhere.
    """
    recordings = (
        Recording.objects.filter(session=session)
        .select_related("voided_by")
        .order_by("pk")
        .prefetch_related(_current_analysis_prefetch())
    )
    if not include_voided:
        recordings = recordings.active()
    every = [_recording_row(recording, session) for recording in recordings]
    rows = [row for row in every if not row["recording"].is_voided]
    analyses = [row["analysis"] for row in rows if row["analysis"] is not None]
    return {
        "session": session,
        "recordings": rows,
        "voided_recordings": [row for row in every if row["recording"].is_voided],
        "score": session_score(
            analyses,
            rpe=session.rpe,
            bfr_pct_aop=session.bfr_pressure_pct_aop,
            channels=[channel for row in rows for channel in row["channels"]],
        ),
        "rpe": session.rpe,
        "bfr_pressure_pct_aop": session.bfr_pressure_pct_aop,
        "notes": session.notes,
    }


def recording_document(recording: Recording, *, identity: bool) -> dict | None:
    """The core's document of the current analysis (envelopes left out), or None.

    Without identity access the file's player name (``recording.metadata.player``) is blanked:
    the document is then as pseudonymised as the pages.
    """
    # At most one current analysis per recording (a unique constraint): no ordering needed,
    # so none of the model's (which joins the recording to order by its creation).
    document = (
        RecordingAnalysis.objects.filter(recording=recording, is_current=True)
        .order_by()
        .values_list("document", flat=True)
        .first()
    )
    if document is None or identity:
        return document
    rec = dict(document.get("recording") or {})
    metadata = dict(rec.get("metadata") or {})
    if "player" in metadata:
        metadata["player"] = None
    rec["metadata"] = metadata
    return {**document, "recording": rec}
