"""Read-only admin for analysis results, narrowed by the access policy like every surface.

Results are produced by the pipeline only: nobody adds, edits or deletes them here.
"""

from django.contrib import admin

from analysis.models import ChannelResult, RecordingAnalysis
from clinic.admin_scope import ScopedAdminMixin


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
        "mvc_v",
        "mvc_source",
        "threshold_v",
        "count",
        "good",
        "game_count",
        "compliance",
        "mdf_slope_pct_per_min",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False


@admin.register(RecordingAnalysis)
class RecordingAnalysisAdmin(ReadOnlyMixin, ScopedAdminMixin, admin.ModelAdmin):
    list_display = (
        "recording",
        "is_current",
        "trigger",
        "core_version",
        "score_overall",
        "total_ms",
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

    def get_readonly_fields(self, request, obj=None):
        hidden = set(self.get_exclude(request, obj))
        return [f.name for f in self.model._meta.fields if f.name not in hidden]
