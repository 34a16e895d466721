"""``Authorization: Token <token>``: a personal API token acts as its user, nothing more.

Failed attempts are counted per client address; past ``API_TOKEN_FAILURES_PER_MINUTE`` in a
minute every token request from that address answers 429 with Retry-After until the minute
ends, so tokens cannot be guessed at speed (they are 256 random bits anyway).
"""

from __future__ import annotations

import time

from allauth.account.adapter import get_adapter
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured, PermissionDenied
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from clinic.services import api_token_authenticate

KEYWORD = "Token"
_WINDOW_S = 60


def client_ip(request) -> str:
    """The client's address as the login rate limits see it (trusted proxies only)."""
    try:
        return get_adapter().get_client_ip(request)
    except (ImproperlyConfigured, PermissionDenied):
        return request.META.get("REMOTE_ADDR") or "unknown"


def _failure_key(ip: str, window: int) -> str:
    return f"api-token-failures:{ip}:{window}"


def _check_not_blocked(ip: str) -> None:
    now = time.time()
    window = int(now // _WINDOW_S)
    failures = cache.get(_failure_key(ip, window), 0)
    if failures >= settings.API_TOKEN_FAILURES_PER_MINUTE:
        wait = _WINDOW_S - (now % _WINDOW_S)
        raise exceptions.Throttled(wait=wait, detail="Too many invalid tokens; try again later.")


def _count_failure(ip: str) -> None:
    key = _failure_key(ip, int(time.time() // _WINDOW_S))
    cache.add(key, 0, timeout=_WINDOW_S * 2)
    try:
        cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=_WINDOW_S * 2)


class TokenAuthentication(authentication.BaseAuthentication):
    """Personal API tokens (clinic.ApiToken); 401 for a missing, wrong, expired or revoked one."""

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != KEYWORD.lower().encode():
            return None  # not ours: session authentication may still apply
        if len(header) != 2:
            raise exceptions.AuthenticationFailed("Invalid token header: Token <token>.")
        ip = client_ip(request._request)
        _check_not_blocked(ip)
        try:
            key = header[1].decode("ascii")
        except UnicodeDecodeError:
            key = ""
        user = api_token_authenticate(key) if key else None
        if user is None:
            _count_failure(ip)
            raise exceptions.AuthenticationFailed("Invalid, expired or revoked token.")
        return (user, None)

    def authenticate_header(self, request):
        return KEYWORD


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    """The token in the OpenAPI schema (Swagger UI's Authorize button)."""

    target_class = "clinic.api.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "Personal API token, sent as `Token <token>`.",
        }
