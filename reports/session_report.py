"""What the session report shows: one session's results, methods and alerts, made for print.

Built from the session page's reads (``analysis.presentation.session_page``,
``analysis.selectors.recording_result``) plus each recording's current result document; the
charts, contraction tables and metric cards are redrawn for print (``reports.print_charts``,
``reports.print_tables``, ``reports.print_cards``). :func:`session_facts_key` is the digest the
cached PDF is keyed by. The variants and the identity rule: ``reports.selectors``.
"""

from __future__ import annotations

import hashlib
import json

from django.utils import timezone
from django.utils.dateparse import parse_datetime

from analysis import presentation, selectors
from analysis.grading import SCORE_MEANINGS, failure_advice, weights_text
from analysis.models import RecordingAnalysis
from patients.protocol import effective_protocol
from patients.selectors import patient_card
from reports.print_cards import cards_svg, channel_cards
from reports.print_charts import decimate_envelope, print_svg, svg_data_uri
from reports.print_tables import CONTRACTION_COLUMNS, contraction_text
from reports.selectors import IDENTIFIED, LAYOUT_VERSION, pseudonymised_document
from sessions.models import Recording, TherapySession
from sessions.selectors import recording_name

#: Live alert types (analysis/pipeline/live_analysis.py) as the report names them.
ALERT_TYPES = {
    "signal_lost": "Electrode off / signal lost",
    "saturation": "Saturation",
    "mains_hum": "Mains hum",
    "motion": "Motion artefact",
    "fatigue": "Fatigue",
    "target_reached": "Target count reached",
    "bfr_out_of_band": "BFR outside the safe band",
}


def recording_alerts(recording: Recording) -> list[dict]:
    """The alerts stored with a live recording (``Recording.live_alerts``), ready to print.

    Each: ``type`` (readable), ``severity``, ``t_s`` (seconds into the stream), ``channel``,
    ``message``, ``acknowledged_by`` and ``acknowledged_at`` (a datetime, or None when nobody
    acknowledged it). Entries that are not alerts (a hand-edited or truncated list) are skipped.
    """
    rows = []
    for alert in recording.live_alerts or []:
        if not isinstance(alert, dict):
            continue
        kind = str(alert.get("type") or "")
        t = alert.get("t")
        at = alert.get("acknowledged_at")
        acknowledged_at = parse_datetime(at) if isinstance(at, str) else None
        rows.append(
            {
                "type": ALERT_TYPES.get(kind, kind.replace("_", " ") or "alert"),
                "severity": str(alert.get("severity") or ""),
                "t_s": float(t) if isinstance(t, int | float) and not isinstance(t, bool) else None,
                "channel": str(alert.get("channel") or ""),
                "message": str(alert.get("message") or ""),
                "acknowledged_by": str(alert.get("acknowledged_by") or ""),
                "acknowledged_at": (
                    timezone.localtime(acknowledged_at)
                    if acknowledged_at is not None and timezone.is_aware(acknowledged_at)
                    else acknowledged_at
                ),
            }
        )
    return sorted(rows, key=lambda a: (a["t_s"] is None, a["t_s"] or 0.0))


def _current_analyses(session) -> dict[int, RecordingAnalysis]:
    """The current analysis (with its document) of each recording of ``session`` (1 query)."""
    analyses = RecordingAnalysis.objects.filter(
        recording__session=session, recording__voided_at__isnull=True, is_current=True
    ).only("pk", "recording_id", "core_version", "parameters", "document", "created_at")
    return {a.recording_id: a for a in analyses}


def methods(document: dict | None, analysis: RecordingAnalysis | None) -> dict | None:
    """The methods box (ISEK reporting items) from the parameters the core was given."""
    if analysis is None:
        return None
    params = (document or {}).get("parameters") or {}
    cfg = params.get("analysis") or (analysis.parameters or {}).get("analysis") or {}
    scoring = params.get("scoring") or (analysis.parameters or {}).get("scoring") or {}
    rec = (document or {}).get("recording") or {}
    channels = [
        {
            "label": ch.get("label"),
            "muscle": f"{ch.get('side') or ''} {ch.get('muscle') or ''}".strip() or "unmapped",
        }
        for ch in (document or {}).get("channels") or []
    ]
    return {
        "core_version": analysis.core_version,
        "analysed_at": analysis.created_at,
        "rate_hz": rec.get("rate_hz"),
        "duration_s": rec.get("duration_s"),
        "channels": channels,
        "bandpass_low_hz": cfg.get("bandpass_low_hz"),
        "bandpass_high_hz": cfg.get("bandpass_high_hz"),
        "filter_order": cfg.get("filter_order"),
        "envelope_window_s": cfg.get("envelope_window_s"),
        "on_noise_factor": cfg.get("on_noise_factor"),
        "off_noise_factor": cfg.get("off_noise_factor"),
        "on_pct_mvc": cfg.get("on_pct_mvc"),
        "off_pct_mvc": cfg.get("off_pct_mvc"),
        "min_duration_s": cfg.get("min_duration_s"),
        "merge_gap_s": cfg.get("merge_gap_s"),
        "mvc_window_s": cfg.get("mvc_window_s"),
        "welch_segment_s": cfg.get("welch_segment_s"),
        "target_count": scoring.get("target_count"),
        "target_pct_mvc": scoring.get("target_pct_mvc"),
        "target_duration_s": scoring.get("target_duration_s"),
        "weights": weights_text(scoring.get("weights") or {}),
        "parameters_json": json.dumps(cfg, sort_keys=True, indent=None),
    }


def print_results(result: dict) -> dict:
    """The pages' display structure of one recording, with charts made for print.

    Envelopes are decimated to ``reports.print_charts.PRINT_COLUMNS`` min/max columns before
    the pages' chart is drawn, and each chart is handed to the template as an SVG ``data:``
    URL (``ch.chart_uri``) for an ``<img>``: the same vector chart, a fraction of the work
    (``print_svg``: no tooltips, labels placed without WeasyPrint's anchor groups).
    The contraction table comes as one text of one line per contraction
    (``ch.contraction_text``, ``reports.print_tables``), the metric cards as one SVG image
    (``ch.cards_uri``, ``reports.print_cards``).
    """
    result = {
        **result,
        "channels": [
            {**item, "envelope": decimate_envelope(item.get("envelope"))}
            for item in result.get("channels", [])
        ],
    }
    results = presentation.results_from_selector(result)
    for view in results["channels"]:
        view.chart_uri = svg_data_uri(print_svg(view.chart)) if view.chart else ""
        view.contraction_text = contraction_text(view.contractions)
        view.cards_uri = svg_data_uri(cards_svg(channel_cards(view)))
    return results


#: What differs between the recordings of one session even with the same analysis settings.
PER_RECORDING_METHODS = ("rate_hz", "duration_s", "channels", "core_version", "analysed_at")


def methods_groups(recordings: list[dict]) -> list[dict]:
    """The methods boxes of a session: one per set of shared settings, not one per recording.

    Recordings analysed with the same filter, envelope, normalisation, detection, scoring and
    parameters (the usual case: one session, one clinic setting) share one box that lists what
    is their own (channels, rate, duration, core version, when analysed) recording by
    recording; recordings with other settings get a box of their own. Each group:
    ``{"numbers": [1, 2], "shared": methods dict, "recordings": [(number, methods), ...]}``.
    """
    groups: list[dict] = []
    for item in recordings:
        m = item.get("methods")
        if m is None:
            continue
        shared = {k: v for k, v in m.items() if k not in PER_RECORDING_METHODS}
        for group in groups:
            if group["shared"] == shared:
                break
        else:
            group = {"numbers": [], "shared": shared, "recordings": []}
            groups.append(group)
        group["numbers"].append(item["number"])
        group["recordings"].append((item["number"], m))
    return groups


def session_report_context(session: TherapySession, *, variant: str) -> dict:
    """Everything the session report shows (the session page's reads, plus documents)."""
    identity = variant == IDENTIFIED
    page = presentation.session_page(session)
    analyses = _current_analyses(session)
    recordings = []
    for number, row in enumerate(page["recordings"], start=1):
        recording = row["recording"]
        analysis = analyses.get(recording.pk)
        results = None
        if recording.status == Recording.Status.DONE and analysis is not None:
            results = print_results(selectors.recording_result(recording))
        document = analysis.document if analysis is not None else None
        recordings.append(
            {
                "number": number,
                "name": recording_name(recording, identity=identity),
                "recording": recording,
                "status": recording.get_status_display(),
                "done": results is not None,
                "failure_reason": recording.failure_reason,
                "failure_advice": (
                    failure_advice(recording.failure_reason) if recording.failure_reason else ""
                ),
                "results": results,
                "methods": methods(document, analysis),
                "live": recording.source == Recording.Source.LIVE,
                "interrupted": recording.interrupted,
                "alerts": recording_alerts(recording),
            }
        )
    protocol = effective_protocol(session.patient)
    return {
        "variant": variant,
        "identity": identity,
        "session": session,
        "card": patient_card(session.patient, identity=identity),
        "clinic": session.patient.clinic,
        "protocol": protocol,
        "summary": page,
        "score": page["score_view"],
        "score_raw": page["score"],
        "meanings": SCORE_MEANINGS,
        "recordings": recordings,
        "methods_groups": methods_groups(recordings),
        "contraction_columns": CONTRACTION_COLUMNS,
        "generated_at": timezone.localtime(),
    }


def session_report_data(context: dict) -> dict:
    """The JSON attached to a session report: the stored results it was made from."""
    session = context["session"]
    identity = context["identity"]
    analyses = _current_analyses(session)
    score = context["score_raw"]
    return {
        "kind": "session-report",
        "variant": context["variant"],
        "patient_code": context["card"].code,
        "session": {
            "id": session.pk,
            "started_at": session.started_at.isoformat(),
            "rpe": session.rpe,
            "bfr_pressure_pct_aop": (
                float(session.bfr_pressure_pct_aop)
                if session.bfr_pressure_pct_aop is not None
                else None
            ),
        },
        "score": {k: score.get(k) for k in ("overall", *selectors.SCORE_FIELDS[1:], "missing")},
        "recordings": [
            {
                "id": item["recording"].pk,
                "name": item["name"],
                "sha256": item["recording"].sha256,
                "status": item["recording"].status,
                "source": item["recording"].source,
                "live_alerts": item["recording"].live_alerts or [],
                "core_version": analyses[item["recording"].pk].core_version
                if item["recording"].pk in analyses
                else None,
                "document": (
                    analyses[item["recording"].pk].document
                    if identity
                    else pseudonymised_document(analyses[item["recording"].pk].document)
                )
                if item["recording"].pk in analyses
                else None,
            }
            for item in context["recordings"]
        ],
    }


def session_facts_key(session: TherapySession, *, variant: str) -> str:
    """A digest of everything a session report depends on; any change gives a new key.

    The session's and patient's rows (RPE, BFR, notes, identity, void), the current analysis
    of each recording (a re-analysis makes a new one), the recordings' status, the protocol and
    the report layout. 2 queries.
    """
    patient = session.patient
    recordings = list(
        Recording.objects.active()
        .filter(session=session)
        .order_by("pk")
        .values_list("pk", "status", "updated_at")
    )
    current = list(
        RecordingAnalysis.objects.filter(
            recording__session=session, recording__voided_at__isnull=True, is_current=True
        )
        .order_by("pk")
        .values_list("pk", "core_version", "created_at")
    )
    protocol = getattr(patient, "protocol", None)
    parts = (
        LAYOUT_VERSION,
        variant,
        session.pk,
        session.updated_at.isoformat(),
        patient.pk,
        patient.updated_at.isoformat(),
        protocol.updated_at.isoformat() if protocol is not None else None,
        tuple((pk, status, str(at)) for pk, status, at in recordings),
        tuple((pk, version, str(at)) for pk, version, at in current),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()
