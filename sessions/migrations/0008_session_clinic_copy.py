"""A session keeps its patient's clinic (``TherapySession.clinic``), backfilled here, with the
(clinic, started_at, id) index the clinic's session list and its count read (issue 14)."""

import django.db.models.deletion
from django.db import migrations, models

BACKFILL = """
UPDATE therapy_sessions_therapysession
SET clinic_id = (
    SELECT patients_patient.clinic_id FROM patients_patient
    WHERE patients_patient.id = therapy_sessions_therapysession.patient_id
)
"""


def backfill(apps, schema_editor):
    postgres = schema_editor.connection.vendor == "postgresql"
    if postgres:  # no pending deferred FK checks may be left before the ALTER TABLE below
        schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    schema_editor.execute(BACKFILL)
    if postgres:
        schema_editor.execute("SET CONSTRAINTS ALL DEFERRED")


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0008_audit_refuses_truncate"),
        ("patients", "0006_patient_search_trigram_indexes"),
        ("therapy_sessions", "0007_recording_void_permission"),
    ]

    operations = [
        migrations.AddField(
            model_name="therapysession",
            name="clinic",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="clinic.clinic",
            ),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop, elidable=False),
        migrations.AlterField(
            model_name="therapysession",
            name="clinic",
            field=models.ForeignKey(
                db_index=False,
                editable=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="+",
                to="clinic.clinic",
            ),
        ),
        migrations.AddIndex(
            model_name="therapysession",
            index=models.Index(
                fields=["clinic", "started_at", "id"], name="session_clinic_started"
            ),
        ),
    ]
