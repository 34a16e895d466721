"""Storing one analysis: every channel and contraction, made current in one transaction.

Re-analysis adds a new ``RecordingAnalysis`` and flips ``is_current``; the previous one stays
as history. Only the holder of the recording's current claim may write (see ``worker``).
"""

from __future__ import annotations

import logging
import zoneinfo
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from analysis import core
from analysis.models import ChannelResult, Contraction, RecordingAnalysis
from analysis.values import finite_or_none, int_or_none, json_safe
from sessions.models import Recording

logger = logging.getLogger(__name__)


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
            core_version=str(document.get("version") or core.__version__),
            parameters=parameters,
            document=slim,
            read_ms=finite_or_none(timings.get("read_ms")),
            analyse_ms=finite_or_none(timings.get("analyse_ms")),
            total_ms=finite_or_none(timings.get("total_ms")),
            duration_s=finite_or_none(rec_doc.get("duration_s")),
            rate_hz=finite_or_none(rec_doc.get("rate_hz")),
            n_samples=int_or_none(rec_doc.get("n_samples")),
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
            agreement = ch.get("agreement") or {}  # older documents have none: None columns
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
                count=int_or_none(summary.get("count")) or 0,
                good=int_or_none(summary.get("good")) or 0,
                intensity_ok=int_or_none(summary.get("intensity_ok")) or 0,
                duration_ok=int_or_none(summary.get("duration_ok")) or 0,
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
                game_count=int_or_none(summary.get("game_count")),
                game_matched=int_or_none(agreement.get("matched")),
                game_only_ours=int_or_none(agreement.get("only_ours")),
                game_only_game=int_or_none(agreement.get("only_game")),
                game_spanning=int_or_none(agreement.get("spanning")),
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
