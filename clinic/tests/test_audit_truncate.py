"""TRUNCATE of the audit trail is refused in PostgreSQL, and the application cannot lift that.

TRUNCATE fires no row trigger, so the ``append_only`` triggers do not see it; a statement trigger
(``no_truncate``) on each table of the trail refuses it. The test suite's own flush gets past it
with ``session_replication_role = replica`` (conftest.py), which only a superuser may set: the
application's role (a plain role here, even one granted TRUNCATE) can neither truncate nor set it.
"""

import pytest
from django.db import DatabaseError, connection, transaction

from clinic.audit import record_access
from clinic.audit_verify import verify_chain
from clinic.models import AuditEntry, AuditEntryPatient

pytestmark = pytest.mark.django_db

TABLES = ["clinic_auditentry", "clinic_auditentrypatient"]
APP_ROLE = "myoclinic_app_test"


def execute(sql):
    with connection.cursor() as cursor:
        cursor.execute(sql)


def as_app_role(sql):
    """Run ``sql`` as the application's role, in a savepoint (the role ends with it)."""
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL ROLE {APP_ROLE}")
        cursor.execute(sql)


@pytest.mark.parametrize("table", TABLES)
@pytest.mark.parametrize("suffix", ["", " CASCADE", " RESTART IDENTITY"])
def test_a_plain_truncate_fails(carol, alices_patient, table, suffix):
    record_access(carol, "view", [alices_patient])
    with pytest.raises(DatabaseError, match="Cannot truncate"), transaction.atomic():
        execute(f"TRUNCATE {table}{suffix}")
    assert AuditEntry.objects.count() == 1
    assert AuditEntryPatient.objects.count() == 1
    assert verify_chain().intact


def test_truncating_every_table_at_once_fails(carol, alices_patient):
    """As Django's flush would, outside the test suite."""
    record_access(carol, "view", [alices_patient])
    with pytest.raises(DatabaseError, match="Cannot truncate"), transaction.atomic():
        execute(f"TRUNCATE {', '.join(TABLES)}, clinic_auditchainhead")
    assert AuditEntry.objects.count() == 1


def test_the_application_role_can_neither_truncate_nor_lift_the_guard(carol, alices_patient):
    record_access(carol, "view", [alices_patient])
    # A plain role with every privilege on the trail, TRUNCATE included (the worst grant).
    execute(f"CREATE ROLE {APP_ROLE} NOLOGIN")
    execute(f"GRANT ALL ON {', '.join(TABLES)} TO {APP_ROLE}")
    with pytest.raises(DatabaseError, match="Cannot truncate"):
        as_app_role("TRUNCATE clinic_auditentry")
    with pytest.raises(DatabaseError, match="permission denied"):
        as_app_role("SET LOCAL session_replication_role = replica")
    # The role itself works: it reads the trail.
    as_app_role("SELECT count(*) FROM clinic_auditentry")
    assert AuditEntry.objects.count() == 1
