"""Role groups' permissions are edited in admin, and the change takes effect for their members."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.urls import reverse

from clinic.models import User


@pytest.mark.django_db
def test_a_superuser_grants_a_role_a_permission_in_admin(client, zoe, alice):
    therapist = Group.objects.get(name="Therapist")
    void = Permission.objects.get(codename="void_patient", content_type__app_label="patients")
    assert not alice.has_perm("patients.void_patient")
    client.force_login(zoe)
    response = client.post(
        reverse("admin:auth_group_change", args=[therapist.pk]),
        {
            "name": therapist.name,
            "permissions": [*therapist.permissions.values_list("pk", flat=True), void.pk],
        },
    )
    assert response.status_code == 302
    # A fresh instance: permissions are cached per user object.
    assert User.objects.get(pk=alice.pk).has_perm("patients.void_patient")


@pytest.mark.django_db
def test_a_manager_cannot_edit_groups(client, carol):
    carol.is_staff = True
    carol.save(update_fields=["is_staff"])
    manager_group = Group.objects.get(name="Clinic manager")
    client.force_login(carol)
    url = reverse("admin:auth_group_change", args=[manager_group.pk])
    assert client.get(url).status_code == 403
    response = client.post(url, {"name": "Clinic manager", "permissions": []})
    assert response.status_code == 403
    assert manager_group.permissions.exists()
