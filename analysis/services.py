"""Running the numeric core on recordings and storing what it finds.

The Celery task (analysis/tasks.py) only takes ids and handles retries; the work is here:
claim a recording atomically, read its file from storage into a temporary file, run
``analysis.core`` in its isolated reader, write every result in one transaction, and tell the
session's open pages over the channel layer. Re-analysis and the stateless analysis reuse the
same pieces.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import os
import shutil
import tempfile
import time
import uuid
import zoneinfo
from datetime import datetime, timedelta

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Q, When
from django.utils import timezone

from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from sessions.models import Recording, TherapySession

logger = logging.getLogger(__name__)

# What the session page shows as the progress of one file.
PROGRESS = {"pending": 0.0, "processing": 0.1, "read": 0.5, "analysed": 0.9, "done": 1.0}
PROGRESS["failed"] = 1.0


def _core():
    """The numeric core, imported late: the web process rarely needs numpy/scipy loaded."""
    from analysis import core

    return core


# ---------------------------------------------------------------------------------------------
# Protocol, scoring and MVC: what the core is given for a patient
# ---------------------------------------------------------------------------------------------

PROTOCOL_FIELDS = (
    "contractions_per_round",
    "target_pct_mvc",
    "hold_s",
    "rounds_per_session",
    "sessions_per_week",
    "programme_weeks",
)


@dataclasses.dataclass(frozen=True)
class EffectiveProtocol:
    """Clinic defaults with this patient's overrides applied; ``overridden`` names the latter."""

    contractions_per_round: int = 12
    target_pct_mvc: float = 75.0
    hold_s: float = 2.0
    rounds_per_session: int = 3
    sessions_per_week: int = 5
    programme_weeks: int = 2
    scoring_weights: dict = dataclasses.field(default_factory=dict)
    bfr_safe_band_pct_aop: tuple = (45.0, 55.0)
    game_score_max: float | None = None
    channel_map: dict = dataclasses.field(
        default_factory=lambda: {"CH1": "left quadriceps", "CH2": "right quadriceps"}
    )
    clinic_settings_version: int | None = None
    overridden: tuple = ()

    def scoring_config(self):
        """The core's ScoringConfig for this protocol (weights merged over the core's)."""
        core = _core()
        base = core.ScoringConfig()
        weights = {**base.weights, **(self.scoring_weights or {})}
        return dataclasses.replace(
            base,
            target_count=int(self.contractions_per_round),
            target_pct_mvc=float(self.target_pct_mvc),
            target_duration_s=float(self.hold_s),
            weights=weights,
            bfr_safe_band_pct_aop=tuple(float(v) for v in self.bfr_safe_band_pct_aop),
            game_score_max=self.game_score_max,
        )

    def expected_sessions_by(self, *, start, today) -> int:
        """Sessions the plan expects from ``start`` up to ``today`` (inclusive), capped."""
        if start is None or today < start:
            return 0
        days = (today - start).days + 1
        planned_total = self.sessions_per_week * self.programme_weeks
        return min(planned_total, (days * self.sessions_per_week + 6) // 7)


def effective_protocol(patient) -> EffectiveProtocol:
    """Merge the clinic's newest settings with the patient's PatientProtocol overrides."""
    from clinic.models import ClinicSettings
    from patients.models import PatientProtocol

    values = {}
    clinic_settings = ClinicSettings.objects.current_for(patient.clinic_id)
    if clinic_settings is not None:
        values = {name: getattr(clinic_settings, name) for name in PROTOCOL_FIELDS}
        values["scoring_weights"] = clinic_settings.scoring_weights or {}
        values["bfr_safe_band_pct_aop"] = (
            clinic_settings.bfr_safe_low_pct_aop,
            clinic_settings.bfr_safe_high_pct_aop,
        )
        values["game_score_max"] = clinic_settings.game_score_max
        if clinic_settings.channel_map:
            values["channel_map"] = dict(clinic_settings.channel_map)
        values["clinic_settings_version"] = clinic_settings.version
    overridden = []
    protocol = PatientProtocol.objects.filter(patient=patient).first()
    if protocol is not None:
        for name in PROTOCOL_FIELDS:
            value = getattr(protocol, name)
            if value is not None:
                values[name] = value
                overridden.append(name)
        if protocol.scoring_weights:
            values["scoring_weights"] = {
                **values.get("scoring_weights", {}),
                **protocol.scoring_weights,
            }
            overridden.append("scoring_weights")
    return EffectiveProtocol(**values, overridden=tuple(overridden))


def mvc_for(patient) -> dict:
    """The core's ``mvc`` mapping: the newest calibration per muscle, "<side> <muscle>" keys."""
    from patients.models import MvcCalibration

    mvc = {}
    for cal in MvcCalibration.objects.filter(patient=patient).order_by("-created_at", "-pk"):
        mvc.setdefault(cal.muscle_key, (float(cal.value_v), cal.source))
    return mvc


def analysis_inputs(recording: Recording) -> dict:
    """Keyword arguments for the core (config objects) for this recording's patient and session."""
    session = recording.session
    protocol = effective_protocol(session.patient)
    core = _core()
    return {
        "config": core.AnalysisConfig(),
        "scoring": protocol.scoring_config(),
        "mvc": mvc_for(session.patient),
        "rpe": session.rpe,
        "bfr_pct_aop": (
            float(session.bfr_pressure_pct_aop)
            if session.bfr_pressure_pct_aop is not None
            else None
        ),
        "channel_map": dict(protocol.channel_map),
        "_clinic_settings_version": protocol.clinic_settings_version,
    }


GHOSTLY_CHANNEL_MAP = {"CH1": "left quadriceps", "CH2": "right quadriceps"}


def core_channel_map(channel_map: dict | None) -> dict | None:
    """Our "<side> <muscle>" strings as the core's ``{label: {"muscle", "side"}}``.

    None for the game's default mapping, which the core applies by itself to game files while
    still choosing the channels of other systems' files (Vicon, BTS) from their labels.
    """
    normalised = {
        str(k).strip().upper(): str(v).strip().lower() for k, v in (channel_map or {}).items()
    }
    if not normalised or normalised == GHOSTLY_CHANNEL_MAP:
        return None
    out = {}
    for key, target in (channel_map or {}).items():
        words = str(target).strip().split(maxsplit=1)
        if len(words) == 2 and words[0].lower() in ("left", "right"):
            out[str(key)] = {"muscle": words[1].lower(), "side": words[0].lower()}
        elif words:
            out[str(key)] = {"muscle": str(target).strip().lower(), "side": None}
    return out or None


def recording_read(path, *, channel_map: dict | None, limits=None):
    """Read in the core's isolated child with the clinic's channel mapping when it fits.

    A mapping written for the game's CH1/CH2 does not fit a Vicon or BTS file: that file is
    then read with the core's automatic channel choice, and a warning says so.
    """
    core = _core()
    limits = limits or read_limits()
    mapping = core_channel_map(channel_map)
    try:
        return core.read_recording(path, limits=limits, isolated=True, channel_map=mapping)
    except core.InvalidRecording as exc:
        if mapping is None or "channel mapping" not in str(exc):
            raise
    raw = core.read_recording(path, limits=limits, isolated=True, channel_map=None)
    raw.warnings.append(
        "the clinic's channel mapping does not fit this file: channels chosen from their labels"
    )
    return raw


def inputs_as_json(inputs: dict) -> dict:
    """What the core was given, as JSON, for the history of each analysis."""
    return {
        "config": inputs["config"].to_dict(),
        "scoring": inputs["scoring"].to_dict(),
        "mvc": {k: list(v) if isinstance(v, tuple) else v for k, v in inputs["mvc"].items()},
        "rpe": inputs["rpe"],
        "bfr_pct_aop": inputs["bfr_pct_aop"],
        "channel_map": inputs["channel_map"],
        "clinic_settings_version": inputs.get("_clinic_settings_version"),
    }


def read_limits(*, timeout_s: float | None = None):
    core = _core()
    return core.ReadLimits(
        max_memory_mb=settings.C3D_READER_MAX_MEMORY_MB,
        timeout_s=timeout_s or settings.C3D_READER_TIMEOUT_S,
    )


# ---------------------------------------------------------------------------------------------
# Status notifications
# ---------------------------------------------------------------------------------------------


def session_group(session_id: int) -> str:
    return f"session-{session_id}"


def recording_status_payload(recording: Recording, *, stage: str | None = None) -> dict:
    """The message the session page receives for one recording (also sent on connect)."""
    stage = stage or recording.status
    return {
        "recording": recording.pk,
        "name": recording.original_name,
        "status": recording.status,
        "stage": stage,
        "progress": PROGRESS.get(stage, 0.0),
        "failure_reason": recording.failure_reason,
        "attempts": recording.attempts,
    }


def status_notify(*, recording: Recording, stage: str | None = None) -> bool:
    """Push a status event to the session's group; never fails the caller if Redis is away."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        return False
    event = {"type": "recording.status", **recording_status_payload(recording, stage=stage)}
    try:
        async_to_sync(layer.group_send)(session_group(recording.session_id), event)
    except Exception:  # noqa: BLE001 - a notification must never cost the result
        logger.warning("could not notify session %s", recording.session_id, exc_info=True)
        return False
    return True


# ---------------------------------------------------------------------------------------------
# Enqueue, claim, analyse, fail
# ---------------------------------------------------------------------------------------------


def recording_enqueue(*, recording_id: int) -> bool:
    """Send the analysis task; False (logged, row left pending) when the broker is down."""
    from analysis.tasks import process_recording

    try:
        process_recording.apply_async(
            (recording_id,),
            retry=True,
            retry_policy={"max_retries": 1, "interval_start": 0, "interval_step": 0.5},
        )
    except Exception:  # noqa: BLE001 - broker errors take many shapes (kombu, redis, socket)
        logger.warning(
            "broker unavailable: recording %s stays pending for the sweeper",
            recording_id,
            exc_info=True,
        )
        return False
    Recording.objects.filter(pk=recording_id).update(enqueued_at=timezone.now())
    return True


def processing_stale_after() -> timedelta:
    return timedelta(
        seconds=settings.RECORDING_TASK_TIME_LIMIT_S + settings.RECORDING_PROCESSING_STUCK_MARGIN_S
    )


def recording_claim(*, recording_id: int, task_id: str, is_retry: bool = False) -> str | None:
    """Atomically take a recording for analysis; the claim token, or None if not ours to take.

    Takes a ``pending`` row, a ``processing`` row whose claim went stale (its worker vanished
    long ago), or a ``processing`` row claimed by this same task id (the same message
    redelivered after its worker was killed). A different message for a row another worker is
    processing, or one already done/failed, gets None: a duplicate delivery does nothing. Each
    claim counts an attempt except a retry reclaiming its own row (a transient error).
    """
    now = timezone.now()
    token = f"{task_id}:{uuid.uuid4().hex[:12]}"
    ours = Q(status=Recording.Status.PROCESSING, claim_token__startswith=f"{task_id}:")
    takeable = (
        Q(status=Recording.Status.PENDING)
        | Q(
            status=Recording.Status.PROCESSING,
            processing_started_at__lt=now - processing_stale_after(),
        )
        | ours
    )
    # A retry reclaiming its own row (after a transient error) is the same attempt; anything
    # else (a fresh row, a redelivery after a crash, a retry after the claim was released)
    # counts one more.
    attempts = F("attempts") + 1
    if is_retry:
        attempts = Case(When(ours, then=F("attempts")), default=F("attempts") + 1)
    claimed = (
        Recording.objects.filter(pk=recording_id)
        .filter(takeable)
        .update(
            status=Recording.Status.PROCESSING,
            attempts=attempts,
            processing_started_at=now,
            claim_token=token,
            failure_reason="",
        )
    )
    return token if claimed else None


def gave_up_reason(attempts: int) -> str:
    return (
        f"gave up after {attempts} attempts (the file repeatedly crashed or timed out the worker)"
    )


def recording_fail(*, recording_id: int, reason: str, token: str | None = None) -> bool:
    """Mark failed with a human reason (only if ``token`` still holds the claim, when given)."""
    qs = Recording.objects.filter(pk=recording_id)
    if token is not None:
        qs = qs.filter(claim_token=token, status=Recording.Status.PROCESSING)
    updated = qs.update(
        status=Recording.Status.FAILED,
        failure_reason=reason[:2000],
        processed_at=timezone.now(),
        claim_token="",
    )
    if updated:
        recording = Recording.objects.get(pk=recording_id)
        status_notify(recording=recording)
    return bool(updated)


def recording_release(*, recording_id: int, token: str) -> bool:
    """Give a claim back (status pending) so a later delivery can try again."""
    return bool(
        Recording.objects.filter(
            pk=recording_id, claim_token=token, status=Recording.Status.PROCESSING
        ).update(status=Recording.Status.PENDING, claim_token="")
    )


@contextlib.contextmanager
def local_copy(field_file):
    """A local temporary path holding the stored file (storage may be S3), removed after."""
    handle = tempfile.NamedTemporaryFile(suffix=".c3d", delete=False)  # noqa: SIM115
    try:
        with handle, field_file.open("rb") as src:
            shutil.copyfileobj(src, handle, length=1024 * 1024)
        yield handle.name
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(handle.name)


def recording_analyse(*, recording: Recording, token: str) -> RecordingAnalysis | None:
    """Run the core on a claimed recording and store the results; None if the claim was lost.

    ``InvalidRecording`` ends the recording ``failed`` with the core's one-line reason. Other
    exceptions propagate to the task (transient ones are retried there).
    """
    core = _core()
    t0 = time.perf_counter()
    try:
        inputs = analysis_inputs(recording)
        kwargs = {k: v for k, v in inputs.items() if not k.startswith("_") and k != "channel_map"}
        with local_copy(recording.file) as path:
            t_read = time.perf_counter()
            raw = recording_read(path, channel_map=inputs["channel_map"])
            read_ms = (time.perf_counter() - t_read) * 1000
            status_notify(recording=recording, stage="read")
            t_analyse = time.perf_counter()
            document = core.analyse_recording(raw, include_envelope=True, **kwargs)
            analyse_ms = (time.perf_counter() - t_analyse) * 1000
    except core.InvalidRecording as exc:
        recording_fail(recording_id=recording.pk, reason=str(exc), token=token)
        return None
    except ValueError as exc:
        # The core refuses settings that do not fit this file (an MVC or channel mapping).
        reason = f"the analysis settings do not fit this recording: {exc}"
        recording_fail(recording_id=recording.pk, reason=reason, token=token)
        return None
    except FileNotFoundError:
        recording_fail(
            recording_id=recording.pk,
            reason="the stored file is missing from storage",
            token=token,
        )
        return None
    status_notify(recording=recording, stage="analysed")
    timings = {
        "read_ms": read_ms,
        "analyse_ms": analyse_ms,
        "total_ms": (time.perf_counter() - t0) * 1000,
    }
    trigger = (
        RecordingAnalysis.Trigger.REANALYSIS
        if RecordingAnalysis.objects.filter(recording=recording).exists()
        else RecordingAnalysis.Trigger.UPLOAD
    )
    analysis = analysis_save(
        recording=recording,
        token=token,
        document=document,
        parameters=inputs_as_json(inputs),
        trigger=trigger,
        timings=timings,
    )
    if analysis is not None:
        recording.refresh_from_db()
        status_notify(recording=recording)
    return analysis


def _aware(value) -> datetime | None:
    """The file's naive local start time, in the clinic's (settings) time zone."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if timezone.is_aware(value):
        return value
    return value.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def finite_or_none(value):
    """A finite float, or None (the core reports what it cannot compute as None/NaN)."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if number != number or number in (float("inf"), float("-inf")):
        return None
    return number


def json_safe(value):
    """JSON PostgreSQL accepts: NaN/inf become None, numpy scalars and tuples plain values."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return value
    if isinstance(value, float):
        return finite_or_none(value)
    if hasattr(value, "tolist"):  # numpy scalar or array
        return json_safe(value.tolist())
    if isinstance(value, datetime):
        return value.isoformat()
    return finite_or_none(value) if isinstance(value, int | float) else str(value)


def _int(value):
    number = finite_or_none(value)
    return None if number is None else round(number)


def analysis_save(
    *,
    recording: Recording,
    document: dict,
    parameters: dict,
    trigger: str,
    timings: dict,
    token: str | None = None,
) -> RecordingAnalysis | None:
    """Write one analysis (all channels and contractions) and make it current, atomically.

    Holds the recording's row lock: if ``token`` no longer matches the claim (a newer delivery
    took over), nothing is written and None is returned, so a duplicate run leaves one result.
    The previous current analysis stays as history with ``is_current=False``.
    """
    document = json_safe(document)
    parameters = json_safe(parameters)
    with transaction.atomic():
        locked = Recording.objects.select_for_update().get(pk=recording.pk)
        if token is not None and (
            locked.claim_token != token or locked.status != Recording.Status.PROCESSING
        ):
            logger.info("recording %s: claim %s lost, result discarded", recording.pk, token)
            return None
        rec_doc = document.get("recording") or {}
        metadata = rec_doc.get("metadata") or {}
        score = document.get("score") or {}
        bfr = score.get("bfr") or {}
        compliance = score.get("compliance") or {}
        channels = document.get("channels") or []
        slim = {**document, "channels": [{**ch, "envelope": None} for ch in channels]}
        RecordingAnalysis.objects.filter(recording=locked, is_current=True).update(is_current=False)
        analysis = RecordingAnalysis.objects.create(
            recording=locked,
            is_current=True,
            trigger=trigger,
            core_version=str(document.get("version") or _core().__version__),
            parameters=parameters,
            document=slim,
            read_ms=finite_or_none(timings.get("read_ms")),
            analyse_ms=finite_or_none(timings.get("analyse_ms")),
            total_ms=finite_or_none(timings.get("total_ms")),
            duration_s=finite_or_none(rec_doc.get("duration_s")),
            rate_hz=finite_or_none(rec_doc.get("rate_hz")),
            n_samples=_int(rec_doc.get("n_samples")),
            started_at=_aware(rec_doc.get("started_at")),
            metadata=metadata,
            warnings=list(rec_doc.get("warnings") or []),
            game_score=finite_or_none(metadata.get("game_score")),
            game_level=str(metadata.get("game_level") or "")[:40],
            score_overall=finite_or_none(score.get("overall")),
            score_compliance=finite_or_none(compliance.get("mean")),
            score_symmetry=finite_or_none(score.get("symmetry")),
            score_effort=finite_or_none(score.get("effort")),
            score_game=finite_or_none(score.get("game")),
            score_missing=list(score.get("missing") or []),
            bfr_gated=bool(bfr.get("gated")),
        )
        rows = []
        for position, ch in enumerate(channels):
            summary = ch.get("summary") or {}
            channel = ChannelResult(
                analysis=analysis,
                position=position,
                label=str(ch.get("label") or f"channel {position + 1}")[:64],
                muscle=str(ch.get("muscle") or "")[:60],
                side=str(ch.get("side") or "")[:5],
                mvc_v=finite_or_none(ch.get("mvc")),
                mvc_source=str(ch.get("mvc_source") or "")[:12],
                threshold_v=finite_or_none(ch.get("threshold")),
                threshold_off_v=finite_or_none(ch.get("threshold_off")),
                noise_v=finite_or_none(ch.get("noise")),
                count=_int(summary.get("count")) or 0,
                good=_int(summary.get("good")) or 0,
                intensity_ok=_int(summary.get("intensity_ok")) or 0,
                duration_ok=_int(summary.get("duration_ok")) or 0,
                time_under_tension_s=finite_or_none(summary.get("time_under_tension_s")),
                rms_v=finite_or_none(summary.get("rms")),
                mav_v=finite_or_none(summary.get("mav")),
                mnf_slope_hz_per_contraction=finite_or_none(
                    summary.get("mnf_slope_hz_per_contraction")
                ),
                mdf_slope_hz_per_contraction=finite_or_none(
                    summary.get("mdf_slope_hz_per_contraction")
                ),
                mnf_slope_pct_per_min=finite_or_none(summary.get("mnf_slope_pct_per_min")),
                mdf_slope_pct_per_min=finite_or_none(summary.get("mdf_slope_pct_per_min")),
                fi_nsm5_ratio=finite_or_none(summary.get("fi_nsm5_ratio")),
                saturation_pct=finite_or_none(summary.get("saturation_pct")),
                snr_db=finite_or_none(summary.get("snr_db")),
                game_count=_int(summary.get("game_count")),
                compliance=finite_or_none(compliance.get(ch.get("label"))),
                envelope=ch.get("envelope"),
            )
            rows.append((channel, ch))
        # One INSERT for the channels (their ids come back) and batches for the contractions.
        ChannelResult.objects.bulk_create([channel for channel, _ in rows])
        contractions = []
        for channel, ch in rows:
            for source, items in (
                (Contraction.Source.DETECTED, ch.get("contractions") or []),
                (Contraction.Source.GAME, ch.get("game_contractions") or []),
            ):
                contractions.extend(
                    _contraction(channel, source, index, item) for index, item in enumerate(items)
                )
        Contraction.objects.bulk_create(contractions, batch_size=1000)
        locked.status = Recording.Status.DONE
        locked.failure_reason = ""
        locked.processed_at = timezone.now()
        locked.claim_token = ""
        locked.save(update_fields=["status", "failure_reason", "processed_at", "claim_token"])
    return analysis


def _contraction(channel, source, index, item: dict) -> Contraction:
    start = finite_or_none(item.get("start_s")) or 0.0
    end = finite_or_none(item.get("end_s"))
    end = start if end is None else end
    duration = finite_or_none(item.get("duration_s"))

    def flag(key):
        value = item.get(key)
        return None if value is None else bool(value)

    return Contraction(
        channel=channel,
        source=source,
        index=index,
        start_s=start,
        end_s=end,
        duration_s=end - start if duration is None else duration,
        peak_v=finite_or_none(item.get("peak")),
        mean_v=finite_or_none(item.get("mean")),
        peak_pct_mvc=finite_or_none(item.get("peak_pct_mvc")),
        mean_pct_mvc=finite_or_none(item.get("mean_pct_mvc")),
        area=finite_or_none(item.get("area")),
        mnf_hz=finite_or_none(item.get("mnf_hz")),
        mdf_hz=finite_or_none(item.get("mdf_hz")),
        fi_nsm5=finite_or_none(item.get("fi_nsm5")),
        meets_intensity=flag("meets_intensity"),
        meets_duration=flag("meets_duration"),
        good=flag("good"),
    )


# ---------------------------------------------------------------------------------------------
# Sweeper and re-analysis
# ---------------------------------------------------------------------------------------------


def recordings_requeue_stuck(*, now: datetime | None = None) -> list[int]:
    """Enqueue recordings left behind: pending and not enqueued lately, or processing too long.

    Pending rows appear when the broker was down at upload; processing rows when a worker
    vanished without the message coming back. Returns the ids sent.
    """
    now = now or timezone.now()
    pending_before = now - timedelta(seconds=settings.RECORDING_PENDING_STUCK_AFTER_S)
    stuck = Recording.objects.filter(
        Q(status=Recording.Status.PENDING)
        & (
            Q(enqueued_at__lt=pending_before)
            | Q(enqueued_at__isnull=True, created_at__lt=pending_before)
        )
        | Q(
            status=Recording.Status.PROCESSING,
            processing_started_at__lt=now - processing_stale_after(),
        )
        & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=pending_before))
    ).values_list("pk", flat=True)
    sent = []
    for recording_id in stuck.order_by("pk")[:500]:
        if recording_enqueue(recording_id=recording_id):
            sent.append(recording_id)
    if sent:
        logger.info("re-enqueued %d stuck recording(s): %s", len(sent), sent)
    return sent


def recording_reanalyse(*, recording: Recording) -> bool:
    """Queue a finished recording again; its current results stay until new ones replace them."""
    updated = Recording.objects.filter(
        pk=recording.pk, status__in=[Recording.Status.DONE, Recording.Status.FAILED]
    ).update(status=Recording.Status.PENDING, attempts=0, failure_reason="", enqueued_at=None)
    if not updated:
        return False
    recording_id = recording.pk
    transaction.on_commit(lambda: recording_enqueue(recording_id=recording_id), robust=True)
    recording.refresh_from_db()
    status_notify(recording=recording)
    return True


def session_reanalyse(*, session: TherapySession, user=None) -> list[int]:
    """Re-analyse every finished recording of a session (after an MVC, target or score change).

    ``user`` (None for the management command) must see the session and hold
    ``therapy_sessions.change_recording``. Recordings still pending or processing are left
    alone: they will pick up the new settings anyway. Returns the ids queued.
    """
    from django.core.exceptions import PermissionDenied, ValidationError

    from clinic.access import sessions_visible_to

    if user is not None:
        if not sessions_visible_to(user).filter(pk=session.pk).exists():
            raise PermissionDenied("This session is outside your scope.")
        if not user.has_perm("therapy_sessions.change_recording"):
            raise PermissionDenied("Missing permission: therapy_sessions.change_recording")
    if session.is_voided:
        raise ValidationError("This session is voided; it cannot be re-analysed.")
    queued = []
    with transaction.atomic():
        for recording in session.recordings.order_by("pk"):
            if recording_reanalyse(recording=recording):
                queued.append(recording.pk)
    return queued


# ---------------------------------------------------------------------------------------------
# Stateless analysis
# ---------------------------------------------------------------------------------------------


STATELESS_PREFIX = "myoclinic-stateless-"


def analysis_stateless(*, uploaded_file, timeout_s: float | None = None) -> dict:
    """Analyse an uploaded file and return the core's document, storing nothing.

    The same checks as an upload (size, C3D header) run first and raise ``UploadRefused``; the
    file is then read in the core's isolated child with a time limit, and the temporary copy
    is deleted whatever happens. ``InvalidRecording`` propagates with its human reason.
    """
    from sessions.uploads import upload_check

    upload_check(uploaded_file=uploaded_file)
    core = _core()
    limits = read_limits(timeout_s=timeout_s or settings.STATELESS_ANALYSIS_TIMEOUT_S)
    with tempfile.NamedTemporaryFile(prefix=STATELESS_PREFIX, suffix=".c3d") as handle:
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            handle.write(chunk)
        handle.flush()
        return core.analyse_file(handle.name, limits=limits, isolated=True, include_envelope=True)


def recordings_wait(
    *, recording_ids: list[int], timeout_s: float = 600.0, poll_s: float = 0.5, on_progress=None
) -> dict[int, str]:
    """Wait until the recordings are done or failed (a worker does the work); their statuses.

    ``on_progress(finished_count)`` is called when the count changes. Returns when all are
    finished or when ``timeout_s`` passes (the unfinished ones keep their current status).
    """
    finished_states = {Recording.Status.DONE, Recording.Status.FAILED}
    deadline = time.monotonic() + timeout_s
    last = -1
    while True:
        statuses = dict(Recording.objects.filter(pk__in=recording_ids).values_list("pk", "status"))
        finished = sum(1 for s in statuses.values() if s in finished_states)
        if on_progress is not None and finished != last:
            on_progress(finished)
            last = finished
        if finished == len(statuses) or time.monotonic() >= deadline:
            return statuses
        time.sleep(poll_s)
