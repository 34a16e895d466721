"""Responses to signed-in staff are never stored by a cache; an unaudited read never shows."""

from django.utils.cache import add_never_cache_headers

from clinic.audit import AuditUnavailable
from clinic.web import audit_unavailable_response


class NoStoreForStaffMiddleware:
    """``Cache-Control: no-store`` on every response to a signed-in user.

    Pages, downloads and fragments carry patient data: a shared computer's back button or a
    proxy must not keep them. Responses that set their own Cache-Control keep it; static files
    never reach here (WhiteNoise answers them first).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and not response.has_header("Cache-Control"):
            add_never_cache_headers(response)
        return response


class AuditUnavailableMiddleware:
    """A read or change whose audit entry could not be written answers 503, not a 500.

    Pages catch ``AuditUnavailable`` themselves (``clinic.web.audited``); this covers writes that
    record inside a transaction (admin saves), which roll back with the entry.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, AuditUnavailable):
            return audit_unavailable_response()
        return None
