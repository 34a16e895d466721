"""Live streams of a session: ingest tokens, the analysis inputs, and the recording a stream
becomes when it stops (docs/live-protocol.md, docs/live-deployment.md); the spool on disk is
:mod:`analysis.pipeline.live_spool`, the viewers' fan-out :mod:`analysis.pipeline.live_fanout`.

One stream per session at a time. Its accepted frames are appended, as received, to
``<LIVE_SPOOL_DIR>/session-<id>/stream.frames`` beside ``stream.json`` (the hello, who
streams, when it started). The spool outlives the connection: a device that reconnects
resumes it, and whoever stops the stream (the device, the stop button, the idle timeout, the
sweeper for a stream nobody resumed) turns it into a C3D Recording with source ``live``
that goes through the normal pipeline.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import qrcode
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.core import signing
from django.core.cache import cache
from django.core.exceptions import PermissionDenied
from django.core.files import File
from django.db import transaction
from qrcode.image.svg import SvgPathImage

from analysis import core
from analysis.core.live_protocol import read_spool
from analysis.models import RecordingAnalysis
from analysis.pipeline.inputs import core_channel_map, scoring_config
from analysis.pipeline.live_spool import (  # noqa: F401 - the spool's API, re-exported
    Spool,
    open_streams,
    spool_root,
    spool_save_alerts,
)
from clinic.access import get_visible_or_404, require_object_access
from clinic.models import User
from patients.protocol import effective_protocol
from patients.selectors import mvc_for
from sessions.models import Recording, TherapySession
from sessions.uploads import recording_upload

logger = logging.getLogger(__name__)

INGEST_PERMISSION = "therapy_sessions.add_recording"
TOKEN_SALT = "myoclinic.live-ingest"  # noqa: S105 - a signing salt, not a secret


# ---------------------------------------------------------------------------------------------
# Who may stream into a session
# ---------------------------------------------------------------------------------------------


def ingest_token_issue(*, session: TherapySession, user) -> str:
    """A short-lived token (``LIVE_INGEST_TOKEN_MAX_AGE_S``) that lets a device stream into
    this session as ``user``; shown on the live page (text and QR code)."""
    return signing.dumps({"s": session.pk, "u": user.pk}, salt=TOKEN_SALT, compress=True)


def _ingest_token_user(session_id: int, token: str):
    try:
        value = signing.loads(token, salt=TOKEN_SALT, max_age=settings.LIVE_INGEST_TOKEN_MAX_AGE_S)
    except signing.BadSignature:  # includes SignatureExpired
        return None
    if not isinstance(value, dict) or value.get("s") != session_id:
        return None
    return User.objects.filter(pk=value.get("u"), is_active=True).first()


# Authorization schemes a device may use: "<Scheme> <credentials>". An API token scheme
# ("Token <key>") is one more entry: a function (session_id, credentials) -> user or None.
AUTH_SCHEMES = {"ingest": _ingest_token_user, "bearer": _ingest_token_user}


def ingest_authenticate(*, session_id: int, authorization: str):
    """The user a device streams as, from its ``Authorization`` value (or ``?token=``,
    taken as ``Ingest <token>``); None when nothing valid was presented."""
    scheme, _, credentials = (authorization or "").strip().partition(" ")
    check = AUTH_SCHEMES.get(scheme.lower())
    if check is None or not credentials.strip():
        return None
    return check(session_id, credentials.strip())


def ingest_session_for(*, user, session_id: int) -> TherapySession:
    """The session a user may stream into: visible (else Http404), the permission to add
    recordings (else PermissionDenied), not voided (else PermissionDenied)."""
    session = get_visible_or_404(
        TherapySession.objects.select_related("patient"),
        user=user,
        perm=INGEST_PERMISSION,
        pk=session_id,
    )
    if session.is_voided or session.patient.is_voided:
        raise PermissionDenied("this session is voided")
    return session


# ---------------------------------------------------------------------------------------------
# One device per session (across Daphne processes: the cache is Redis in production)
# ---------------------------------------------------------------------------------------------


def _device_key(session_id: int) -> str:
    return f"live-device-{session_id}"


def device_claim(session_id: int, owner: str, device: str = "") -> tuple[bool, str | None]:
    """Claim the session's device slot for ``owner`` (a channel name).

    Returns (claimed, replaced): a device that names itself (the hello's ``device``) takes
    over from its own earlier connection (a drop the server has not noticed yet), whose
    channel name is returned so that it can be closed; any other device is refused.
    """
    key, value = _device_key(session_id), f"{device}|{owner}"
    if cache.add(key, value, timeout=settings.LIVE_DEVICE_LEASE_S):
        return True, None
    holder = cache.get(key) or ""
    held_device, _, held_owner = holder.partition("|")
    if device and held_device == device:
        cache.set(key, value, timeout=settings.LIVE_DEVICE_LEASE_S)
        return True, held_owner
    return False, None


def device_renew(session_id: int, owner: str, device: str = "") -> None:
    holder = cache.get(_device_key(session_id)) or ""
    if holder.partition("|")[2] in ("", owner):
        cache.set(
            _device_key(session_id), f"{device}|{owner}", timeout=settings.LIVE_DEVICE_LEASE_S
        )


def device_release(session_id: int, owner: str) -> None:
    if (cache.get(_device_key(session_id)) or "").partition("|")[2] == owner:
        cache.delete(_device_key(session_id))


def device_connected(session_id: int) -> bool:
    return cache.get(_device_key(session_id)) is not None


# ---------------------------------------------------------------------------------------------
# The state viewers get on connect (the ingest process refreshes it; any process reads it)
# ---------------------------------------------------------------------------------------------


def _state_key(session_id: int) -> str:
    return f"live-state-{session_id}"


def live_state_publish(session_id: int, state: dict) -> None:
    cache.set(_state_key(session_id), state, timeout=settings.LIVE_RESUME_GRACE_S + 60)


def live_state(session_id: int) -> dict | None:
    return cache.get(_state_key(session_id))


# ---------------------------------------------------------------------------------------------
# What the live analysis needs: MVC, baseline, targets
# ---------------------------------------------------------------------------------------------


@dataclass
class LiveInputs:
    mvc: dict
    noise: dict
    activity: dict
    channel_map: dict | None
    scoring: object
    target_count: int
    target_pct_mvc: float
    bfr_pct_aop: float | None
    bfr_band: tuple


def live_inputs_for(session_id: int, labels) -> LiveInputs:
    return live_inputs(TherapySession.objects.select_related("patient").get(pk=session_id), labels)


def live_inputs(session: TherapySession, labels) -> LiveInputs:
    """The patient's MVC, the baseline (noise floor and burst level) of the patient's last
    analysed recording with these channels (else the analyser learns it from the rest at the
    stream's start), the protocol's targets."""
    protocol = effective_protocol(session.patient)
    labels = [str(x).strip() for x in labels]
    noise, activity = {}, {}
    documents = (
        RecordingAnalysis.objects.filter(
            recording__session__patient=session.patient, is_current=True
        )
        .order_by("-created_at", "-pk")
        .values_list("document", flat=True)
    )
    # the newest of the last 20 analyses first, alone: a document is ~60 KB (contractions,
    # envelopes) and the newest usually has every channel, so the other 19 are not read;
    # a label it lacks is looked up in the 19 before it (the first found wins, as before)
    for chunk in (documents[:1], documents[1:20]):
        for document in chunk:
            for ch in (document or {}).get("channels", []):
                label = ch.get("label")
                if label in labels and label not in noise and (ch.get("noise") or 0) > 0:
                    noise[label] = float(ch["noise"])
                    if ch.get("activity_level") is not None:
                        activity[label] = float(ch["activity_level"])
        if all(label in noise for label in labels):
            break
    bfr = session.bfr_pressure_pct_aop
    return LiveInputs(
        mvc=mvc_for(session.patient),
        noise=noise,
        activity=activity,
        channel_map=core_channel_map(dict(protocol.channel_map)),
        scoring=scoring_config(protocol),
        target_count=int(protocol.contractions_per_round),
        target_pct_mvc=float(protocol.target_pct_mvc),
        bfr_pct_aop=float(bfr) if bfr is not None else None,
        bfr_band=tuple(float(v) for v in protocol.bfr_safe_band_pct_aop),
    )


def stream_stop(*, session_id: int, interrupted: bool, alerts: list | None = None):
    """Turn the session's open stream into a Recording (source ``live``) queued for analysis.

    Exactly one caller wins (the folder is renamed away first); the others get None, as
    does a stream without samples. ``interrupted``: the stream did not end with a stop.
    """
    folder = spool_root() / f"session-{session_id}"
    taken = spool_root() / f"stopping-{session_id}-{uuid.uuid4().hex}"
    try:
        os.rename(folder, taken)
    except FileNotFoundError:
        return None
    try:
        meta = json.loads((taken / "stream.json").read_text())
        frames = (taken / "stream.frames").read_bytes()
        hello = meta["hello"]
        samples, _, _ = read_spool(frames, len(hello["labels"]))
        if not samples.shape[0]:
            return None
        if alerts is None:
            alerts = meta.get("alerts") or []
        return _recording_from(meta, samples, interrupted=interrupted, alerts=alerts)
    finally:
        shutil.rmtree(taken, ignore_errors=True)


def _recording_from(meta: dict, samples: np.ndarray, *, interrupted: bool, alerts: list):
    hello = meta["hello"]
    session = TherapySession.objects.get(pk=meta["session_id"])
    user = User.objects.filter(pk=meta.get("user_id")).first()
    started_at = datetime.fromisoformat(meta["started_at"])
    name = f"live-{started_at:%Y%m%d-%H%M%S}.c3d"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / name
        core.write_recording(
            path,
            rate_hz=float(hello["rate_hz"]),
            channels={lab: samples[:, k] for k, lab in enumerate(hello["labels"])},
            started_at=started_at,
            units=list(hello["units"]),
            info={
                "SESSION": str(session.pk),
                "LIVE_STREAM": meta["stream"],
                "STARTED_AT": started_at.isoformat(),
                "INTERRUPTED": "yes" if interrupted else "no",
            },
            metadata={"game_name": "live"},
        )
        with open(path, "rb") as handle, transaction.atomic():
            recording = recording_upload(
                session=session,
                uploaded_file=File(handle, name=name),
                user=None,
                source=Recording.Source.LIVE,
            )
            Recording.objects.filter(pk=recording.pk).update(
                uploaded_by=user, interrupted=interrupted, live_alerts=alerts
            )
    recording.refresh_from_db()
    logger.info(
        "live stream of session %s stopped: recording %s, %d samples%s",
        session.pk,
        recording.pk,
        samples.shape[0],
        " (interrupted)" if interrupted else "",
    )
    return recording


def streams_stop_abandoned(*, idle_s: float | None = None) -> list[int]:
    """Stop (as interrupted) the streams whose device is gone and that nobody resumed
    within ``LIVE_RESUME_GRACE_S``: a crashed server process leaves them behind."""
    idle_s = settings.LIVE_RESUME_GRACE_S if idle_s is None else idle_s
    stopped = []
    for session_id in open_streams():
        frames = spool_root() / f"session-{session_id}" / "stream.frames"
        try:
            age = time.time() - frames.stat().st_mtime
        except FileNotFoundError:
            continue
        if age >= idle_s and not device_connected(session_id):
            recording = stream_stop(session_id=session_id, interrupted=True)
            if recording is not None:
                stopped.append(recording.pk)
    return stopped


# ---------------------------------------------------------------------------------------------
# The live page's actions: stop, and the demo's replay of a stored recording
# ---------------------------------------------------------------------------------------------


def live_stop_request(*, session: TherapySession, user) -> bool:
    """The live page's Stop: the ingest connection (on whichever Daphne process) stops and
    answers its device; a stream whose device is gone is stopped here. False: nothing open."""
    require_object_access(user, session, INGEST_PERMISSION)
    if device_connected(session.pk):
        async_to_sync(get_channel_layer().group_send)(
            f"live-ingest-{session.pk}",
            {"type": "live.stop", "by": user.get_full_name() or user.email},
        )
        return True
    return stream_stop(session_id=session.pk, interrupted=False) is not None


def replay_candidates(session: TherapySession):
    """Stored recordings of the patient that the demo may replay live (newest first)."""
    return (
        Recording.objects.filter(session__patient=session.patient)
        .exclude(file="")
        .order_by("-created_at")[:10]
    )


def live_replay_start(*, session: TherapySession, user, recording: Recording, base_url: str):
    """Replay a stored recording into this session through the ingest websocket, as a
    device would (``manage.py stream_recording`` in a child process, at real time)."""
    require_object_access(user, session, INGEST_PERMISSION)
    require_object_access(user, recording, "therapy_sessions.view_recording")
    folder = spool_root() / "replays"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{uuid.uuid4().hex}.c3d"
    with recording.file.open("rb") as src, open(path, "wb") as dst:
        shutil.copyfileobj(src, dst)
    token = ingest_token_issue(session=session, user=user)
    manage = Path(settings.BASE_DIR) / "manage.py"
    return subprocess.Popen(  # noqa: S603 - our own command, arguments we built
        [
            sys.executable,
            str(manage),
            "stream_recording",
            str(path),
            "--session",
            str(session.pk),
            "--url",
            base_url,
            "--token",
            token,
            "--speed",
            "1",
            "--remove-file",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def qr_svg(text: str) -> str:
    """An SVG QR code of ``text`` (rendered here: no image service, no script)."""
    image = qrcode.make(text, image_factory=SvgPathImage, box_size=8)
    return image.to_string(encoding="unicode")
