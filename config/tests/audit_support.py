"""The case type of the audit coverage tests (``test_audit_coverage``, ``api_audit_cases``)."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.urls import reverse


@dataclass
class Case:
    """One request and the entry it must write."""

    url: callable
    method: str = "get"
    data: callable = field(default=lambda o: {})
    action: str = "view"
    user: str = "carol"
    purpose: str = "treatment"
    patient: str = "patient"  # the key of the patient the entry must cover
    status: int | None = None
    before: callable = field(default=lambda o, everyone: None)


def u(name, key):
    return lambda o: reverse(name, args=[o[key].pk])
