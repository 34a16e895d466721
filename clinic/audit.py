"""THE audit trail of patient data: ``record_access`` writes one entry (``clinic.audit_verify``
checks the whole chain).

Every surface that reads or changes patient data (pages, list pages, downloads, admin, the status
websocket) records through ``record_access``; the views do it through ``clinic.web.audited``, the
admin through ``clinic.admin_scope.ScopedAdminMixin``. django-auditlog keeps the field-level
history of changes (old and new values); this trail says who *read or changed* which patient's
record, for what purpose and from where, which no maintained library records.

Cost: on PostgreSQL one call of a PL/pgSQL function (``clinic_audit_append``), one round trip, no
planning (lock the chain head, move it, insert; the hash computed by the server over the bytes
Python serialised). The head's row lock serialises writers, which is what keeps the chain linear;
outside a transaction it is held for that one call. If any of it fails, ``AuditUnavailable`` is
raised and the caller refuses to show the data: an unaudited read never happens silently.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import json
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from clinic.access import Scope, can_see_identity, scope_of
from clinic.models import AuditChainHead, AuditEntry, AuditEntryPatient, User

GENESIS = "0" * 64
Action = AuditEntry.Action
Purpose = AuditEntry.Purpose


class AuditUnavailable(Exception):
    """The entry could not be written: the read or change it covers must not be shown."""


def client_address(*, remote_addr: str | None, forwarded_for: str | None) -> str | None:
    """The client's address as the login rate limits see it (``TRUSTED_PROXY_COUNT``).

    Behind N proxies of ours the address is the N-th value from the right of X-Forwarded-For
    (what the outermost of ours appended); anything further left is client-supplied. With no
    proxy (0) or a header shorter than N, the socket's address.
    """
    trusted = settings.ALLAUTH_TRUSTED_PROXY_COUNT
    candidate = remote_addr
    if trusted > 0 and forwarded_for:
        values = [v.strip() for v in forwarded_for.split(",")]
        if len(values) >= trusted:
            candidate = values[-trusted]
    return _normalised_address(candidate or "")


@functools.lru_cache(maxsize=512)
def _normalised_address(text: str) -> str | None:
    """``text`` as an IP address in its normal form, or None (parsed once per distinct text:
    every page's entry asks, mostly for the same few addresses). An IPv4-mapped IPv6 address
    (``::ffff:10.0.0.5``, what a dual-stack socket reports for an IPv4 client) is stored as the
    IPv4 address: it is the same client, and Python 3.11 and PostgreSQL print the mapped form
    differently, which would make ``verify_audit`` see a break that is not one."""
    try:
        address = ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return str(address)


def request_client_address(request) -> str | None:
    return client_address(
        remote_addr=request.META.get("REMOTE_ADDR"),
        forwarded_for=request.META.get("HTTP_X_FORWARDED_FOR"),
    )


def scope_client_address(scope) -> str | None:
    """The same address for a Channels (websocket) scope."""
    headers = dict(scope.get("headers") or [])
    forwarded = headers.get(b"x-forwarded-for")
    client = scope.get("client") or (None, None)
    return client_address(
        remote_addr=client[0], forwarded_for=forwarded.decode("latin-1") if forwarded else None
    )


def purpose_for(user, patient_ids: Iterable[int]) -> str:
    """Research for pseudonymised (researcher) reads; emergency when a therapist reads a patient
    who is not assigned to them (only an emergency grant lets them); treatment otherwise.

    Derived from the assignment itself, so it holds whatever widened the therapist's scope.
    """
    scope = scope_of(user)
    if scope is Scope.ASSIGNED:
        ids = sorted(set(patient_ids))
        if ids and _assigned_count(user, ids) < len(ids):
            return Purpose.EMERGENCY
        return Purpose.TREATMENT
    if scope is Scope.CLINIC and not can_see_identity(user):
        return Purpose.RESEARCH
    return Purpose.TREATMENT


def _assigned_count(user, patient_ids: list[int]) -> int:
    """How many of ``patient_ids`` are assigned to ``user`` (one plain query on the assignment
    table, which this app knows only through the user's reverse relation)."""
    through = user.assigned_patients.through._meta
    table = connection.ops.quote_name(through.db_table)
    user_col = through.get_field("user").column
    patient_col = through.get_field("patient").column
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT COUNT(*) FROM {table} WHERE {user_col} = %s "  # noqa: S608
            f"AND {patient_col} IN ({', '.join(['%s'] * len(patient_ids))})",
            [user.pk, *patient_ids],
        )
        return cursor.fetchone()[0]


def _canonical_fields(entry: AuditEntry) -> list:
    """Every recorded field between the chain position (first) and ``prev_hash`` (last)."""
    return [
        entry.created_at.isoformat(),
        entry.actor_id,
        entry.actor_label,
        entry.clinic_id,
        entry.patient_id,
        entry.patient_ids,
        entry.object_type,
        entry.object_id,
        entry.action,
        entry.purpose,
        entry.client_address,
        entry.path,
    ]


# Where the purpose sits in ``_canonical_fields`` (the append function may decide it).
_CANONICAL_PURPOSE = 9


_dumps = json.JSONEncoder(separators=(",", ":"), ensure_ascii=True).encode


def canonical(entry: AuditEntry) -> bytes:
    """The bytes the entry's hash covers: every recorded field, the chain position and prev,
    as compact ASCII JSON ``[seq, created_at, ..., path, prev_hash]``."""
    return _dumps([entry.seq, *_canonical_fields(entry), entry.prev_hash]).encode()


def entry_hash(entry: AuditEntry) -> str:
    return hashlib.sha256(canonical(entry)).hexdigest()


@dataclass(frozen=True)
class Subject:
    """What an entry is about: its patients and the object (model label and id)."""

    patient_ids: tuple[int, ...]
    object_type: str
    object_id: str = ""


def record_access(
    request_or_user,
    action: str,
    patients: Iterable[int | object],
    obj=None,
    *,
    object_type: str = "",
    object_id: str | int = "",
    address: str | None = None,
    path: str = "",
) -> AuditEntry:
    """Append one entry: ``action`` on ``patients`` (ids or Patient objects) by the request's user.

    ``obj`` is the object read or changed (its model label and pk are recorded); without it,
    ``object_type``/``object_id`` say what it was (a list page: ``patients.patient``, no id).
    Raises ``AuditUnavailable`` when the entry cannot be written.
    """
    request = request_or_user if hasattr(request_or_user, "META") else None
    user = request.user if request is not None else request_or_user
    if request is not None:
        address = request_client_address(request)
        path = path or request.path
    ids = sorted({int(getattr(p, "pk", p)) for p in patients})
    if obj is not None:
        object_type = obj._meta.label_lower
        object_id = obj.pk
    postgresql = connection.vendor == "postgresql"
    try:
        # A therapist's purpose depends on the assignment: on PostgreSQL the append function
        # checks it (no round trip of its own); elsewhere ``purpose_for`` asks.
        check_assignment = postgresql and bool(ids) and scope_of(user) is Scope.ASSIGNED
        purpose = Purpose.TREATMENT if check_assignment else purpose_for(user, ids)
        entry = _new_entry(
            created_at=timezone.now(),
            actor_id=user.pk if user is not None else None,
            actor_label=(user.get_username() if user is not None else "system"),
            clinic_id=getattr(user, "clinic_id", None),
            patient_id=ids[0] if len(ids) == 1 else None,
            patient_ids="," + ",".join(str(i) for i in ids) + "," if ids else "",
            object_type=object_type,
            object_id=str(object_id if object_id is not None else ""),
            action=action,
            purpose=purpose,
            client_address=address,
            path=path[:500],
        )
        # Inside a transaction, a savepoint keeps a failed write from breaking the caller's
        # transaction; outside one, the single statement is its own transaction.
        if not postgresql:
            with transaction.atomic():
                _append_portable(entry)
        elif connection.in_atomic_block:
            with transaction.atomic():
                _append_postgresql(entry, check_assignment)
        else:
            _append_postgresql(entry, check_assignment)
    except DatabaseError as exc:
        raise AuditUnavailable("The audit trail could not be written.") from exc
    return entry


@functools.cache
def _entry_attnames() -> tuple[str, ...]:
    return tuple(f.attname for f in AuditEntry._meta.concrete_fields)


def _new_entry(**values) -> AuditEntry:
    """An unsaved entry of ``values``; the others (pk, the chain's) stay None until it is
    appended. Built from positional values, Django's fast path (as for rows read from the
    database): keyword arguments cost three times as much, on every page view."""
    return AuditEntry(*map(values.get, _entry_attnames()))


def _table(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


# One call, one round trip: ``clinic_audit_append`` (migration ``clinic/0009``) gets the entry as
# the two halves of its canonical JSON around the purpose, reads the columns (and the patients'
# lookup rows) from that very text, decides a therapist's purpose (emergency unless she is
# assigned to every patient of the entry), locks the chain head, hashes "[" seq <before> purpose
# <after> prev_hash "]" (the bytes ``canonical`` hashes), moves the head and inserts the entry and
# its patients' rows. The head's row lock (FOR UPDATE, held to the end of the transaction)
# serialises writers: the chain stays linear. A PL/pgSQL function keeps the plans of its
# statements for the connection's life: the one statement of five CTEs that did the same was
# parsed and planned on every entry, which took longer than running it.
_APPEND_CALL = (
    "SELECT id, seq, prev_hash, entry_hash, purpose FROM clinic_audit_append(%s, %s, %s, %s)"
)


def _append_postgresql(entry: AuditEntry, check_assignment: bool) -> None:
    """Append the entry with one call of ``clinic_audit_append``; the hash is computed by
    PostgreSQL over the bytes Python serialised around the purpose, so ``verify_chain``
    recomputes the very same hash. With ``check_assignment`` (the actor is a therapist) the
    function sets the purpose from her assignments."""
    fields = _canonical_fields(entry)
    at = _CANONICAL_PURPOSE
    params = (
        "," + _dumps(fields[:at])[1:-1] + ",",
        "," + _dumps(fields[at + 1 :])[1:-1] + ",",
        entry.purpose,
        check_assignment,
    )
    with connection.cursor() as cursor:
        cursor.execute(_APPEND_CALL, params)
        row = cursor.fetchone()
        if row is None:  # no head row yet (a database created without the migration's row)
            AuditChainHead.objects.get_or_create(pk=1)
            cursor.execute(_APPEND_CALL, params)
            row = cursor.fetchone()
    entry.pk, entry.seq, entry.prev_hash, entry.entry_hash, entry.purpose = row
    entry._state.adding = False


def _append_portable(entry: AuditEntry) -> None:
    """Any other database (SQLite for the demo): the same steps as four statements, in the
    caller's transaction: take the next position (locks the head), insert, move the head, insert
    the patients' rows."""
    head = _table(AuditChainHead)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {head} SET seq = seq + 1 WHERE id = 1 RETURNING seq, entry_hash"  # noqa: S608
        )
        row = cursor.fetchone()
        if row is None:
            AuditChainHead.objects.get_or_create(pk=1)
            cursor.execute(
                f"UPDATE {head} SET seq = seq + 1 WHERE id = 1 RETURNING seq, entry_hash"  # noqa: S608
            )
            row = cursor.fetchone()
        entry.seq, entry.prev_hash = row[0], row[1] or GENESIS
        entry.entry_hash = entry_hash(entry)
        fields = [f for f in AuditEntry._meta.concrete_fields if not f.primary_key]
        cursor.execute(
            f"INSERT INTO {_table(AuditEntry)} "  # noqa: S608
            f"({', '.join(connection.ops.quote_name(f.column) for f in fields)}) "
            f"VALUES ({', '.join(['%s'] * len(fields))}) RETURNING id",
            [f.get_db_prep_save(getattr(entry, f.attname), connection) for f in fields],
        )
        entry.pk = cursor.fetchone()[0]
        entry._state.adding = False
        cursor.execute(f"UPDATE {head} SET entry_hash = %s WHERE id = 1", [entry.entry_hash])  # noqa: S608
    AuditEntryPatient.objects.bulk_create(
        AuditEntryPatient(entry_id=entry.pk, patient_id=pk) for pk in entry.patient_id_list
    )


def patient_ids_for(model, pks) -> list[int]:
    """The patients of ``model`` rows ``pks``, through the model's ``PATIENT_PATH`` (one query,
    none for Patient itself). One row's lookup (every page's) runs SQL compiled once per model:
    compiling the query was most of its cost."""
    path = model.PATIENT_PATH
    if not path:
        return [int(pk) for pk in pks]
    pks = list(pks)
    if len(pks) == 1:
        with connection.cursor() as cursor:
            cursor.execute(_one_row_patient_sql(model), [model._meta.pk.to_python(pks[0])])
            return [row[0] for row in cursor.fetchall()]
    return list(
        model._default_manager.filter(pk__in=pks).order_by().values_list(path, flat=True).distinct()
    )


@functools.cache
def _one_row_patient_sql(model) -> str:
    """The SQL of one row's patient (``PATIENT_PATH``), the row's pk its only parameter."""
    queryset = (
        model._default_manager.filter(pk=0).order_by().values_list(model.PATIENT_PATH, flat=True)
    )
    sql, params = queryset.query.sql_with_params()
    if list(params) != [0]:
        raise ValueError(f"{model.__name__}'s patient lookup takes other parameters: {params}")
    return sql


def entry_ids_for_patients(patient_ids):
    """A subquery of the entries that cover any of ``patient_ids`` (its own pages and the list
    pages that showed it), through the indexed ``AuditEntryPatient`` rows."""
    return AuditEntryPatient.objects.filter(patient_id__in=list(patient_ids)).values("entry_id")


def entries_for_patient(patient_id: int):
    """Every entry that covers the patient, newest first (an index lookup, never a scan)."""
    return AuditEntry.objects.filter(
        pk__in=AuditEntryPatient.objects.filter(patient_id=patient_id).values("entry_id")
    ).order_by("-seq")


def report_rows(entries) -> list[dict]:
    """Entries as the access report shows them: when, who, what, why, from where (one query for
    the actors' names)."""
    entries = list(entries)
    names = {
        user.pk: user.get_full_name()
        for user in User.objects.filter(pk__in={e.actor_id for e in entries if e.actor_id})
    }
    return [
        {
            "seq": e.seq,
            "time": e.created_at,
            "who": names.get(e.actor_id) or e.actor_label,
            "email": e.actor_label,
            "action": e.get_action_display(),
            "object": f"{e.object_type} {e.object_id}".strip(),
            "path": e.path,
            "purpose": e.get_purpose_display(),
            "address": e.client_address or "",
            "patients": len(e.patient_id_list),
        }
        for e in entries
    ]
