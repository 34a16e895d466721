"""One query per request for a user's groups and permissions (``clinic.backends``,
``clinic.access.load_roles``): the same permissions as Django's ModelBackend and the same
groups, for every persona, a user with permissions of their own, a group without any, an
inactive user; read once per user object (request), so a change applies from the next."""

import pytest
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.models import Group, Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clinic.access import Scope, can_see_identity, group_names, scope_of
from clinic.models import User

pytestmark = pytest.mark.django_db


def fresh(user):
    return User.objects.get(pk=user.pk)


def django_view(user):
    user = fresh(user)
    return set(user.groups.values_list("name", flat=True)), ModelBackend().get_all_permissions(user)


@pytest.fixture
def odd(north):
    user = User.objects.create_user(email="odd@north.test", password="x" * 20)
    user.clinic = north
    user.save()
    user.groups.add(Group.objects.create(name="Empty group"))
    user.user_permissions.add(Permission.objects.get(codename="view_patient"))
    return user


@pytest.mark.parametrize("persona", ["alice", "carol", "rita", "dave", "odd"])
def test_the_same_groups_and_permissions_as_django(everyone, odd, persona):
    user = odd if persona == "odd" else everyone[persona]
    groups, perms = django_view(user)
    mine = fresh(user)
    assert mine.get_all_permissions() == perms
    assert group_names(mine) == groups
    for perm in ("patients.view_patient", "patients.void_patient", "clinic.view_auditentry"):
        assert fresh(user).has_perm(perm) == (perm in perms)


def test_one_query_per_user_object_for_scope_identity_and_every_permission(carol):
    user = fresh(carol)
    with CaptureQueriesContext(connection) as queries:
        assert scope_of(user) is Scope.CLINIC
        assert can_see_identity(user)
        assert user.has_perm("patients.void_patient")
        assert not user.has_perm("clinic.delete_clinic")
    assert len(queries) == 1


def test_a_change_of_groups_applies_to_the_next_request(carol):
    carol.groups.clear()
    user = fresh(carol)
    assert scope_of(user) is Scope.NONE
    assert not user.has_perm("patients.view_patient")


def test_inactive_users_and_superusers_follow_django(carol, zoe):
    carol.is_active = False
    carol.save()
    assert not fresh(carol).has_perm("patients.view_patient")
    assert fresh(carol).get_all_permissions() == set()
    assert fresh(zoe).has_perm("patients.void_patient")
    assert fresh(zoe).get_all_permissions() == ModelBackend().get_all_permissions(fresh(zoe))
