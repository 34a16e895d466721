"""Admin for therapy sessions and recordings, narrowed by the access policy.

Recordings are created by the upload and live pipelines (which store the file, its sha256 and
size) and analysed by the worker; in admin they are read-only, and a failed or finished one is
sent back to the pipeline with the "Analyse again" action (never by editing its status, which
would bypass the pipeline's claim bookkeeping).
"""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count
from django.template.defaultfilters import filesizeformat

from analysis.pipeline.queue import REANALYSE_PERMISSION, recording_reanalyse
from clinic.admin_scope import (
    ScopedAdminMixin,
    VoidableAdminMixin,
    VoidedListFilter,
    audit_register,
)
from clinic.models import User
from patients.models import Patient
from sessions.models import Recording, TherapySession
from sessions.selectors import recording_name

audit_register(TherapySession)
audit_register(Recording)


class TherapySessionAdminForm(forms.ModelForm):
    class Meta:
        model = TherapySession
        fields = ("patient", "therapist", "started_at", "rpe", "bfr_pressure_pct_aop", "notes")

    def clean(self):
        cleaned = super().clean()
        patient, therapist = cleaned.get("patient"), cleaned.get("therapist")
        if patient is not None and therapist is not None:
            if therapist.clinic_id != patient.clinic_id:
                self.add_error("therapist", "The therapist must work in the patient's clinic.")
        return cleaned


@admin.register(TherapySession)
class TherapySessionAdmin(ScopedAdminMixin, VoidableAdminMixin, admin.ModelAdmin):
    form = TherapySessionAdminForm
    void_permission = "void_therapysession"
    actions = ["void_selected"]
    list_display = (
        "started_at",
        "patient",
        "therapist",
        "rpe",
        "bfr_pressure_pct_aop",
        "recording_count",
        "voided",
    )
    list_display_links = ("started_at", "patient")
    list_filter = (
        VoidedListFilter,
        ("patient__clinic", admin.RelatedOnlyFieldListFilter),
        ("therapist", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("patient", "therapist")
    date_hierarchy = "started_at"
    search_fields = ("patient__code", "patient__first_name", "patient__last_name", "notes")
    readonly_fields = ("voided_at", "voided_by", "void_reason", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("patient", "therapist", "started_at")}),
        ("Session facts", {"fields": ("rpe", "bfr_pressure_pct_aop", "notes")}),
        ("Voiding", {"fields": ("voided_at", "voided_by", "void_reason")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def scope_queryset(self, request, queryset):
        return queryset.visible_to(request.user).annotate(
            _recordings=Count("recordings", distinct=True)
        )

    @admin.display(description="recordings", ordering="_recordings")
    def recording_count(self, obj):
        return obj._recordings

    def get_search_fields(self, request):
        return self.search_fields if self.shows_identity(request) else ("patient__code",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.shows_identity(request):
            return fieldsets
        # Free text may name the patient: hidden like the patient's identity.
        hidden = ("notes", "void_reason")
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in hidden)})
            for name, opts in fieldsets
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = Patient.objects.visible_to(request.user)
        elif db_field.name == "therapist":
            staff = User.objects.filter(is_active=True, clinic__isnull=False)
            if not request.user.is_superuser:
                staff = staff.filter(clinic_id=request.user.clinic_id)
            kwargs["queryset"] = staff
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


@admin.register(Recording)
class RecordingAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("original_name", "session", "status", "source", "size", "created_at")
    list_filter = ("status", "source")
    list_select_related = ("session__patient",)
    search_fields = ("original_name", "sha256", "session__patient__code")
    fields = (
        "session",
        "original_name",
        "stored_as",
        "sha256",
        "size",
        "source",
        "uploaded_by",
        "status",
        "failure_reason",
        "attempts",
        "processed_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    actions = ["analyse_again"]
    # Shown only to those who see identity: the file name often names the player, and the
    # stored path carries it too.
    identity_fields = ("original_name", "stored_as", "failure_reason")

    def scope_queryset(self, request, queryset):
        return queryset.visible_to(request.user)

    @admin.display(description="recording")
    def recording_pseudonym(self, obj):
        return recording_name(obj, identity=False)

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self.shows_identity(request):
            return shown
        return [("recording_pseudonym" if name == "original_name" else name) for name in shown]

    def get_list_display_links(self, request, list_display):
        if self.shows_identity(request):
            return super().get_list_display_links(request, list_display)
        return ["recording_pseudonym"]

    def get_search_fields(self, request):
        if self.shows_identity(request):
            return self.search_fields
        return ("session__patient__code",)

    def get_fields(self, request, obj=None):
        if self.shows_identity(request):
            return self.fields
        return ("recording_pseudonym",) + tuple(
            f for f in self.fields if f not in self.identity_fields
        )

    def get_readonly_fields(self, request, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_reanalyse_permission(self, request):
        return request.user.has_perm(REANALYSE_PERMISSION)

    @admin.action(description="Analyse selected recordings again", permissions=["reanalyse"])
    def analyse_again(self, request, queryset):
        queued, refused = [], []
        with transaction.atomic():
            for recording in queryset.select_related("session"):
                try:
                    if recording_reanalyse(recording=recording, user=request.user):
                        queued.append(recording.pk)
                except ValidationError:
                    refused.append(recording.pk)  # a voided session's recordings stay as they are
        skipped = queryset.count() - len(queued) - len(refused)
        text = f"Queued {len(queued)} recording(s) for analysis"
        if skipped:
            text += f"; {skipped} still pending or processing were left alone"
        if refused:
            text += f"; {len(refused)} of voided sessions were refused"
        self.message_user(request, text + ".", messages.SUCCESS if queued else messages.WARNING)

    @admin.display(description="size", ordering="size_bytes")
    def size(self, obj):
        return filesizeformat(obj.size_bytes)

    @admin.display(description="stored as")
    def stored_as(self, obj):
        # The private file's path, not a link: downloads go through the access-checked view.
        return obj.file.name
