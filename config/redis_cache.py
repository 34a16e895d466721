"""Django's Redis cache backend, keeping its redis-py client.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` around the (kept)
connection pool for every cache operation; building one costs about as much CPU as the
round trip it makes (its response-callback table is filled each time). redis-py's clients
are safe to share between threads (each command takes a connection from the pool), so this
backend builds one client per connection pool and keeps it. Same keys, values, timeouts and
connections as Django's backend; only the per-call construction is gone. The live ingest
touches the cache every second per stream (device lease, state for new viewers).
"""

from __future__ import annotations

from django.core.cache.backends import redis as django_redis


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
