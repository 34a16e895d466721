"""Helpers shared by the page tests (clinic, patients, sessions)."""

import hashlib

from django.core.files.base import ContentFile

from conftest import FOREIGN_NAMES

TINY_C3D = b"\x02\x50" + b"\x00" * 510  # a C3D-like header block; the pages never parse it


def make_recording(session, *, name="Ghostly_Emg_20240101_10-00-00-0000.c3d", status="pending"):
    """A Recording whose file is saved through the private storage API (never a public URL)."""
    from sessions.models import Recording

    recording = Recording(
        session=session,
        sha256=hashlib.sha256(TINY_C3D + name.encode()).hexdigest(),
        size_bytes=len(TINY_C3D),
        original_name=name,
        status=status,
    )
    recording.file.save(name, ContentFile(TINY_C3D), save=False)
    recording.save()
    return recording


def names_in(body: str) -> set[str]:
    """Every patient name of conftest.FOREIGN_NAMES that appears in ``body``."""
    return {name for names in FOREIGN_NAMES.values() for name in names if name in body}


def names_of(*patient_keys) -> set[str]:
    return {name for key in patient_keys for name in FOREIGN_NAMES[key]}
