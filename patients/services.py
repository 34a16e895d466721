"""Changes to patients and their treatment plan: records, MVC calibrations, protocol.

Views, admin and the API call these, never the ORM. Calibrations are append-only (a new row),
so every analysis can still say which values it used.
"""

from __future__ import annotations

import os
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from analysis import core
from analysis.pipeline.inputs import read_limits, recording_read, uploaded_file_copy
from clinic.access import Scope, require_object_access, scope_of
from clinic.models import PROTOCOL_FIELDS
from patients.models import EmergencyAccess, MvcCalibration, Patient, PatientProtocol
from patients.protocol import effective_protocol
from sessions.uploads import file_sha256, upload_check


def _save(patient: Patient) -> None:
    """Save, turning a lost race on the per-clinic unique code/MRN into a field error."""
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        text = str(exc)
        if "patient_mrn_unique_in_clinic" in text or "patient_code_unique_in_clinic" in text:
            # A race lost to a record the user may not see: say no more than the form does.
            raise ValidationError("This code or MRN is already in use in this clinic.") from exc
        raise


@transaction.atomic
def patient_create(*, by, patient: Patient, therapists=None) -> Patient:
    """Save a new patient; a therapist who creates one is assigned to it (else they'd lose it)."""
    _save(patient)
    patient.therapists.set(list(therapists or []))
    patient_keep_creator_assigned(by=by, patient=patient)
    return patient


def patient_keep_creator_assigned(*, by, patient: Patient) -> None:
    """A therapist who creates a patient is assigned to it: otherwise they would lose sight of it.

    Pages and the admin both apply this after saving the assignments they were given.
    """
    if scope_of(by) is Scope.ASSIGNED:
        patient.therapists.add(by)


@transaction.atomic
def patient_update(*, by, patient: Patient, therapists=None) -> Patient:
    """Save changes; assignments change only when given (callers check assign_therapists)."""
    _save(patient)
    if therapists is not None:
        patient.therapists.set(therapists)
    return patient


@transaction.atomic
def patient_void(*, by, patient: Patient, reason: str) -> Patient:
    """Void instead of delete: who, when and why stay on the row (and in the audit log)."""
    if patient.is_voided:
        raise ValidationError("This patient is already void.")
    patient.void(by=by, reason=reason)
    return patient


def mvc_calibration_enter(*, patient, muscle: str, side: str, value_v: float, user, notes=""):
    """Add an MVC value the therapist entered (volts); the newest row per muscle applies."""
    require_object_access(user, patient, "patients.add_mvccalibration")
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
    try:
        estimates = core.calibrate_mvc(raw, channel=channel or None)
    except core.InvalidRecording as exc:
        raise ValidationError(f"{name}: {exc}") from exc
    if channel:  # one entry, under the label the core resolved ("CH1" -> "CH1 Raw")
        (estimate,) = estimates.values()
        return estimate.label, float(estimate.value_v)
    for label, estimate in estimates.items():
        key = f"{estimate.side or ''} {estimate.muscle or ''}".strip().lower()
        if key == muscle_key:
            return label, float(estimate.value_v)
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
    require_object_access(user, patient, "patients.add_mvccalibration")
    name = os.path.basename(uploaded_file.name or "calibration.c3d")[:255]
    upload_check(uploaded_file=uploaded_file, name=name)
    muscle = muscle.strip().lower()
    limits = read_limits(timeout_s=settings.STATELESS_ANALYSIS_TIMEOUT_S)
    with uploaded_file_copy(uploaded_file) as path:
        try:
            raw = recording_read(
                path, channel_map=effective_protocol(patient).channel_map, limits=limits
            )
        except core.InvalidRecording as exc:
            raise ValidationError(f"{name}: {exc}") from exc
    label, value_v = _calibrated_value(
        raw, muscle_key=f"{side} {muscle}".strip(), channel=channel.strip(), name=name
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
    require_object_access(user, patient, "patients.change_patientprotocol")
    with transaction.atomic():
        protocol, _ = PatientProtocol.objects.select_for_update().get_or_create(patient=patient)
        for name in (*PROTOCOL_FIELDS, "scoring_weights"):
            setattr(protocol, name, values.get(name))
        protocol.updated_by = user
        protocol.full_clean()
        protocol.save()
    return protocol


# ---------------------------------------------------------------------------------------------
# Emergency access (break-the-glass)
# ---------------------------------------------------------------------------------------------

NO_SUCH_PATIENT = "No patient of your clinic has this code or MRN."
EMERGENCY_REASON_MIN_CHARS = 10


def emergency_access_open(*, user, identifier: str, reason: str):
    """Open a patient of ``user``'s clinic not assigned to them, for a limited time.

    The patient is named by its code or MRN, looked up in the user's own clinic only: the
    answer is the same for a patient of another clinic as for one that does not exist, so the
    form tells nothing about other clinics. Voided patients are not found either. Returns
    ``(patient, grant)``; ``grant`` is None when the user already sees the patient (assigned, or
    an access not yet expired), so no new access is recorded.
    """
    if scope_of(user) is not Scope.ASSIGNED or not user.has_perm("patients.add_emergencyaccess"):
        raise PermissionDenied("Emergency access is for therapists.")
    reason = (reason or "").strip()
    if len(reason) < EMERGENCY_REASON_MIN_CHARS:
        raise ValidationError(
            {"reason": f"Say why, in at least {EMERGENCY_REASON_MIN_CHARS} characters."}
        )
    identifier = (identifier or "").strip()
    patient = None
    if identifier:
        patient = (
            Patient.objects.active()
            .filter(Q(code__iexact=identifier) | Q(mrn=identifier), clinic_id=user.clinic_id)
            .first()
        )
    if patient is None:
        raise ValidationError({"identifier": NO_SUCH_PATIENT})
    if Patient.objects.visible_to(user).filter(pk=patient.pk).exists():
        return patient, None
    now = timezone.now()
    grant = EmergencyAccess.objects.create(
        user=user,
        patient=patient,
        reason=reason,
        started_at=now,
        expires_at=now + timedelta(hours=settings.EMERGENCY_ACCESS_HOURS),
    )
    return patient, grant


def emergency_access_acknowledge(*, by, grant: EmergencyAccess) -> EmergencyAccess:
    """A manager of the patient's clinic has seen the access: it leaves their dashboard."""
    require_object_access(by, grant.patient, "patients.acknowledge_emergencyaccess")
    if grant.acknowledged_at is None:
        grant.acknowledged_by = by
        grant.acknowledged_at = timezone.now()
        grant.save(update_fields=["acknowledged_by", "acknowledged_at"])
    return grant
