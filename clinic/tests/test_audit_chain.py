"""The audit trail is append-only and hash-chained; ``verify_audit`` finds any tampering.

Tampering is done the way an attacker with database rights would: around the trigger
(the ``pgtrigger.ignore`` setting its triggers honour) or with the trigger disabled.
"""

import contextlib
import re
import threading

import pytest
from django.core.management import CommandError, call_command
from django.db import DatabaseError, connection, connections, transaction
from django.utils import timezone
from pgtrigger import registry

from clinic import audit
from clinic.audit import (
    GENESIS,
    Action,
    Purpose,
    client_address,
    entry_hash,
    record_access,
)
from clinic.audit_verify import verify_chain
from clinic.models import AuditChainHead, AuditEntry, AuditEntryPatient

TRIGGER = "clinic.AuditEntry:append_only"
ROWS_TRIGGER = "clinic.AuditEntryPatient:append_only"


@contextlib.contextmanager
def around_the_trigger(*uris):
    """Sets ``pgtrigger.ignore`` for the connection, as ``pgtrigger.ignore`` does.

    pgtrigger's own context manager prefixes every statement with the ``set_config`` call,
    and PostgreSQL refuses two commands in one statement sent with server-side binding
    (``DB_SERVER_SIDE_BINDING``); one ``set_config`` of its own works either way.
    """
    ignored = [
        name
        for model, trigger in registry.registered(*uris)
        for name in (trigger.get_pgid(model), f"{model._meta.db_table}:{trigger.get_pgid(model)}")
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT set_config('pgtrigger.ignore', %s, false)", ["{" + ",".join(ignored) + "}"]
        )
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('pgtrigger.ignore', '{}', false)")


def _write(user, patients, count=1, action=Action.VIEW):
    return [
        record_access(user, action, patients, object_type="patients.patient") for _ in range(count)
    ]


def _verify():
    out = []

    class Sink:
        def write(self, text):
            out.append(text)

        def flush(self):
            pass

    call_command("verify_audit", stdout=Sink())
    return "".join(out)


def test_entries_chain_each_to_the_one_before(carol, alices_patient, bobs_patient):
    first, second = _write(carol, [alices_patient]), _write(carol, [alices_patient, bobs_patient])
    first, second = first[0], second[0]
    assert (first.seq, second.seq) == (1, 2)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.entry_hash
    assert second.entry_hash == entry_hash(AuditEntry.objects.get(pk=second.pk))
    # A list entry names every patient it covers, a one-patient entry also its patient.
    assert second.patient_id is None
    assert second.patient_id_list == sorted([alices_patient.pk, bobs_patient.pk])
    assert first.patient_id == alices_patient.pk
    assert "intact: 2 entries" in _verify()


def test_an_empty_trail_is_intact(db):
    assert "intact: 0 entries" in _verify()


def test_purpose_follows_role_and_assignment(alice, carol, rita, alices_patient, bobs_patient):
    assert _write(alice, [alices_patient])[0].purpose == Purpose.TREATMENT
    assert _write(carol, [bobs_patient])[0].purpose == Purpose.TREATMENT
    assert _write(rita, [alices_patient])[0].purpose == Purpose.RESEARCH
    # A therapist reading a patient of her clinic not assigned to her: only an emergency grant
    # lets her, and the entry says so whatever the grant looks like.
    assert _write(alice, [bobs_patient])[0].purpose == Purpose.EMERGENCY
    assert _write(alice, [alices_patient, bobs_patient])[0].purpose == Purpose.EMERGENCY
    # As stored, and hashed with it (the append statement decides a therapist's purpose).
    stored = AuditEntry.objects.order_by("seq").values_list("purpose", flat=True)
    assert list(stored) == ["treatment", "treatment", "research", "emergency", "emergency"]
    assert verify_chain().count == 5


def test_a_therapists_entry_is_one_statement(
    alice, alices_patient, bobs_patient, django_assert_num_queries
):
    _write(alice, [alices_patient])  # loads her roles, as the page's own checks do
    # In a test's transaction: savepoint, the statement (purpose included), release.
    with django_assert_num_queries(3):
        entry = record_access(alice, Action.VIEW, [bobs_patient])
    assert entry.purpose == Purpose.EMERGENCY


def test_the_append_function_writes_every_column(db):
    """The append is a PostgreSQL function (migration ``clinic/0009``) that reads the columns
    from the entry's canonical JSON by position: a field added to ``AuditEntry`` needs a new
    function (a migration), or it would never be written."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT prosrc FROM pg_proc WHERE proname = 'clinic_audit_append'")
        (source,) = cursor.fetchone()
    inserted = re.search(r"INSERT INTO clinic_auditentry AS e \(([^)]*)\)", source)
    columns = {f.column for f in AuditEntry._meta.concrete_fields if not f.primary_key}
    assert {c.strip() for c in inserted.group(1).split(",")} == columns
    positions = {int(i) for i in re.findall(r"f->>(\d+)", source)} | {audit._CANONICAL_PURPOSE}
    fields = audit._canonical_fields(AuditEntry(created_at=timezone.now()))
    assert positions == set(range(len(fields)))


def test_an_entry_is_stored_exactly_as_it_was_hashed(alice, alices_patient, bobs_patient, rf):
    """Quotes, backslashes, non-ASCII and IPv6 survive the trip through the canonical JSON the
    append function reads its columns from; the lookup rows name the entry's patients."""
    request = rf.get("/")
    request.user = alice
    request.META["REMOTE_ADDR"] = "2001:db8::7"
    path = '/patients/Zoë "O\'Brien" \\ 日本 😀/'
    entry = record_access(
        request,
        Action.DOWNLOAD,
        [bobs_patient, alices_patient],
        path=path,
        object_type="therapy_sessions.recording",
        object_id='x"y',
    )
    stored = AuditEntry.objects.get(pk=entry.pk)
    for field in AuditEntry._meta.concrete_fields:
        assert getattr(stored, field.attname) == getattr(entry, field.attname), field.name
    assert stored.path == path
    assert stored.client_address == "2001:db8::7"
    assert stored.purpose == Purpose.EMERGENCY  # bob's patient is not assigned to alice
    assert stored.patient_id_list == sorted([alices_patient.pk, bobs_patient.pk])
    assert sorted(stored.patient_rows.values_list("patient_id", flat=True)) == (
        stored.patient_id_list
    )
    assert entry_hash(stored) == stored.entry_hash
    assert verify_chain().intact


def test_client_address_trusts_only_our_proxies(settings):
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 0
    assert client_address(remote_addr="10.0.0.5", forwarded_for="198.51.100.1") == "10.0.0.5"
    settings.ALLAUTH_TRUSTED_PROXY_COUNT = 1
    # The client wrote the left value; our proxy appended the right one.
    assert (
        client_address(remote_addr="10.0.0.5", forwarded_for="198.51.100.1, 203.0.113.7")
        == "203.0.113.7"
    )
    assert client_address(remote_addr="10.0.0.5", forwarded_for="not-an-ip") is None


def test_an_ipv4_mapped_address_is_stored_as_ipv4_and_verifies(alice, alices_patient, rf):
    """A dual-stack socket reports an IPv4 client as ``::ffff:a.b.c.d``; Python and PostgreSQL
    print that form differently, so it is kept as the IPv4 address it stands for."""
    assert client_address(remote_addr="::ffff:10.0.0.5", forwarded_for=None) == "10.0.0.5"
    request = rf.get("/")
    request.user = alice
    request.META["REMOTE_ADDR"] = "::ffff:192.0.2.9"
    entry = record_access(request, Action.VIEW, [alices_patient], path="/patients/")
    stored = AuditEntry.objects.get(pk=entry.pk)
    assert stored.client_address == "192.0.2.9"
    assert entry_hash(stored) == stored.entry_hash
    assert verify_chain().intact


def test_the_table_refuses_update_and_delete(carol, alices_patient):
    entry = _write(carol, [alices_patient])[0]
    assert connection.vendor == "postgresql"
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).update(action=Action.CHANGE)
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        AuditEntry.objects.filter(pk=entry.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM clinic_auditentry")
    assert AuditEntry.objects.filter(pk=entry.pk, action=Action.VIEW).exists()


def _broken_at(seq):
    with pytest.raises(CommandError, match=f"entry #{seq}"):
        _verify()


def test_a_changed_entry_is_found(carol, alices_patient, bobs_patient):
    entries = _write(carol, [alices_patient], count=4)
    with around_the_trigger(TRIGGER):
        AuditEntry.objects.filter(pk=entries[2].pk).update(patient_ids=f",{bobs_patient.pk},")
    _broken_at(3)


def test_a_changed_entry_with_a_recomputed_hash_breaks_the_next_link(carol, alices_patient):
    entries = _write(carol, [alices_patient], count=4)
    forged = AuditEntry.objects.get(pk=entries[1].pk)
    forged.action = Action.DOWNLOAD
    forged.entry_hash = entry_hash(forged)
    with around_the_trigger(TRIGGER):
        AuditEntry.objects.filter(pk=forged.pk).update(
            action=forged.action, entry_hash=forged.entry_hash
        )
    _broken_at(3)


def test_a_deleted_entry_is_found(carol, alices_patient):
    entries = _write(carol, [alices_patient], count=4)
    # With the trigger disabled, as the table's owner could (its lookup rows first: they
    # reference it).
    with around_the_trigger(ROWS_TRIGGER):
        AuditEntryPatient.objects.filter(entry=entries[1]).delete()
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE clinic_auditentry DISABLE TRIGGER USER")
        cursor.execute("DELETE FROM clinic_auditentry WHERE id = %s", [entries[1].pk])
        cursor.execute("ALTER TABLE clinic_auditentry ENABLE TRIGGER USER")
    _broken_at(3)


def test_each_entry_has_one_lookup_row_per_patient(carol, alices_patient, bobs_patient):
    one, both = _write(carol, [alices_patient])[0], _write(carol, [bobs_patient, alices_patient])[0]
    rows = AuditEntryPatient.objects.order_by("entry_id", "patient_id")
    assert list(rows.values_list("entry_id", "patient_id")) == [
        (one.pk, alices_patient.pk),
        *sorted([(both.pk, alices_patient.pk), (both.pk, bobs_patient.pk)]),
    ]


def test_the_lookup_rows_refuse_update_and_delete(carol, alices_patient):
    _write(carol, [alices_patient])
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        AuditEntryPatient.objects.update(patient_id=alices_patient.pk + 1)
    with pytest.raises(DatabaseError, match="append_only"), transaction.atomic():
        AuditEntryPatient.objects.all().delete()


def test_a_removed_lookup_row_is_found(carol, alices_patient, bobs_patient):
    entries = _write(carol, [alices_patient, bobs_patient], count=3)
    # Hiding the second entry from Bob's patient's access report.
    with around_the_trigger(ROWS_TRIGGER):
        AuditEntryPatient.objects.filter(entry=entries[1], patient_id=bobs_patient.pk).delete()
    _broken_at(2)


def test_an_added_or_changed_lookup_row_is_found(carol, alices_patient, bobs_patient):
    entries = _write(carol, [alices_patient], count=3)
    AuditEntryPatient.objects.create(entry=entries[2], patient_id=bobs_patient.pk)
    _broken_at(3)


def test_a_lookup_row_of_no_entry_is_found(carol, alices_patient):
    entries = _write(carol, [alices_patient], count=2)
    with connection.cursor() as cursor:
        cursor.execute("ALTER TABLE clinic_auditentrypatient DISABLE TRIGGER ALL")
        cursor.execute(
            "INSERT INTO clinic_auditentrypatient (entry_id, patient_id) VALUES (%s, %s)",
            [entries[1].pk + 1000, alices_patient.pk],
        )
        cursor.execute("ALTER TABLE clinic_auditentrypatient ENABLE TRIGGER ALL")
    with pytest.raises(CommandError, match="lookup row names no entry"):
        _verify()


def test_entries_cut_from_the_end_are_found(carol, alices_patient):
    entries = _write(carol, [alices_patient], count=3)
    with around_the_trigger(TRIGGER, ROWS_TRIGGER):
        AuditEntryPatient.objects.filter(entry=entries[2]).delete()
        AuditEntry.objects.filter(pk=entries[2].pk).delete()
    _broken_at(3)
    assert AuditChainHead.objects.get().seq == 3


def test_reordered_entries_are_found(carol, alices_patient, bobs_patient):
    entries = _write(carol, [alices_patient], count=2) + _write(carol, [bobs_patient], count=2)
    b, c = entries[1], entries[2]
    with around_the_trigger(TRIGGER), transaction.atomic():
        AuditEntry.objects.filter(pk=b.pk).update(seq=10**9)
        AuditEntry.objects.filter(pk=c.pk).update(seq=b.seq)
        AuditEntry.objects.filter(pk=b.pk).update(seq=c.seq)
    report = verify_chain()
    assert (report.broken_seq, report.broken_id) == (2, c.pk)
    _broken_at(2)


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_keep_the_chain_linear(carol, alices_patient):
    errors = []

    def writer():
        try:
            _write(carol, [alices_patient], count=15)
        except Exception as exc:  # noqa: BLE001 - collected and asserted on below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert list(AuditEntry.objects.order_by("seq").values_list("seq", flat=True)) == list(
        range(1, 61)
    )
    assert verify_chain().count == 60
