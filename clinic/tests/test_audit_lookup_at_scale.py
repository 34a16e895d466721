"""A patient's entries are found through an index, not a scan, however long the trail grows.

The trail is seeded with SQL (50,000 entries, two patients each, as list pages name them) and
its lookup rows; the planner must reach a patient's entries through ``audit_patient_entry``
(the access report) and so must the clinic page's patient filter.
"""

import pytest
from django.db import connection

from analysis.tests.support import analyze_tables, index_names, query_plan
from clinic.audit import entries_for_patient, entry_ids_for_patients
from clinic.models import AuditEntry, AuditEntryPatient

pytestmark = pytest.mark.django_db

ENTRIES = 50_000
PATIENTS = 1_000


def seed_trail():
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO clinic_auditentry (seq, created_at, actor_id, actor_label, clinic_id,"
            " patient_id, patient_ids, object_type, object_id, action, purpose, client_address,"
            " path, prev_hash, entry_hash)"
            " SELECT g, now(), NULL, 'seed', NULL, NULL,"
            " ',' || (g %% %(n)s + 1) || ',' || ((g * 7 + 3) %% %(n)s + 1) || ',',"
            " 'patients.patient', '', 'view', 'treatment', NULL, '/patients/', '',"
            " md5(g::text) || md5((-g)::text) FROM generate_series(1, %(entries)s) AS g",
            {"n": PATIENTS, "entries": ENTRIES},
        )
        cursor.execute(
            "INSERT INTO clinic_auditentrypatient (entry_id, patient_id)"
            " SELECT DISTINCT id, unnest(string_to_array(trim(both ',' from patient_ids), ','))"
            "::bigint FROM clinic_auditentry"
        )
    analyze_tables(AuditEntry, AuditEntryPatient)


def relations_scanned(plan) -> set[str]:
    found = set()
    stack = [plan]
    while stack:
        node = stack.pop()
        if node.get("Node Type") == "Seq Scan":
            found.add(node["Relation Name"])
        stack.extend(node.get("Plans", []))
    return found


def test_the_access_report_finds_a_patients_entries_through_the_index():
    seed_trail()
    page = entries_for_patient(42)[:100]
    assert "audit_patient_entry" in index_names(page)
    scanned = relations_scanned(query_plan(page))
    assert not scanned & {"clinic_auditentry", "clinic_auditentrypatient"}
    # The list entries that named patient 42 and no other patient's (no "42" inside "142").
    found = list(entries_for_patient(42))
    assert found
    assert all(42 in entry.patient_id_list for entry in found)
    expected = sum(
        42 in {g % PATIENTS + 1, (g * 7 + 3) % PATIENTS + 1} for g in range(1, ENTRIES + 1)
    )
    assert len(found) == expected


def test_the_clinic_pages_patient_filter_uses_the_index_too():
    seed_trail()
    queryset = AuditEntry.objects.filter(pk__in=entry_ids_for_patients([42, 7])).order_by("-seq")
    assert "audit_patient_entry" in index_names(queryset[:50])
    assert "clinic_auditentrypatient" not in relations_scanned(query_plan(queryset[:50]))
