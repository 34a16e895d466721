"""Every staff page, found by walking the URL resolver (issue 16): the browser checks (axe-core,
width at 768 px) and the screenshot set (``bench/screenshots.py``) visit the same list.

``PAGES`` builds the URL of each HTML page from a few real objects (``objects``: a patient, one
of its sessions, an analysed recording of it); ``NOT_PAGES`` names every other URL pattern and
why no one looks at it as a page. ``test_every_url_is_a_page_or_named`` fails on a new pattern
that is in neither, so a new page is checked without anyone remembering to add it.
"""

from __future__ import annotations

from types import SimpleNamespace

from django.contrib import admin
from django.urls import reverse

from config.tests.test_audit_coverage import url_patterns


def _u(name, key):
    return lambda o: reverse(name, args=[o[key].pk])


def _plain(name):
    return lambda o: reverse(name)


PAGES = {
    "clinic:dashboard": _plain("clinic:dashboard"),
    "clinic:settings": _plain("clinic:settings"),
    "clinic:api_tokens": _plain("clinic:api_tokens"),
    "clinic:audit": _plain("clinic:audit"),
    "patients:list": _plain("patients:list"),
    "patients:create": _plain("patients:create"),
    "patients:emergency": _plain("patients:emergency"),
    "patients:detail": _u("patients:detail", "patient"),
    "patients:edit": _u("patients:edit", "patient"),
    "patients:void": _u("patients:void", "patient"),
    "patients:calibrations": _u("patients:calibrations", "patient"),
    "patients:protocol": _u("patients:protocol", "patient"),
    "patients:progress": _u("patients:progress", "patient"),
    "patients:access-report": _u("patients:access-report", "patient"),
    "patients:session-create": _u("patients:session-create", "patient"),
    "sessions:detail": _u("sessions:detail", "session"),
    "sessions:edit": _u("sessions:edit", "session"),
    "sessions:void": _u("sessions:void", "session"),
    "sessions:upload": _u("sessions:upload", "session"),
    "sessions:recording": _u("sessions:recording", "recording"),
    "sessions:recording-void": _u("sessions:recording-void", "recording"),
    "sessions:recording-move": _u("sessions:recording-move", "recording"),
    "analysis:recording_results": _u("analysis:recording_results", "recording"),
    "analysis:session_live": _u("analysis:session_live", "session"),
    "analysis:stateless": _plain("analysis:stateless"),
    "analysis:exports": _plain("analysis:exports"),
    "api-docs": _plain("api-docs"),
    # Account pages (allauth's views in our layout).
    "account_change_password": _plain("account_change_password"),
    "account_email": _plain("account_email"),
    "account_logout": _plain("account_logout"),
    "mfa_index": _plain("mfa_index"),
    "mfa_activate_totp": _plain("mfa_activate_totp"),
    "usersessions_list": _plain("usersessions_list"),
}

# Pages seen before signing in.
ANONYMOUS_PAGES = {
    "account_login": _plain("account_login"),
    "account_reset_password": _plain("account_reset_password"),
}

NOT_PAGES = {
    "patients:emergency-acknowledge": "a POST action (a button on the dashboard)",
    "patients:export-csv": "a download",
    "patients:export-json": "a download",
    "patients:fhir": "a download",
    "patients:progress-report": "a PDF download",
    "patients:progress-report-status": "the waiting page of a report task (needs one running)",
    "sessions:report": "a PDF download",
    "sessions:recording-download": "a download",
    "analysis:session_reanalyse": "a POST action",
    "analysis:session_live_stop": "a POST action",
    "analysis:session_live_replay": "the demo's replay: 404 unless LIVE_DEMO_REPLAY",
    "analysis:session_score": "a fragment of the session page, checked inside it",
    "analysis:recording_row": "a fragment of the session page, checked inside it",
    "analysis:research-csv": "a download",
    "api-schema": "the OpenAPI schema (YAML)",
    "account_inactive": "shown only to an inactive account",
    "account_signup": "sign-up is closed (a redirect)",
    "account_reauthenticate": "reached only from a sensitive action",
    "account_email_verification_sent": "reached only after sign-up",
    "account_set_password": "for accounts without a password (none here)",
    "account_confirm_login_code": "login by code is off",
    "account_confirm_email": "needs an e-mailed key",
    "account_reset_password_from_key_done": "needs an e-mailed key",
    "account_reset_password_from_key": "needs an e-mailed key",
    "account_reset_password_done": "after a reset request",
    "mfa_authenticate": "during a login with two factors",
    "mfa_reauthenticate": "reached only from a sensitive action",
    "mfa_deactivate_totp": "needs an activated authenticator",
    "mfa_view_recovery_codes": "needs an activated authenticator",
    "mfa_generate_recovery_codes": "needs an activated authenticator",
    "mfa_download_recovery_codes": "a download",
}

# Personas of the checks: the root conftest's fixtures, one of each role.
PERSONAS = {"therapist": "alice", "manager": "carol", "researcher": "rita", "admin": "zoe"}

# Pages a persona may not open (403 or 404 by design); every other page must answer 200.
UNREACHABLE = {
    "therapist": {
        "clinic:settings",
        "clinic:audit",
        "patients:void",
        "patients:access-report",
        "sessions:void",
        "analysis:exports",
    },
    "manager": {"patients:emergency"},
    "researcher": {
        "clinic:settings",
        "clinic:audit",
        "patients:create",
        "patients:emergency",
        "patients:edit",
        "patients:void",
        "patients:access-report",
        "patients:session-create",
        "sessions:edit",
        "sessions:void",
        "sessions:recording-void",
        "sessions:recording-move",
    },
    "admin": {"patients:emergency"},
}

# Parts of a page that are not ours to fix, left out of the axe run, and why.
AXE_EXCLUDE = {
    "api-docs": "#swagger-ui",  # Swagger UI's own rendering (the pinned swagger-ui-dist)
}
# Findings in files another engineer owns: (page, axe rule) -> where, until they are fixed there.
AXE_KNOWN: dict[tuple[str, str], str] = {}


def resolver_names() -> set[str]:
    """Qualified names of every site URL pattern (the admin and the REST API are apart)."""
    return {name for name, _ in url_patterns() if not name.startswith(("admin:", "api:"))}


def pages_for(persona: str, objects: dict) -> list[tuple[str, str]]:
    """(name, path) of every page ``persona`` must be able to open, built from ``objects``."""
    skip = UNREACHABLE[persona]
    return [(name, build(objects)) for name, build in PAGES.items() if name not in skip]


def admin_pages(objects: dict) -> list[tuple[str, str]]:
    """The admin's index and, for every registered model, its change list, its add form (where
    the admin allows adding) and the change form of its first row (the admin persona)."""
    pages = [("admin:index", reverse("admin:index"))]
    for model, model_admin in admin.site._registry.items():
        prefix = f"admin:{model._meta.app_label}_{model._meta.model_name}"
        pages.append((f"{prefix}_changelist", reverse(f"{prefix}_changelist")))
        if model_admin.has_add_permission(SUPERUSER_REQUEST):
            pages.append((f"{prefix}_add", reverse(f"{prefix}_add")))
        first = model._default_manager.order_by("pk").first()
        if first is not None:
            pages.append((f"{prefix}_change", reverse(f"{prefix}_change", args=[first.pk])))
    return pages


class _Superuser:
    """Enough of a superuser for ``ModelAdmin.has_add_permission``."""

    is_active = is_staff = is_superuser = True

    def has_perm(self, perm, obj=None) -> bool:
        return True


SUPERUSER_REQUEST = SimpleNamespace(user=_Superuser())
