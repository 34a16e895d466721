"""Give therapists and managers the permission to void and move recordings (issue 16).

A frozen copy of clinic.roles.RECORDING_PERMISSIONS: a migration must not change meaning when
that module changes later.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

GRANTS = {
    "Therapist": ["void_recording"],
    "Clinic manager": ["void_recording"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("therapy_sessions")
    app_config.models_module = True
    create_permissions(app_config, verbosity=0, apps=apps)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.add(
            *Permission.objects.filter(
                content_type__app_label="therapy_sessions", codename__in=codenames
            )
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, codenames in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.remove(
                *Permission.objects.filter(
                    content_type__app_label="therapy_sessions", codename__in=codenames
                )
            )


class Migration(migrations.Migration):
    dependencies = [
        ("therapy_sessions", "0006_recording_void"),
        ("clinic", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
