"""The Redis cache backend that keeps its redis-py client (config/redis_cache.py): the same
behaviour as Django's backend, one client per connection pool, shared safely by threads."""

from __future__ import annotations

import asyncio
import contextvars
import threading
import uuid

import pytest
from asgiref.sync import sync_to_async
from django.conf import settings
from django.core.cache import caches as django_caches
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache

from config.redis_cache import KeptClientRedisCacheClient, RedisCache

pytestmark = pytest.mark.skipif(
    not settings.REDIS_URL, reason="needs the Redis of the test run (REDIS_URL)"
)


@pytest.fixture
def caches():
    """Ours and Django's on the same Redis, under a prefix of this test only."""
    url = settings.CACHES["default"]["LOCATION"]
    prefix = f"test-cache-{uuid.uuid4().hex}"
    ours = RedisCache(url, {"KEY_PREFIX": prefix})
    theirs = DjangoRedisCache(url, {"KEY_PREFIX": prefix})
    yield ours, theirs
    client = ours._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{prefix}:*"))
    if keys:
        client.delete(*keys)


def test_the_deployment_uses_it():
    assert settings.CACHES["default"]["BACKEND"] == "config.redis_cache.RedisCache"


def test_one_client_kept_per_pool(caches):
    ours, theirs = caches
    assert isinstance(ours._cache, KeptClientRedisCacheClient)
    first = ours._cache.get_client("a")
    assert ours._cache.get_client("b", write=True) is first  # one server: one pool, one client
    assert theirs._cache.get_client("a") is not theirs._cache.get_client("a")  # Django's: new


def test_same_values_as_djangos_backend(caches):
    ours, theirs = caches
    state = {"type": "state", "channels": [{"label": "CH1", "pct": 12.5}], "device": True}
    ours.set("state", state, timeout=60)
    assert theirs.get("state") == state  # same keys and serialisation, both ways
    theirs.set("n", 41)
    assert ours.incr("n") == 42
    assert ours.add("lease", "dev|chan-1", timeout=20) is True
    assert ours.add("lease", "dev|chan-2", timeout=20) is False
    assert theirs.get("lease") == "dev|chan-1"
    assert ours.touch("lease", timeout=5) is True
    assert 0 < ours._cache.get_client().ttl(ours.make_key("lease")) <= 5
    ours.set_many({"a": 1, "b": [2, 3]})
    assert theirs.get_many(["a", "b", "missing"]) == {"a": 1, "b": [2, 3]}
    assert ours.delete("a") is True
    assert theirs.get("a", "gone") == "gone"
    assert ours.get("missing", "default") == "default"


def test_threads_share_the_client(caches):
    ours, _ = caches
    errors = []

    def work(n):
        try:
            for i in range(50):
                ours.set(f"t{n}", (n, i))
                assert ours.get(f"t{n}") == (n, i)
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ours._cache._clients) == 1


def test_the_backends_of_a_process_share_one_client(caches):
    ours, _ = caches
    url = settings.CACHES["default"]["LOCATION"]
    other = RedisCache(url, {"KEY_PREFIX": "another-prefix"})
    assert other._cache is ours._cache  # same servers and options: one client, one pool
    assert RedisCache(url, {"OPTIONS": {"db": 3}})._cache is not ours._cache


def test_each_websocket_context_uses_the_same_client():
    """Django keeps a backend per asynchronous context: each connection's code gets its own
    backend, and they all reach Redis through the one client (no pool or connection each)."""

    def client_of_this_context():
        backend = django_caches["default"]
        backend.set("shared-client-probe", 1, timeout=5)
        return backend, backend._cache.get_client(write=True)  # kept: no id reused

    async def connections():
        return await asyncio.gather(
            *(asyncio.ensure_future(sync_to_async(client_of_this_context)()) for _ in range(4))
        )

    # from an empty context, as a server's connections start (this test process's own
    # context may hold a backend already, which copies of it would share)
    seen = contextvars.Context().run(asyncio.run, connections())
    assert len({id(backend) for backend, _ in seen}) == 4  # Django's: a backend per context
    assert len({id(client) for _, client in seen}) == 1  # ours: one client for all
