"""The site's ASGI handler (``config.asgi_handler.SyncChainASGIHandler``: the sync middleware
chain in one hop to the request thread) answers exactly as Django's stock ``ASGIHandler``."""

import asyncio
import json
import threading
from inspect import iscoroutinefunction

import pytest
from asgiref.sync import async_to_sync
from django.core import signals
from django.core.handlers.asgi import ASGIHandler

from clinic.services import api_token_create
from config.asgi import django_asgi_app
from config.asgi_handler import RequestThreads, SyncChainASGIHandler


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


@pytest.mark.django_db(
    transaction=True
)  # each request runs on a thread (and connection) of its own
@pytest.mark.parametrize(
    "case", ["api list", "api detail", "api anonymous", "page anonymous", "csrf refused", "404"]
)
def test_same_answers_as_djangos_handler(case, alice, alices_patient, settings):
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


@pytest.mark.django_db(transaction=True)
def test_requests_reuse_their_threads_instead_of_starting_new_ones(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    handler = SyncChainASGIHandler()
    for _ in range(5):
        assert call(handler, "GET", "/healthz")[0] == 200
    assert handler.threads.started == 1
    assert len(handler.threads.idle) == 1


@pytest.mark.django_db(transaction=True)
def test_requests_in_flight_together_each_have_a_thread_of_their_own(settings):
    """Two requests meet at a barrier in their synchronous code: with one thread for both,
    the first would wait there for the second forever (the barrier breaks after 10 s)."""
    settings.ALLOWED_HOSTS = ["127.0.0.1"]
    handler = SyncChainASGIHandler()
    barrier = threading.Barrier(2, timeout=10)
    threads_seen = set()

    def meet(**kwargs):
        threads_seen.add(threading.get_ident())
        barrier.wait()

    signals.request_started.connect(meet)
    try:

        async def both():
            return await asyncio.gather(
                *(asyncio.to_thread(call, handler, "GET", "/healthz") for _ in range(2))
            )

        answers = asyncio.run(both())
    finally:
        signals.request_started.disconnect(meet)
    assert [status for status, _, _ in answers] == [200, 200]
    assert len(threads_seen) == 2
    assert handler.threads.started == 2


def test_a_thread_goes_back_to_the_free_list_only_when_idle():
    """A view whose client went away still runs in its thread: the thread is not handed to
    the next request until that view is over."""
    threads = RequestThreads()
    thread = threads.take()
    release = threading.Event()
    thread.submit(release.wait, 10)

    async def give_back_while_busy():
        threads.give_back(thread)
        busy_meanwhile = not threads.idle
        release.set()
        for _ in range(100):
            if threads.idle:
                break
            await asyncio.sleep(0.05)
        return busy_meanwhile

    assert asyncio.run(give_back_while_busy())
    assert threads.idle == [thread]
    assert threads.take() is thread
    assert threads.started == 1
