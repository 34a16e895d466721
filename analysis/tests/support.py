"""Helpers shared by the pipeline tests (real files, role groups, real workers)."""

from __future__ import annotations

import pytest


def ensure_role_groups():
    """Recreate the role groups with their permissions when missing.

    A transactional test flushes the groups the migrations created, and with --reuse-db the next
    run starts from that flushed database.
    """
    from django.contrib.auth.models import Group, Permission

    from clinic.roles import ROLE_PERMISSIONS

    for name, perms in ROLE_PERMISSIONS.items():
        group, created = Group.objects.get_or_create(name=name)
        if not created and group.permissions.exists():
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


@pytest.fixture(autouse=True)
def role_groups(request):
    """Every test here uses the database; give it the role groups (see ensure_role_groups)."""
    marker = request.node.get_closest_marker("django_db")
    transactional = bool(marker and marker.kwargs.get("transaction"))
    request.getfixturevalue("transactional_db" if transactional else "db")
    ensure_role_groups()
