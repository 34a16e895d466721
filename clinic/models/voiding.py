"""Voiding, the building block the clinical records of the other apps share.

Patients, sessions and recordings are voided, never deleted (``Voidable``: who, when and why
stay on the row); ``VoidableQuerySet`` gives their managers ``active()`` and ``voided()``.
What a voided object hides is the access policy's business (``clinic.access``).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone


class VoidableQuerySet(models.QuerySet):
    def active(self):
        return self.filter(voided_at__isnull=True)

    def voided(self):
        return self.filter(voided_at__isnull=False)


class Voidable(models.Model):
    """Clinical records are voided, never deleted: who, when and why stay on the row."""

    voided_at = models.DateTimeField(null=True, blank=True, editable=False)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
    )
    void_reason = models.TextField(blank=True, editable=False)

    class Meta:
        abstract = True

    @property
    def is_voided(self):
        return self.voided_at is not None

    def void(self, *, by, reason):
        """Mark the record void; the caller saves inside its own transaction."""
        if not reason or not reason.strip():
            raise ValidationError("A reason is required to void a record.")
        self.voided_at = timezone.now()
        self.voided_by = by
        self.void_reason = reason.strip()
        self.save(update_fields=["voided_at", "voided_by", "void_reason"])
