"""Changes the pipeline's staff pages make: MVC calibrations, patient protocol, clinic settings.

The pipeline backend (analysis/services.py) reads these rows to build the core's inputs; this
module writes them with the access policy's checks, so pages (and later the API) share them.
Calibrations and clinic settings are append-only (a new row or version), so every analysis can
still say which values it used.
"""

from __future__ import annotations

import os

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max

from clinic.access import patients_visible_to


def _check_patient(*, user, patient, perm: str) -> None:
    if user is None:
        return
    if not patients_visible_to(user).filter(pk=patient.pk).exists():
        raise PermissionDenied("This patient is outside your scope.")
    if not user.has_perm(perm):
        raise PermissionDenied(f"Missing permission: {perm}")


def mvc_calibration_enter(*, patient, muscle: str, side: str, value_v: float, user, notes=""):
    """Add an MVC value the therapist entered (volts); the newest row per muscle applies."""
    from patients.models import MvcCalibration

    _check_patient(user=user, patient=patient, perm="patients.add_mvccalibration")
    calibration = MvcCalibration(
        patient=patient,
        muscle=muscle.strip().lower(),
        side=side,
        value_v=float(value_v),
        source=MvcCalibration.Source.ENTERED,
        notes=notes,
        created_by=user,
    )
    calibration.full_clean()
    calibration.save()
    return calibration


def _calibrated_value(raw, *, muscle_key, channel, name) -> tuple[str, float]:
    """(channel label, MVC in volts) from the core's ``calibrate_mvc`` for the chosen muscle.

    With ``channel`` named, that channel is measured; otherwise the channel that the clinic's
    map (applied when the file was read) assigns to the muscle.
    """
    from analysis import core

    try:
        if channel:
            return channel, float(core.calibrate_mvc(raw, channel=channel))
        values = core.calibrate_mvc(raw)
    except (core.InvalidRecording, ValueError) as exc:
        raise ValidationError(f"{name}: {exc}") from exc
    for label, entry in values.items():
        key = f"{entry.get('side') or ''} {entry.get('muscle') or ''}".strip().lower()
        if key == muscle_key:
            return label, float(entry["value"])
    raise ValidationError(
        f"{name}: no channel of this file is mapped to {muscle_key}; name the channel "
        "(e.g. CH1 Raw)."
    )


def mvc_calibration_measure(*, patient, muscle: str, side: str, uploaded_file, user, channel=""):
    """Measure the MVC from a calibration recording with the core's ``calibrate_mvc``.

    The file gets the upload checks (size, C3D header) and is read in the core's isolated
    reader with the stateless time limit; the file is kept in private storage beside the value.
    Raises ``UploadRefused`` / ``ValidationError`` with a human reason.
    """
    import tempfile

    from django.conf import settings

    from analysis import core
    from analysis.services import effective_protocol, read_limits, recording_read
    from patients.models import MvcCalibration
    from sessions.uploads import file_sha256, upload_check

    _check_patient(user=user, patient=patient, perm="patients.add_mvccalibration")
    name = os.path.basename(uploaded_file.name or "calibration.c3d")[:255]
    upload_check(uploaded_file=uploaded_file, name=name)
    muscle = muscle.strip().lower()
    muscle_key = f"{side} {muscle}".strip()
    limits = read_limits(timeout_s=settings.STATELESS_ANALYSIS_TIMEOUT_S)
    with tempfile.NamedTemporaryFile(suffix=".c3d") as handle:
        uploaded_file.seek(0)
        for chunk in uploaded_file.chunks():
            handle.write(chunk)
        handle.flush()
        try:
            raw = recording_read(
                handle.name,
                channel_map=dict(effective_protocol(patient).channel_map),
                limits=limits,
            )
        except core.InvalidRecording as exc:
            raise ValidationError(f"{name}: {exc}") from exc
    label, value_v = _calibrated_value(
        raw, muscle_key=muscle_key, channel=channel.strip(), name=name
    )
    if not value_v > 0:  # also NaN: a flat or silent channel has no MVC
        raise ValidationError(f"{name}: no contraction was found on {label}.")
    calibration = MvcCalibration(
        patient=patient,
        muscle=muscle,
        side=side,
        value_v=value_v,
        source=MvcCalibration.Source.CALIBRATION,
        sha256=file_sha256(uploaded_file),
        original_name=name,
        notes=f"Measured on {label}.",
        created_by=user,
    )
    calibration.file.save(name, uploaded_file, save=False)
    calibration.save()
    return calibration


def patient_protocol_update(*, patient, values: dict, user):
    """Set the patient's protocol overrides; None (blank) means the clinic default."""
    from analysis.services import PROTOCOL_FIELDS
    from patients.models import PatientProtocol

    _check_patient(user=user, patient=patient, perm="patients.change_patientprotocol")
    fields = [*PROTOCOL_FIELDS, "scoring_weights"]
    with transaction.atomic():
        protocol, _ = PatientProtocol.objects.select_for_update().get_or_create(patient=patient)
        for name in fields:
            setattr(protocol, name, values.get(name))
        protocol.updated_by = user
        protocol.full_clean()
        protocol.save()
    return protocol


def clinic_settings_create(*, clinic, values: dict, user):
    """Save a new version of the clinic's defaults (versions are never edited)."""
    from clinic.models import Clinic, ClinicSettings

    if user is not None:
        if not (user.is_superuser or user.clinic_id == clinic.pk):
            raise PermissionDenied("Settings of another clinic.")
        if not user.has_perm("clinic.add_clinicsettings"):
            raise PermissionDenied("Missing permission: clinic.add_clinicsettings")
    with transaction.atomic():
        # Lock the clinic row so that two saves cannot take the same version number.
        Clinic.objects.select_for_update().get(pk=clinic.pk)
        newest = ClinicSettings.objects.filter(clinic=clinic).aggregate(v=Max("version"))["v"]
        row = ClinicSettings(clinic=clinic, version=(newest or 0) + 1, created_by=user)
        current = ClinicSettings.objects.current_for(clinic.pk)
        if current is not None:
            row.channel_map = current.channel_map
        for name, value in values.items():
            setattr(row, name, value)
        row.full_clean()
        row.save()
    return row
