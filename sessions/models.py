"""Therapy sessions and their recordings (C3D files in private storage)."""

import uuid
from datetime import timedelta

from django.conf import settings
from django.core.files.storage import storages
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from clinic.access import restrict
from clinic.models import Clinic, Voidable, VoidableQuerySet
from patients.models import Patient


def private_storage():
    """Recordings never get a public URL: downloads go through an access-checked view."""
    return storages["private"]


def recording_upload_to(instance, filename):
    # Stored under an opaque name: the original name is kept on the row, not in the path.
    return f"recordings/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.c3d"


class TherapySessionQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        return restrict(
            self, user, patient_path=self.model.PATIENT_PATH, clinic_path=self.model.CLINIC_PATH
        )

    def bulk_create(self, objs, *args, **kwargs):
        """``save()`` is skipped here: the rows get their patient's clinic first (one query for
        the patients not loaded on them)."""
        objs = list(objs)
        missing = {
            s.patient_id
            for s in objs
            if s.clinic_id is None and not TherapySession.patient.is_cached(s)
        }
        clinics = dict(
            Patient.objects.filter(pk__in=missing).values_list("pk", "clinic_id") if missing else ()
        )
        for session in objs:
            if session.clinic_id is None:
                session.clinic_id = (
                    session.patient.clinic_id
                    if TherapySession.patient.is_cached(session)
                    else clinics.get(session.patient_id)
                )
        return super().bulk_create(objs, *args, **kwargs)


class TherapySession(Voidable):
    """One visit: the patient plays several game rounds, each one a recording."""

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "patient"
    # The session's own copy of its patient's clinic (``clinic``): the lists scope on it
    # without a join, on the (clinic, started_at, id) index.
    CLINIC_PATH = "clinic"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
    # Always the patient's clinic (denormalised: set on save and bulk_create from the patient,
    # and moved with the patient by ``Patient.save``), so that a clinic's session list and its
    # count read one index instead of joining every session to its patient.
    clinic = models.ForeignKey(
        Clinic, on_delete=models.PROTECT, related_name="+", editable=False, db_index=False
    )
    therapist = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="therapy_sessions",
        null=True,
        blank=True,
    )
    started_at = models.DateTimeField(default=timezone.now, db_index=True)
    notes = models.TextField(blank=True)
    rpe = models.PositiveSmallIntegerField(
        "RPE (Borg CR-10)",
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(10)],
        help_text="Rating of perceived exertion after the session, 0-10.",
    )
    bfr_pressure_pct_aop = models.DecimalField(
        "BFR cuff pressure (% AOP)",
        max_digits=5,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(0), MaxValueValidator(150)],
        help_text="Blood-flow-restriction cuff pressure, % of arterial occlusion pressure.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = TherapySessionQuerySet.as_manager()

    class Meta:
        ordering = ["-started_at"]
        permissions = [("void_therapysession", "Can void therapy sessions")]
        # A patient's sessions newest first (patient page, progress table) read a page of this
        # index backwards instead of sorting every session of the patient.
        indexes = [
            models.Index(fields=["patient", "started_at", "id"], name="session_patient_started"),
            # The API's session list of a clinic, newest first: a page reads this index
            # backwards, and its COUNT needs no join.
            models.Index(fields=["clinic", "started_at", "id"], name="session_clinic_started"),
            # Its COUNT: an index-only scan of this one, whose equal keys btree deduplication
            # packs small (about 0.7 MB per 100,000 sessions): 4.4 ms where a scan of the table
            # takes 10 and one of the index above 6.5 (100,000 sessions of one clinic).
            models.Index(fields=["clinic"], name="session_clinic"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rpe__isnull=True) | models.Q(rpe__lte=10), name="rpe_0_10"
            ),
        ]

    def __str__(self):
        return f"{self.patient.code} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    @classmethod
    def from_db(cls, db, field_names, values):
        row = super().from_db(db, field_names, values)
        row._loaded_patient_id = row.__dict__.get("patient_id")
        return row

    def save(self, *args, **kwargs):
        """The clinic follows the patient: set on create and when the patient changes (the
        patient is loaded then: a form or a service just assigned it)."""
        if self._state.adding or (
            "patient_id" in self.__dict__
            and self.patient_id != getattr(self, "_loaded_patient_id", self.patient_id)
        ):
            self.clinic_id = self.patient.clinic_id
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "clinic" not in update_fields:
                kwargs["update_fields"] = [*update_fields, "clinic"]
        super().save(*args, **kwargs)
        self._loaded_patient_id = self.patient_id

    def get_absolute_url(self):
        return reverse("sessions:detail", args=[self.pk])


class FirstSession(models.Model):
    """When each patient's first live (not voided) session started: a patient without one has
    no row. Kept by the database itself (triggers on the sessions table, migration
    ``0010_first_session``: every insert, update and delete of a session, bulk ones and raw SQL
    included), never written by the application, so it cannot go stale. The dashboard's
    adherence reads it for the programme start of a patient without ``treatment_start``
    instead of looking up each patient's first session (issue 17)."""

    patient = models.OneToOneField(
        Patient,
        on_delete=models.DO_NOTHING,  # sessions PROTECT their patient: rows go with them
        primary_key=True,
        db_constraint=False,
        related_name="+",
    )
    started_at = models.DateTimeField()

    def __str__(self):
        return f"{self.patient_id} {self.started_at:%Y-%m-%d %H:%M}"


class AdherenceVersion(models.Model):
    """A number that changes with every write the dashboard's adherence figures of a clinic
    depend on: its patients (clinic, treatment start, active, voided), their therapists,
    protocols and sessions (patient, start, voided), and the clinic's settings. Kept by the
    database itself (triggers, migration ``0011_adherence_version``: bulk writes and raw SQL
    included), never written by the application. The dashboard keeps its figures in the cache
    under this number (``clinic.selectors.adherence``): a write gives the clinic a new one, so
    what was kept before is never read again. Random, not counted up, so that a rolled-back
    transaction or a recreated row never brings back a number already used."""

    clinic = models.OneToOneField(
        Clinic,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="+",
    )
    version = models.BigIntegerField()

    def __str__(self):
        return f"{self.clinic_id} {self.version}"


class RecordingQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)

    def stuck(self, *, now=None):
        """Recordings the pipeline left behind: the sweeper re-sends them, the dashboard flags them.

        Pending and not sent to the broker lately (it was down at upload), or processing for
        longer than a task may run (its worker vanished without the message coming back).
        """
        return self.filter(_stuck(now or timezone.now()))

    def needing_attention(self, *, now=None):
        """Failed or stuck: what the dashboard lists. One condition on each row's own columns,
        so PostgreSQL starts from the few rows in those states (the status index) rather than
        from every recording in scope."""
        return self.filter(Q(status=Recording.Status.FAILED) | _stuck(now or timezone.now()))


def _stuck(now) -> Q:
    """The condition of ``RecordingQuerySet.stuck`` at ``now``."""
    resend_before = now - timedelta(seconds=settings.RECORDING_PENDING_STUCK_AFTER_S)
    not_sent_lately = Q(enqueued_at__lt=resend_before) | Q(
        enqueued_at__isnull=True, created_at__lt=resend_before
    )
    return Q(status=Recording.Status.PENDING) & not_sent_lately | Q(
        status=Recording.Status.PROCESSING,
        processing_started_at__lt=now - processing_stale_after(),
    ) & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=resend_before))


def processing_stale_after() -> timedelta:
    """How long a claim may run before it is presumed dead: the task's hard limit plus a margin."""
    return timedelta(
        seconds=settings.RECORDING_TASK_TIME_LIMIT_S + settings.RECORDING_PROCESSING_STUCK_MARGIN_S
    )


class Recording(Voidable):
    """One C3D file (one game round) of a session, and where its analysis stands.

    A recording is a record: a wrong or failed file is voided with a reason (kept, left out of
    results, scores, counts and exports; shown struck through to those who may void), and a file
    filed under the wrong session is moved (``sessions.services.recording_move``).
    """

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "session__patient"

    class Source(models.TextChoices):
        UPLOAD = "upload", "Upload"
        LIVE = "live", "Live stream"
        API = "api", "API"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        PROCESSING = "processing", "Processing"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    session = models.ForeignKey(TherapySession, on_delete=models.PROTECT, related_name="recordings")
    file = models.FileField(storage=private_storage, upload_to=recording_upload_to, max_length=255)
    sha256 = models.CharField(max_length=64, db_index=True)
    size_bytes = models.PositiveBigIntegerField()
    original_name = models.CharField(max_length=255)
    source = models.CharField(max_length=10, choices=Source.choices, default=Source.UPLOAD)
    status = models.CharField(
        max_length=12, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    failure_reason = models.TextField(blank=True)
    # Live streams (analysis/pipeline/live.py): a stream that ended without a stop (idle
    # timeout, a device never back, a server crash) keeps what arrived, marked interrupted.
    interrupted = models.BooleanField(
        default=False, help_text="A live stream that ended without a stop: partial."
    )
    live_alerts = models.JSONField(
        default=list,
        blank=True,
        help_text="Alerts raised during the live stream (type, severity, time, channel, ack).",
    )
    # Pipeline bookkeeping (analysis/pipeline/): Celery keeps no delivery count, so the row does.
    attempts = models.PositiveSmallIntegerField(
        default=0, help_text="Times a worker has claimed this recording for analysis."
    )
    enqueued_at = models.DateTimeField(
        null=True, blank=True, help_text="Last time the analysis task was sent to the broker."
    )
    processing_started_at = models.DateTimeField(null=True, blank=True)
    # "<celery task id>:<nonce>" of the current claim: a redelivery of the same message may take
    # over at once, and only the latest claim may write results (analysis/pipeline/worker.py).
    claim_token = models.CharField(max_length=100, blank=True, editable=False)
    processed_at = models.DateTimeField(null=True, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = RecordingQuerySet.as_manager()

    class Meta:
        ordering = ["created_at"]
        permissions = [
            ("download_recording", "Can download recording files"),
            ("void_recording", "Can void and move recordings"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "sha256"], name="recording_unique_file_per_session"
            ),
        ]

    def __str__(self):
        # Never the file name (it often names the player): admin titles, breadcrumbs and the
        # audit log show this to everyone, researchers included.
        return f"Recording {self.pk}"

    def get_absolute_url(self):
        return reverse("sessions:recording", args=[self.pk])
