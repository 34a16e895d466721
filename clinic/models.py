"""Clinics, staff users, the building blocks other apps share (voiding) and the audit trail."""

import pgtrigger
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone

from clinic.roles import ROLE_GROUPS


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


# The game's channels: CH1 on the left quadriceps, CH2 on the right.
GAME_CHANNEL_MAP = {"CH1": "left quadriceps", "CH2": "right quadriceps"}

# The protocol targets a clinic sets as defaults and a patient's protocol may override.
PROTOCOL_FIELDS = (
    "contractions_per_round",
    "target_pct_mvc",
    "hold_s",
    "rounds_per_session",
    "sessions_per_week",
    "programme_weeks",
)


def default_channel_map():
    return dict(GAME_CHANNEL_MAP)


def channel_map_problems(channel_map) -> list[str]:
    """What is wrong with a stored channel map (``{"CH1": "left quadriceps"}``): not an object,
    a label or muscle that is not a non-empty text, or a label given twice (the analysis
    matches labels case-insensitively). The settings page's rows and the admin both rely on it."""
    if not isinstance(channel_map, dict):
        return ['The channel map must be an object such as {"CH1": "left quadriceps"}.']
    problems, seen = [], set()
    for label, target in channel_map.items():
        if not str(label).strip() or len(str(label)) > 64:
            problems.append(f"Channel label {label!r}: give 1 to 64 characters.")
        if not isinstance(target, str) or not target.strip():
            problems.append(f"Channel {label}: give the muscle as text, e.g. 'left quadriceps'.")
        key = str(label).strip().upper()
        if key in seen:
            problems.append(f"The channel {label} is mapped twice.")
        seen.add(key)
    return problems


class ClinicSettingsQuerySet(models.QuerySet):
    def current_for(self, clinic):
        """The newest version for ``clinic``, or None when the clinic never saved any."""
        return self.filter(clinic=clinic).order_by("-version").first()


class ClinicSettings(models.Model):
    """One version of a clinic's protocol defaults and scoring weights; the newest applies.

    Rows are never edited: managers save a new version, so every analysis can say which
    defaults it used and earlier versions stay readable. A clinic with no row uses the GHOSTLY+
    defaults below.
    """

    clinic = models.ForeignKey(Clinic, on_delete=models.PROTECT, related_name="settings_versions")
    version = models.PositiveIntegerField()
    contractions_per_round = models.PositiveSmallIntegerField(default=12)
    target_pct_mvc = models.FloatField("target % MVC", default=75.0)
    hold_s = models.FloatField("hold duration (s)", default=2.0)
    rounds_per_session = models.PositiveSmallIntegerField(default=3)
    sessions_per_week = models.PositiveSmallIntegerField(default=5)
    programme_weeks = models.PositiveSmallIntegerField(default=2)
    scoring_weights = models.JSONField(
        default=dict,
        blank=True,
        help_text='Component weights, e.g. {"compliance": 0.5, "symmetry": 0.2, "effort": 0.2, '
        '"game": 0.1}; empty = the numeric core defaults.',
    )
    bfr_safe_low_pct_aop = models.FloatField("BFR safe band low (% AOP)", default=45.0)
    bfr_safe_high_pct_aop = models.FloatField("BFR safe band high (% AOP)", default=55.0)
    game_score_max = models.FloatField(null=True, blank=True)
    channel_map = models.JSONField(
        default=default_channel_map,
        blank=True,
        help_text='Channel label to muscle, e.g. {"CH1": "left quadriceps"}.',
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ClinicSettingsQuerySet.as_manager()

    class Meta:
        ordering = ["clinic", "-version"]
        verbose_name = "clinic settings"
        verbose_name_plural = "clinic settings"
        constraints = [
            models.UniqueConstraint(fields=["clinic", "version"], name="clinic_settings_version"),
            models.CheckConstraint(
                condition=models.Q(bfr_safe_low_pct_aop__lte=models.F("bfr_safe_high_pct_aop")),
                name="clinic_settings_bfr_band_ordered",
            ),
        ]

    def __str__(self):
        return f"{self.clinic} settings v{self.version}"

    def clean(self):
        super().clean()
        problems = channel_map_problems(self.channel_map)
        if problems:
            raise ValidationError({"channel_map": problems})


class ApiTokenQuerySet(models.QuerySet):
    def usable(self, *, now=None):
        """Tokens that still authenticate: not revoked, not expired, their user active."""
        now = now or timezone.now()
        return self.filter(
            models.Q(expires_at__isnull=True) | models.Q(expires_at__gt=now),
            revoked_at__isnull=True,
            user__is_active=True,
        )


class ApiToken(models.Model):
    """A personal API token (``Authorization: Token <token>``) that acts as its user.

    Only the SHA-256 of the token is stored (the token is 256 random bits, so a plain hash is
    as strong as a slow one); the token itself is shown once, when it is created. ``prefix``
    (its first characters) lets the owner tell their tokens apart without revealing them.
    """

    PREFIX_LENGTH = 8

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens"
    )
    name = models.CharField(
        max_length=100, help_text="What the token is for, e.g. 'Ward 3 tablet'."
    )
    prefix = models.CharField(max_length=PREFIX_LENGTH, editable=False)
    key_hash = models.CharField(max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="Empty: never expires.")
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)
    revoked_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = ApiTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = "API token"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self):
        return self.revoked_at is not None

    @property
    def is_expired(self):
        return self.expires_at is not None and self.expires_at <= timezone.now()

    @property
    def is_usable(self):
        return not self.is_revoked and not self.is_expired


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
