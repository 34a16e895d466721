"""Staff account services: who may create which account, and what a new account gets."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from clinic.models import User
from clinic.roles import RESEARCHER, THERAPIST
from clinic.services import staff_create, staff_ensure


@pytest.mark.django_db
def test_a_manager_creates_a_therapist_of_their_clinic(carol, north):
    user = staff_create(
        email="New.Person@North.test",
        full_name="New Person",
        clinic=north,
        roles=[THERAPIST],
        password="a-fine-long-password-1",
        created_by=carol,
    )
    assert user.email == "new.person@north.test"
    assert list(user.groups.values_list("name", flat=True)) == [THERAPIST]
    assert user.check_password("a-fine-long-password-1")
    assert not user.is_staff


@pytest.mark.django_db
def test_a_manager_cannot_create_accounts_in_another_clinic(carol, south):
    with pytest.raises(PermissionDenied):
        staff_create(
            email="x@south.test", full_name="X", clinic=south, roles=[THERAPIST], created_by=carol
        )
    assert not User.objects.filter(email="x@south.test").exists()


@pytest.mark.django_db
def test_a_therapist_cannot_create_accounts(alice, north):
    with pytest.raises(PermissionDenied):
        staff_create(email="y@north.test", full_name="Y", clinic=north, created_by=alice)


@pytest.mark.django_db
def test_a_manager_without_admin_access_cannot_grant_it(carol, north):
    with pytest.raises(PermissionDenied):
        staff_create(
            email="z@north.test", full_name="Z", clinic=north, is_staff=True, created_by=carol
        )


@pytest.mark.django_db
def test_emails_are_unique_whatever_their_case(alice, north):
    with pytest.raises(ValidationError):
        staff_create(email="ALICE@north.test", full_name="Alice Again", clinic=north)


@pytest.mark.django_db
def test_a_role_needs_a_clinic_and_must_exist(db):
    with pytest.raises(ValidationError):
        staff_create(email="a@x.test", full_name="A", clinic=None, roles=[RESEARCHER])
    with pytest.raises(ValidationError):
        staff_create(email="b@x.test", full_name="B", clinic=None, roles=["Overlord"])
    assert not User.objects.exists()


@pytest.mark.django_db
def test_an_account_without_a_password_cannot_log_in_until_one_is_set(client, north):
    user = staff_create(email="nopw@north.test", full_name="No Password", clinic=north)
    assert not user.has_usable_password()
    assert not client.login(email="nopw@north.test", password="")


@pytest.mark.django_db
def test_ensuring_an_account_twice_writes_once(north):
    kwargs = {
        "email": "demo@north.test",
        "full_name": "Demo",
        "clinic": north,
        "roles": [THERAPIST],
        "password": "a-fine-long-password-2",
    }
    first, changed_first = staff_ensure(**kwargs)
    again, changed_again = staff_ensure(**kwargs)
    assert changed_first
    assert not changed_again
    assert first.pk == again.pk
    assert User.objects.get(pk=first.pk).password == first.password
