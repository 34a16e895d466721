"""Demo recordings for ``manage.py seed_demo``: calibrations and game rounds through the pipeline.

The files come from the numeric core's synthetic generator in the game's format, seeded per
patient, session and round, so every run makes the same bytes. They go through the upload
service like any file (stored, hashed, queued on commit, analysed by the worker, or in-process
in the embedded mode), so the demo shows real results. Idempotent: a patient with calibrations
and a session with recordings are left alone.
"""

from __future__ import annotations

import hashlib
import tempfile
import zlib
from pathlib import Path

from django.core.files.base import ContentFile

from analysis import core
from analysis.core import synth
from patients.models import MvcCalibration
from sessions.uploads import UploadRefused, recording_upload

# Game rounds per demo session: the GHOSTLY+ protocol (the demo clinic's rounds per session)
# plays 3, so the dashboard's "missing rounds" lists none of them.
ROUNDS = 3
ROUND_S = 75.0
CALIBRATION_S = 30.0


def _seed(*parts) -> int:
    return zlib.crc32(":".join(str(p) for p in ("myoclinic-demo", *parts)).encode())


def _c3d_bytes(recording) -> bytes:
    with tempfile.TemporaryDirectory() as folder:
        path = synth.write_session(Path(folder) / "demo.c3d", recording, None)
        return path.read_bytes()


def demo_calibrations_seed(*, patient, user=None, how: str = "calibration") -> int:
    """MVC for both quadriceps: measured from a synthetic calibration file, or entered."""
    if MvcCalibration.objects.filter(patient=patient).exists():
        return 0
    recording, _ = synth.generate_session(
        _seed(patient.code, "calibration"),
        duration_s=CALIBRATION_S,
        rate_hz=990.0,
        contractions=3,
        levels_pct=(95.0, 100.0),
        durations_s=(3.0, 4.0),
        fatigue=0.0,
    )
    estimates = core.calibrate_mvc(recording)
    data = _c3d_bytes(recording) if how == "calibration" else b""
    created = 0
    for label, found in sorted(estimates.items()):
        if not found.muscle or not found.side:
            continue
        cal = MvcCalibration(
            patient=patient,
            muscle=found.muscle,
            side=found.side,
            value_v=round(float(found.value_v), 7),
            source=how,
            created_by=user,
            notes=f"Demo: {label} of a synthetic calibration recording.",
        )
        if data:
            cal.sha256 = hashlib.sha256(data).hexdigest()
            cal.original_name = "calibration.c3d"
            cal.file.save("calibration.c3d", ContentFile(data), save=False)
        cal.save()
        created += 1
    return created


def demo_session_recordings_seed(*, session, index: int) -> int:
    """``ROUNDS`` synthetic game rounds for one session, stronger as the programme goes on."""
    if session.recordings.exists():
        return 0
    created = 0
    for round_no in range(ROUNDS):
        started_at = session.started_at.replace(tzinfo=None)
        recording, _ = synth.generate_session(
            _seed(session.patient.code, session.started_at.isoformat(), round_no),
            duration_s=ROUND_S,
            rate_hz=990.0,
            contractions=12,
            levels_pct=(55.0 + 4 * index, 85.0 + 3 * index),
            durations_s=(1.2 + 0.1 * index, 3.0),
            fatigue=0.2 + 0.1 * round_no,
            started_at=started_at,
        )
        name = synth.ghostly_name(started_at).replace("-0000.c3d", f"-{round_no:04d}.c3d")
        try:
            recording_upload(
                session=session, uploaded_file=ContentFile(_c3d_bytes(recording), name=name)
            )
        except UploadRefused:
            continue
        created += 1
    return created


# Which patients get which kind of MVC (in PATIENTS order): measured, entered, or none at all
# (the results then say "estimated", which the demo should show too).
CALIBRATION_KINDS = ("calibration", "entered", "calibration", None)


def seed_recordings(demo) -> None:
    """The seed_demo step: calibrations, then game rounds for every demo session."""
    for position, patient in enumerate(demo.patients):
        how = CALIBRATION_KINDS[position % len(CALIBRATION_KINDS)]
        if how is not None:
            demo.created["MVC calibrations"] += demo_calibrations_seed(
                patient=patient, user=patient.therapists.order_by("pk").first(), how=how
            )
    index_in_programme = {}
    for session in sorted(demo.sessions, key=lambda s: (s.patient_id, s.started_at)):
        index = index_in_programme.get(session.patient_id, 0)
        index_in_programme[session.patient_id] = index + 1
        demo.created["recordings"] += demo_session_recordings_seed(session=session, index=index)
