"""Give the role groups the permissions of the pipeline's new models.

A frozen copy of clinic.roles.PIPELINE_PERMISSIONS: a migration must not change meaning when
that module changes later.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_VIEW = [
    "patients.view_mvccalibration",
    "patients.view_patientprotocol",
    "clinic.view_clinicsettings",
    "analysis.view_recordinganalysis",
]
_WORK = [
    *_VIEW,
    "patients.add_mvccalibration",
    "patients.add_patientprotocol",
    "patients.change_patientprotocol",
]
GRANTS = {
    "Therapist": _WORK,
    "Clinic manager": [*_WORK, "clinic.add_clinicsettings"],
    "Researcher": _VIEW,
}


def grant(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, verbosity=0, apps=apps)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GRANTS.items():
        group, _ = Group.objects.get_or_create(name=name)
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.add(
                Permission.objects.get(content_type__app_label=app_label, codename=codename)
            )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for dotted in perms:
            app_label, codename = dotted.split(".")
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label=app_label, codename=codename)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0002_mvc_calibration_protocol"),
        ("clinic", "0003_clinicsettings"),
        ("analysis", "0001_initial"),
        ("clinic", "0002_staff_roles"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
