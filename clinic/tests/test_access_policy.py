"""The access policy itself: scopes, identity masking and the 404/403 rule."""

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from clinic import access
from patients.models import Patient
from sessions.models import TherapySession


def visible_codes(user):
    return set(Patient.objects.visible_to(user).values_list("code", flat=True))


@pytest.mark.django_db
def test_each_persona_sees_exactly_their_scope(everyone):
    assert visible_codes(everyone["alice"]) == {"P001"}
    assert visible_codes(everyone["bob"]) == {"P002"}
    assert visible_codes(everyone["carol"]) == {"P001", "P002"}
    assert visible_codes(everyone["rita"]) == {"P001", "P002"}
    assert visible_codes(everyone["dave"]) == {"S001"}
    assert visible_codes(everyone["zoe"]) == {"P001", "P002", "S001"}
    assert visible_codes(AnonymousUser()) == set()


@pytest.mark.django_db
def test_a_therapist_loses_a_patient_when_unassigned(everyone):
    everyone["alices_patient"].therapists.remove(everyone["alice"])
    assert visible_codes(everyone["alice"]) == set()


@pytest.mark.django_db
def test_staff_without_a_role_or_clinic_see_nothing(north, alices_patient):
    from conftest import make_staff

    no_role = make_staff("nobody@north.test", "No Role", north)
    assert visible_codes(no_role) == set()
    no_clinic = make_staff("drifter@north.test", "No Clinic", None, "Clinic manager")
    assert visible_codes(no_clinic) == set()


@pytest.mark.django_db
def test_sessions_follow_their_patients(everyone, session_of):
    mine = session_of(everyone["alices_patient"])
    session_of(everyone["bobs_patient"])
    assert list(TherapySession.objects.visible_to(everyone["alice"])) == [mine]
    assert TherapySession.objects.visible_to(everyone["carol"]).count() == 2
    assert TherapySession.objects.visible_to(everyone["dave"]).count() == 0


@pytest.mark.django_db
def test_researchers_cannot_see_identity_but_clinicians_can(everyone):
    assert access.can_see_identity(everyone["alice"])
    assert access.can_see_identity(everyone["carol"])
    assert access.can_see_identity(everyone["zoe"])
    assert not access.can_see_identity(everyone["rita"])
    assert not access.can_see_identity(AnonymousUser())


@pytest.mark.django_db
def test_out_of_scope_is_404_and_missing_permission_is_403(everyone):
    alice, rita = everyone["alice"], everyone["rita"]
    with pytest.raises(Http404):
        access.get_visible_or_404(
            Patient.objects.visible_to(alice), user=alice, pk=everyone["bobs_patient"].pk
        )
    with pytest.raises(Http404):
        access.get_visible_or_404(Patient.objects.visible_to(alice), user=alice, pk="not-a-number")
    with pytest.raises(PermissionDenied):
        access.get_visible_or_404(
            Patient.objects.visible_to(rita),
            user=rita,
            perm="patients.change_patient",
            pk=everyone["alices_patient"].pk,
        )


def test_age_band_replaces_birth_dates():
    today = dt.date(2026, 11, 22)
    assert access.age_band(dt.date(1950, 11, 23), today=today) == "70-79"
    assert access.age_band(dt.date(1950, 11, 22), today=today) == "70-79"
    assert access.age_band(dt.date(1946, 11, 23), today=today) == "70-79"
    assert access.age_band(dt.date(1946, 11, 22), today=today) == "80-89"
    assert access.age_band(None) == "unknown"
