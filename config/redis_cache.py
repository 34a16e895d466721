"""Django's Redis cache backend, keeping its redis-py client.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the (kept)
connection pool for every cache operation; building one costs about as much CPU as the
round trip it makes (its response-callback table is filled each time). redis-py's clients
are safe to share between threads (each command takes a connection from the pool), so this
backend builds one client per connection pool and keeps it. Same keys, values, timeouts and
connections as Django's backend; only the per-call construction is gone. The live ingest
touches the cache every second per stream (device lease, state for new viewers).

Django keeps a cache backend per asynchronous context (``django.core.cache.caches`` is an
asgiref ``Local``): under Daphne each websocket connection's code that reaches the cache,
through ``database_sync_to_async``, got its own backend, so its own connection pool, client
and Redis connection (~25 objects and a TCP connection per websocket, opened on its first
cache call and left to the garbage collector when it ended). The backends of one process now
share one client (its pools) per server list and options, as its threads already did.
"""

from __future__ import annotations

import threading

from django.core.cache.backends import redis as django_redis
from django.utils.functional import cached_property

# (servers, options) -> the client every backend of this process with them uses
_shared_clients: dict[str, KeptClientRedisCacheClient] = {}
_shared_lock = threading.Lock()


class KeptClientRedisCacheClient(django_redis.RedisCacheClient):
    """``RedisCacheClient`` with one redis-py client per connection pool, built once."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}  # id(pool) -> client; the pools are kept for the backend's life

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients.setdefault(id(pool), self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    """``django.core.cache.backends.redis.RedisCache`` with :class:`KeptClientRedisCacheClient`."""

    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = KeptClientRedisCacheClient

    @cached_property
    def _cache(self):
        """The process's client for these servers and options (built by the first backend
        that needs it; redis-py's pools reconnect after a fork by themselves)."""
        key = repr((list(self._servers), sorted(self._options.items(), key=lambda kv: kv[0])))
        with _shared_lock:
            client = _shared_clients.get(key)
            if client is None:
                client = _shared_clients[key] = self._class(self._servers, **self._options)
        return client
