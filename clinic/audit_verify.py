"""Check the whole audit chain: ``verify_chain`` walks every entry in order and reports the
first break (run by ``manage.py verify_audit``). The hashing rules are ``clinic.audit``'s."""

from __future__ import annotations

from dataclasses import dataclass

from clinic.audit import GENESIS, entry_hash
from clinic.models import AuditChainHead, AuditEntry, AuditEntryPatient


@dataclass(frozen=True)
class ChainReport:
    count: int
    broken_seq: int | None = None
    broken_id: int | None = None
    reason: str = ""

    @property
    def intact(self) -> bool:
        return not self.reason


def verify_chain(*, chunk_size: int = 2000) -> ChainReport:
    """Walk the entries in chain order and return the first break (or the count if intact).

    A changed entry no longer matches its hash; a deleted one leaves a gap in ``seq`` and a
    ``prev_hash`` that names a hash no longer before it; a reordered pair breaks both; entries
    cut from the end leave the chain head ahead of the last entry. The patients' lookup rows
    (``AuditEntryPatient``) must name exactly the patients the hash covers: a row removed, added
    or changed would hide an entry from a patient's access report or put one in another's.
    """
    expected_seq, prev, count = 1, GENESIS, 0
    entries = AuditEntry.objects.order_by("seq")
    last_seq = 0
    while True:
        chunk = list(entries.filter(seq__gt=last_seq)[:chunk_size])
        if not chunk:
            break
        last_seq = chunk[-1].seq
        rows: dict[int, list[int]] = {}
        for entry_id, patient_id in (
            AuditEntryPatient.objects.filter(entry_id__in=[e.pk for e in chunk])
            .order_by("entry_id", "patient_id")
            .values_list("entry_id", "patient_id")
        ):
            rows.setdefault(entry_id, []).append(patient_id)
        for entry in chunk:
            if entry.seq != expected_seq:
                return ChainReport(
                    count,
                    entry.seq,
                    entry.pk,
                    f"position {expected_seq} expected, found {entry.seq}",
                )
            if entry.prev_hash != prev:
                return ChainReport(count, entry.seq, entry.pk, "previous hash does not match")
            if entry_hash(entry) != entry.entry_hash:
                return ChainReport(count, entry.seq, entry.pk, "content does not match its hash")
            if rows.get(entry.pk, []) != entry.patient_id_list:
                return ChainReport(
                    count, entry.seq, entry.pk, "its patients' lookup rows do not match it"
                )
            prev, expected_seq, count = entry.entry_hash, expected_seq + 1, count + 1
    orphans = AuditEntryPatient.objects.exclude(entry_id__in=AuditEntry.objects.values("pk"))
    if orphan := orphans.order_by("entry_id").first():
        return ChainReport(
            count, None, orphan.entry_id, "a patient lookup row names no entry of the chain"
        )
    head = AuditChainHead.objects.filter(pk=1).first()
    head_at = (head.seq, head.entry_hash or GENESIS) if head is not None else (0, GENESIS)
    if head_at != (count, prev):
        return ChainReport(
            count,
            count + 1,
            None,
            f"the chain head is at position {head_at[0]} but the entries end at {count}",
        )
    return ChainReport(count)
