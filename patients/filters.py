"""The patient list's search and filters (django-filter), shared by the page and the API."""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Q

from clinic.access import can_see_identity
from clinic.models import User
from clinic.roles import THERAPIST
from clinic.widgets import Select
from patients.models import Patient


class PatientFilter(django_filters.FilterSet):
    """Search and filters of the patient list; invalid values are form errors, never a 500."""

    q = django_filters.CharFilter(label="Search", method="search", widget=forms.SearchInput)
    active = django_filters.ChoiceFilter(
        label="Status",
        choices=[("yes", "Active"), ("no", "Inactive")],
        empty_label="All",
        method="filter_active",
    )
    therapist = django_filters.ModelChoiceFilter(
        label="Therapist",
        field_name="therapists",
        queryset=User.objects.none(),
        empty_label="Any therapist",
        widget=Select,
    )
    voided = django_filters.BooleanFilter(
        label="Show voided patients",
        widget=forms.CheckboxInput,
        method="filter_noop",
    )

    class Meta:
        model = Patient
        fields: list[str] = []

    def __init__(self, data=None, *args, user, **kwargs):
        super().__init__(data, *args, **kwargs)
        self.user = user
        self.identity = can_see_identity(user)
        if not user.has_perm("patients.void_patient"):
            del self.filters["voided"]  # before the form is built from the filters
        if user.is_superuser:
            therapists = User.objects.filter(groups__name=THERAPIST)
        else:
            therapists = User.objects.therapists_of_clinic(user.clinic_id)
        self.filters["therapist"].queryset = therapists
        # The user's own choices on this form's copy of the field (the form class is shared).
        self.form.fields["therapist"].queryset = therapists
        self.form.fields["q"].help_text = "Code, name or MRN." if self.identity else "Patient code."

    def get_form_class(self):
        """The form class of these filters, built once per class and set of filters (with or
        without ``voided``) instead of on every request as django-filter does: building it
        builds every filter's form field. What depends on the user (the therapist choices, the
        search help) is set on each form's own copy of its fields in ``__init__``."""
        cls = type(self)
        forms_by_filters = cls.__dict__.get("_form_classes")
        if forms_by_filters is None:
            forms_by_filters = cls._form_classes = {}
        key = tuple(self.filters)
        form = forms_by_filters.get(key)
        if form is None:
            form = super().get_form_class()
            # No user's choices kept in the shared class: each form gets its own in __init__.
            form.base_fields["therapist"].queryset = User.objects.none()
            forms_by_filters[key] = form
        return form

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        match = Q(code__icontains=value)
        if self.identity:
            match |= Q(mrn__icontains=value)
            words = value.split()
            names = Q()
            for word in words:
                names &= Q(first_name__icontains=word) | Q(last_name__icontains=word)
            match |= names
        return queryset.filter(match)

    def filter_active(self, queryset, name, value):
        return queryset.filter(is_active=(value == "yes"))

    def filter_noop(self, queryset, name, value):
        return queryset  # applied in filter_queryset: it widens rather than narrows

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        if not self.form.cleaned_data.get("voided"):
            queryset = queryset.active()
        return queryset
