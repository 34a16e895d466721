"""Trigram (pg_trgm) GIN indexes for the patient search, on PostgreSQL only.

The search (``patients.filters.PatientFilter.search``) filters with ``icontains``, which
Django writes on PostgreSQL as ``UPPER("col"::text) LIKE UPPER('%q%')``: these indexes are on
exactly that expression, so a search reads the matching rows through the index instead of
scanning the table. SQLite (the demo) has no GIN: there the migration does nothing and the
same query scans, which is fine at demo size. The indexes live outside the model state (an
``Index`` in ``Meta`` would be created on SQLite too), so ``makemigrations`` never sees them.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

FIELDS = ("code", "mrn", "first_name", "last_name")
TABLE = "patients_patient"


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS patient_{field}_trgm ON {TABLE} "
            f"USING gin ((UPPER({field}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for field in FIELDS:
        schema_editor.execute(f"DROP INDEX IF EXISTS patient_{field}_trgm")


class Migration(migrations.Migration):
    dependencies = [("patients", "0005_emergency_access_permissions")]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
