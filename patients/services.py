"""Changes to patients: create, update, void. Views and admin call these, never the ORM."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from clinic.access import Scope, scope_of
from patients.models import Patient


def _save(patient: Patient) -> None:
    """Save, turning a lost race on the per-clinic unique code/MRN into a field error."""
    try:
        with transaction.atomic():
            patient.save()
    except IntegrityError as exc:
        text = str(exc)
        if "patient_mrn_unique_in_clinic" in text:
            raise ValidationError({"mrn": "Another patient of this clinic has this MRN."}) from exc
        if "patient_code_unique_in_clinic" in text:
            raise ValidationError(
                {"code": "Another patient of this clinic already has this code."}
            ) from exc
        raise


@transaction.atomic
def patient_create(*, by, patient: Patient, therapists=None) -> Patient:
    """Save a new patient; a therapist who creates one is assigned to it (else they'd lose it)."""
    _save(patient)
    assigned = list(therapists or [])
    if scope_of(by) is Scope.ASSIGNED and by not in assigned:
        assigned.append(by)
    patient.therapists.set(assigned)
    return patient


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
