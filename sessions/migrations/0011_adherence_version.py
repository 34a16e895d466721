"""A number per clinic that changes with every write the dashboard's adherence figures depend on
(issue 17): the table, triggers that give the clinic a new random number on every insert, delete
and relevant update of its sessions, patients, patients' therapists and protocols and its
settings (PostgreSQL and SQLite), and a number for each clinic already there.

PostgreSQL: inserts and deletes by statement (one new number per clinic a statement touched,
clinics in order: a bulk insert is one write, not one per row), updates by row and only when a
column the figures read changed. The number's row is locked by the writing transaction until
it commits: writers of one clinic's adherence data queue there, readers never wait. Within one
statement a patient's FirstSession row is locked before the version row (trigger names); a
transaction that writes sessions of several patients in several statements, beside another
doing the same, can still deadlock (PostgreSQL then aborts one): the application's writes
change one patient's sessions per transaction."""

# ruff: noqa: S608 - every name in this SQL is a constant of this module

import django.db.models.deletion
from django.db import migrations, models

VERSIONS = "therapy_sessions_adherenceversion"
PATIENTS = "patients_patient"

# table -> (the clinic of a row ``{r}``, the columns whose update changes the figures)
_OF_PATIENT = f"(SELECT p.clinic_id FROM {PATIENTS} p WHERE p.id = {{r}}.patient_id)"
TABLES = {
    "therapy_sessions_therapysession": (_OF_PATIENT, ("patient_id", "started_at", "voided_at")),
    PATIENTS: (
        "{r}.clinic_id",
        ("clinic_id", "treatment_start", "is_active", "voided_at"),
    ),
    "patients_patient_therapists": (_OF_PATIENT, ("patient_id", "user_id")),
    "patients_patientprotocol": (
        _OF_PATIENT,
        ("patient_id", "sessions_per_week", "programme_weeks"),
    ),
    "clinic_clinicsettings": (
        "{r}.clinic_id",
        ("clinic_id", "version", "sessions_per_week", "programme_weeks"),
    ),
}

_PG_NEW = "floor(random() * 9.2e18)::bigint"
_SQLITE_NEW = "abs(random())"


def _upsert(clinics_sql: str, new: str) -> str:
    """Give every clinic of ``clinics_sql`` (a query of one column ``c``) a new number."""
    return (
        f"INSERT INTO {VERSIONS} (clinic_id, version) "
        f"SELECT c, {new} FROM ({clinics_sql}) s WHERE c IS NOT NULL ORDER BY c "
        f"ON CONFLICT (clinic_id) DO UPDATE SET version = excluded.version;"
    )


def _name(table: str, what: str) -> str:
    # After the table's name: on the sessions table these fire after the FirstSession
    # triggers of 0010 (PostgreSQL fires a table's triggers in name order), so every writer
    # locks a patient's FirstSession row before the clinic's version row, never the reverse.
    return f"{table}_adherence_version_{what}"


def _changed(columns) -> str:
    return " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)


def postgresql():
    statements = []
    for table, (clinic, columns) in TABLES.items():
        rows = clinic.format(r="r")
        statements.append(
            f"""
CREATE FUNCTION {_name(table, "rows")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(f"SELECT DISTINCT {rows} AS c FROM changed r", _PG_NEW)}
    RETURN NULL;
END $$;"""
        )
        old, new = clinic.format(r="OLD"), clinic.format(r="NEW")
        statements.append(
            f"""
CREATE FUNCTION {_name(table, "row")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(f"SELECT DISTINCT c FROM (VALUES ({old}), ({new})) v (c)", _PG_NEW)}
    RETURN NULL;
END $$;"""
        )
        for event, transition in (("INSERT", "NEW"), ("DELETE", "OLD")):
            statements.append(
                f"CREATE TRIGGER {_name(table, event.lower())} AFTER {event} ON {table} "
                f"REFERENCING {transition} TABLE AS changed FOR EACH STATEMENT "
                f"EXECUTE FUNCTION {_name(table, 'rows')}();"
            )
        statements.append(
            f"CREATE TRIGGER {_name(table, 'update')} AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} FOR EACH ROW WHEN ({_changed(columns)}) "
            f"EXECUTE FUNCTION {_name(table, 'row')}();"
        )
    return statements


def postgresql_drop():
    statements = []
    for table in TABLES:
        for event in ("insert", "delete", "update"):
            statements.append(f"DROP TRIGGER IF EXISTS {_name(table, event)} ON {table};")
        statements.append(f"DROP FUNCTION IF EXISTS {_name(table, 'rows')}();")
        statements.append(f"DROP FUNCTION IF EXISTS {_name(table, 'row')}();")
    return statements


def sqlite():
    statements = []
    for table, (clinic, columns) in TABLES.items():
        old, new = clinic.format(r="OLD"), clinic.format(r="NEW")
        statements.append(
            f"CREATE TRIGGER {_name(table, 'insert')} AFTER INSERT ON {table} BEGIN "
            f"{_upsert(f'SELECT {new} AS c', _SQLITE_NEW)} END;"
        )
        statements.append(
            f"CREATE TRIGGER {_name(table, 'delete')} AFTER DELETE ON {table} BEGIN "
            f"{_upsert(f'SELECT {old} AS c', _SQLITE_NEW)} END;"
        )
        changed = _changed(columns).replace("IS DISTINCT FROM", "IS NOT")
        statements.append(
            f"CREATE TRIGGER {_name(table, 'update')} AFTER UPDATE OF {', '.join(columns)} "
            f"ON {table} WHEN {changed} BEGIN "
            f"{_upsert(f'SELECT {old} AS c', _SQLITE_NEW)} "
            f"{_upsert(f'SELECT {new} AS c', _SQLITE_NEW)} END;"
        )
    return statements


def sqlite_drop():
    return [
        f"DROP TRIGGER IF EXISTS {_name(table, event)};"
        for table in TABLES
        for event in ("insert", "delete", "update")
    ]


def backfill(new):
    return _upsert("SELECT id AS c FROM clinic_clinic", new)


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0009_audit_append_function"),
        ("patients", "0006_patient_search_trigram_indexes"),
        ("therapy_sessions", "0010_first_session"),
    ]

    operations = [
        migrations.CreateModel(
            name="AdherenceVersion",
            fields=[
                (
                    "clinic",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="clinic.clinic",
                    ),
                ),
                ("version", models.BigIntegerField()),
            ],
        ),
        migrations.RunPython(
            _run(
                {
                    "postgresql": [*postgresql(), backfill(_PG_NEW)],
                    "sqlite": [*sqlite(), backfill(_SQLITE_NEW)],
                }
            ),
            _run({"postgresql": postgresql_drop(), "sqlite": sqlite_drop()}),
        ),
    ]
