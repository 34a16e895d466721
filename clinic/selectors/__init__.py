"""Read-only queries for clinic pages: the dashboard (``dashboard``, its adherence figures in
``adherence``), the clinic's settings, API tokens and audit trail."""

import django_filters
from django import forms
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404

from analysis.grading import standard_weights, weights_text
from clinic.audit import entry_ids_for_patients, report_rows
from clinic.models import ApiToken, AuditEntry, Clinic, ClinicSettings, User
from clinic.selectors.adherence import (
    ADHERENCE_WINDOW_DAYS,
    _adherence,
    window_expected,
)
from clinic.selectors.dashboard import (
    DASHBOARD_DAY_LIST,
    DASHBOARD_LIST,
    PATIENT_ADHERENCE_LIST,
    DashboardFilter,
    dashboard_for,
    dashboard_therapists,
)
from patients.models import Patient

__all__ = [
    "ADHERENCE_WINDOW_DAYS",
    "DASHBOARD_DAY_LIST",
    "DASHBOARD_LIST",
    "PATIENT_ADHERENCE_LIST",
    "DashboardFilter",
    "_adherence",
    "dashboard_for",
    "dashboard_therapists",
    "window_expected",
]


def clinics_for_choice():
    """Every clinic, for a superuser choosing whose settings to edit."""
    return Clinic.objects.order_by("name")


def clinic_or_404(clinic_id) -> Clinic:
    try:
        return Clinic.objects.get(pk=int(clinic_id))
    except (Clinic.DoesNotExist, ValueError, TypeError) as exc:
        raise Http404("Not found.") from exc


def settings_versions(clinic) -> list[ClinicSettings]:
    """Every settings version of the clinic, newest (the one that applies) first.

    Each carries ``weights_label``: its score weights in words ("standard" when it set none).
    """
    versions = list(
        ClinicSettings.objects.filter(clinic=clinic)
        .select_related("created_by")
        .order_by("-version")
    )
    for version in versions:
        own = version.scoring_weights or {}
        text = weights_text({**standard_weights(), **own})
        version.weights_label = text if own else f"standard ({text})"
    return versions


def api_tokens_of(user) -> list:
    """The user's own API tokens, newest first (never anyone else's)."""
    return list(ApiToken.objects.filter(user=user).order_by("-created_at", "-pk"))


AUDIT_PAGE_SIZE = 50


def audit_entries_for(user):
    """The entries a manager may read: their clinic's staff and patients (superusers: all)."""
    if user.is_superuser:
        return AuditEntry.objects.order_by("-seq")
    if user.clinic_id is None:
        return AuditEntry.objects.none()
    patients = Patient.objects.filter(clinic_id=user.clinic_id).values("pk")
    return AuditEntry.objects.filter(
        Q(clinic_id=user.clinic_id) | Q(patient_id__in=patients)
    ).order_by("-seq")


def date_range_widget():
    """Two date inputs, each with its own accessible name (one label cannot name both)."""
    widget = django_filters.widgets.DateRangeWidget(attrs={"type": "date"})
    for subwidget, name in zip(widget.widgets, ("From date", "To date"), strict=True):
        subwidget.attrs["aria-label"] = name
    return widget


class AuditEntryFilter(django_filters.FilterSet):
    """Filters of the clinic's audit page; invalid values are form errors, never a 500."""

    user = django_filters.ModelChoiceFilter(
        label="User", field_name="actor", queryset=User.objects.none(), empty_label="Anyone"
    )
    patient = django_filters.CharFilter(
        label="Patient code", method="filter_patient", widget=forms.TextInput
    )
    action = django_filters.ChoiceFilter(choices=AuditEntry.Action.choices, empty_label="Any")
    purpose = django_filters.ChoiceFilter(choices=AuditEntry.Purpose.choices, empty_label="Any")
    date = django_filters.DateFromToRangeFilter(
        label="Date (from, to)",
        field_name="created_at",
        widget=date_range_widget(),
    )

    class Meta:
        model = AuditEntry
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        staff = (
            User.objects.all()
            if user.is_superuser
            else User.objects.filter(clinic_id=user.clinic_id)
        )
        self.filters["user"].queryset = staff.order_by("full_name", "email")

    def filter_patient(self, queryset, name, value):
        ids = list(
            Patient.objects.visible_to(self.user)
            .filter(code__iexact=value.strip())
            .values_list("pk", flat=True)
        )
        return queryset.filter(pk__in=entry_ids_for_patients(ids))


def audit_page(user, params, page_number):
    """The filter set, one page of entries as report rows, and the codes of their patients."""
    filterset = AuditEntryFilter(params, queryset=audit_entries_for(user), user=user)
    entries = filterset.qs if filterset.is_valid() else AuditEntry.objects.none()
    page = Paginator(entries, AUDIT_PAGE_SIZE).get_page(page_number)
    shown = {pk for entry in page.object_list for pk in entry.patient_id_list}
    codes = dict(Patient.objects.visible_to(user).filter(pk__in=shown).values_list("pk", "code"))
    rows = []
    for entry, row in zip(page.object_list, report_rows(page.object_list), strict=True):
        ids = entry.patient_id_list
        row["patient"] = (
            codes.get(ids[0], f"#{ids[0]}") if len(ids) == 1 else f"{len(ids)} patients"
        )
        row["patient_ids"] = ids
        rows.append(row)
    return filterset, page, rows
