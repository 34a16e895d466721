"""Small helpers the views of every app share (no business rule lives here)."""

from django.utils.http import url_has_allowed_host_and_scheme


def wants_json(request) -> bool:
    """A script's request (upload.js, session-status.js) rather than a page's form post."""
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


def safe_next(request, fallback: str) -> str:
    """The ``next`` target of a form when it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback
