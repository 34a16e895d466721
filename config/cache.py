"""Django's Redis cache, with one Redis client per connection pool instead of one per call.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` for every cache call, and
each one copies redis-py's table of ~100 response callbacks: about 0.1 ms of CPU per call, and
an API request makes three (the token failure check and the throttle's read and write). A
``redis.Redis`` is safe to share between threads (every command takes a connection from the
pool and gives it back), so the client of each pool is kept and reused. Same pools, same
commands, same keys and values.
"""

from django.core.cache.backends import redis as django_redis


class ReusedClientRedisCacheClient(django_redis.RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        index = self._get_connection_pool_index(write)
        client = self._clients.get(index)
        if client is None:
            pool = self._pools.get(index)
            if pool is None:  # as Django's _get_connection_pool, for this very index
                pool = self._pools.setdefault(
                    index,
                    self._pool_class.from_url(self._servers[index], **self._pool_options),
                )
            client = self._clients.setdefault(index, self._client(connection_pool=pool))
        return client


class RedisCache(django_redis.RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusedClientRedisCacheClient
