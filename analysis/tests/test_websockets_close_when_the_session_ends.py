"""A browser's websockets (recording status, live view) close with 4401 when the session they
were opened with ends: at once when the user signs out, within the periodic check when the
session goes idle (SESSION_IDLE_TIMEOUT) or expires. Other sessions' sockets stay open."""

import time
from importlib import import_module

import pytest
from channels.db import database_sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.test import Client

from analysis import consumers
from analysis.consumers import CLOSE_UNAUTHENTICATED
from clinic.middleware import LAST_SEEN_KEY, SIGNED_IN_KEY
from config.asgi import application

pytestmark = [pytest.mark.django_db(transaction=True)]

PATHS = {"status": "/ws/sessions/{}/status/", "live": "/ws/sessions/{}/live/"}


@pytest.fixture
def session(session_of, alices_patient):
    return session_of(alices_patient)


def signed_in_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def socket(path: str, client: Client) -> WebsocketCommunicator:
    cookie = f"sessionid={client.cookies['sessionid'].value}"
    return WebsocketCommunicator(
        application, path, [(b"origin", b"http://localhost"), (b"cookie", cookie.encode())]
    )


async def opened(ws: WebsocketCommunicator) -> WebsocketCommunicator:
    connected, _ = await ws.connect()
    assert connected
    first = await ws.receive_json_from(timeout=5)  # the snapshot
    assert first["type"] in ("snapshot", "state")
    return ws


async def closed_with(ws: WebsocketCommunicator, timeout: float) -> int | None:
    """The close code the server sends within ``timeout`` (other messages skipped)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            out = await ws.receive_output(timeout=max(0.05, deadline - time.monotonic()))
        except TimeoutError:
            return None
        if out["type"] == "websocket.close":
            return out.get("code")
    return None


@pytest.mark.parametrize("kind", sorted(PATHS))
async def test_signing_out_closes_that_sessions_websockets_at_once(session, alice, kind):
    mine = await database_sync_to_async(signed_in_client)(alice)
    other = await database_sync_to_async(signed_in_client)(alice)  # another browser
    ws = await opened(socket(PATHS[kind].format(session.pk), mine))
    elsewhere = await opened(socket(PATHS[kind].format(session.pk), other))

    response = await database_sync_to_async(mine.post)("/accounts/logout/")
    assert response.status_code == 302

    assert await closed_with(ws, timeout=5) == CLOSE_UNAUTHENTICATED
    assert await elsewhere.receive_nothing(timeout=0.5)  # the other session stays open
    await elsewhere.disconnect()


@pytest.mark.parametrize("kind", sorted(PATHS))
async def test_an_idle_session_closes_its_websockets_at_the_next_check(
    session, alice, kind, monkeypatch
):
    monkeypatch.setattr(consumers, "SESSION_CHECK_EVERY_S", 0.2)
    client = await database_sync_to_async(signed_in_client)(alice)
    ws = await opened(socket(PATHS[kind].format(session.pk), client))
    assert await ws.receive_nothing(timeout=0.6)  # checked, still signed in: open

    def go_idle():  # the last request was longer ago than SESSION_IDLE_TIMEOUT
        store = import_module(settings.SESSION_ENGINE).SessionStore(
            session_key=client.cookies["sessionid"].value
        )
        now = int(time.time())
        store[LAST_SEEN_KEY] = now - settings.SESSION_IDLE_TIMEOUT - 5
        store[SIGNED_IN_KEY] = now - settings.SESSION_IDLE_TIMEOUT - 5
        store.save()

    await database_sync_to_async(go_idle)()
    assert await closed_with(ws, timeout=5) == CLOSE_UNAUTHENTICATED


async def test_an_expired_or_deleted_session_closes_the_websocket(session, alice, monkeypatch):
    monkeypatch.setattr(consumers, "SESSION_CHECK_EVERY_S", 0.2)
    client = await database_sync_to_async(signed_in_client)(alice)
    ws = await opened(socket(PATHS["live"].format(session.pk), client))

    def expire():  # e.g. cleared by the admin, or the store's own expiry passed
        import_module(settings.SESSION_ENGINE).SessionStore(
            session_key=client.cookies["sessionid"].value
        ).delete()

    await database_sync_to_async(expire)()
    assert await closed_with(ws, timeout=5) == CLOSE_UNAUTHENTICATED
