"""What the progress report shows: a patient's course over a date range.

The points, adherence and trend charts of ``patients.progress`` (the patient pages' own reads)
within the range, and the MVC calibrations made in it. :func:`progress_facts_key` is the digest
the cached PDF is keyed by. The variants and the identity rule: ``reports.selectors``.
"""

from __future__ import annotations

import hashlib
from datetime import date

from django.utils import timezone

from analysis import selectors
from analysis.models import RecordingAnalysis
from patients import progress, progress_charts
from patients.models import MvcCalibration
from patients.protocol import effective_protocol
from patients.selectors import patient_card
from reports.selectors import IDENTIFIED, LAYOUT_VERSION
from sessions.models import TherapySession


def _in_range(points, date_from: date | None, date_to: date | None):
    return [
        p
        for p in points
        if (date_from is None or p["date"] >= date_from)
        and (date_to is None or p["date"] <= date_to)
    ]


def session_days(patient) -> list[date]:
    """The local day of each non-voided session of ``patient`` (1 query)."""
    return [
        timezone.localtime(at).date()
        for at in TherapySession.objects.filter(
            patient=patient, voided_at__isnull=True
        ).values_list("started_at", flat=True)
    ]


def progress_report_context(
    patient, *, variant: str, date_from: date | None, date_to: date | None
) -> dict:
    """Everything the progress report shows: adherence, trends, sessions, calibrations."""
    identity = variant == IDENTIFIED
    points = _in_range(progress.patient_progress(patient), date_from, date_to)
    adherence = progress.patient_adherence(patient, today=date_to)
    adherence["planned_sessions"] = patient.planned_sessions
    calibrations = _calibrations(patient, date_from, date_to)
    return {
        "variant": variant,
        "identity": identity,
        "card": patient_card(patient, identity=identity),
        "clinic": patient.clinic,
        "protocol": effective_protocol(patient),
        "date_from": date_from,
        "date_to": date_to,
        "points": points,
        "charts": progress_charts.trend_charts(points),
        "adherence": adherence,
        "calibrations": calibrations,
        "generated_at": timezone.localtime(),
    }


def _calibrations(patient, date_from, date_to) -> list[MvcCalibration]:
    rows = MvcCalibration.objects.filter(patient=patient).order_by("created_at", "pk")
    return [
        c
        for c in rows
        if (date_from is None or timezone.localtime(c.created_at).date() >= date_from)
        and (date_to is None or timezone.localtime(c.created_at).date() <= date_to)
    ]


def progress_report_data(context: dict) -> dict:
    """The JSON attached to a progress report: the points and calibrations it shows."""
    return {
        "kind": "progress-report",
        "variant": context["variant"],
        "patient_code": context["card"].code,
        "from": context["date_from"].isoformat() if context["date_from"] else None,
        "to": context["date_to"].isoformat() if context["date_to"] else None,
        "adherence": {
            k: (v.isoformat() if isinstance(v, date) else v)
            for k, v in context["adherence"].items()
        },
        "sessions": [
            {
                "id": p["session"].pk,
                "date": p["date"].isoformat(),
                "score": {k: p["score"].get(k) for k in ("overall", *selectors.SCORE_FIELDS[1:])},
                "bfr_gated": p["score"].get("bfr_gated"),
                "compliance": p["compliance"],
                "mdf_slope_pct_per_min": p["mdf_slope_pct_per_min"],
                "symmetry": p["symmetry"],
                "rpe": p["rpe"],
                "recordings": p["recordings"],
            }
            for p in context["points"]
        ],
        "calibrations": [
            {
                "muscle": c.muscle_key,
                "value_v": c.value_v,
                "source": c.source,
                "created_at": c.created_at.isoformat(),
            }
            for c in context["calibrations"]
        ],
    }


def progress_facts_key(patient, *, variant: str, date_from, date_to) -> str:
    """A digest of what a progress report depends on (sessions, analyses, calibrations)."""
    sessions = list(
        TherapySession.objects.filter(patient=patient)
        .order_by("pk")
        .values_list("pk", "updated_at")
    )
    current = list(
        RecordingAnalysis.objects.filter(
            recording__session__patient=patient,
            recording__voided_at__isnull=True,
            is_current=True,
        )
        .order_by("pk")
        .values_list("pk", "created_at", "recording__session_id")  # a move changes the report
    )
    calibrations = list(
        MvcCalibration.objects.filter(patient=patient)
        .order_by("pk")
        .values_list("pk", "created_at")
    )
    protocol = getattr(patient, "protocol", None)
    parts = (
        LAYOUT_VERSION,
        variant,
        patient.pk,
        patient.updated_at.isoformat(),
        str(date_from),
        str(date_to),
        timezone.localdate().isoformat(),  # adherence counts up to today
        protocol.updated_at.isoformat() if protocol is not None else None,
        tuple((pk, str(at)) for pk, at in sessions),
        tuple((pk, str(at), session_id) for pk, at, session_id in current),
        tuple((pk, str(at)) for pk, at in calibrations),
    )
    return hashlib.sha256(repr(parts).encode()).hexdigest()
