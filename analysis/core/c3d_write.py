"""Writing C3D files in the GHOSTLY game's conventions (ezc3d, imported only by writers).

Used for synthetic recordings (tests, demo data, the benchmark) and any export: labels
padded to 13 characters, samples as floats, one dummy point, ``INFO``/``SUBJECTS`` groups.
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path

import numpy as np


def _samples_per_frame(n_samples: int) -> int:
    """A frame size that divides the samples and keeps the frame count within 16 bits."""
    for spf in (30, 20, 25, 24, 16, 15, 12, 10, 8, 6, 5, 4, 3, 2):
        if n_samples % spf == 0 and n_samples // spf <= 65535:
            return spf
    return 1


def write_recording(
    path: str | os.PathLike,
    *,
    rate_hz: float,
    channels: dict[str, np.ndarray],
    started_at: datetime | None = None,
    metadata: dict | None = None,
    units: list[str] | None = None,
    info: dict[str, str] | None = None,
) -> Path:
    """Write analog channels (volts) to a C3D file with the GHOSTLY conventions.

    Labels are space-padded to 13 characters, samples stored as float32, one point
    (``PlayerPosition``, zeros) at the frame rate, ``INFO``/``SUBJECTS`` groups from
    ``metadata`` (keys as in :func:`.c3d_metadata.extract_metadata`) and ``started_at``.
    ``units`` (default volts) are written as given (samples are not scaled); ``info`` adds
    string parameters to the ``INFO`` group (e.g. the live path's session and start time).
    """
    import ezc3d  # local: only writers need it

    if not channels:
        raise ValueError("write_recording needs at least one channel")
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in channels.values()]
    n = arrays[0].size
    if any(a.size != n for a in arrays) or n == 0:
        raise ValueError("all channels must have the same, non-zero length")
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError("rate_hz must be finite and > 0")
    spf = _samples_per_frame(n)
    n_frames = n // spf
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate_hz / spf]
    c["parameters"]["POINT"]["UNITS"]["value"] = ["m"]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [float(rate_hz)]
    labels = [str(k).ljust(13) for k in channels]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    units = list(units) if units is not None else ["V"] * len(labels)
    if len(units) != len(labels):
        raise ValueError("one unit per channel")
    c["parameters"]["ANALOG"]["UNITS"]["value"] = units
    c["parameters"]["POINT"]["LABELS"]["value"] = ["PlayerPosition"]
    c["data"]["points"] = np.zeros((4, 1, n_frames))
    c["data"]["analogs"] = np.stack(arrays)[None].astype(np.float32).astype(np.float64)
    meta = metadata or {}
    info = {
        "SYSTEM": ["OpenFeasyo"],
        "EVENT": ["gameplay"],
        "GAME_NAME": [str(meta.get("game_name") or "")],
        "VERSION": ["myoclinic"],
        "THERAPIST_ID": [str(meta.get("therapist_id") or "---")],
        "GROUP_ID": [str(meta.get("group_id") or "N/A")],
        **{str(k): [str(v)] for k, v in (info or {}).items()},
    }
    for group, name, value in [("INFO", k, v) for k, v in info.items()] + [
        ("SUBJECTS", "PLAYER_NAME", [str(meta.get("player") or "Default")])
    ]:
        c.add_parameter(group, name, value)
    if meta.get("game_level") is not None:
        c.add_parameter("INFO", "GAME_LEVEL", [int(meta["game_level"])])
    duration = meta.get("game_duration_s")
    c.add_parameter("INFO", "DURATION", [int(duration if duration is not None else n / rate_hz)])
    if started_at is not None:
        c.add_parameter(
            "INFO",
            "TIME",
            [
                str(started_at.year),
                str(started_at.month),
                str(started_at.day),
                str(started_at.hour),
                str(started_at.minute),
            ],
        )
    if meta.get("game_score") is not None:
        c.add_parameter("SUBJECTS", "GAME_SCORE", [float(meta["game_score"])])
    path = Path(path)
    c.write(str(path))
    return path
