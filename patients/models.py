"""Patients, their assignment to therapists, MVC calibrations and protocol overrides."""

import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models, transaction
from django.urls import reverse
from django.utils import timezone

from clinic.access import restrict
from clinic.models import PROTOCOL_FIELDS, Clinic, Voidable, VoidableQuerySet


class PatientQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        """Only the patients the access policy lets ``user`` see."""
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)


class PatientRecordQuerySet(models.QuerySet):
    """Rows that belong to one patient (calibrations, protocol): scoped by that patient."""

    def visible_to(self, user):
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)


class Patient(Voidable):
    """A patient in rehabilitation. Identified in research by a pseudonymous code per clinic."""

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = ""

    class Sex(models.TextChoices):
        FEMALE = "F", "Female"
        MALE = "M", "Male"
        OTHER = "X", "Other"
        UNKNOWN = "U", "Unknown"

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="patients")
    code = models.CharField(
        max_length=20,
        validators=[
            RegexValidator(r"^[A-Za-z0-9][A-Za-z0-9_-]*$", "Letters, digits, - and _ only.")
        ],
        help_text="Pseudonymous code, unique in the clinic (e.g. P001).",
    )
    mrn = models.CharField("MRN", max_length=40, blank=True, help_text="Medical record number.")
    first_name = models.CharField(max_length=100)
    last_name = models.CharField(max_length=100)
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices, default=Sex.UNKNOWN)
    diagnosis = models.CharField(max_length=300, blank=True)
    notes = models.TextField(blank=True)
    treatment_start = models.DateField(null=True, blank=True)
    planned_sessions = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(1000)]
    )
    is_active = models.BooleanField(default=True, help_text="In treatment now.")
    therapists = models.ManyToManyField(
        settings.AUTH_USER_MODEL, blank=True, related_name="assigned_patients"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientQuerySet.as_manager()

    class Meta:
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(
                fields=["clinic", "code"], name="patient_code_unique_in_clinic"
            ),
            models.UniqueConstraint(
                fields=["clinic", "mrn"],
                condition=~models.Q(mrn=""),
                name="patient_mrn_unique_in_clinic",
            ),
        ]
        indexes = [models.Index(fields=["clinic", "last_name"])]
        permissions = [
            ("view_identifying_data", "Can see patient names, MRN and birth dates"),
            ("void_patient", "Can void patients"),
            ("assign_therapists", "Can assign therapists to patients"),
        ]

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        row._loaded_clinic_id = row.__dict__.get("clinic_id")
        return row

    def save(self, *args, **kwargs):
        """A patient moved to another clinic (an administrator's edit) takes its sessions'
        copy of the clinic (``TherapySession.clinic``) along, in the same transaction."""
        moved = not self._state.adding and self.clinic_id != getattr(
            self, "_loaded_clinic_id", self.clinic_id
        )
        if moved:
            with transaction.atomic(using=kwargs.get("using")):
                super().save(*args, **kwargs)
                self.sessions.update(clinic_id=self.clinic_id)
        else:
            super().save(*args, **kwargs)
        self._loaded_clinic_id = self.clinic_id

    def __str__(self):
        return self.code

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])


def calibration_upload_to(instance, filename):
    # Opaque name, like recordings: the original name is not kept in the path.
    return f"calibrations/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.c3d"


def _private_storage():
    return storages["private"]


class Side(models.TextChoices):
    LEFT = "left", "Left"
    RIGHT = "right", "Right"
    NONE = "", "Not lateral"


class MvcCalibration(models.Model):
    """One MVC value for a patient's muscle, measured or entered; the newest one applies.

    Rows are never edited: a new calibration adds a row, so the value that produced an older
    analysis stays visible in the history. The analysis turns the newest row per
    (patient, muscle, side) into the core's ``mvc`` mapping (patients.selectors.mvc_for).
    """

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "patient"

    class Source(models.TextChoices):
        CALIBRATION = "calibration", "Calibration recording"
        ENTERED = "entered", "Entered by the therapist"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="calibrations")
    muscle = models.CharField(max_length=60, help_text="e.g. quadriceps")
    side = models.CharField(max_length=5, choices=Side.choices, blank=True, default=Side.LEFT)
    value_v = models.FloatField(
        "MVC (V)",
        validators=[MinValueValidator(1e-9), MaxValueValidator(100.0)],
        help_text="Maximum voluntary contraction amplitude of the RMS envelope, in volts.",
    )
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.ENTERED)
    file = models.FileField(
        storage=_private_storage,
        upload_to=calibration_upload_to,
        max_length=255,
        blank=True,
        help_text="The calibration recording, when the value was measured from one.",
    )
    sha256 = models.CharField(max_length=64, blank=True)
    original_name = models.CharField(max_length=255, blank=True)
    notes = models.TextField(blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = PatientRecordQuerySet.as_manager()

    class Meta:
        ordering = ["patient", "side", "muscle", "-created_at"]
        indexes = [models.Index(fields=["patient", "muscle", "side", "-created_at"])]
        constraints = [
            models.CheckConstraint(condition=models.Q(value_v__gt=0), name="mvc_value_positive"),
        ]

    def __str__(self):
        side = f"{self.side} " if self.side else ""
        return (
            f"{self.patient.code} {side}{self.muscle}: {self.value_v * 1e6:.1f} µV ({self.source})"
        )

    @property
    def muscle_key(self):
        """The core's muscle key, "<side> <muscle>" (e.g. "left quadriceps")."""
        return f"{self.side} {self.muscle}".strip().lower()


class PatientProtocol(models.Model):
    """This patient's deviations from the clinic defaults (ClinicSettings); blank = default.

    One row per patient. ``patients.protocol.effective_protocol`` merges it over the clinic's
    newest settings (the pipeline then builds the numeric core's ScoringConfig from it).
    """

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "patient"

    patient = models.OneToOneField(Patient, on_delete=models.CASCADE, related_name="protocol")
    contractions_per_round = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(500)]
    )
    target_pct_mvc = models.FloatField(
        "target % MVC",
        null=True,
        blank=True,
        validators=[MinValueValidator(1.0), MaxValueValidator(200.0)],
    )
    hold_s = models.FloatField(
        "hold duration (s)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0.1), MaxValueValidator(60.0)],
    )
    rounds_per_session = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(50)]
    )
    sessions_per_week = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(21)]
    )
    programme_weeks = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(520)]
    )
    scoring_weights = models.JSONField(
        null=True,
        blank=True,
        help_text='Component weights, e.g. {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, '
        '"game": 0.1}; empty = the clinic default.',
    )
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)

    objects = PatientRecordQuerySet.as_manager()

    FIELDS = PROTOCOL_FIELDS

    def __str__(self):
        return f"Protocol of {self.patient.code}"


class EmergencyAccessQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Grants on the patients ``user`` may see (a manager: the clinic's)."""
        return restrict(self, user, patient_path="patient")

    def active(self, *, now=None):
        return self.filter(expires_at__gt=now or timezone.now())

    def unacknowledged(self):
        return self.filter(acknowledged_at__isnull=True)


class EmergencyAccess(models.Model):
    """Break-the-glass: a therapist opened a patient of their clinic not assigned to them.

    While ``expires_at`` lies ahead, the access policy (``clinic.access.restrict``) lets
    ``user`` see the patient as if assigned; never across clinics. The clinic's managers see
    every grant on their dashboard until one of them acknowledges it. Rows are never deleted.
    """

    PATIENT_PATH = "patient"

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    patient = models.ForeignKey(
        Patient, on_delete=models.PROTECT, related_name="emergency_accesses"
    )
    reason = models.TextField(max_length=2000)
    started_at = models.DateTimeField(default=timezone.now, editable=False)
    expires_at = models.DateTimeField(db_index=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    objects = EmergencyAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        indexes = [models.Index(fields=["user", "patient", "expires_at"])]
        permissions = [
            ("acknowledge_emergencyaccess", "Can acknowledge emergency accesses of the clinic"),
        ]

    def __str__(self):
        return f"Emergency access of {self.user} to {self.patient.code}"

    @property
    def is_active(self) -> bool:
        return self.expires_at > timezone.now()
