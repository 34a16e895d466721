"""What a C3D file says about the session: game metadata, start time, voltage units.

Read from the parameters :mod:`.c3d_parse` extracted (the GHOSTLY game's ``INFO`` and
``SUBJECTS`` groups); standard library only, so the isolated reader's modules stay small.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

_GHOSTLY_NAME = re.compile(r"Ghostly_Emg_(\d{8})_(\d{2})-(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE)
_VOLT_UNITS = {"v": 1.0, "volt": 1.0, "volts": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6}


def _param_str(params: dict, group: str, name: str) -> str | None:
    v = params.get(group, {}).get(name)
    if v is None or len(v) == 0:
        return None
    if isinstance(v, list):
        s = " ".join(x for x in v if x).strip()
        return s or None
    return str(v[0])


def _param_num(params: dict, group: str, name: str) -> float | None:
    v = params.get(group, {}).get(name)
    if v is None or len(v) == 0:
        return None
    try:
        x = float(v[0])
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def extract_metadata(params: dict) -> dict[str, Any]:
    """Game metadata from the INFO/SUBJECTS groups (None where absent)."""
    level = _param_num(params, "INFO", "GAME_LEVEL")
    if level is None:
        s = _param_str(params, "INFO", "GAME_LEVEL")
        level = float(s) if s and s.lstrip("-").isdigit() else None
    score = _param_num(params, "SUBJECTS", "GAME_SCORE")
    duration = _param_num(params, "INFO", "DURATION")
    return {
        "game_name": _param_str(params, "INFO", "GAME_NAME"),
        "game_level": int(level) if level is not None else None,
        "game_duration_s": duration,
        "therapist_id": _param_str(params, "INFO", "THERAPIST_ID"),
        "group_id": _param_str(params, "INFO", "GROUP_ID"),
        "player": _param_str(params, "SUBJECTS", "PLAYER_NAME"),
        "game_score": score,
    }


def extract_started_at(params: dict, filename: str | None) -> datetime | None:
    """Start time from ``INFO:TIME`` [y, m, d, h, min], else the Ghostly file name."""
    v = params.get("INFO", {}).get("TIME")
    if isinstance(v, list) and len(v) >= 5:
        try:
            y, mo, d, h, mi = (int(float(x)) for x in v[:5])
            return datetime(y, mo, d, h, mi)  # noqa: DTZ001 (the game writes local wall time)
        except (TypeError, ValueError):
            pass
    if filename:
        m = _GHOSTLY_NAME.search(filename)
        if m:
            try:
                date = datetime.strptime(m.group(1), "%Y%m%d")  # noqa: DTZ007
                return date.replace(
                    hour=int(m.group(2)),
                    minute=int(m.group(3)),
                    second=int(m.group(4)),
                    microsecond=int(m.group(5)) * 100,
                )
            except ValueError:
                return None
    return None


def volts_factor(unit: str) -> float | None:
    """Multiplier to volts for a voltage unit string, None for non-voltage units."""
    return _VOLT_UNITS.get(unit.strip().lower())
