"""Responses to signed-in staff are never stored by a browser or proxy cache."""

from django.utils.cache import add_never_cache_headers


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
