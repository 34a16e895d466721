"""Each patient's first live session, kept by the database (issue 17): the table, triggers on
the sessions table that keep it right on every insert, update and delete (PostgreSQL and
SQLite), and its rows for the sessions already there."""

import django.db.models.deletion
from django.db import migrations, models

SESSIONS = "therapy_sessions_therapysession"
FIRST = "therapy_sessions_firstsession"

# A patient's row from scratch: the earliest live session, or no row (SQLite: one writer).
_RECOMPUTE = """
DELETE FROM therapy_sessions_firstsession WHERE patient_id = {pid};
INSERT INTO therapy_sessions_firstsession (patient_id, started_at)
    SELECT {pid}, first FROM (
        SELECT MIN(started_at) AS first FROM therapy_sessions_therapysession
        WHERE patient_id = {pid} AND voided_at IS NULL
    ) live WHERE first IS NOT NULL;
"""
# Only an update that changes what the row depends on recomputes it.
_CHANGED = """
    OLD.patient_id IS NOT NEW.patient_id OR OLD.started_at IS NOT NEW.started_at
    OR OLD.voided_at IS NOT NEW.voided_at
"""
# A new live session moves the start only earlier: no scan of the patient's sessions.
_EARLIER = """
INSERT INTO therapy_sessions_firstsession (patient_id, started_at) VALUES (NEW.patient_id, NEW.started_at)
    ON CONFLICT (patient_id) DO UPDATE SET started_at = excluded.started_at
    WHERE therapy_sessions_firstsession.started_at > excluded.started_at;
"""

# PostgreSQL, with concurrent writers: a recomputation first locks the patient's row (when
# there is one) and only then reads the sessions, so it sees every committed session; an
# insert's upsert waits on that lock and compares again. Without a row there was no live
# session: a recomputation then only adds one, keeping the earlier of its own and a concurrent
# writer's. Row locks only (no advisory locks: a bulk write over many patients would fill the
# shared lock table).
POSTGRESQL = [
    f"""
CREATE FUNCTION therapy_sessions_first_session_of(pid bigint) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    earliest timestamptz;
BEGIN
    PERFORM 1 FROM {FIRST} WHERE patient_id = pid FOR UPDATE;
    IF FOUND THEN
        SELECT MIN(started_at) INTO earliest FROM {SESSIONS}
            WHERE patient_id = pid AND voided_at IS NULL;
        IF earliest IS NULL THEN
            DELETE FROM {FIRST} WHERE patient_id = pid;
        ELSE
            UPDATE {FIRST} SET started_at = earliest WHERE patient_id = pid;
        END IF;
    ELSE
        SELECT MIN(started_at) INTO earliest FROM {SESSIONS}
            WHERE patient_id = pid AND voided_at IS NULL;
        IF earliest IS NOT NULL THEN
            INSERT INTO {FIRST} (patient_id, started_at) VALUES (pid, earliest)
                ON CONFLICT (patient_id) DO UPDATE
                SET started_at = LEAST({FIRST}.started_at, excluded.started_at);
        END IF;
    END IF;
END $$;
""",
    f"""
CREATE FUNCTION therapy_sessions_first_session() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.voided_at IS NULL THEN
            {_EARLIER}
        END IF;
        RETURN NULL;
    END IF;
    PERFORM therapy_sessions_first_session_of(OLD.patient_id);
    IF TG_OP = 'UPDATE' AND NEW.patient_id <> OLD.patient_id THEN
        PERFORM therapy_sessions_first_session_of(NEW.patient_id);
    END IF;
    RETURN NULL;
END $$;
""",
    f"""
CREATE TRIGGER therapy_sessions_first_session_insert AFTER INSERT ON {SESSIONS}
    FOR EACH ROW EXECUTE FUNCTION therapy_sessions_first_session();
""",
    f"""
CREATE TRIGGER therapy_sessions_first_session_update
    AFTER UPDATE OF patient_id, started_at, voided_at ON {SESSIONS}
    FOR EACH ROW WHEN ({_CHANGED.replace(" IS NOT ", " IS DISTINCT FROM ")})
    EXECUTE FUNCTION therapy_sessions_first_session();
""",
    f"""
CREATE TRIGGER therapy_sessions_first_session_delete AFTER DELETE ON {SESSIONS}
    FOR EACH ROW EXECUTE FUNCTION therapy_sessions_first_session();
""",
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS therapy_sessions_first_session_insert ON {SESSIONS};",
    f"DROP TRIGGER IF EXISTS therapy_sessions_first_session_update ON {SESSIONS};",
    f"DROP TRIGGER IF EXISTS therapy_sessions_first_session_delete ON {SESSIONS};",
    "DROP FUNCTION IF EXISTS therapy_sessions_first_session();",
    "DROP FUNCTION IF EXISTS therapy_sessions_first_session_of(bigint);",
]

SQLITE = [
    f"""
CREATE TRIGGER therapy_sessions_first_session_insert AFTER INSERT ON {SESSIONS}
WHEN NEW.voided_at IS NULL BEGIN {_EARLIER} END;
""",
    f"""
CREATE TRIGGER therapy_sessions_first_session_update
AFTER UPDATE OF patient_id, started_at, voided_at ON {SESSIONS} WHEN {_CHANGED} BEGIN
{_RECOMPUTE.format(pid="OLD.patient_id")}{_RECOMPUTE.format(pid="NEW.patient_id")} END;
""",
    f"""
CREATE TRIGGER therapy_sessions_first_session_delete AFTER DELETE ON {SESSIONS} BEGIN
{_RECOMPUTE.format(pid="OLD.patient_id")} END;
""",
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS therapy_sessions_first_session_insert;",
    "DROP TRIGGER IF EXISTS therapy_sessions_first_session_update;",
    "DROP TRIGGER IF EXISTS therapy_sessions_first_session_delete;",
]

BACKFILL = """
INSERT INTO therapy_sessions_firstsession (patient_id, started_at)
    SELECT patient_id, MIN(started_at) FROM therapy_sessions_therapysession WHERE voided_at IS NULL
    GROUP BY patient_id
"""


def _run(statements):
    def run(apps, schema_editor):
        vendor = schema_editor.connection.vendor
        for sql in statements.get(vendor, ()):
            schema_editor.execute(sql, params=None)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("patients", "0006_patient_search_trigram_indexes"),
        ("therapy_sessions", "0009_session_clinic_count_index"),
    ]

    operations = [
        migrations.CreateModel(
            name="FirstSession",
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
                ("started_at", models.DateTimeField()),
            ],
        ),
        migrations.RunPython(
            _run({"postgresql": [*POSTGRESQL, BACKFILL], "sqlite": [*SQLITE, BACKFILL]}),
            _run({"postgresql": POSTGRESQL_DROP, "sqlite": SQLITE_DROP}),
        ),
    ]
