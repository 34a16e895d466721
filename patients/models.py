"""Patients and their assignment to therapists."""

from django.conf import settings
from django.core.validators import MaxValueValidator, RegexValidator
from django.db import models
from django.urls import reverse

from clinic.models import Clinic, Voidable, VoidableQuerySet


class PatientQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        """Only the patients the access policy lets ``user`` see."""
        from clinic.access import patients_visible_to

        return patients_visible_to(user, self)


class Patient(Voidable):
    """A patient in rehabilitation. Identified in research by a pseudonymous code per clinic."""

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

    def __str__(self):
        return self.code

    @property
    def full_name(self):
        return f"{self.first_name} {self.last_name}".strip()

    def get_absolute_url(self):
        return reverse("patients:detail", args=[self.pk])
