"""Patient admin, narrowed by the access policy; identity hidden from those who may not see it."""

from django import forms
from django.contrib import admin
from django.db.models import Count

from analysis.values import finite_or_none
from clinic.admin_scope import (
    ScopedAdminMixin,
    VoidableAdminMixin,
    VoidedListFilter,
    audit_register,
)
from clinic.models import PROTOCOL_FIELDS, Clinic, User
from patients.models import EmergencyAccess, MvcCalibration, Patient, PatientProtocol
from patients.services import patient_keep_creator_assigned

audit_register(Patient, m2m_fields={"therapists"})
audit_register(MvcCalibration)
audit_register(PatientProtocol)
audit_register(EmergencyAccess)

# Shown only to users with patients.view_identifying_data (researchers lack it). Free text (notes,
# void reasons) counts as identifying: it often names the patient or their family.
IDENTITY_FIELDS = ("first_name", "last_name", "mrn", "date_of_birth", "notes", "void_reason")


class PatientAdminForm(forms.ModelForm):
    class Meta:
        model = Patient
        fields = (
            "clinic",
            "code",
            "is_active",
            "first_name",
            "last_name",
            "mrn",
            "date_of_birth",
            "sex",
            "diagnosis",
            "treatment_start",
            "planned_sessions",
            "therapists",
            "notes",
        )

    def clean(self):
        cleaned = super().clean()
        clinic = cleaned.get("clinic", getattr(self.instance, "clinic", None))
        therapists = cleaned.get("therapists")
        if clinic is not None and therapists:
            foreign = [t for t in therapists if t.clinic_id != clinic.pk]
            if foreign:
                self.add_error(
                    "therapists",
                    "Therapists must work in the patient's clinic: "
                    + ", ".join(str(t) for t in foreign),
                )
        return cleaned


@admin.register(Patient)
class PatientAdmin(ScopedAdminMixin, VoidableAdminMixin, admin.ModelAdmin):
    form = PatientAdminForm
    void_permission = "void_patient"
    actions = ["void_selected"]
    list_display = ("code", "name", "clinic", "therapist_count", "is_active", "voided")
    list_filter = (
        ("clinic", admin.RelatedOnlyFieldListFilter),
        "is_active",
        VoidedListFilter,
        "sex",
        ("therapists", admin.RelatedOnlyFieldListFilter),
    )
    list_select_related = ("clinic",)
    search_fields = ("code", "first_name", "last_name", "mrn")
    filter_horizontal = ("therapists",)
    readonly_fields = ("voided_at", "voided_by", "void_reason", "created_at", "updated_at")
    fieldsets = (
        (None, {"fields": ("clinic", "code", "is_active")}),
        ("Identity", {"fields": ("first_name", "last_name", "mrn", "date_of_birth", "sex")}),
        (
            "Treatment",
            {
                "fields": (
                    "diagnosis",
                    "treatment_start",
                    "planned_sessions",
                    "therapists",
                    "notes",
                )
            },
        ),
        ("Voiding", {"fields": ("voided_at", "voided_by", "void_reason")}),
        ("Record", {"fields": ("created_at", "updated_at")}),
    )

    def scope_queryset(self, request, queryset):
        return queryset.visible_to(request.user).annotate(
            _therapists=Count("therapists", distinct=True)
        )

    @admin.display(description="name", ordering="last_name")
    def name(self, obj):
        return obj.full_name

    @admin.display(description="therapists", ordering="_therapists")
    def therapist_count(self, obj):
        return obj._therapists

    def get_list_display(self, request):
        shown = super().get_list_display(request)
        if self.shows_identity(request):
            return shown
        return tuple(f for f in shown if f != "name")

    def get_search_fields(self, request):
        return self.search_fields if self.shows_identity(request) else ("code",)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if self.shows_identity(request):
            return fieldsets
        return [
            (name, {**opts, "fields": tuple(f for f in opts["fields"] if f not in IDENTITY_FIELDS)})
            for name, opts in fieldsets
        ]

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("patients.assign_therapists"):
            readonly += ("therapists",)
        return readonly

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic" and not request.user.is_superuser:
            kwargs["queryset"] = Clinic.objects.filter(pk=request.user.clinic_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "therapists":
            staff = User.objects.filter(is_active=True, clinic__isnull=False)
            if not request.user.is_superuser:
                staff = staff.filter(clinic_id=request.user.clinic_id)
            kwargs["queryset"] = staff.select_related("clinic")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        if not change:
            patient_keep_creator_assigned(by=request.user, patient=form.instance)


class PatientScopedAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Admin of a model hanging off a patient: scope, choices and free text follow the patient."""

    free_text_fields: tuple[str, ...] = ()

    def scope_queryset(self, request, queryset):
        return queryset.visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "patient":
            kwargs["queryset"] = Patient.objects.visible_to(request.user).active()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_fields(self, request, obj=None):
        return self.without_free_text(request, super().get_fields(request, obj))

    def without_free_text(self, request, fields):
        if self.shows_identity(request):
            return list(fields)
        return [f for f in fields if f not in self.free_text_fields]


class MvcCalibrationAdminForm(forms.ModelForm):
    """An entered MVC in microvolts, as every page shows it (stored in volts)."""

    value_uv = forms.FloatField(
        label="MVC (µV)", min_value=0.001, help_text="The muscle's maximum voluntary contraction."
    )

    class Meta:
        model = MvcCalibration
        fields = ("patient", "side", "muscle", "notes")

    def save(self, commit=True):
        self.instance.value_v = self.cleaned_data["value_uv"] / 1e6
        return super().save(commit=commit)


@admin.register(MvcCalibration)
class MvcCalibrationAdmin(PatientScopedAdmin):
    """Calibrations are append-only: a new value is a new row; measured files come from pages."""

    list_display = ("patient", "side", "muscle", "value_uv", "source", "created_by", "created_at")
    list_filter = ("source", "side", ("patient__clinic", admin.RelatedOnlyFieldListFilter))
    list_select_related = ("patient", "created_by")
    search_fields = ("patient__code", "muscle")
    free_text_fields = ("notes",)
    add_fields = ("patient", "side", "muscle", "value_uv", "notes")
    form = MvcCalibrationAdminForm
    view_fields = (
        "patient",
        "side",
        "muscle",
        "value_uv",
        "source",
        "stored_as",
        "original_name",
        "sha256",
        "notes",
        "created_by",
        "created_at",
    )

    def get_fields(self, request, obj=None):
        return self.without_free_text(request, self.add_fields if obj is None else self.view_fields)

    def get_readonly_fields(self, request, obj=None):
        return () if obj is None else self.view_fields

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="MVC (µV)", ordering="value_v")
    def value_uv(self, obj):
        number = finite_or_none(obj.value_v)
        return "-" if number is None else f"{number * 1e6:.1f}"

    @admin.display(description="stored as")
    def stored_as(self, obj):
        return obj.file.name or "-"

    def save_model(self, request, obj, form, change):
        obj.source = MvcCalibration.Source.ENTERED
        obj.created_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(PatientProtocol)
class PatientProtocolAdmin(PatientScopedAdmin):
    list_display = ("patient", *PROTOCOL_FIELDS, "updated_by", "updated_at")
    list_select_related = ("patient", "updated_by")
    list_filter = (("patient__clinic", admin.RelatedOnlyFieldListFilter),)
    search_fields = ("patient__code",)
    readonly_fields = ("updated_by", "updated_at")

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly if obj is None else ("patient", *readonly)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        obj.updated_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(EmergencyAccess)
class EmergencyAccessAdmin(PatientScopedAdmin):
    """Break-the-glass grants, read only: opened on the emergency page, acknowledged from the
    managers' dashboard; the reason is free text (hidden from those who may not see identity)."""

    list_display = ("patient", "user", "started_at", "expires_at", "acknowledged_by")
    list_filter = (("patient__clinic", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("patient", "user", "acknowledged_by")
    search_fields = ("patient__code",)
    free_text_fields = ("reason",)
    fields = (
        "patient",
        "user",
        "reason",
        "started_at",
        "expires_at",
        "acknowledged_by",
        "acknowledged_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
