"""Audit cases of the REST API (``/api/v1/``), checked by ``test_audit_coverage``."""

from __future__ import annotations

# API URL names -> Case (a request and the one entry it must write).
API_CASES: dict = {}
# API URL names that show or change no patient data, and why.
API_EXEMPT: dict[str, str] = {}
