"""What the numeric core is given for a recording: targets, weights, MVC, channel map, limits."""

from __future__ import annotations

import contextlib
import dataclasses
import os
import shutil
import tempfile

from django.conf import settings

from analysis import core
from clinic.models import GAME_CHANNEL_MAP
from patients.protocol import EffectiveProtocol, effective_protocol
from patients.selectors import mvc_for
from sessions.models import Recording

MAPPING_DOES_NOT_FIT = (
    "the clinic's channel mapping does not fit this file: channels chosen from their labels"
)


def scoring_config(protocol: EffectiveProtocol):
    """The core's ScoringConfig for a protocol (its weights merged over the core's)."""
    base = core.ScoringConfig()
    return dataclasses.replace(
        base,
        target_count=int(protocol.contractions_per_round),
        target_pct_mvc=float(protocol.target_pct_mvc),
        target_duration_s=float(protocol.hold_s),
        weights={**base.weights, **(protocol.scoring_weights or {})},
        bfr_safe_band_pct_aop=tuple(float(v) for v in protocol.bfr_safe_band_pct_aop),
        game_score_max=protocol.game_score_max,
    )


@dataclasses.dataclass(frozen=True)
class AnalysisInputs:
    """Everything one run of the core on one recording depends on."""

    config: object
    scoring: object
    mvc: dict
    rpe: int | None
    bfr_pct_aop: float | None
    channel_map: dict
    clinic_settings_version: int | None

    def core_kwargs(self) -> dict:
        """Keyword arguments of ``core.analyse_recording`` (the map is applied when reading)."""
        return {
            "config": self.config,
            "scoring": self.scoring,
            "mvc": self.mvc,
            "rpe": self.rpe,
            "bfr_pct_aop": self.bfr_pct_aop,
        }

    def as_json(self) -> dict:
        """What the core was given, for the history of each analysis."""
        return {
            "config": self.config.to_dict(),
            "scoring": self.scoring.to_dict(),
            "mvc": {k: list(v) if isinstance(v, tuple) else v for k, v in self.mvc.items()},
            "rpe": self.rpe,
            "bfr_pct_aop": self.bfr_pct_aop,
            "channel_map": self.channel_map,
            "clinic_settings_version": self.clinic_settings_version,
        }


def analysis_inputs(recording: Recording) -> AnalysisInputs:
    """The inputs for this recording's patient and session, as they are now."""
    session = recording.session
    protocol = effective_protocol(session.patient)
    bfr = session.bfr_pressure_pct_aop
    return AnalysisInputs(
        config=core.AnalysisConfig(),
        scoring=scoring_config(protocol),
        mvc=mvc_for(session.patient),
        rpe=session.rpe,
        bfr_pct_aop=float(bfr) if bfr is not None else None,
        channel_map=dict(protocol.channel_map),
        clinic_settings_version=protocol.clinic_settings_version,
    )


def core_channel_map(channel_map: dict | None) -> dict | None:
    """Our "<side> <muscle>" strings as the core's ``{label: {"muscle", "side"}}``.

    None for the game's default mapping, which the core applies by itself to game files while
    still choosing the channels of other systems' files (Vicon, BTS) from their labels.
    """
    normalised = {
        str(k).strip().upper(): str(v).strip().lower() for k, v in (channel_map or {}).items()
    }
    if not normalised or normalised == GAME_CHANNEL_MAP:
        return None
    out = {}
    for key, target in (channel_map or {}).items():
        words = str(target).strip().split(maxsplit=1)
        if len(words) == 2 and words[0].lower() in ("left", "right"):
            out[str(key)] = {"muscle": words[1].lower(), "side": words[0].lower()}
        elif words:
            out[str(key)] = {"muscle": str(target).strip().lower(), "side": None}
    return out or None


def read_limits(*, timeout_s: float | None = None):
    """The isolated reader's memory and time caps (settings; a shorter time for web requests)."""
    return core.ReadLimits(
        max_memory_mb=settings.C3D_READER_MAX_MEMORY_MB,
        timeout_s=timeout_s or settings.C3D_READER_TIMEOUT_S,
    )


def recording_read(path, *, channel_map: dict | None, limits=None):
    """Read in the core's isolated child with the clinic's channel mapping when it fits.

    A mapping written for the game's CH1/CH2 does not fit a Vicon or BTS file: that file is
    then read with the core's automatic channel choice, and a warning says so.
    """
    limits = limits or read_limits()
    mapping = core_channel_map(channel_map)
    try:
        return core.read_recording(path, limits=limits, isolated=True, channel_map=mapping)
    except core.ChannelMapMismatch:
        if mapping is None:
            raise
    raw = core.read_recording(path, limits=limits, isolated=True, channel_map=None)
    raw.warnings.append(MAPPING_DOES_NOT_FIT)
    return raw


@contextlib.contextmanager
def stored_file_copy(field_file):
    """A local temporary path holding a stored file (storage may be S3), removed after."""
    handle = tempfile.NamedTemporaryFile(suffix=".c3d", delete=False)  # noqa: SIM115
    try:
        with handle, field_file.open("rb") as src:
            shutil.copyfileobj(src, handle, length=1024 * 1024)
        yield handle.name
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)


@contextlib.contextmanager
def uploaded_file_copy(uploaded_file, *, prefix: str = "myoclinic-"):
    """A local temporary path holding an uploaded file, deleted whatever happens."""
    with tempfile.NamedTemporaryFile(prefix=prefix, suffix=".c3d") as handle:
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            handle.write(chunk)
        handle.flush()
        yield handle.name
