"""The two variants every report comes in, and what keeps the pseudonymised one anonymous.

What the reports show is built in ``reports.session_report`` (a session's results) and
``reports.progress_report`` (a patient's course), from the same reads as the pages: the figures
come from ``analysis.selectors`` / ``analysis.presentation`` and ``patients.progress``, a report
never computes a figure of its own. Identity follows ``patients.selectors.patient_card``: the
pseudonymised variant is given no name, MRN, birth date, file name or free text, so its template
cannot print them; :func:`pseudonymised_document` takes the player's names out of the result
documents it attaches. Access is the caller's job (``reports.services``).
"""

from __future__ import annotations

import copy

IDENTIFIED = "identified"
PSEUDONYMISED = "pseudonymised"
VARIANTS = (IDENTIFIED, PSEUDONYMISED)
#: Keys of a result document's file metadata that name a person (the C3D's SUBJECTS/INFO).
IDENTIFYING_METADATA = ("player", "therapist_id", "group_id")
#: Bumped whenever a report's layout or content changes, so cached PDFs are rebuilt.
LAYOUT_VERSION = "4"


def pseudonymised_document(document: dict) -> dict:
    """A result document without the file metadata that names the player."""
    doc = copy.deepcopy(document or {})
    metadata = (doc.get("recording") or {}).get("metadata")
    if isinstance(metadata, dict):
        for key in IDENTIFYING_METADATA:
            metadata.pop(key, None)
    return doc
