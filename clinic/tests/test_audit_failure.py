"""If the audit entry cannot be written, the data is not shown (or the change not kept).

The failure is a real database failure: a trigger that refuses every insert into the trail,
installed for the test only (PostgreSQL DDL is transactional, so the test's rollback removes it).
"""

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.urls import reverse

from analysis.consumers import CLOSE_AUDIT_UNAVAILABLE
from analysis.tests.support import login_session
from clinic.models import AuditEntry
from clinic.tests.test_admin_clinical_scope import patient_form
from config.asgi import application
from patients.models import Patient

REFUSE = """
CREATE OR REPLACE FUNCTION test_refuse_audit() RETURNS trigger AS $$
BEGIN RAISE EXCEPTION 'audit storage is down'; END $$ LANGUAGE plpgsql;
CREATE TRIGGER test_refuse_audit BEFORE INSERT ON clinic_auditentry
FOR EACH ROW EXECUTE FUNCTION test_refuse_audit();
"""
RESTORE = """
DROP TRIGGER IF EXISTS test_refuse_audit ON clinic_auditentry;
DROP FUNCTION IF EXISTS test_refuse_audit();
"""


def refuse_audit_writes():
    with connection.cursor() as cursor:
        cursor.execute(REFUSE)


def restore_audit_writes():
    with connection.cursor() as cursor:
        cursor.execute(RESTORE)


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["patients:detail", "patients:progress"])
def test_a_page_is_not_shown_without_its_entry(client, alice, alices_patient, name):
    client.force_login(alice)
    refuse_audit_writes()
    response = client.get(reverse(name, args=[alices_patient.pk]))
    assert response.status_code == 503
    html = response.content.decode()
    assert "Audit trail unavailable" in html
    assert "Aldersley" not in html
    assert not AuditEntry.objects.exists()


@pytest.mark.django_db
def test_the_list_page_is_not_shown_without_its_entry(client, carol, alices_patient):
    client.force_login(carol)
    refuse_audit_writes()
    response = client.get(reverse("patients:list"))
    assert response.status_code == 503
    assert "Aldersley" not in response.content.decode()


@pytest.mark.django_db
def test_an_admin_change_is_not_kept_without_its_entry(client, zoe, alices_patient):
    client.force_login(zoe)
    url = reverse("admin:patients_patient_change", args=[alices_patient.pk])
    data = patient_form(alices_patient, diagnosis="Changed without a trace")
    assert client.post(url, data | {"diagnosis": "Changed with a trace"}).status_code == 302
    assert AuditEntry.objects.filter(action="change", patient_id=alices_patient.pk).exists()
    refuse_audit_writes()
    response = client.post(url, data)
    assert response.status_code == 503
    assert Patient.objects.get(pk=alices_patient.pk).diagnosis != "Changed without a trace"


@pytest.mark.django_db(transaction=True)
async def test_the_status_socket_closes_without_its_entry(session_of, alices_patient, alice):
    session = await database_sync_to_async(session_of)(alices_patient)
    cookie = await database_sync_to_async(login_session)(alice)
    await database_sync_to_async(refuse_audit_writes)()
    try:
        ws = WebsocketCommunicator(
            application,
            f"/ws/sessions/{session.pk}/status/",
            [(b"origin", b"http://localhost"), (b"cookie", f"sessionid={cookie}".encode())],
        )
        await ws.connect()
        message = await ws.receive_output(timeout=5)
        assert message == {"type": "websocket.close", "code": CLOSE_AUDIT_UNAVAILABLE}
        await ws.disconnect()
    finally:
        await database_sync_to_async(restore_audit_writes)()
