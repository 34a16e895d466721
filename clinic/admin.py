"""Admin for clinics, staff accounts and the audit log.

Superusers manage everything. A clinic manager with ``is_staff`` manages the staff accounts of
their own clinic: they see only those accounts (never superusers), can only pick their clinic and
the role groups, and never see ``is_superuser`` or per-user permissions.
"""

from auditlog.admin import LogEntryAdmin
from auditlog.models import LogEntry
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import (
    BaseUserCreationForm,
    SetUnusablePasswordMixin,
    UserChangeForm,
)
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count
from django.forms.models import model_to_dict

from clinic.admin_scope import ScopedAdminMixin, audit_register
from clinic.models import PROTOCOL_FIELDS, ApiToken, Clinic, ClinicSettings, User
from clinic.roles import ROLE_GROUPS
from clinic.services import clinic_settings_add

audit_register(Clinic)
audit_register(ClinicSettings)
audit_register(ApiToken, exclude_fields=["key_hash"])
audit_register(User, exclude_fields=["password", "last_login"], m2m_fields={"groups"})


class StaffCreationForm(SetUnusablePasswordMixin, BaseUserCreationForm):
    """New account: email, name, clinic and roles, with or without a password."""

    usable_password = SetUnusablePasswordMixin.create_usable_password_field()

    class Meta:
        model = User
        fields = ("email", "full_name", "clinic", "groups")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["password1"].required = False
        self.fields["password2"].required = False

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        if User.objects.filter(email__iexact=email).exists():
            raise ValidationError("An account with this email address already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups") or []
        if cleaned.get("clinic") is None and any(g.name in ROLE_GROUPS for g in groups):
            self.add_error("clinic", "Clinic staff must belong to a clinic.")
        return cleaned


class StaffChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = (
            "email",
            "password",
            "full_name",
            "clinic",
            "is_active",
            "is_staff",
            "is_superuser",
            "groups",
            "user_permissions",
        )

    def clean_email(self):
        email = User.objects.normalize_email(self.cleaned_data["email"]).lower()
        others = User.objects.exclude(pk=self.instance.pk)
        if others.filter(email__iexact=email).exists():
            raise ValidationError("An account with this email address already exists.")
        return email

    def clean(self):
        cleaned = super().clean()
        groups = cleaned.get("groups") or []
        is_superuser = cleaned.get("is_superuser", self.instance.is_superuser)
        if (
            not is_superuser
            and "clinic" in cleaned
            and cleaned["clinic"] is None
            and any(g.name in ROLE_GROUPS for g in groups)
        ):
            self.add_error("clinic", "Clinic staff must belong to a clinic.")
        return cleaned


@admin.register(User)
class UserAdmin(ScopedAdminMixin, DjangoUserAdmin):
    form = StaffChangeForm
    add_form = StaffCreationForm
    list_display = (
        "email",
        "full_name",
        "clinic",
        "roles",
        "is_active",
        "is_staff",
        "last_login",
    )
    list_filter = (
        ("clinic", admin.RelatedOnlyFieldListFilter),
        "groups",
        "is_staff",
        "is_active",
    )
    list_select_related = ("clinic",)
    search_fields = ("email", "full_name")
    ordering = ("email",)
    readonly_fields = ("last_login", "date_joined")
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("full_name", "clinic")}),
        (
            "Permissions",
            {
                "fields": (
                    "is_active",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                )
            },
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": (
                    "email",
                    "full_name",
                    "clinic",
                    "groups",
                    "usable_password",
                    "password1",
                    "password2",
                ),
            },
        ),
    )
    # Only superusers see these; a manager must not escalate anyone (themselves included).
    superuser_only_fields = ("is_superuser", "user_permissions")

    def scope_queryset(self, request, queryset):
        queryset = queryset.prefetch_related("groups")
        user = request.user
        if user.is_superuser:
            return queryset
        if user.clinic_id is None:
            return queryset.none()
        return queryset.filter(clinic_id=user.clinic_id, is_superuser=False)

    @admin.display(description="roles")
    def roles(self, obj):
        return ", ".join(sorted(g.name for g in obj.groups.all()))

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:
            return fieldsets
        return [
            (
                name,
                {
                    **options,
                    "fields": tuple(
                        f for f in options["fields"] if f not in self.superuser_only_fields
                    ),
                },
            )
            for name, options in fieldsets
        ]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic" and not request.user.is_superuser:
            kwargs["queryset"] = Clinic.objects.filter(pk=request.user.clinic_id)
            kwargs["required"] = True
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_GROUPS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        # Defence in depth behind the narrowed form: a manager never writes outside their clinic.
        if not request.user.is_superuser and (
            obj.is_superuser or obj.clinic_id != request.user.clinic_id
        ):
            raise PermissionDenied("Staff accounts can only be managed in your own clinic.")
        super().save_model(request, obj, form, change)


@admin.register(Clinic)
class ClinicAdmin(ScopedAdminMixin, admin.ModelAdmin):
    list_display = ("name", "code", "is_active", "staff_count", "patient_count", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "code")
    prepopulated_fields = {"code": ("name",)}

    def scope_queryset(self, request, queryset):
        queryset = queryset.annotate(
            _staff=Count("staff", distinct=True), _patients=Count("patients", distinct=True)
        )
        if request.user.is_superuser:
            return queryset
        return queryset.filter(pk=request.user.clinic_id)

    @admin.display(description="staff", ordering="_staff")
    def staff_count(self, obj):
        return obj._staff

    @admin.display(description="patients", ordering="_patients")
    def patient_count(self, obj):
        return obj._patients


@admin.register(ClinicSettings)
class ClinicSettingsAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Versions are never edited: "add" saves a new version, prefilled from the newest one."""

    list_display = ("clinic", "version", *PROTOCOL_FIELDS, "created_by", "created_at")
    list_filter = (("clinic", admin.RelatedOnlyFieldListFilter),)
    list_select_related = ("clinic", "created_by")
    readonly_fields = ("version", "created_by", "created_at")
    copied_fields = (
        *PROTOCOL_FIELDS,
        "scoring_weights",
        "bfr_safe_low_pct_aop",
        "bfr_safe_high_pct_aop",
        "game_score_max",
        "channel_map",
    )

    def scope_queryset(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(clinic_id=request.user.clinic_id)

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "clinic" and not request.user.is_superuser:
            kwargs["queryset"] = Clinic.objects.filter(pk=request.user.clinic_id)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        clinic_id = request.user.clinic_id
        if request.user.is_superuser:
            # A superuser picks the clinic with ?clinic=<id>; others only ever get their own.
            clinic_id = str(initial.get("clinic", "")) or clinic_id
        if clinic_id is None or not str(clinic_id).isdigit():
            return initial
        current = ClinicSettings.objects.current_for(int(clinic_id))
        if current is not None:
            initial.update(model_to_dict(current, fields=self.copied_fields))
        initial["clinic"] = int(clinic_id)
        return initial

    def save_model(self, request, obj, form, change):
        clinic_settings_add(row=obj, user=request.user)


class AuditLogEntryAdmin(LogEntryAdmin):
    """The audit trail holds every change, names included: superusers only."""

    search_fields = ("object_repr", "changes", "actor__email", "actor__full_name")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


admin.site.unregister(LogEntry)
admin.site.register(LogEntry, AuditLogEntryAdmin)


@admin.register(ApiToken)
class ApiTokenAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Personal API tokens, read only (only their hash is stored): an administrator sees who holds
    which token and when it was last used; owners create and revoke them on their account page."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_select_related = ("user",)
    search_fields = ("name", "user__email")
    fields = ("name", "user", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields

    def scope_queryset(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        return queryset.filter(user__clinic_id=request.user.clinic_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
