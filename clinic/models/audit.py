"""The audit trail's tables: append-only, hash-chained entries of every read or change of
patient data, the per-patient index of them, and the chain's head.

Written only through ``clinic.audit.record_access``; checked by ``manage.py verify_audit``.
On PostgreSQL, triggers (django-pgtrigger) refuse UPDATE, DELETE and TRUNCATE.
"""

import pgtrigger
from django.conf import settings
from django.db import models

# TRUNCATE fires no row trigger, so the append-only tables refuse it with a statement trigger of
# their own. The test suite's flush empties every table with TRUNCATE: it runs as a superuser with
# session_replication_role = replica (conftest.py), which an application role cannot set.
NO_TRUNCATE = pgtrigger.Trigger(
    name="no_truncate",
    level=pgtrigger.Statement,
    when=pgtrigger.Before,
    operation=pgtrigger.Truncate,
    func="RAISE EXCEPTION 'pgtrigger: Cannot truncate the % table', TG_TABLE_NAME;",
)


class AuditEntry(models.Model):
    """One read or change of patient data: who, which patient(s), what, why, from where, when.

    Append-only and hash-chained: ``entry_hash`` is the sha256 of the entry's canonical content,
    which includes ``seq`` and the previous entry's hash (``prev_hash``), so a changed, deleted or
    reordered entry breaks the chain (``manage.py verify_audit``). On PostgreSQL a trigger refuses
    UPDATE and DELETE. Patients and objects are plain ids, never foreign keys: entries outlive
    what they name, and this lowest app imports no app above it. Written only through
    ``clinic.audit.record_access``.
    """

    class Action(models.TextChoices):
        VIEW = "view", "view"
        CHANGE = "change", "change"
        CREATE = "create", "create"
        VOID = "void", "void"
        DOWNLOAD = "download", "download"
        EXPORT = "export", "export"
        LIVE_VIEW = "live_view", "live view"

    class Purpose(models.TextChoices):
        TREATMENT = "treatment", "treatment"
        RESEARCH = "research", "research"
        EMERGENCY = "emergency", "emergency"

    seq = models.PositiveBigIntegerField(unique=True, editable=False, help_text="Chain position.")
    created_at = models.DateTimeField(editable=False, db_index=True)
    # No constraint: an entry outlives its actor's account; the label keeps who it was.
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        null=True,
        related_name="+",
        editable=False,
    )
    actor_label = models.CharField(max_length=254, editable=False)
    clinic_id = models.BigIntegerField(null=True, db_index=True, editable=False)
    patient_id = models.BigIntegerField(
        null=True, db_index=True, editable=False, help_text="The patient of a one-patient entry."
    )
    # Every patient the entry covers (a list page's rows), as ",3,17," for a portable lookup.
    patient_ids = models.TextField(editable=False)
    object_type = models.CharField(max_length=100, editable=False)
    object_id = models.CharField(max_length=64, blank=True, editable=False)
    action = models.CharField(max_length=16, choices=Action.choices, editable=False)
    purpose = models.CharField(max_length=16, choices=Purpose.choices, editable=False)
    client_address = models.GenericIPAddressField(null=True, editable=False)
    path = models.CharField(max_length=500, blank=True, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    entry_hash = models.CharField(max_length=64, unique=True, editable=False)

    class Meta:
        ordering = ["-seq"]
        verbose_name_plural = "audit entries"
        indexes = [models.Index(fields=["actor", "-created_at"], name="audit_actor_time")]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            NO_TRUNCATE,
        ]

    def __str__(self):
        return f"#{self.seq} {self.actor_label} {self.action} {self.object_type} {self.object_id}"

    @property
    def patient_id_list(self) -> list[int]:
        return [int(part) for part in self.patient_ids.strip(",").split(",") if part]


class AuditEntryPatient(models.Model):
    """One patient an entry covers: the indexed lookup of a patient's entries (its own pages and
    the list pages that showed it), for the access report and the clinic's audit page.

    Written by the entry's own append (one call), from the same ids as ``AuditEntry.patient_ids``
    (which the hash covers); ``verify_audit`` checks that the rows still match it. Append-only
    like the entries.
    """

    # No constraint (an RI check per row would add to every write): ``verify_audit`` finds a row
    # whose entry is gone.
    entry = models.ForeignKey(
        AuditEntry,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="patient_rows",
        editable=False,
    )
    patient_id = models.BigIntegerField(editable=False)

    class Meta:
        constraints = [
            # Also the index of the lookup: a patient's entries, by patient then entry.
            models.UniqueConstraint(fields=["patient_id", "entry"], name="audit_patient_entry"),
        ]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            NO_TRUNCATE,
        ]

    def __str__(self):
        return f"entry {self.entry_id}: patient {self.patient_id}"


class AuditChainHead(models.Model):
    """The chain's last position and hash: one row, locked while an entry is appended.

    Locking it (SELECT ... FOR UPDATE) keeps the chain linear under concurrent writers; comparing
    it with the last entry lets ``verify_audit`` see entries cut from the end.
    """

    seq = models.PositiveBigIntegerField(default=0)
    entry_hash = models.CharField(max_length=64, blank=True)

    def __str__(self):
        return f"audit chain head #{self.seq}"
