"""The admin side of the access policy, shared by every app's admin.py.

Django admin checks model permissions only; these pieces narrow each admin to the objects
``clinic.access`` lets the user see, turn "object not in my queryset" into a 404 (Django's default
is a redirect to the index with a message, which also confirms nothing but is inconsistent with
every other surface), and void clinical records through an action that asks for a reason.

Researchers: the demo researcher has no admin access (``is_staff`` off); they use the
pseudonymised pages. Should an administrator give one admin access anyway, every admin here hides
identity from users without ``patients.view_identifying_data``: codes only, no names, MRN, birth
date or free text, and searches by code only.
"""

from __future__ import annotations

from auditlog.registry import auditlog
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db import transaction
from django.http import Http404
from django.template.response import TemplateResponse

from clinic.access import can_see_identity
from clinic.audit import Action, AuditUnavailable, patient_ids_for, record_access
from clinic.web import audit_unavailable_response


def audit_register(model, **options) -> None:
    """Register ``model`` with django-auditlog once, whichever app gets there first."""
    if not auditlog.contains(model):
        auditlog.register(model, **options)


# Fields that identify a patient, on whichever model a lookup ends: ``?first_name__startswith=``,
# ``?session__patient__mrn=`` or ``?original_name__icontains=`` would recover an identity one
# character at a time from a list's count.
IDENTITY_FIELDS = frozenset(
    {
        "first_name",
        "last_name",
        "mrn",
        "date_of_birth",
        "notes",
        "void_reason",
        "original_name",
        "metadata",
        "file",
        "sha256",
    }
)


class ScopedAdminMixin:
    """Admin limited to the access policy; out of scope is 404 like on every other surface.

    Subclasses implement ``scope_queryset(request, queryset)``; superusers are narrowed too, by
    the same policy, which gives them everything.

    Admins of patient data (models with a ``PATIENT_PATH``) write the audit trail here: one
    entry per change list page (the patients it shows), per object page and history (view), and
    per saved addition, change or void (in the admin's own transaction: no entry, no change).
    """

    def scope_queryset(self, request, queryset):
        raise NotImplementedError

    def get_queryset(self, request):
        return self.scope_queryset(request, super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        obj = super().get_object(request, object_id, from_field)
        if obj is None:
            raise Http404("Not found.")
        return obj

    # Audit trail ------------------------------------------------------------------------------

    def audits_patient_data(self) -> bool:
        return hasattr(self.model, "PATIENT_PATH")

    def audit(self, request, action, pks, *, object_id=""):
        """One entry for rows ``pks`` of this model; raises AuditUnavailable if not written."""
        record_access(
            request,
            action,
            patient_ids_for(self.model, pks),
            object_type=self.model._meta.label_lower,
            object_id=object_id,
        )

    def audited_response(self, request, response, action, pks, *, object_id=""):
        if not self.audits_patient_data() or response.status_code != 200 or not pks:
            return response
        try:
            self.audit(request, action, pks, object_id=object_id)
        except AuditUnavailable:
            return audit_unavailable_response()
        return response

    def changelist_view(self, request, extra_context=None):
        response = super().changelist_view(request, extra_context)
        changelist = getattr(response, "context_data", {}).get("cl")
        pks = [obj.pk for obj in changelist.result_list] if changelist is not None else []
        return self.audited_response(request, response, Action.VIEW, pks)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        # A saved change is recorded by log_change; this records the page shown (GET or errors).
        response = super().change_view(request, object_id, form_url, extra_context)
        return self.audited_response(
            request, response, Action.VIEW, [object_id], object_id=object_id
        )

    def history_view(self, request, object_id, extra_context=None):
        response = super().history_view(request, object_id, extra_context)
        return self.audited_response(
            request, response, Action.VIEW, [object_id], object_id=object_id
        )

    def log_addition(self, request, obj, message):
        if self.audits_patient_data():
            self.audit(request, Action.CREATE, [obj.pk], object_id=obj.pk)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        if self.audits_patient_data():
            action = Action.VOID if message == VOIDED_MESSAGE else Action.CHANGE
            self.audit(request, action, [obj.pk], object_id=obj.pk)
        return super().log_change(request, obj, message)

    def shows_identity(self, request) -> bool:
        return can_see_identity(request.user)

    def lookup_allowed(self, lookup, value, request):
        """Lookups on identity fields are refused (400) to those who may not see identity."""
        if not self.shows_identity(request) and IDENTITY_FIELDS & set(lookup.split("__")):
            return False
        return super().lookup_allowed(lookup, value, request)


# The admin history's message for a void; the audit trail records it as a void, not a change.
VOIDED_MESSAGE = "Voided."


class VoidedListFilter(admin.SimpleListFilter):
    title = "voided"
    parameter_name = "voided"

    def lookups(self, request, model_admin):
        return [("no", "Not voided"), ("yes", "Voided")]

    def queryset(self, request, queryset):
        if self.value() == "no":
            return queryset.filter(voided_at__isnull=True)
        if self.value() == "yes":
            return queryset.filter(voided_at__isnull=False)
        return queryset


class VoidForm(forms.Form):
    reason = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
        max_length=2000,
        help_text="Required. Kept on the record with your name and the time.",
    )


class VoidableAdminMixin:
    """Voiding instead of deleting: an action with an intermediate page that asks for a reason.

    ``void_permission`` is the codename (in the model's app) that allows the action.
    """

    void_permission: str = ""

    def has_delete_permission(self, request, obj=None):
        return False

    def has_void_permission(self, request):
        opts = self.model._meta
        return request.user.has_perm(f"{opts.app_label}.{self.void_permission}")

    @admin.display(boolean=True, description="voided", ordering="voided_at")
    def voided(self, obj):
        return obj.voided_at is not None

    @admin.action(description="Void selected %(verbose_name_plural)s", permissions=["void"])
    def void_selected(self, request, queryset):
        form = VoidForm(request.POST if "confirm_void" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            with transaction.atomic():
                # The changelist queryset is annotated (GROUP BY): lock the rows by id instead.
                ids = list(queryset.values_list("pk", flat=True))
                targets = list(
                    self.model._default_manager.select_for_update()
                    .filter(pk__in=ids, voided_at__isnull=True)
                    .order_by("pk")
                )
                for obj in targets:
                    obj.void(by=request.user, reason=reason)
                    # The reason is free text (it may name people): it stays on the record,
                    # where identity rules apply, not in the history everyone in scope reads.
                    self.log_change(request, obj, VOIDED_MESSAGE)
            self.message_user(request, f"Voided {len(targets)} record(s).", messages.SUCCESS)
            return None
        opts = self.model._meta
        objects = list(queryset)
        try:  # the confirmation page lists the records: a read like any other
            self.audit(request, Action.VIEW, [obj.pk for obj in objects])
        except AuditUnavailable:
            return audit_unavailable_response()
        context = {
            **self.admin_site.each_context(request),
            "title": f"Void {opts.verbose_name_plural}",
            "opts": opts,
            "objects": objects,
            "form": form,
            "action_name": "void_selected",
            "action_checkbox_name": ACTION_CHECKBOX_NAME,
            "media": self.media,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, "admin/void_confirmation.html", context)
