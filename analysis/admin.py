"""Read-only admin for analysis results, narrowed by the access policy like every surface.

Results are produced by the pipeline only: nobody adds, edits or deletes them here.
"""

from django.contrib import admin
from django.utils.html import format_html, format_html_join

from analysis.models import ChannelResult, RecordingAnalysis
from analysis.values import finite_or_none
from clinic.admin_scope import ScopedAdminMixin
from sessions.selectors import recording_name


def rounded(value, digits=1, scale=1.0) -> str:
    """A figure rounded for reading (``scale`` 1e6 turns volts into microvolts), or a dash."""
    number = finite_or_none(value)
    return "-" if number is None else f"{number * scale:.{digits}f}"


def _cell(value, depth=0):
    """One value of a stored JSON: a nested object or list of objects as a nested table."""
    if isinstance(value, float):
        return rounded(value, 3).rstrip("0").rstrip(".")
    if isinstance(value, dict) and value and depth < 3:
        return json_table(value, depth=depth + 1)
    if isinstance(value, (list, tuple)):
        # Each item escaped unless it is a nested table (already safe HTML).
        return format_html_join(", ", "{}", ((_cell(item, depth + 1),) for item in value)) or "-"
    return "-" if value is None or value == "" else str(value)


def json_table(value, depth=0):
    """A stored JSON object or list as a readable two-column table (escaped), not raw JSON."""
    if not value:
        return "-"
    if isinstance(value, dict):
        rows = [(key, _cell(item, depth)) for key, item in sorted(value.items())]
    elif not any(isinstance(item, (dict, list)) for item in value):
        return _cell(list(value), depth)  # a list of plain values: "game, effort"
    else:
        rows = [(index + 1, _cell(item, depth)) for index, item in enumerate(value)]
    body = format_html_join("", "<tr><th scope='row'>{}</th><td>{}</td></tr>", rows)
    return format_html("<table class='admin-json'><tbody>{}</tbody></table>", body)


def _label(field: str) -> str:
    """ "total_ms" -> "total (ms)", "rate_hz" -> "rate (Hz)", "score_overall" -> "score overall"."""
    for suffix, unit in (("_ms", "ms"), ("_hz", "Hz"), ("_s", "s")):
        if field.endswith(suffix):
            return f"{field.removesuffix(suffix).replace('_', ' ')} ({unit})"
    return field.replace("_", " ")


class ReadOnlyMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChannelResultInline(ReadOnlyMixin, admin.TabularInline):
    model = ChannelResult
    fields = (
        "label",
        "side",
        "muscle",
        "mvc_uv",
        "mvc_source",
        "threshold_uv",
        "count",
        "good",
        "game_count",
        "compliance_pct",
        "mdf_slope",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="MVC (µV)")
    def mvc_uv(self, obj):
        return rounded(obj.mvc_v, 1, 1e6)

    @admin.display(description="threshold (µV)")
    def threshold_uv(self, obj):
        return rounded(obj.threshold_v, 1, 1e6)

    @admin.display(description="compliance (%)")
    def compliance_pct(self, obj):
        return rounded(obj.compliance, 0, 100)

    @admin.display(description="MDF slope (%/min)")
    def mdf_slope(self, obj):
        return rounded(obj.mdf_slope_pct_per_min, 1)


@admin.register(RecordingAnalysis)
class RecordingAnalysisAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "recording",
        "is_current",
        "trigger",
        "core_version",
        "score",
        "total",
        "created_at",
    )
    list_filter = ("is_current", "trigger", "core_version")
    list_select_related = ("recording",)
    inlines = [ChannelResultInline]

    def scope_queryset(self, request, queryset):
        return queryset.visible_to(request.user)

    def get_exclude(self, request, obj=None):
        # The file's metadata carries the player's name (SUBJECTS:PLAYER_NAME).
        return ("document",) if self.shows_identity(request) else ("document", "metadata")

    # Stored figures shown rounded (scores, milliseconds, seconds, Hz) and JSON as tables.
    ROUNDED = {
        "score_overall": 1,
        "score_compliance": 1,
        "score_symmetry": 1,
        "score_effort": 1,
        "score_game": 1,
        "game_score": 1,
        "read_ms": 0,
        "analyse_ms": 0,
        "total_ms": 0,
        "duration_s": 1,
        "rate_hz": 0,
    }
    AS_TABLE = ("parameters", "metadata", "warnings", "score_missing")

    class Media:
        css = {"all": ("css/admin-results.css",)}

    @admin.display(description="score", ordering="score_overall")
    def score(self, obj):
        return rounded(obj.score_overall, 1)

    @admin.display(description="total (ms)", ordering="total_ms")
    def total(self, obj):
        return rounded(obj.total_ms, 0)

    @admin.display(description="recording")
    def recording_pseudonym(self, obj):
        return recording_name(obj.recording, identity=False)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self.shows_identity(request):
            return shown
        return [("recording_pseudonym" if name == "recording" else name) for name in shown]

    def get_fields(self, request, obj=None):
        return self.get_readonly_fields(request, obj)

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.get_exclude(request, obj))
        names = [self._shown(f.name) for f in self.model._meta.fields if f.name not in hidden]
        if not self.shows_identity(request):
            # The file name often names the player: "Recording N" for researchers.
            names = [("recording_pseudonym" if name == "recording" else name) for name in names]
        return names

    def _shown(self, name: str) -> str:
        return f"{name}_shown" if name in self.ROUNDED or name in self.AS_TABLE else name


def _shown_rounded(field: str, digits: int):
    return admin.display(description=_label(field))(
        lambda self, obj: rounded(getattr(obj, field), digits)
    )


def _shown_table(field: str):
    return admin.display(description=_label(field))(
        lambda self, obj: json_table(getattr(obj, field))
    )


# "<field>_shown": each stored figure rounded, each JSON field as a table (the object page).
for _field, _digits in RecordingAnalysisAdmin.ROUNDED.items():
    setattr(RecordingAnalysisAdmin, f"{_field}_shown", _shown_rounded(_field, _digits))
for _field in RecordingAnalysisAdmin.AS_TABLE:
    setattr(RecordingAnalysisAdmin, f"{_field}_shown", _shown_table(_field))
