"""The upload service: one C3D file becomes a stored, hashed Recording queued for analysis.

Pages, the API, the bulk import command and the demo seed all go through
``recording_upload`` so the same checks apply everywhere. The web process never parses the
file (a few mutated bytes can make a C3D parser allocate gigabytes): it checks the size and
the C3D header bytes only (the core's header check, which loads no numpy); the worker reads the
file in an isolated child process.
"""

from __future__ import annotations

import hashlib
import logging
import os

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from analysis import core
from analysis.pipeline.queue import recording_enqueue_on_commit
from clinic.access import require_object_access
from sessions.models import Recording, TherapySession

logger = logging.getLogger(__name__)


class UploadRefused(ValidationError):
    """The file was not accepted; ``message`` says why in words a clinician understands.

    ``code`` says which check refused it (the API answers 413 for ``too_large``, 409 for
    ``duplicate``, 400 otherwise): ``too_large``, ``not_c3d``, ``duplicate``, ``voided``.
    """


def read_head(uploaded_file, *, n: int = core.C3D_HEADER_BYTES) -> bytes:
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
            f"{name} is {size / 1024 / 1024:.1f} MB, above the {limit / 1024 / 1024:.0f} MB limit.",
            code="too_large",
        )
    problem = core.c3d_header_problem(read_head(uploaded_file), size=size)
    if problem:
        raise UploadRefused(f"{name} is not a C3D recording: {problem}.", code="not_c3d")


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
    name = os.path.basename(uploaded_file.name or "recording.c3d")[:255]
    require_object_access(user, session, "therapy_sessions.add_recording")
    if session.is_voided:
        raise UploadRefused(
            f"{name}: this session is voided; recordings cannot be added.", code="voided"
        )
    upload_check(uploaded_file=uploaded_file, name=name)
    sha256 = file_sha256(uploaded_file)
    duplicate = Recording.objects.filter(session=session, sha256=sha256).first()
    if duplicate is not None:
        raise UploadRefused(_duplicate_message(name, duplicate), code="duplicate")

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
        raise UploadRefused(_duplicate_message(name, duplicate), code="duplicate") from exc

    recording_enqueue_on_commit(recording)
    return recording


def _duplicate_message(name: str, duplicate: Recording) -> str:
    return (
        f"{name} was already uploaded to this session (as {duplicate.original_name}); "
        "the same file is not stored twice."
    )
