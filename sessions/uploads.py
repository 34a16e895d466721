"""The upload service: one C3D file becomes a stored, hashed Recording queued for analysis.

Pages, the API, the bulk import command and the demo seed all go through
``recording_upload`` so the same checks apply everywhere. The web process never parses the
file (a few mutated bytes can make a C3D parser allocate gigabytes): it checks the size and
the C3D header bytes only; the worker reads the file in an isolated child process.
"""

from __future__ import annotations

import hashlib
import logging
import os

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from sessions.models import Recording, TherapySession

logger = logging.getLogger(__name__)

C3D_BLOCK = 512
# Byte 2 of a C3D file is always 0x50 (80); byte 1 points at the first parameter block, whose
# 4th byte is the processor type: 84 Intel, 85 DEC, 86 SGI/MIPS.
C3D_MARKER = 0x50
C3D_PROCESSORS = {84, 85, 86}
MAX_FIRST_PARAMETER_BLOCK = 127


class UploadRefused(ValidationError):
    """The file was not accepted; ``message`` says why in words a clinician understands."""


def c3d_header_problem(head: bytes, *, size: int) -> str | None:
    """Why ``head`` (the first bytes of a file of ``size`` bytes) is not a C3D file, or None.

    Checks only what is cheap and certain: the 0x50 marker, a first parameter block that lies
    inside the file, and a known processor type in that block's header.
    """
    if size == 0:
        return "the file is empty"
    if size < C3D_BLOCK or len(head) < 2:
        return "the file is too short to be a C3D file"
    if head[1] != C3D_MARKER:
        return "the file does not start with a C3D header"
    first_block = head[0]
    if not 1 <= first_block <= MAX_FIRST_PARAMETER_BLOCK:
        return "the C3D header points at an impossible parameter block"
    processor_at = (first_block - 1) * C3D_BLOCK + 3
    if size <= processor_at:
        return "the C3D parameter section lies beyond the end of the file"
    if processor_at < len(head) and head[processor_at] not in C3D_PROCESSORS:
        return "the C3D parameter section has an unknown processor type"
    return None


def read_head(uploaded_file, *, n: int = MAX_FIRST_PARAMETER_BLOCK * C3D_BLOCK) -> bytes:
    """The first ``n`` bytes of an uploaded file, leaving it rewound."""
    uploaded_file.seek(0)
    head = uploaded_file.read(n)
    uploaded_file.seek(0)
    return head


def file_sha256(uploaded_file) -> str:
    """SHA-256 of the file, read in chunks (uploads up to the limit never sit in memory)."""
    digest = hashlib.sha256()
    uploaded_file.seek(0)
    for chunk in uploaded_file.chunks():
        digest.update(chunk)
    uploaded_file.seek(0)
    return digest.hexdigest()


def upload_check(*, uploaded_file, name: str | None = None) -> None:
    """Refuse a file that is too big or not C3D, before anything is stored."""
    name = name or os.path.basename(uploaded_file.name or "file")
    limit = settings.RECORDING_MAX_UPLOAD_BYTES
    size = uploaded_file.size
    if size is None:
        raise UploadRefused(f"{name}: the file size could not be determined.")
    if size > limit:
        raise UploadRefused(
            f"{name} is {size / 1024 / 1024:.1f} MB, above the {limit / 1024 / 1024:.0f} MB limit."
        )
    problem = c3d_header_problem(read_head(uploaded_file), size=size)
    if problem:
        raise UploadRefused(f"{name} is not a C3D recording: {problem}.")


def recording_upload(
    *, session: TherapySession, uploaded_file, user=None, source: str = Recording.Source.UPLOAD
) -> Recording:
    """Store one C3D file on a session and queue its analysis once the transaction commits.

    ``uploaded_file`` is a Django ``File`` (an ``UploadedFile`` from a form, or a ``File``
    around an open file). ``user`` (None for system imports) must see the session and hold
    ``therapy_sessions.add_recording``. Raises ``UploadRefused`` with a clear message for a
    voided session, a file too big, not C3D, or already uploaded to this session. If the broker
    is down when the transaction commits the upload still succeeds: the row stays ``pending``
    and the periodic sweeper enqueues it later.
    """
    from clinic.access import sessions_visible_to

    name = os.path.basename(uploaded_file.name or "recording.c3d")[:255]
    if user is not None:
        if not sessions_visible_to(user).filter(pk=session.pk).exists():
            raise PermissionDenied("This session is outside your scope.")
        if not user.has_perm("therapy_sessions.add_recording"):
            raise PermissionDenied("Missing permission: therapy_sessions.add_recording")
    if session.is_voided:
        raise UploadRefused(f"{name}: this session is voided; recordings cannot be added.")
    upload_check(uploaded_file=uploaded_file, name=name)
    sha256 = file_sha256(uploaded_file)
    duplicate = Recording.objects.filter(session=session, sha256=sha256).first()
    if duplicate is not None:
        raise UploadRefused(_duplicate_message(name, duplicate))

    recording = Recording(
        session=session,
        sha256=sha256,
        size_bytes=uploaded_file.size,
        original_name=name,
        source=source,
        uploaded_by=user,
        status=Recording.Status.PENDING,
    )
    recording.file.save(name, uploaded_file, save=False)
    try:
        with transaction.atomic():
            recording.save()
    except IntegrityError as exc:
        # Two uploads of the same file raced past the check above: the constraint decided.
        recording.file.delete(save=False)
        duplicate = Recording.objects.filter(session=session, sha256=sha256).first()
        if duplicate is None:
            raise
        raise UploadRefused(_duplicate_message(name, duplicate)) from exc

    from analysis.services import recording_enqueue, status_notify

    def announce_and_enqueue():
        # Open pages of the session hear of the new file first, then the worker's stages.
        status_notify(recording=recording)
        recording_enqueue(recording_id=recording.pk)

    transaction.on_commit(announce_and_enqueue, robust=True)
    return recording


def _duplicate_message(name: str, duplicate: Recording) -> str:
    return (
        f"{name} was already uploaded to this session (as {duplicate.original_name}); "
        "the same file is not stored twice."
    )
