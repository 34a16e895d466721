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
from clinic.models import Voidable, VoidableQuerySet
from patients.models import Patient


def private_storage():
    """Recordings never get a public URL: downloads go through an access-checked view."""
    return storages["private"]


def recording_upload_to(instance, filename):
    # Stored under an opaque name: the original name is kept on the row, not in the path.
    return f"recordings/{timezone.now():%Y/%m}/{uuid.uuid4().hex}.c3d"


class TherapySessionQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)


class TherapySession(Voidable):
    """One visit: the patient plays several game rounds, each one a recording."""

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "patient"

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="sessions")
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
            models.Index(fields=["patient", "started_at", "id"], name="session_patient_started")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(rpe__isnull=True) | models.Q(rpe__lte=10), name="rpe_0_10"
            ),
        ]

    def __str__(self):
        return f"{self.patient.code} {timezone.localtime(self.started_at):%Y-%m-%d %H:%M}"

    def get_absolute_url(self):
        return reverse("sessions:detail", args=[self.pk])


class FirstSession(models.Model):
    """When each patient's first live (not voided) session started: a patient without one has
    no row. Kept by the database itself (triggers on the sessions table, migration
    ``0008_first_session``: every insert, update and delete of a session, bulk ones and raw SQL
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


class RecordingQuerySet(VoidableQuerySet):
    def visible_to(self, user):
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)

    def stuck(self, *, now=None):
        """Recordings the pipeline left behind: the sweeper re-sends them, the dashboard flags them.

        Pending and not sent to the broker lately (it was down at upload), or processing for
        longer than a task may run (its worker vanished without the message coming back).
        """
        now = now or timezone.now()
        resend_before = now - timedelta(seconds=settings.RECORDING_PENDING_STUCK_AFTER_S)
        not_sent_lately = Q(enqueued_at__lt=resend_before) | Q(
            enqueued_at__isnull=True, created_at__lt=resend_before
        )
        return self.filter(
            Q(status=Recording.Status.PENDING) & not_sent_lately
            | Q(
                status=Recording.Status.PROCESSING,
                processing_started_at__lt=now - processing_stale_after(),
            )
            & (Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=resend_before))
        )


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
