"""Helpers of the pipeline page tests: analysed recordings with known numbers, persona logins."""

from __future__ import annotations

from analysis.services import analysis_save
from analysis.tests.support import contract_document, make_recording
from conftest import FOREIGN_NAMES

PERSONAS = ("alice", "bob", "carol", "rita", "dave", "zoe")


def analysed(session, name="round1.c3d", **doc):
    """A recording of ``session`` whose current analysis is the contract document."""
    recording = make_recording(session, name)
    analysis_save(
        recording=recording,
        document=contract_document(**doc),
        parameters={"scoring": {"target_pct_mvc": 75.0}, "clinic_settings_version": None},
        trigger="upload",
        timings={},
    )
    recording.refresh_from_db()
    return recording


def page(client, user, url, **kwargs):
    client.force_login(user)
    return client.get(url, **kwargs)


def foreign_names_in(html: str, *, allowed: set[str]) -> list[str]:
    """Names of patients outside ``allowed`` that appear in ``html``."""
    return [
        name
        for key, names in FOREIGN_NAMES.items()
        if key not in allowed
        for name in names
        if name in html
    ]
