"""The researchers' dataset: every analysed muscle of the clinic as one pseudonymised CSV.

Identity is a keyed pseudonym, HMAC-SHA256 of the patient's id under the secret
``RESEARCH_PSEUDONYM_KEY`` (derived from ``SECRET_KEY`` when unset): the same patient gets the
same pseudonym in every export, nobody without the key can compute it from anything they know,
and a new key unlinks every earlier export. No name, MRN, birth date (a ten-year age band
instead), patient code, file name, free text (diagnosis, notes) or calendar date (days since
the patient's first session instead) appears, and no database id either: they link back to
the pages.

Scope is the access policy's (``Patient.objects.visible_to``): a researcher's or manager's whole
clinic; the action needs ``analysis.export_research_data`` (403 without). Voided patients and
sessions are left out. One query for the session numbering and one streamed query for the rows,
whatever the size of the clinic.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator
from datetime import date

from django.conf import settings
from django.db.models import F
from django.utils import timezone

from analysis.export_format import CHANNEL_METRICS, csv_lines
from analysis.models import ChannelResult
from clinic.access import age_band, require_perm
from patients.models import Patient
from sessions.models import TherapySession

EXPORT_PERMISSION = "analysis.export_research_data"
PSEUDONYM_HEX_DIGITS = 16  # 64 bits: no collision in any clinic's lifetime of patients

RESEARCH_COLUMNS = (
    "participant",
    "age_band",
    "sex",
    "session_number",
    "session_day",
    "rpe",
    "bfr_pressure_pct_aop",
    "round_number",
    "duration_s",
    "game_level",
    "game_score",
    "score_overall",
    "score_compliance",
    "score_symmetry",
    "score_effort",
    "score_game",
    "bfr_gated",
    "muscle",
    "side",
    *CHANNEL_METRICS,
)


def pseudonym_key() -> bytes:
    """The HMAC key: the setting, or one derived from SECRET_KEY (never SECRET_KEY itself)."""
    configured = settings.RESEARCH_PSEUDONYM_KEY
    if configured:
        return configured.encode()
    return hmac.new(
        settings.SECRET_KEY.encode(), b"myoclinic research pseudonym key", hashlib.sha256
    ).digest()


def pseudonym(patient_id: int, *, key: bytes | None = None) -> str:
    """The patient's research pseudonym: HMAC-SHA256(key, "patient:<id>"), first 16 hex digits."""
    digest = hmac.new(key or pseudonym_key(), f"patient:{patient_id}".encode(), hashlib.sha256)
    return digest.hexdigest()[:PSEUDONYM_HEX_DIGITS]


def _local_day(moment) -> date:
    return timezone.localtime(moment).date()


def research_patients(user):
    """The active patients the user may see (the dataset's population)."""
    return Patient.objects.visible_to(user).active()


def research_patient_ids(user) -> list[int]:
    """The patients the user's research export covers (what its audit entry names)."""
    return list(research_patients(user).values_list("pk", flat=True))


def session_numbering(patients) -> dict[int, tuple[int, int]]:
    """Session id -> (number from 1, days since the patient's first session), active sessions."""
    numbering: dict[int, tuple[int, int]] = {}
    current, number, first_day = None, 0, None
    sessions = (
        TherapySession.objects.active()
        .filter(patient__in=patients)
        .order_by("patient_id", "started_at", "pk")
        .values_list("pk", "patient_id", "started_at")
    )
    for pk, patient_id, started_at in sessions.iterator(chunk_size=5000):
        if patient_id != current:
            current, number, first_day = patient_id, 0, _local_day(started_at)
        number += 1
        numbering[pk] = (number, (_local_day(started_at) - first_day).days)
    return numbering


def research_rows(user) -> Iterator[dict]:
    patients = research_patients(user)
    numbering = session_numbering(patients)
    key = pseudonym_key()
    recording = "analysis__recording"
    session = f"{recording}__session"
    patient = f"{session}__patient"
    rows = (
        ChannelResult.objects.filter(
            analysis__is_current=True,
            **{
                f"{recording}__voided_at__isnull": True,
                f"{session}__voided_at__isnull": True,
                f"{patient}__in": patients,
            },
        )
        .order_by(
            f"{patient}_id",
            f"{session}__started_at",
            f"{session}_id",
            f"{recording}__created_at",
            f"{recording}_id",
            "position",
        )
        .values(
            "muscle",
            "side",
            *CHANNEL_METRICS,
            patient_id=F(f"{patient}_id"),
            birth=F(f"{patient}__date_of_birth"),
            sex=F(f"{patient}__sex"),
            session_id=F(f"{session}_id"),
            rpe=F(f"{session}__rpe"),
            bfr=F(f"{session}__bfr_pressure_pct_aop"),
            recording_id=F(f"{recording}_id"),
            duration_s=F("analysis__duration_s"),
            game_level=F("analysis__game_level"),
            game_score=F("analysis__game_score"),
            score_overall=F("analysis__score_overall"),
            score_compliance=F("analysis__score_compliance"),
            score_symmetry=F("analysis__score_symmetry"),
            score_effort=F("analysis__score_effort"),
            score_game=F("analysis__score_game"),
            bfr_gated=F("analysis__bfr_gated"),
        )
    )
    today = timezone.localdate()
    last_session, last_recording, round_number = None, None, 0
    for values in rows.iterator(chunk_size=2000):
        if values["session_id"] != last_session:
            last_session, last_recording, round_number = values["session_id"], None, 0
        if values["recording_id"] != last_recording:
            last_recording = values["recording_id"]
            round_number += 1
        number, day = numbering.get(values["session_id"], (None, None))
        bfr = values["bfr"]
        yield {
            **values,
            "participant": pseudonym(values["patient_id"], key=key),
            "age_band": age_band(values["birth"], today=today),
            "session_number": number,
            "session_day": day,
            "bfr_pressure_pct_aop": None if bfr is None else float(bfr),
            "round_number": round_number,
            "game_level": values["game_level"] or None,
        }


def research_export_csv(user) -> Iterator[str]:
    """The dataset as CSV lines (``RESEARCH_COLUMNS``), to stream; PermissionDenied (403)
    without ``analysis.export_research_data``, raised before the first line."""
    require_perm(user, EXPORT_PERMISSION)
    return csv_lines(RESEARCH_COLUMNS, research_rows(user))
