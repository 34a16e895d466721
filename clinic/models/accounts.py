"""Clinics and their staff: the tenant every record belongs to, and the users who log in.

Users log in by email; their roles are groups (``clinic.roles``); a member of staff belongs to
one clinic, an administrator may belong to none.
"""

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clinic.roles import ROLE_GROUPS, THERAPIST


class Clinic(models.Model):
    """A rehabilitation clinic: the unit that owns staff, patients and their data."""

    name = models.CharField(max_length=200, unique=True)
    code = models.SlugField(
        max_length=32, unique=True, help_text="Short identifier, e.g. 'uzb-rehab'."
    )
    address = models.TextField(blank=True)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class UserManager(BaseUserManager):
    """Users log in by email; a superuser needs no clinic."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An email address is required.")
        email = self.normalize_email(email).lower()
        user = self.model(email=email, **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        if not extra_fields["is_staff"] or not extra_fields["is_superuser"]:
            raise ValueError("A superuser must have is_staff and is_superuser set.")
        return self._create_user(email, password, **extra_fields)

    def therapists_of_clinic(self, clinic_id):
        """Active staff of ``clinic_id`` in the Therapist group: the only valid assignees."""
        return self.filter(clinic_id=clinic_id, groups__name=THERAPIST, is_active=True)

    def get_by_natural_key(self, username):
        return self.get(**{f"{self.model.USERNAME_FIELD}__iexact": username})


class User(AbstractBaseUser, PermissionsMixin):
    """A member of staff (or an administrator). Roles are groups; see clinic/roles.py."""

    email = models.EmailField(unique=True)
    full_name = models.CharField(max_length=200, blank=True)
    clinic = models.ForeignKey(
        Clinic,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        help_text="Staff belong to one clinic; administrators may have none.",
    )
    is_staff = models.BooleanField(
        default=False, help_text="Designates whether the user can log into the admin site."
    )
    is_active = models.BooleanField(default=True)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        ordering = ["full_name", "email"]

    def __str__(self):
        return self.full_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if not self.is_superuser and self.clinic_id is None and self.groups_have_roles():
            raise ValidationError({"clinic": "Clinic staff must belong to a clinic."})

    def groups_have_roles(self):
        return self.pk is not None and self.groups.filter(name__in=ROLE_GROUPS).exists()

    def get_full_name(self):
        return self.full_name or self.email

    def get_short_name(self):
        return (self.full_name or self.email).split(" ")[0]
