"""A clinic's protocol defaults, scoring weights and channel map, kept as numbered versions.

Also the names other apps share about protocols: ``PROTOCOL_FIELDS`` (the targets a patient's
protocol may override, ``patients.protocol``) and the game's channel map with its check
(``channel_map_problems``: ``ClinicSettings.clean`` for the settings page and the admin,
and the API).
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from clinic.models.accounts import Clinic

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
