"""The site's ASGI handler (``config.asgi_handler.SyncChainASGIHandler``: the sync middleware
chain in one hop to the request thread) answers exactly as Django's stock ``ASGIHandler``."""

import asyncio
import json
from inspect import iscoroutinefunction

import pytest
from asgiref.sync import async_to_sync
from django.core import signals
from django.core.handlers.asgi import ASGIHandler
from django.db import close_old_connections

from clinic.services import api_token_create
from config.asgi import django_asgi_app
from config.asgi_handler import SyncChainASGIHandler


@pytest.fixture
def keep_test_connection():
    """As Django's test client does: the test's transaction outlives each request."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def call(app, method, path, headers=(), body=b""):
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1"), *headers],
        "client": ("127.0.0.1", 5000),
        "server": ("127.0.0.1", 80),
    }

    async def run():
        messages = [{"type": "http.request", "body": body, "more_body": False}]
        never = asyncio.Event()
        sent = []

        async def receive():
            if messages:
                return messages.pop()
            await never.wait()
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)

        await app(scope, receive, send)
        return sent

    sent = async_to_sync(run)()
    start = sent[0]
    content = b"".join(message.get("body", b"") for message in sent[1:])
    return start["status"], dict(start["headers"]), content


def test_the_site_runs_the_sync_chain():
    assert isinstance(django_asgi_app, SyncChainASGIHandler)
    assert not iscoroutinefunction(django_asgi_app._middleware_chain)


@pytest.mark.parametrize(
    "case", ["api list", "api detail", "api anonymous", "page anonymous", "csrf refused", "404"]
)
def test_same_answers_as_djangos_handler(
    case, alice, alices_patient, settings, keep_test_connection
):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    _, token = api_token_create(user=alice, name="asgi")
    auth = [(b"authorization", f"Token {token}".encode()), (b"accept", b"application/json")]
    method, path, headers = {
        "api list": ("GET", "/api/v1/patients/", auth),
        "api detail": ("GET", f"/api/v1/patients/{alices_patient.pk}/", auth),
        "api anonymous": ("GET", "/api/v1/patients/", []),
        "page anonymous": ("GET", "/patients/", []),
        "csrf refused": ("POST", "/accounts/login/", []),
        "404": ("GET", "/no-such-page/", []),
    }[case]
    ours = call(SyncChainASGIHandler(), method, path, headers)
    stock = call(ASGIHandler(), method, path, headers)
    assert ours[0] == stock[0]
    assert set(ours[1]) == set(stock[1])
    for name in (b"content-type", b"location", b"cache-control", b"www-authenticate"):
        assert ours[1].get(name) == stock[1].get(name)
    if case.startswith("api"):
        assert json.loads(ours[2]) == json.loads(stock[2])
    if case == "api list":
        assert ours[0] == 200
        assert json.loads(ours[2])["count"] == 1
