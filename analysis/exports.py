"""Per-patient exports: sessions, recordings, per-channel metrics and contractions as CSV or JSON.

Plain functions for every surface (the patient page's download links now, the API later): each
takes the requesting user and a patient id, looks the patient up through the access policy
(``patients.selectors.patient_for``: out of scope or voided for a non-voider is ``Http404``, a
missing permission ``PermissionDenied``) *before* anything is produced, and reads only through
``visible_to``. What a researcher gets is pseudonymised like the pages: no name, MRN, birth
date, notes or file name ("Recording N").

Only active records are exported (voided sessions, and everything under them, and voided
recordings never are), and
only the *current* analysis of each recording. The columns are a contract, documented in
``docs/exports.md``: add columns at the end, never rename one.

Costs: a fixed number of queries whatever the number of sessions (the tests pin them); CSV rows
are produced one at a time from a server-side cursor for the contraction table, so a long
history streams without being held in memory.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import F, Prefetch
from django.utils import timezone

from analysis.export_format import (
    CHANNEL_METRICS,
    CONTRACTION_FIELDS,
    EXPORT_FORMAT,
    EXPORT_VERSION,
    RECORDING_COLUMNS,
    TABLES,
    csv_lines,
    iso,
    number,
)
from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.selectors import SCORE_FIELDS, session_score
from clinic.access import age_band, can_see_identity, require_perm
from patients.models import Patient
from patients.selectors import patient_for
from sessions.models import Recording, TherapySession
from sessions.selectors import recording_name

VIEW_PATIENT = "patients.view_patient"
VIEW_RESULTS = "analysis.view_recordinganalysis"


class UnknownTable(ValueError):
    """A table name outside ``TABLES`` (a surface answers 400)."""


@dataclass(frozen=True)
class PatientScope:
    """The patient an export is about, and whether the requester may see identity."""

    patient: Patient
    identity: bool


def export_scope(user, patient_id) -> PatientScope:
    """The patient as ``user`` may export it: 404 out of scope (or voided for a non-voider),
    403 without the view permissions of the patient and of the results."""
    patient = patient_for(user, patient_id, perm=VIEW_PATIENT)
    require_perm(user, VIEW_RESULTS)
    return PatientScope(patient=patient, identity=can_see_identity(user))


# ---------------------------------------------------------------------------------------------
# Loading: a fixed number of queries for a patient's whole history
# ---------------------------------------------------------------------------------------------


def export_sessions(user, patient: Patient):
    """The patient's active sessions the user may see, oldest first."""
    return (
        TherapySession.objects.visible_to(user)
        .active()
        .filter(patient=patient)
        .order_by("started_at", "pk")
    )


def current_analyses_prefetch(*, envelopes: bool = False):
    """Each recording's current analysis as ``current_analyses`` (a list of 0 or 1), with its
    channels (envelopes only when asked: they are the bulk of the data)."""
    channels = ChannelResult.objects.order_by("position")
    if not envelopes:
        channels = channels.defer("envelope")
    return Prefetch(
        "analyses",
        queryset=RecordingAnalysis.objects.filter(is_current=True)
        .defer("document")
        .prefetch_related(Prefetch("channels", queryset=channels)),
        to_attr="current_analyses",
    )


def sessions_with_results(user, patient, *, envelopes=False) -> list:
    """The sessions with their recordings (``export_recordings``) and current analyses with
    their channels: 4 queries."""
    recordings = (
        Recording.objects.active()
        .order_by("created_at", "pk")
        .prefetch_related(current_analyses_prefetch(envelopes=envelopes))
    )
    return list(
        export_sessions(user, patient).prefetch_related(
            Prefetch("recordings", queryset=recordings, to_attr="export_recordings")
        )
    )


def _analysis_of(recording) -> RecordingAnalysis | None:
    return recording.current_analyses[0] if recording.current_analyses else None


# ---------------------------------------------------------------------------------------------
# Rows (one dict per CSV row; the JSON document nests the same dicts)
# ---------------------------------------------------------------------------------------------


def _score_value(value):
    """A score component as one number: compliance comes per muscle with its ``mean``."""
    return value.get("mean") if isinstance(value, dict) else value


def session_row(session, scope: PatientScope, analyses, channels) -> dict:
    score = session_score(
        analyses, rpe=session.rpe, bfr_pct_aop=session.bfr_pressure_pct_aop, channels=channels
    )
    return {
        "patient_code": scope.patient.code,
        "session_id": session.pk,
        "started_at": iso(session.started_at),
        "rpe": session.rpe,
        "bfr_pressure_pct_aop": number(session.bfr_pressure_pct_aop),
        "recordings": len(session.export_recordings),
        "recordings_analysed": len(analyses),
        **{f"score_{name}": _score_value(score.get(name)) for name in SCORE_FIELDS},
        "score_bfr_gated": score["bfr_gated"],
        "score_missing": list(score.get("missing") or []),
        "notes": session.notes if scope.identity else None,
    }


def recording_row(recording, session, scope: PatientScope) -> dict:
    analysis = _analysis_of(recording)
    row = dict.fromkeys(RECORDING_COLUMNS)
    row |= {
        "patient_code": scope.patient.code,
        "session_id": session.pk,
        "session_started_at": iso(session.started_at),
        "recording_id": recording.pk,
        "recording": recording_name(recording, identity=scope.identity),
        "source": recording.source,
        "status": recording.status,
        "failure_reason": recording.failure_reason or None,
        "uploaded_at": iso(recording.created_at),
        "analysed_at": None,
    }
    if analysis is not None:
        row.update(
            analysed_at=iso(analysis.created_at),
            core_version=analysis.core_version,
            started_at=iso(analysis.started_at),
            duration_s=analysis.duration_s,
            rate_hz=analysis.rate_hz,
            n_samples=analysis.n_samples,
            game_level=analysis.game_level or None,
            game_score=analysis.game_score,
            score_overall=analysis.score_overall,
            score_compliance=analysis.score_compliance,
            score_symmetry=analysis.score_symmetry,
            score_effort=analysis.score_effort,
            score_game=analysis.score_game,
            bfr_gated=analysis.bfr_gated,
        )
    return row


def channel_row(channel, recording, session, scope: PatientScope) -> dict:
    return {
        "patient_code": scope.patient.code,
        "session_id": session.pk,
        "session_started_at": iso(session.started_at),
        "recording_id": recording.pk,
        "channel": channel.label,
        "position": channel.position,
        "muscle": channel.muscle,
        "side": channel.side,
        **{name: getattr(channel, name) for name in CHANNEL_METRICS},
    }


def contraction_values(contraction: dict) -> dict:
    """A contraction's exported fields from its values (``area`` is named with its unit)."""
    return {
        ("area_v_s" if name == "area" else name): contraction[name] for name in CONTRACTION_FIELDS
    }


def session_rows(user, scope: PatientScope) -> Iterator[dict]:
    for session in sessions_with_results(user, scope.patient):
        analyses = [a for r in session.export_recordings if (a := _analysis_of(r))]
        channels = [c for a in analyses for c in a.channels.all()]
        yield session_row(session, scope, analyses, channels)


def recording_rows(user, scope: PatientScope) -> Iterator[dict]:
    for session in sessions_with_results(user, scope.patient):
        for recording in session.export_recordings:
            yield recording_row(recording, session, scope)


def channel_rows(user, scope: PatientScope) -> Iterator[dict]:
    for session in sessions_with_results(user, scope.patient):
        for recording in session.export_recordings:
            analysis = _analysis_of(recording)
            for channel in analysis.channels.all() if analysis else ():
                yield channel_row(channel, recording, session, scope)


def contraction_rows(user, scope: PatientScope) -> Iterator[dict]:
    """Every contraction of the current analyses, streamed from the database (one query)."""
    sessions = export_sessions(user, scope.patient)
    path = "channel__analysis__recording__session"
    queryset = (
        Contraction.objects.filter(
            channel__analysis__is_current=True,
            channel__analysis__recording__voided_at__isnull=True,
            **{f"{path}__in": sessions},
        )
        .order_by(
            f"{path}__started_at",
            f"{path}_id",
            "channel__analysis__recording__created_at",
            "channel__analysis__recording_id",
            "channel__position",
            "source",
            "index",
        )
        .values(
            *CONTRACTION_FIELDS,
            session_id=F(f"{path}_id"),
            session_started_at=F(f"{path}__started_at"),
            recording_id=F("channel__analysis__recording_id"),
            channel_label=F("channel__label"),
            muscle=F("channel__muscle"),
            side=F("channel__side"),
        )
    )
    started, started_iso = None, None
    for values in queryset.iterator(chunk_size=2000):
        if values["session_started_at"] != started:
            started = values["session_started_at"]
            started_iso = iso(started)
        yield {
            "patient_code": scope.patient.code,
            "session_id": values["session_id"],
            "session_started_at": started_iso,
            "recording_id": values["recording_id"],
            "channel": values["channel_label"],
            "muscle": values["muscle"],
            "side": values["side"],
            **contraction_values(values),
        }


ROWS = {
    "sessions": session_rows,
    "recordings": recording_rows,
    "channels": channel_rows,
    "contractions": contraction_rows,
}


# ---------------------------------------------------------------------------------------------
# What the surfaces call
# ---------------------------------------------------------------------------------------------


def patient_export_csv(user, patient_id, table: str) -> Iterator[str]:
    """One table of a patient's export as CSV lines (header first), to stream.

    Raises ``UnknownTable`` for a table outside ``TABLES``, ``Http404`` / ``PermissionDenied``
    as ``export_scope`` does; both before the first line, so a surface can still answer 4xx.
    """
    if table not in TABLES:
        raise UnknownTable(f"unknown table {table!r}: one of {', '.join(TABLES)}")
    scope = export_scope(user, patient_id)
    return csv_lines(TABLES[table], ROWS[table](user, scope))


def patient_export_document(user, patient_id) -> dict:
    """A patient's whole export as one JSON-ready document (a fixed number of queries).

    ``patient`` (pseudonymised for researchers), then ``sessions`` oldest first, each with its
    row (``SESSION_COLUMNS``) and ``recordings``, each with its row and ``channels``, each with
    its row and ``contractions`` (detected and the game's, by ``source``). Same names as the CSV.
    """
    scope = export_scope(user, patient_id)
    loaded = sessions_with_results(user, scope.patient)
    contractions = contractions_by_channel(
        c.pk
        for s in loaded
        for r in s.export_recordings
        for a in r.current_analyses
        for c in a.channels.all()
    )
    sessions = []
    for session in loaded:
        analyses = [a for r in session.export_recordings if (a := _analysis_of(r))]
        channels = [c for a in analyses for c in a.channels.all()]
        row = session_row(session, scope, analyses, channels)
        recordings = [
            {
                **_strip(recording_row(recording, session, scope), SESSION_KEYS),
                "channels": _channel_entries(recording, session, scope, contractions),
            }
            for recording in session.export_recordings
        ]
        sessions.append({**_strip(row, ("patient_code",)), "recordings": recordings})
    return {
        "format": EXPORT_FORMAT,
        "version": EXPORT_VERSION,
        "generated_at": iso(timezone.now()),
        "pseudonymised": not scope.identity,
        "patient": patient_block(scope),
        "sessions": sessions,
    }


def contractions_by_channel(channel_ids) -> dict[int, list[dict]]:
    """The contractions of these channels as exported dicts, per channel (one query; plain
    values: building thousands of model instances would cost more than the rest together)."""
    found: dict[int, list[dict]] = {}
    rows = (
        Contraction.objects.filter(channel_id__in=list(channel_ids))
        .order_by("channel_id", "source", "index")
        .values("channel_id", *CONTRACTION_FIELDS)
    )
    for values in rows:
        found.setdefault(values["channel_id"], []).append(contraction_values(values))
    return found


def _channel_entries(recording, session, scope, contractions) -> list[dict]:
    analysis = _analysis_of(recording)
    return [
        {
            **_strip(channel_row(channel, recording, session, scope), RECORDING_KEYS),
            "contractions": contractions.get(channel.pk, []),
        }
        for channel in (analysis.channels.all() if analysis else ())
    ]


# Keys a nested row repeats from its parent, left out of the JSON document.
SESSION_KEYS = ("patient_code", "session_id", "session_started_at")
RECORDING_KEYS = (*SESSION_KEYS, "recording_id")


def _strip(row: dict, keys) -> dict:
    return {k: v for k, v in row.items() if k not in keys}


def patient_block(scope: PatientScope) -> dict:
    """The patient as the requester may see it (identity only with the permission)."""
    patient = scope.patient
    block = {
        "id": patient.pk,
        "code": patient.code,
        "sex": patient.sex,
        "age_band": age_band(patient.date_of_birth),
        "diagnosis": patient.diagnosis or None,
        "treatment_start": iso(patient.treatment_start),
        "planned_sessions": patient.planned_sessions,
        "is_active": patient.is_active,
    }
    if scope.identity:
        block.update(
            first_name=patient.first_name,
            last_name=patient.last_name,
            mrn=patient.mrn or None,
            date_of_birth=iso(patient.date_of_birth),
        )
    return block
