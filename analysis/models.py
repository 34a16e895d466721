"""Results of the numeric core on a recording, stored as queryable rows.

One ``RecordingAnalysis`` per run of the core on a recording. Re-analysis adds a new row and
flips ``is_current`` in one transaction, so the old results stay as history (which core
version and parameters produced what) while pages read only the current row. Numbers the UI
filters or charts across sessions (scores, compliance per muscle, MDF slope) are plain columns;
the core's whole document is kept too, without the envelopes that live on ``ChannelResult``.
"""

from django.db import models

from analysis.grading import contraction_grade
from clinic.access import restrict
from patients.models import Patient
from sessions.models import Recording


class RecordingAnalysisQuerySet(models.QuerySet):
    def current(self):
        return self.filter(is_current=True)

    def visible_to(self, user):
        return restrict(self, user, patient_path=self.model.PATIENT_PATH)


class RecordingAnalysis(models.Model):
    """One run of analysis.core on one recording: parameters, timings, metadata and scores."""

    # The lookup from this model to its Patient: the access policy and the audit trail use it.
    PATIENT_PATH = "recording__session__patient"

    class Trigger(models.TextChoices):
        UPLOAD = "upload", "Upload"
        REANALYSIS = "reanalysis", "Re-analysis"

    recording = models.ForeignKey(Recording, on_delete=models.CASCADE, related_name="analyses")
    is_current = models.BooleanField(default=True)
    trigger = models.CharField(max_length=12, choices=Trigger.choices, default=Trigger.UPLOAD)
    core_version = models.CharField(max_length=40)
    parameters = models.JSONField(default=dict, help_text="Everything the core was given.")
    document = models.JSONField(
        default=dict, help_text="The core's result document, envelopes left out."
    )
    read_ms = models.FloatField(null=True, blank=True)
    analyse_ms = models.FloatField(null=True, blank=True)
    total_ms = models.FloatField(null=True, blank=True)
    # The recording as the file describes it.
    duration_s = models.FloatField(null=True, blank=True)
    rate_hz = models.FloatField(null=True, blank=True)
    n_samples = models.PositiveBigIntegerField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    game_score = models.FloatField(null=True, blank=True)
    game_level = models.CharField(max_length=40, blank=True)
    # Performance score, 0-100 (None = the component could not be computed; see score_missing).
    score_overall = models.FloatField(null=True, blank=True)
    score_compliance = models.FloatField(null=True, blank=True)
    score_symmetry = models.FloatField(null=True, blank=True)
    score_effort = models.FloatField(null=True, blank=True)
    score_game = models.FloatField(null=True, blank=True)
    score_missing = models.JSONField(default=list, blank=True)
    bfr_gated = models.BooleanField(
        default=False, help_text="BFR pressure outside the safe band withheld the score."
    )
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    objects = RecordingAnalysisQuerySet.as_manager()

    class Meta:
        ordering = ["recording", "-created_at"]
        verbose_name_plural = "recording analyses"
        permissions = [
            (
                "export_research_data",
                "Can export the clinic's pseudonymised research dataset",
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["recording"],
                condition=models.Q(is_current=True),
                name="one_current_analysis_per_recording",
            ),
        ]

    def __str__(self):
        state = "current" if self.is_current else "superseded"
        # No file name: it often names the player, and admin titles show this to researchers.
        core_version = self.core_version
        return f"Analysis {self.pk} of recording {self.recording_id} ({state}, core {core_version})"

    def full_document(self):
        """The core's document as it came out, with the per-channel envelopes put back."""
        doc = dict(self.document)
        envelopes = {c.label: c.envelope for c in self.channels.all()}
        doc["channels"] = [
            {**ch, "envelope": envelopes.get(ch.get("label"))} for ch in doc.get("channels", [])
        ]
        return doc


class ChannelResult(models.Model):
    """One channel (muscle) of one analysis: MVC used, threshold and summary metrics."""

    class MvcSource(models.TextChoices):
        CALIBRATION = "calibration", "Calibrated"
        ENTERED = "entered", "Entered"
        ESTIMATED = "estimated", "Estimated from this recording"

    analysis = models.ForeignKey(
        RecordingAnalysis, on_delete=models.CASCADE, related_name="channels"
    )
    position = models.PositiveSmallIntegerField(default=0)
    label = models.CharField(max_length=64)
    muscle = models.CharField(max_length=60, blank=True)
    side = models.CharField(max_length=5, blank=True)
    mvc_v = models.FloatField(null=True, blank=True)
    mvc_source = models.CharField(max_length=12, choices=MvcSource.choices, blank=True)
    threshold_v = models.FloatField(null=True, blank=True)
    threshold_off_v = models.FloatField(null=True, blank=True)
    noise_v = models.FloatField(null=True, blank=True)
    # summary
    count = models.PositiveIntegerField(default=0)
    good = models.PositiveIntegerField(default=0)
    intensity_ok = models.PositiveIntegerField(default=0)
    duration_ok = models.PositiveIntegerField(default=0)
    time_under_tension_s = models.FloatField(null=True, blank=True)
    rms_v = models.FloatField(null=True, blank=True)
    mav_v = models.FloatField(null=True, blank=True)
    mnf_slope_hz_per_contraction = models.FloatField(null=True, blank=True)
    mdf_slope_hz_per_contraction = models.FloatField(null=True, blank=True)
    mnf_slope_pct_per_min = models.FloatField(null=True, blank=True)
    mdf_slope_pct_per_min = models.FloatField(null=True, blank=True)
    fi_nsm5_ratio = models.FloatField(null=True, blank=True)
    saturation_pct = models.FloatField(null=True, blank=True)
    snr_db = models.FloatField(null=True, blank=True)
    game_count = models.PositiveIntegerField(null=True, blank=True)
    # Agreement of our contractions with the game's (None: older analyses, or no game channel).
    game_matched = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ours and the game's that overlap, one to one."
    )
    game_only_ours = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ours that no game contraction overlaps."
    )
    game_only_game = models.PositiveIntegerField(
        null=True, blank=True, help_text="The game's that none of ours overlaps."
    )
    game_spanning = models.PositiveIntegerField(
        null=True, blank=True, help_text="Ours that overlap two or more of the game's."
    )
    compliance = models.FloatField(null=True, blank=True, help_text="Compliance score, 0-100.")
    envelope = models.JSONField(
        null=True, blank=True, help_text="Decimated envelope for display: {rate_hz, values}."
    )

    class Meta:
        ordering = ["analysis", "position"]
        constraints = [
            models.UniqueConstraint(fields=["analysis", "label"], name="one_result_per_channel"),
        ]

    def __str__(self):
        return f"{self.label} ({self.side} {self.muscle})".strip()

    @property
    def muscle_key(self):
        return f"{self.side} {self.muscle}".strip()

    @property
    def agreement(self):
        """The agreement counts as the core's document names them, or None when not stored."""
        if self.game_matched is None:
            return None
        return {
            "matched": self.game_matched,
            "only_ours": self.game_only_ours,
            "only_game": self.game_only_game,
            "spanning": self.game_spanning,
        }


class Contraction(models.Model):
    """One contraction of one channel: detected by the core, or counted by the game itself."""

    class Source(models.TextChoices):
        DETECTED = "detected", "Detected"
        GAME = "game", "Game"

    channel = models.ForeignKey(
        ChannelResult, on_delete=models.CASCADE, related_name="contractions"
    )
    source = models.CharField(max_length=8, choices=Source.choices, default=Source.DETECTED)
    index = models.PositiveIntegerField()
    start_s = models.FloatField()
    end_s = models.FloatField()
    duration_s = models.FloatField()
    peak_v = models.FloatField(null=True, blank=True)
    mean_v = models.FloatField(null=True, blank=True)
    peak_pct_mvc = models.FloatField(null=True, blank=True)
    mean_pct_mvc = models.FloatField(null=True, blank=True)
    area = models.FloatField(null=True, blank=True, help_text="Envelope integral, V.s.")
    mnf_hz = models.FloatField(null=True, blank=True)
    mdf_hz = models.FloatField(null=True, blank=True)
    fi_nsm5 = models.FloatField(null=True, blank=True)
    meets_intensity = models.BooleanField(null=True, blank=True)
    meets_duration = models.BooleanField(null=True, blank=True)
    good = models.BooleanField(null=True, blank=True)

    class Meta:
        ordering = ["channel", "source", "index"]
        constraints = [
            models.UniqueConstraint(
                fields=["channel", "source", "index"], name="one_contraction_per_index"
            ),
        ]

    def __str__(self):
        return f"{self.channel.label} #{self.index} {self.start_s:.2f}-{self.end_s:.2f} s"

    @property
    def grade(self):
        """For shading: good, intensity (only), duration (only) or neither."""
        return contraction_grade(
            meets_intensity=self.meets_intensity, meets_duration=self.meets_duration
        )


class ProgressVersion(models.Model):
    """A number per patient that changes with every write the progress page's weekly (or
    monthly) trend figures depend on: the patient's sessions (patient, start, voided, RPE),
    their recordings (session, voided), the recordings' analyses (recording, current, overall
    and symmetry scores) and the analyses' channel results (analysis, side, muscle, label,
    compliance, MDF slope). Kept by the database itself (triggers, migration
    ``0004_progress_version``: bulk writes and raw SQL included), never written by the
    application. The progress page keeps its per-week charts in the cache under this number
    (``patients.progress``): a write gives the patient a new one, so what was kept before is
    never read again. Random, like ``AdherenceVersion``: a rolled-back transaction or a
    recreated row never brings back a number already used."""

    patient = models.OneToOneField(
        Patient,
        on_delete=models.DO_NOTHING,
        primary_key=True,
        db_constraint=False,
        related_name="+",
    )
    version = models.BigIntegerField()

    def __str__(self):
        return f"{self.patient_id} {self.version}"
