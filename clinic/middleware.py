"""Middleware of the site: no caching of staff responses; an unaudited read never shows;
two-factor set up before anything; sessions end after inactivity."""

import time

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.middleware import BaseMiddleware
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import JsonResponse
from django.shortcuts import redirect
from django.urls import Resolver404, resolve, reverse
from django.utils.cache import add_never_cache_headers

from clinic.audit import AuditUnavailable
from clinic.web import audit_unavailable_response, wants_json


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


# ---------------------------------------------------------------------------------------------
# Two-factor authentication required (setting MFA_REQUIRED)
# ---------------------------------------------------------------------------------------------

# Pages a signed-in user without an authenticator may still open: setting one up (allauth asks
# for the password again when the login is old), the recovery codes it shows next, logging out.
MFA_SETUP_URL_NAMES = frozenset(
    {
        "mfa_index",
        "mfa_activate_totp",
        "mfa_view_recovery_codes",
        "mfa_generate_recovery_codes",
        "mfa_download_recovery_codes",
        "mfa_reauthenticate",
        "account_reauthenticate",
        "account_logout",
    }
)
# Websocket close code for a user who must set up two-factor authentication first.
CLOSE_MFA_REQUIRED = 4403


def mfa_setup_required(user) -> bool:
    """True when two-factor is required and this signed-in user has no TOTP authenticator yet.

    One indexed query per request while the setting is on. Every account is staff (there is no
    public signup), superusers included, so the rule has no exception.
    """
    if not settings.MFA_REQUIRED or user is None or not user.is_authenticated:
        return False
    return not is_mfa_enabled(user, [Authenticator.Type.TOTP])


class MfaRequiredMiddleware:
    """With ``MFA_REQUIRED`` on, a user without an authenticator can do nothing but set one up.

    Pages (site and admin) redirect to allauth's TOTP setup; the API and scripts' requests get
    403 JSON. The login itself is allauth's: a user with an authenticator is asked for a code
    before being signed in, on the site and in the admin (whose login is allauth's).
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if mfa_setup_required(getattr(request, "user", None)):
            match = getattr(request, "resolver_match", None) or _resolve(request.path_info)
            if match is None or match.url_name not in MFA_SETUP_URL_NAMES:
                return self.refuse(request)
        return self.get_response(request)

    @staticmethod
    def refuse(request):
        message = "Set up two-factor authentication before anything else."
        if request.path_info.startswith("/api/") or wants_json(request):
            return JsonResponse({"detail": message}, status=403)
        messages.warning(request, message)
        return redirect(reverse("mfa_activate_totp"))


def _resolve(path):
    try:
        return resolve(path)
    except Resolver404:
        return None


class MfaSetupRequiredConsumer(AsyncWebsocketConsumer):
    """The websocket answer to a user who must set up two-factor first: a clean close code."""

    async def connect(self):
        await self.accept()
        await self.close(code=CLOSE_MFA_REQUIRED)


class MfaRequiredWebsocketMiddleware(BaseMiddleware):
    """The same rule for websockets (inside channels' AuthMiddlewareStack, which sets the user)."""

    async def __call__(self, scope, receive, send):
        if await database_sync_to_async(mfa_setup_required)(scope.get("user")):
            return await MfaSetupRequiredConsumer.as_asgi()(scope, receive, send)
        return await super().__call__(scope, receive, send)


# ---------------------------------------------------------------------------------------------
# Sessions end after inactivity (setting SESSION_IDLE_TIMEOUT)
# ---------------------------------------------------------------------------------------------

LAST_SEEN_KEY = "myoclinic.last_seen"
SIGNED_IN_KEY = "myoclinic.signed_in"


class IdleTimeoutMiddleware:
    """Sign a user out after ``SESSION_IDLE_TIMEOUT`` seconds without a request.

    The session's own expiry follows the last request (``set_expiry``), so an idle session is
    also dead for websockets and for a copied cookie, not only for this middleware. To spare a
    database write per request the time is refreshed at most once a minute (the timeout is
    exact to that minute). ``SESSION_COOKIE_AGE`` stays the longest a session may live at all,
    however busy (counted from the first request after login). 0 turns the idle rule off.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        idle = settings.SESSION_IDLE_TIMEOUT
        if idle and user is not None and user.is_authenticated:
            now = int(time.time())
            session = request.session
            last_seen = session.get(LAST_SEEN_KEY, now)
            signed_in = session.get(SIGNED_IN_KEY, now)
            if now - last_seen > idle or now - signed_in > settings.SESSION_COOKIE_AGE:
                logout(request)
                messages.info(request, "You were signed out after a period of inactivity.")
                return redirect_to_login(request.get_full_path())
            if LAST_SEEN_KEY not in session or now - last_seen >= min(60, idle // 2):
                session[LAST_SEEN_KEY] = now
                session[SIGNED_IN_KEY] = signed_in
                session.set_expiry(idle)
        return self.get_response(request)
