"""The per-patient export's format: its tables' columns and how a value is written.

The columns are a contract, documented in ``docs/exports.md``: add columns at the end, never
rename one. The exports (``analysis.exports``) and the research dataset
(``analysis.research``) write their cells with the same functions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import date, datetime

from django.utils import timezone

from analysis.presentation import METRIC_FIELDS
from analysis.selectors import SCORE_FIELDS

EXPORT_FORMAT = "myoclinic.patient-export"
EXPORT_VERSION = 1

SESSION_COLUMNS = (
    "patient_code",
    "session_id",
    "started_at",
    "rpe",
    "bfr_pressure_pct_aop",
    "recordings",
    "recordings_analysed",
    *(f"score_{name}" for name in SCORE_FIELDS),
    "score_bfr_gated",
    "score_missing",
    "notes",
)
RECORDING_COLUMNS = (
    "patient_code",
    "session_id",
    "session_started_at",
    "recording_id",
    "recording",
    "source",
    "status",
    "failure_reason",
    "uploaded_at",
    "analysed_at",
    "core_version",
    "started_at",
    "duration_s",
    "rate_hz",
    "n_samples",
    "game_level",
    "game_score",
    "score_overall",
    "score_compliance",
    "score_symmetry",
    "score_effort",
    "score_game",
    "bfr_gated",
)
CHANNEL_METRICS = (
    "mvc_v",
    "mvc_source",
    "threshold_v",
    "threshold_off_v",
    "noise_v",
    *METRIC_FIELDS,  # the metrics the results pages show, in their order
    "game_count",
    "game_matched",
    "game_only_ours",
    "game_only_game",
    "game_spanning",
)
CHANNEL_COLUMNS = (
    "patient_code",
    "session_id",
    "session_started_at",
    "recording_id",
    "channel",
    "position",
    "muscle",
    "side",
    *CHANNEL_METRICS,
)
CONTRACTION_FIELDS = (
    "source",
    "index",
    "start_s",
    "end_s",
    "duration_s",
    "peak_v",
    "mean_v",
    "peak_pct_mvc",
    "mean_pct_mvc",
    "area",
    "mnf_hz",
    "mdf_hz",
    "fi_nsm5",
    "meets_intensity",
    "meets_duration",
    "good",
)
CONTRACTION_COLUMNS = (
    "patient_code",
    "session_id",
    "session_started_at",
    "recording_id",
    "channel",
    "muscle",
    "side",
    *("area_v_s" if name == "area" else name for name in CONTRACTION_FIELDS),
)
TABLES = {
    "sessions": SESSION_COLUMNS,
    "recordings": RECORDING_COLUMNS,
    "channels": CHANNEL_COLUMNS,
    "contractions": CONTRACTION_COLUMNS,
}


def iso(value) -> str | None:
    """Datetimes in ISO 8601 with the clinic's UTC offset, dates as YYYY-MM-DD."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (
            timezone.localtime(value).isoformat() if timezone.is_aware(value) else value.isoformat()
        )
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def csv_cell(value):
    """true/false for booleans, ';' joins lists; the rest as the csv module writes it (None
    empty, floats in their shortest round-trip form). By class, not isinstance: it runs for
    every cell of every row."""
    kind = value.__class__
    if kind is bool:
        return "true" if value else "false"
    if kind is list or kind is tuple:
        return ";".join(str(v) for v in value)
    return value


def csv_lines(columns: Iterable[str], rows: Iterable[dict]) -> Iterator[str]:
    """The header then one CSV line per row (RFC 4180 quoting, CRLF), lazily."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    columns = tuple(columns)
    yield line(columns)
    for row in rows:
        yield line([csv_cell(row.get(column)) for column in columns])


def number(value):
    """Decimals (BFR pressure) as floats; everything else as it is."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return float(value)
