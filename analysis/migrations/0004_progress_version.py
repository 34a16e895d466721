"""A number per patient that changes with every write the progress page's weekly trend
figures and scored table rows depend on (issue 17): the table, triggers that give the patient a
new random number on every insert, delete and relevant update of its sessions, their
recordings, the recordings' analyses (any update) and the analyses' channel results
(PostgreSQL and SQLite), and a number for each patient already there. The same construction as ``therapy_sessions.0011_adherence_version``
(inserts and deletes by statement on PostgreSQL, updates by row and only when a column the
figures read changed), per patient instead of per clinic. On the sessions table these
triggers' names sort after the FirstSession and AdherenceVersion ones: a session's writer locks
the patient's FirstSession row, the clinic's version row, then the patient's version row."""

# ruff: noqa: S608 - every name in this SQL is a constant of this module

import django.db.models.deletion
from django.db import migrations, models

VERSIONS = "analysis_progressversion"
SESSIONS = "therapy_sessions_therapysession"
RECORDINGS = "therapy_sessions_recording"
ANALYSES = "analysis_recordinganalysis"

_OF_SESSION = f"(SELECT s.patient_id FROM {SESSIONS} s WHERE s.id = {{r}}.session_id)"
_OF_RECORDING = (
    f"(SELECT s.patient_id FROM {RECORDINGS} c INNER JOIN {SESSIONS} s ON s.id = c.session_id "
    f"WHERE c.id = {{r}}.recording_id)"
)
_OF_ANALYSIS = (
    f"(SELECT s.patient_id FROM {ANALYSES} a INNER JOIN {RECORDINGS} c ON c.id = a.recording_id "
    f"INNER JOIN {SESSIONS} s ON s.id = c.session_id WHERE a.id = {{r}}.analysis_id)"
)
# table -> (the patient of a row ``{r}``, the columns whose update changes the figures; None:
# any update, for the analyses, whose scores, parameters and dates the table's scores read)
TABLES = {
    SESSIONS: (
        "{r}.patient_id",
        ("patient_id", "started_at", "voided_at", "rpe", "bfr_pressure_pct_aop"),
    ),
    RECORDINGS: (_OF_SESSION, ("session_id", "voided_at")),
    ANALYSES: (_OF_RECORDING, None),
    "analysis_channelresult": (
        _OF_ANALYSIS,
        ("analysis_id", "side", "muscle", "label", "compliance", "mdf_slope_pct_per_min"),
    ),
}

_PG_NEW = "floor(random() * 9.2e18)::bigint"
_SQLITE_NEW = "abs(random())"


def _upsert(patients_sql: str, new: str) -> str:
    """Give every patient of ``patients_sql`` (a query of one column ``p``) a new number."""
    return (
        f"INSERT INTO {VERSIONS} (patient_id, version) "
        f"SELECT p, {new} FROM ({patients_sql}) s WHERE p IS NOT NULL ORDER BY p "
        f"ON CONFLICT (patient_id) DO UPDATE SET version = excluded.version;"
    )


def _name(table: str, what: str) -> str:
    return f"{table}_progress_version_{what}"


def _of(columns) -> str:
    return f" OF {', '.join(columns)}" if columns else ""


def _when(columns, template: str) -> str:
    """The condition that one of ``columns`` changed (none for any update), in ``template``."""
    if not columns:
        return ""
    return template.format(" OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)) + " "


def postgresql():
    statements = []
    for table, (patient, columns) in TABLES.items():
        rows = patient.format(r="r")
        statements.append(
            f"""
CREATE FUNCTION {_name(table, "rows")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(f"SELECT DISTINCT {rows} AS p FROM changed r", _PG_NEW)}
    RETURN NULL;
END $$;"""
        )
        old, new = patient.format(r="OLD"), patient.format(r="NEW")
        statements.append(
            f"""
CREATE FUNCTION {_name(table, "row")}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    {_upsert(f"SELECT DISTINCT p FROM (VALUES ({old}), ({new})) v (p)", _PG_NEW)}
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
            f"CREATE TRIGGER {_name(table, 'update')} AFTER UPDATE{_of(columns)} "
            f"ON {table} FOR EACH ROW {_when(columns, 'WHEN ({})')}"
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
    for table, (patient, columns) in TABLES.items():
        old, new = patient.format(r="OLD"), patient.format(r="NEW")
        statements.append(
            f"CREATE TRIGGER {_name(table, 'insert')} AFTER INSERT ON {table} BEGIN "
            f"{_upsert(f'SELECT {new} AS p', _SQLITE_NEW)} END;"
        )
        statements.append(
            f"CREATE TRIGGER {_name(table, 'delete')} AFTER DELETE ON {table} BEGIN "
            f"{_upsert(f'SELECT {old} AS p', _SQLITE_NEW)} END;"
        )
        statements.append(
            f"CREATE TRIGGER {_name(table, 'update')} AFTER UPDATE{_of(columns)} "
            f"ON {table} {_when(columns, 'WHEN {}').replace('IS DISTINCT FROM', 'IS NOT')}BEGIN "
            f"{_upsert(f'SELECT {old} AS p', _SQLITE_NEW)} "
            f"{_upsert(f'SELECT {new} AS p', _SQLITE_NEW)} END;"
        )
    return statements


def sqlite_drop():
    return [
        f"DROP TRIGGER IF EXISTS {_name(table, event)};"
        for table in TABLES
        for event in ("insert", "delete", "update")
    ]


def backfill(new):
    return _upsert("SELECT id AS p FROM patients_patient", new)


def _run(statements):
    def run(apps, schema_editor):
        for sql in statements.get(schema_editor.connection.vendor, ()):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("analysis", "0003_research_export_permission"),
        ("patients", "0006_patient_search_trigram_indexes"),
        ("therapy_sessions", "0011_adherence_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="ProgressVersion",
            fields=[
                (
                    "patient",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="patients.patient",
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
