"""Results shaped for display: charts, metric cards, contraction tables, score rows.

Built on ``analysis.selectors``; turns their results, or a core document from the stateless
analysis, into one display structure so that a single template
(``templates/analysis/_recording_results.html``) renders both. Charts are server-side SVG from
``reports.chart_envelope``. Access is the caller's job (``clinic.access``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import SimpleNamespace

from django.urls import reverse

from analysis import selectors
from analysis.core import scoring as core_scoring
from analysis.grading import SCORE_MEANINGS, contraction_grade, mvc_target_v
from analysis.values import finite_or_none, int_or_none
from clinic.access import can_download_recordings
from reports.chart_envelope import Band, envelope_chart
from reports.chart_layout import HLine
from sessions.models import Recording
from sessions.selectors import may_void_recordings

MVC_SOURCE_LABELS = {
    "calibration": "calibrated",
    "entered": "entered",
    "estimated": "estimated",
}
SCORE_LABELS = {
    "overall": "Overall",
    "compliance": "Compliance",
    "symmetry": "Symmetry",
    "effort": "Effort",
    "game": "Game",
}
# reason code -> (sentence, link kind or None); links are shown only to users who may act.
MISSING_REASONS = {
    core_scoring.NO_RECORDING: ("No recording of this session has been analysed yet.", None),
    core_scoring.NO_CHANNELS: ("No muscle channel of the recording could be analysed.", None),
    core_scoring.NO_LEFT_RIGHT_PAIR: (
        "Needs both the left and the right of a muscle mapped "
        "(the channel map in the clinic settings).",
        "settings",
    ),
    core_scoring.NO_RPE: ("No RPE was entered for this session.", "session"),
    core_scoring.NO_GAME_MAXIMUM: ("The clinic has no maximum game score set.", "settings"),
    core_scoring.NO_GAME_SCORE: ("The recordings carry no game score.", None),
}
SETTINGS_PERM = "clinic.add_clinicsettings"


@dataclass
class ChannelView:
    """One muscle of one result, as the results template shows it."""

    label: str
    muscle_key: str
    mvc_v: float | None
    mvc_source: str
    threshold_v: float | None
    target_v: float | None
    metrics: dict
    contractions: list = field(default_factory=list)
    game_count: int | None = None
    agreement: dict | None = None  # matched / only_ours / only_game / spanning, or None
    chart: str = ""

    @property
    def mvc_source_label(self):
        return MVC_SOURCE_LABELS.get(self.mvc_source, self.mvc_source or "unknown")

    @property
    def mvc_estimated(self):
        return self.mvc_source not in ("calibration", "entered")


def _contraction_row(index, *, start_s, end_s, duration_s, peak_pct, mean_pct, mnf, mdf, ints, dur):
    return SimpleNamespace(
        number=index + 1,
        start_s=finite_or_none(start_s) or 0.0,
        end_s=finite_or_none(end_s) or 0.0,
        duration_s=finite_or_none(duration_s),
        peak_pct_mvc=finite_or_none(peak_pct),
        mean_pct_mvc=finite_or_none(mean_pct),
        mnf_hz=finite_or_none(mnf),
        mdf_hz=finite_or_none(mdf),
        meets_intensity=ints,
        meets_duration=dur,
        grade=contraction_grade(meets_intensity=ints, meets_duration=dur),
    )


def _chart(view: ChannelView, envelope) -> str:
    """The envelope chart of one channel, or "" when the result has no envelope."""
    if not envelope or not envelope.get("values"):
        return ""
    rate = finite_or_none(envelope.get("rate_hz"))
    if not rate or rate <= 0:
        return ""
    lines = []
    if view.threshold_v is not None:
        lines.append(HLine(value=view.threshold_v, label="threshold", kind="threshold"))
    if view.target_v is not None:
        lines.append(HLine(value=view.target_v, label="MVC target", kind="target"))
    bands = [Band(start_s=c.start_s, end_s=c.end_s, kind=c.grade) for c in view.contractions]
    title = (
        f"{view.muscle_key.capitalize()} · channel {view.label}"
        if view.muscle_key
        else f"Channel {view.label} (not mapped to a muscle)"
    )
    return envelope_chart(
        values=envelope["values"],
        rate_hz=rate,
        title=title,
        bands=bands,
        lines=lines,
        mvc=view.mvc_v,
    )


METRIC_FIELDS = (
    "count",
    "good",
    "intensity_ok",
    "duration_ok",
    "time_under_tension_s",
    "rms_v",
    "mav_v",
    "mnf_slope_hz_per_contraction",
    "mdf_slope_hz_per_contraction",
    "mnf_slope_pct_per_min",
    "mdf_slope_pct_per_min",
    "fi_nsm5_ratio",
    "saturation_pct",
    "snr_db",
    "compliance",
)


def results_from_selector(result: dict) -> dict:
    """The display structure from ``analysis.selectors.recording_result``."""
    channels = []
    for item in result.get("channels", []):
        ch = item["channel"]
        view = ChannelView(
            label=ch.label,
            muscle_key=ch.muscle_key,
            mvc_v=ch.mvc_v,
            mvc_source=ch.mvc_source,
            threshold_v=ch.threshold_v,
            target_v=item.get("target_v"),
            metrics={name: getattr(ch, name) for name in METRIC_FIELDS},
            game_count=ch.game_count,
            agreement=ch.agreement,
            contractions=[
                _contraction_row(
                    i,
                    start_s=c.start_s,
                    end_s=c.end_s,
                    duration_s=c.duration_s,
                    peak_pct=c.peak_pct_mvc,
                    mean_pct=c.mean_pct_mvc,
                    mnf=c.mnf_hz,
                    mdf=c.mdf_hz,
                    ints=c.meets_intensity,
                    dur=c.meets_duration,
                )
                for i, c in enumerate(item["contractions"])
            ],
        )
        view.chart = _chart(view, item.get("envelope"))
        channels.append(view)
    analysis = result.get("analysis")
    session = result["recording"].session if analysis is not None else None
    return {
        "analysis": analysis,
        "channels": channels,
        "warnings": result.get("warnings") or [],
        "metadata": result.get("metadata") or {},
        "score": _score_rows(result.get("score") or {}, session=session),
        "duration_s": getattr(analysis, "duration_s", None),
        "rate_hz": getattr(analysis, "rate_hz", None),
        "game_score": getattr(analysis, "game_score", None),
        "stored": True,
    }


def _agreement(value) -> dict | None:
    """The document's agreement counts as integers, or None (older documents, no game)."""
    if not isinstance(value, dict):
        return None
    return {k: int_or_none(value.get(k)) for k in ("matched", "only_ours", "only_game", "spanning")}


def results_from_document(document: dict) -> dict:
    """The display structure from a core result document (the stateless analysis)."""
    rec = document.get("recording") or {}
    score = document.get("score") or {}
    compliance = score.get("compliance") or {}
    scoring = (document.get("parameters") or {}).get("scoring") or {}
    target_pct = finite_or_none(scoring.get("target_pct_mvc"))
    channels = []
    for ch in document.get("channels") or []:
        summary = ch.get("summary") or {}
        mvc_v = finite_or_none(ch.get("mvc"))
        side_muscle = f"{ch.get('side') or ''} {ch.get('muscle') or ''}".strip()
        metrics = {
            "count": summary.get("count"),
            "good": summary.get("good"),
            "intensity_ok": summary.get("intensity_ok"),
            "duration_ok": summary.get("duration_ok"),
            "time_under_tension_s": summary.get("time_under_tension_s"),
            "rms_v": summary.get("rms"),
            "mav_v": summary.get("mav"),
            "compliance": compliance.get(ch.get("label")),
        }
        for name in METRIC_FIELDS:
            metrics.setdefault(name, summary.get(name))
        view = ChannelView(
            label=str(ch.get("label") or ""),
            muscle_key=side_muscle,
            mvc_v=mvc_v,
            mvc_source=str(ch.get("mvc_source") or ""),
            threshold_v=finite_or_none(ch.get("threshold")),
            target_v=mvc_target_v(mvc_v, target_pct),
            metrics={k: finite_or_none(v) for k, v in metrics.items()},
            game_count=summary.get("game_count"),
            agreement=_agreement(ch.get("agreement")),
            contractions=[
                _contraction_row(
                    i,
                    start_s=c.get("start_s"),
                    end_s=c.get("end_s"),
                    duration_s=c.get("duration_s"),
                    peak_pct=c.get("peak_pct_mvc"),
                    mean_pct=c.get("mean_pct_mvc"),
                    mnf=c.get("mnf_hz"),
                    mdf=c.get("mdf_hz"),
                    ints=c.get("meets_intensity"),
                    dur=c.get("meets_duration"),
                )
                for i, c in enumerate(ch.get("contractions") or [])
            ],
        )
        view.chart = _chart(view, ch.get("envelope"))
        channels.append(view)
    metadata = rec.get("metadata") or {}
    return {
        "analysis": None,
        "channels": channels,
        "warnings": list(rec.get("warnings") or []),
        "metadata": metadata,
        "score": _score_rows({**score, "scoring": scoring}),
        "duration_s": finite_or_none(rec.get("duration_s")),
        "rate_hz": finite_or_none(rec.get("rate_hz")),
        "game_score": finite_or_none(metadata.get("game_score")),
        "stored": False,
    }


def _link(kind, session):
    """Where a missing component can be set: the session edit page or the clinic settings."""
    if kind == "session" and session is not None and not session.is_voided:
        return {
            "url": reverse("sessions:edit", args=[session.pk]),
            "label": "Edit the session",
            "perm": "therapy_sessions.change_therapysession",
        }
    if kind == "settings":
        return {
            "url": reverse("clinic:settings"),
            "label": "Clinic settings",
            "perm": SETTINGS_PERM,
            "otherwise": "ask your clinic manager",
        }
    return None


def _meaning(name, score) -> str:
    config = score.get("scoring") or {}
    text = SCORE_MEANINGS[name]
    targets = ("target_count", "target_pct_mvc", "target_duration_s")
    if name == "compliance" and all(finite_or_none(config.get(k)) for k in targets):
        text += (
            f" Target: {config['target_count']:g} per muscle, >= {config['target_pct_mvc']:g} %"
            f" MVC, held >= {config['target_duration_s']:g} s."
        )
    elif name == "effort" and score.get("rpe") is not None and score.get("effort") is not None:
        text += f" RPE {score['rpe']:g} gives {score['effort']:.0f}."
    elif name == "game" and config.get("game_score_max"):
        text += f" Maximum: {config['game_score_max']:g}."
    return text


def _bfr_view(bfr: dict, session) -> dict | None:
    """The BFR gate in words: the pressure, the safe band, and whether the score is withheld."""
    pressure = finite_or_none(bfr.get("pressure_pct_aop"))
    if pressure is None:
        return None
    lo, hi = bfr.get("safe_band_pct_aop") or (None, None)
    band = f"{lo:g}-{hi:g} % AOP" if lo is not None else "the safe band"
    if bfr.get("gated"):
        text = (
            f"BFR cuff pressure {pressure:g} % AOP is outside the safe band ({band}): "
            "the score is withheld."
        )
    else:
        text = f"BFR cuff pressure {pressure:g} % AOP, within the safe band ({band})."
    return {"gated": bool(bfr.get("gated")), "text": text, "link": _link("session", session)}


def _score_rows(score: dict, *, session=None) -> dict:
    """Score components with weight, value and meaning; why each missing one is missing.

    ``score`` is a score block of ``analysis.core.scoring.combine_score`` (the session's, a
    recording's, or a stateless document's). Links carry the permission that shows them.
    """
    values = dict(score)
    compliance = score.get("compliance")
    if isinstance(compliance, dict):
        values["compliance"] = compliance.get("mean")
    weights = score.get("weights") or {}
    missing = list(score.get("missing") or [])
    reasons = {k: "not_computed" for k in missing} | dict(score.get("missing_reasons") or {})
    explained = []
    for name in missing:
        text, kind = MISSING_REASONS.get(reasons.get(name), ("Not computed.", None))
        if kind == "session" and session is None:
            kind, text = None, "A file analysed on its own has no RPE."
        explained.append(
            {
                "name": name,
                "label": SCORE_LABELS.get(name, name),
                "code": reasons.get(name),
                "text": text,
                "link": _link(kind, session),
            }
        )
    bfr = score.get("bfr") or {}
    return {
        "rows": [
            {
                "name": name,
                "label": label,
                "value": finite_or_none(values.get(name)),
                "weight": finite_or_none(weights.get(name)),
                "meaning": _meaning(name, values),
            }
            for name, label in SCORE_LABELS.items()
        ],
        "missing": missing,
        "missing_explained": explained,
        "bfr": _bfr_view(bfr, session),
        "bfr_gated": bool(bfr.get("gated", score.get("bfr_gated"))),
        "recordings": score.get("recordings"),
    }


def recording_results(recording) -> dict:
    """What ``_recording_results.html`` shows for a stored recording, with its history."""
    display = results_from_selector(selectors.recording_result(recording))
    display["recording"] = recording
    display["history"] = selectors.analysis_history(recording)
    return display


def session_page(session, *, user=None) -> dict:
    """The session's recordings with status, per-channel summary and the session score; the
    voided recordings too (struck through) when ``user`` may void recordings."""
    include_voided = user is not None and may_void_recordings(user)
    summary = selectors.session_summary(session, include_voided=include_voided)
    summary["score_view"] = _score_rows(summary["score"], session=session)
    return summary


def recording_row_context(recording, *, user, with_results: bool = False) -> dict:
    """The context of ``analysis/_recording_row.html``: one recording of the session page."""
    row = selectors.recording_summary(recording)
    context = {
        "row": row,
        "with_results": with_results,
        "can_download": can_download_recordings(user),
        "can_void_recordings": may_void_recordings(user)
        and not recording.is_voided
        and not recording.session.is_voided,
    }
    if with_results and recording.status == Recording.Status.DONE:
        context["results"] = recording_results(recording)
        context["recording"] = recording
    return context
