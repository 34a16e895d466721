"""A clinic manager creates and edits staff accounts of their clinic in admin, and nothing more."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from clinic.models import User
from conftest import make_staff

NEW_PASSWORD = "a-long-enough-staff-password-9"


@pytest.fixture
def manager(carol):
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    return carol


def add_form(clinic, *groups, email="newbie@north.test", **extra):
    return {
        "email": email,
        "full_name": "Nina Newbie",
        "clinic": clinic.pk if clinic else "",
        "groups": [g.pk for g in groups],
        "usable_password": "true",
        "password1": NEW_PASSWORD,
        "password2": NEW_PASSWORD,
        **extra,
    }


def change_form(user, **extra):
    data = {
        "email": user.email,
        "full_name": user.full_name,
        "clinic": user.clinic_id or "",
        "is_active": "on",
        "groups": list(user.groups.values_list("pk", flat=True)),
    }
    data.update(extra)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.django_db
def test_a_manager_creates_a_therapist_in_their_clinic_who_can_log_in(client, manager, north):
    client.force_login(manager)
    therapist = Group.objects.get(name="Therapist")
    response = client.post(reverse("admin:clinic_user_add"), add_form(north, therapist))
    assert response.status_code == 302
    user = User.objects.get(email="newbie@north.test")
    assert user.clinic == north
    assert list(user.groups.all()) == [therapist]
    assert not user.is_staff
    assert not user.is_superuser
    client.logout()
    assert client.login(email="newbie@north.test", password=NEW_PASSWORD)


@pytest.mark.django_db
def test_a_manager_cannot_create_staff_in_another_clinic(client, manager, south):
    client.force_login(manager)
    response = client.post(
        reverse("admin:clinic_user_add"), add_form(south, Group.objects.get(name="Therapist"))
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert not User.objects.filter(email="newbie@north.test").exists()


@pytest.mark.django_db
def test_a_manager_must_put_new_staff_in_a_clinic(client, manager):
    client.force_login(manager)
    response = client.post(reverse("admin:clinic_user_add"), add_form(None))
    assert response.status_code == 200
    assert not User.objects.filter(email="newbie@north.test").exists()


@pytest.mark.django_db
def test_an_email_is_taken_whatever_its_case(client, manager, north, bob):
    client.force_login(manager)
    response = client.post(
        reverse("admin:clinic_user_add"), add_form(north, email="BOB@North.test")
    )
    assert response.status_code == 200
    assert "already exists" in response.content.decode()
    assert User.objects.filter(email__iexact="bob@north.test").count() == 1


@pytest.mark.django_db
def test_a_manager_can_only_grant_the_role_groups(client, manager, north, bob):
    powerful = Group.objects.create(name="Data administrators")
    client.force_login(manager)
    page = client.get(reverse("admin:clinic_user_change", args=[bob.pk])).content.decode()
    assert "Data administrators" not in page
    response = client.post(
        reverse("admin:clinic_user_change", args=[bob.pk]),
        change_form(bob, groups=[powerful.pk]),
    )
    assert response.status_code == 200
    assert not bob.groups.filter(pk=powerful.pk).exists()


@pytest.mark.django_db
def test_a_manager_cannot_make_anyone_superuser_or_grant_permissions(client, manager, bob):
    client.force_login(manager)
    page = client.get(reverse("admin:clinic_user_change", args=[manager.pk])).content.decode()
    assert 'name="is_superuser"' not in page
    assert 'name="user_permissions"' not in page
    # Crafted fields are ignored: they are not on the manager's form.
    response = client.post(
        reverse("admin:clinic_user_change", args=[manager.pk]),
        change_form(manager, is_staff="on", is_superuser="on", user_permissions=[1, 2, 3]),
    )
    assert response.status_code == 302
    manager.refresh_from_db()
    assert not manager.is_superuser
    assert not manager.user_permissions.exists()


@pytest.mark.django_db
def test_a_manager_cannot_move_staff_to_another_clinic(client, manager, bob, south):
    client.force_login(manager)
    response = client.post(
        reverse("admin:clinic_user_change", args=[bob.pk]), change_form(bob, clinic=south.pk)
    )
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.clinic_id == manager.clinic_id


@pytest.mark.django_db
def test_a_manager_never_sees_superusers_even_with_a_clinic(client, manager, zoe, north):
    zoe.clinic = north
    zoe.save(update_fields=["clinic"])
    client.force_login(manager)
    assert client.get(reverse("admin:clinic_user_change", args=[zoe.pk])).status_code == 404
    listing = client.get(reverse("admin:clinic_user_changelist")).content.decode()
    assert "zoe@admin.test" not in listing


@pytest.mark.django_db
def test_a_superuser_creates_an_administrator_without_clinic_or_password(client, zoe):
    client.force_login(zoe)
    response = client.post(
        reverse("admin:clinic_user_add"),
        add_form(
            None, email="Ops@Example.org", usable_password="false", password1="", password2=""
        ),
    )
    assert response.status_code == 302
    user = User.objects.get(email="ops@example.org")
    assert user.clinic is None
    assert not user.has_usable_password()


@pytest.mark.django_db
def test_the_user_list_shows_roles_without_a_query_per_row(
    client, manager, north, django_assert_max_num_queries
):
    for n in range(15):
        make_staff(f"t{n}@north.test", f"Therapist {n}", north, "Therapist")
    client.force_login(manager)
    with django_assert_max_num_queries(14):
        response = client.get(reverse("admin:clinic_user_changelist"))
    assert response.status_code == 200
    assert "Therapist 14" in response.content.decode()
