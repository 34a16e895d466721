"""The patient list's therapist filter renders its options in Python
(``clinic.widgets.Select``): the same HTML as Django's own Select, byte for byte."""

import pytest
from django import forms

from clinic.widgets import Select
from conftest import make_staff
from patients.filters import PatientFilter

CASES = [
    ([("", "Any therapist"), (1, "Ann"), (2, "Bob")], None),
    ([("", "Any therapist"), (1, "Ann"), (2, "Bob")], "2"),
    ([(1, '<O\'Brien & "Co">'), (2, "Zoë")], 1),
    ([("North", [(1, "Ann"), (2, "Bob")]), ("South", [(3, "Cy")]), (4, "Dee")], "3"),
    ([], None),
]


@pytest.mark.parametrize(("choices", "value"), CASES)
@pytest.mark.parametrize(
    "attrs", [None, {"id": "id_therapist"}, {"disabled": True, "class": 'a"b', "x": False}]
)
def test_the_same_markup_as_djangos_select(choices, value, attrs):
    ours, django = Select(choices=choices), forms.Select(choices=choices)
    assert ours.render("therapist", value, attrs) == django.render("therapist", value, attrs)


@pytest.mark.django_db
def test_the_list_filter_renders_like_django(carol, alice, bob, north):
    make_staff("o@north.test", "<O'Brien & Co>", north, "Therapist")
    filterset = PatientFilter({"therapist": str(bob.pk)}, user=carol)
    ours = str(filterset.form["therapist"])
    field = filterset.form.fields["therapist"]
    field.widget = forms.Select(choices=field.choices)
    assert ours == str(filterset.form["therapist"])
    assert "&lt;O&#x27;Brien &amp; Co&gt;" in ours
    assert f'<option value="{bob.pk}" selected>' in ours


@pytest.mark.django_db
def test_each_filter_set_offers_its_own_users_therapists(carol, alice, bob, dave, rita):
    """The form class is built once per set of filters and shared: the therapist choices and
    their validation are still each user's own clinic, whoever built the class first."""
    south_manager = make_staff("m@south.test", "South Manager", dave.clinic, "Clinic manager")
    north = PatientFilter({"therapist": str(alice.pk)}, user=carol)
    south = PatientFilter({"therapist": str(alice.pk)}, user=south_manager)
    researcher = PatientFilter({"therapist": str(bob.pk)}, user=rita)
    assert type(north.form) is type(south.form)
    assert {u.pk for u in north.form.fields["therapist"].queryset} == {alice.pk, bob.pk}
    assert {u.pk for u in south.form.fields["therapist"].queryset} == {dave.pk}
    assert north.form.is_valid()
    assert north.form.cleaned_data["therapist"] == alice
    assert not south.form.is_valid()
    assert "therapist" in south.form.errors
    assert researcher.form.is_valid()
    assert "voided" in north.form.fields
    assert "voided" not in researcher.form.fields
    assert not list(type(north.form).base_fields["therapist"].queryset)
