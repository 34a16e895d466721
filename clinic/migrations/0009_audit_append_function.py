"""The audit trail's append as a PostgreSQL function, ``clinic_audit_append``.

``clinic.audit.record_access`` used to send one large statement (five CTEs) per entry: PostgreSQL
parsed and planned it afresh every time, which cost more than running it. A PL/pgSQL function
keeps its statements' plans for the life of the connection, so an entry costs one short call
(one round trip, no planning) on any connection, pooled or not, behind any pooler (no prepared
statement to keep). Same steps, same locking, same bytes hashed as before; verify_audit is
unchanged. Nothing on other databases (the demo's SQLite appends in Python).

If a field is added to the entry (``clinic.audit._canonical_fields``), replace this function in a
new migration (the test ``test_the_append_function_writes_every_column`` fails until then).
"""

from django.db import migrations

# The entry arrives as the two halves of its canonical JSON around the purpose (``p_before`` =
# ',<created_at>,<actor>,...,<action>,' and ``p_after`` = ',<client_address>,<path>,', the bytes
# ``clinic.audit.canonical`` builds), so the columns are read from the very text the hash covers,
# and the patients' lookup rows from its ``patient_ids``: what is stored is what is hashed.
# Steps: a therapist's purpose (``p_check_assignment``: emergency unless the actor is assigned to
# every patient of the entry), lock the chain head (FOR UPDATE: writers queue, the chain stays
# linear), hash "[" seq p_before '"' purpose '"' p_after '"' prev_hash '"]', move the head,
# insert the entry and its patients' lookup rows. No head row: no row returned (the caller
# creates it and calls again). A text longer than its column is refused by the insert, never cut.
CREATE = r"""
CREATE OR REPLACE FUNCTION clinic_audit_append(
    p_before text, p_after text, p_purpose text, p_check_assignment boolean
) RETURNS TABLE (id bigint, seq bigint, prev_hash text, entry_hash text, purpose text)
LANGUAGE plpgsql AS $fn$
DECLARE
    f jsonb := ('[' || substr(p_before, 2) || 'null' || left(p_after, -1) || ']')::jsonb;
    v_patients bigint[] := string_to_array(btrim(f->>5, ','), ',')::bigint[];
    v_purpose text := p_purpose;
    v_seq bigint;
    v_prev text;
    v_hash text;
    v_id bigint;
BEGIN
    IF p_check_assignment AND (
        SELECT count(*) FROM patients_patient_therapists AS a
        WHERE a.user_id = (f->>1)::bigint AND a.patient_id = ANY(v_patients)
    ) < cardinality(v_patients) THEN
        v_purpose := 'emergency';
    END IF;
    SELECT h.seq + 1, COALESCE(NULLIF(h.entry_hash, ''), repeat('0', 64)) INTO v_seq, v_prev
    FROM clinic_auditchainhead AS h WHERE h.id = 1 FOR UPDATE;
    IF NOT FOUND THEN
        RETURN;
    END IF;
    v_hash := encode(sha256(convert_to(
        '[' || v_seq::text || p_before || '"' || v_purpose || '"' || p_after
        || '"' || v_prev || '"]', 'UTF8')), 'hex');
    UPDATE clinic_auditchainhead AS h SET seq = v_seq, entry_hash = v_hash WHERE h.id = 1;
    INSERT INTO clinic_auditentry AS e (
        created_at, actor_id, actor_label, clinic_id, patient_id, patient_ids, object_type,
        object_id, action, purpose, client_address, path, seq, prev_hash, entry_hash
    ) VALUES (
        (f->>0)::timestamptz, (f->>1)::bigint, f->>2, (f->>3)::bigint, (f->>4)::bigint, f->>5,
        f->>6, f->>7, f->>8, v_purpose, (f->>10)::inet, f->>11, v_seq, v_prev, v_hash
    ) RETURNING e.id INTO v_id;
    INSERT INTO clinic_auditentrypatient (entry_id, patient_id)
    SELECT v_id, patient FROM unnest(v_patients) AS patient;
    id := v_id; seq := v_seq; prev_hash := v_prev; entry_hash := v_hash; purpose := v_purpose;
    RETURN NEXT;
END
$fn$;
"""

DROP = """
DROP FUNCTION IF EXISTS clinic_audit_append(text, text, text, boolean);
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [
        ("clinic", "0008_audit_refuses_truncate"),
    ]

    operations = [migrations.RunPython(create, drop)]
