"""The live viewers' frames: one fan-out per process, Redis pub/sub between processes.

A frame is published once by the ingest connection of its session. Viewers connected to the
same process get it straight away (a call per viewer, no channel-layer message and no
consumer dispatch each); for viewers on other processes it is PUBLISHed once on the Redis
channel ``<prefix>:live-frames-<session id>``, and each process that has viewers of a session
streamed elsewhere SUBSCRIBEs to it and hands each message to its own viewers. Publishes
are pipelined (what the event loop produced since the last round trip goes to Redis in one
write) and skipped while no other process subscribes (``PUBSUB NUMSUB`` every
:data:`REMOTE_CHECK_S`: a viewer that joins on another process gets frames from then on).
Without a Redis channel layer (the embedded mode, one process) only the local part runs.

Why not ``channel_layer.group_send``: with channels_redis's pub/sub layer each frame cost a
publish round trip under the layer's one lock, a message per viewer through the layer's
queues and a consumer dispatch each, which was most of a stream's CPU
(docs/live-deployment.md). Control messages (stop, alert acknowledgements) still go
through the channel layer.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import weakref
from typing import Protocol

import redis.asyncio as aioredis
from django.conf import settings

logger = logging.getLogger(__name__)

REMOTE_CHECK_S = 0.25  # how often a process asks Redis whether others watch its streams


class Viewer(Protocol):
    async def deliver(self, text: str) -> None: ...


def redis_url() -> str | None:
    """The Redis of the channel layer (viewers of other processes listen there), if any."""
    layer = settings.CHANNEL_LAYERS.get("default", {})
    if "redis" not in layer.get("BACKEND", "").lower():
        return None
    hosts = layer.get("CONFIG", {}).get("hosts") or []
    host = hosts[0] if hosts else None
    return host if isinstance(host, str) else None


def channel_for(session_id: int) -> str:
    prefix = settings.CHANNEL_LAYERS.get("default", {}).get("CONFIG", {}).get("prefix", "")
    return f"{prefix}:live-frames-{session_id}"


class Fanout:
    """The fan-out of one process (one event loop)."""

    def __init__(self, url: str | None) -> None:
        self.url = url
        self.viewers: dict[int, set[Viewer]] = {}
        self.ingests: dict[int, int] = {}  # session -> its ingest connections here (a
        # device that reconnects may hold two for a moment)
        self.outbox: list[tuple[str, str]] = []
        self.sending: asyncio.Task | None = None
        self.redis: aioredis.Redis | None = None
        self.pubsub = None
        self.listener: asyncio.Task | None = None
        self.subscribed: set[int] = set()
        self.lock = asyncio.Lock()  # subscribe / unsubscribe, one at a time
        # per session streamed here: whether another process subscribes to its frames
        # (PUBSUB NUMSUB every REMOTE_CHECK_S; unknown counts as yes)
        self.remote: dict[int, bool] = {}
        self.remote_watch: asyncio.Task | None = None

    # -- publishing (the ingest) -----------------------------------------------------------

    async def publish(self, session_id: int, text: str) -> None:
        """Hand ``text`` to this process's viewers of the session now, and to Redis for the
        others (sent with whatever else is waiting, without waiting for it here)."""
        await self._deliver(session_id, text)
        if self.url is not None and self.remote.get(session_id, True):
            self.outbox.append((channel_for(session_id), text))
            if self.sending is None:
                self.sending = asyncio.ensure_future(self._send())

    async def _send(self) -> None:
        try:
            while self.outbox:
                batch, self.outbox = self.outbox, []
                try:
                    async with self._client().pipeline(transaction=False) as pipe:
                        for channel, text in batch:
                            pipe.publish(channel, text)
                        await pipe.execute()
                except (OSError, aioredis.RedisError) as exc:
                    # viewers elsewhere miss these frames (the next say "gap"); local
                    # viewers and the recording are not affected
                    logger.warning("live frames not published to Redis: %s", exc)
        finally:
            self.sending = None

    def ingest_started(self, session_id: int) -> None:
        """A device streams this session here: its local viewers get it without Redis."""
        self.ingests[session_id] = self.ingests.get(session_id, 0) + 1
        if session_id in self.subscribed:
            asyncio.ensure_future(self._unsubscribe(session_id))
        if self.url is not None and self.remote_watch is None:
            self.remote_watch = asyncio.ensure_future(self._watch_remote())

    def ingest_ended(self, session_id: int) -> None:
        left = self.ingests.pop(session_id, 0) - 1
        if left > 0:
            self.ingests[session_id] = left
            return
        self.remote.pop(session_id, None)
        if self.viewers.get(session_id):
            asyncio.ensure_future(self._subscribe(session_id))

    async def _watch_remote(self) -> None:
        """Which of the sessions streamed here other processes watch: frames nobody else
        subscribes to are not published (a viewer joining elsewhere gets them within
        REMOTE_CHECK_S)."""
        try:
            while self.ingests:
                await asyncio.sleep(REMOTE_CHECK_S)
                sessions = list(self.ingests)
                if not sessions:
                    break
                try:
                    counts = await self._client().pubsub_numsub(*map(channel_for, sessions))
                except (OSError, aioredis.RedisError):
                    self.remote.clear()  # unknown: publish everything
                    continue
                for session_id, (_, count) in zip(sessions, counts, strict=True):
                    if session_id in self.ingests:
                        self.remote[session_id] = int(count) > 0
        finally:
            self.remote_watch = None

    # -- viewers -------------------------------------------------------------------------

    async def add_viewer(self, session_id: int, viewer: Viewer) -> None:
        self.viewers.setdefault(session_id, set()).add(viewer)
        if session_id not in self.ingests:
            await self._subscribe(session_id)

    async def remove_viewer(self, session_id: int, viewer: Viewer) -> None:
        viewers = self.viewers.get(session_id, set())
        viewers.discard(viewer)
        if not viewers:
            self.viewers.pop(session_id, None)
            await self._unsubscribe(session_id)

    # -- Redis ---------------------------------------------------------------------------

    def _client(self) -> aioredis.Redis:
        if self.redis is None:
            self.redis = aioredis.Redis.from_url(self.url)
        return self.redis

    async def _subscribe(self, session_id: int) -> None:
        if self.url is None:
            return
        async with self.lock:
            if session_id in self.subscribed or not self.viewers.get(session_id):
                return
            if self.pubsub is None:
                self.pubsub = self._client().pubsub(ignore_subscribe_messages=True)
            try:
                await self.pubsub.subscribe(channel_for(session_id))
            except (OSError, aioredis.RedisError) as exc:
                logger.warning("live frames of session %s: not subscribed: %s", session_id, exc)
                return
            self.subscribed.add(session_id)
            if self.listener is None:
                self.listener = asyncio.ensure_future(self._listen())

    async def _unsubscribe(self, session_id: int) -> None:
        async with self.lock:
            if session_id not in self.subscribed:
                return
            self.subscribed.discard(session_id)
            with contextlib.suppress(OSError, aioredis.RedisError):
                await self.pubsub.unsubscribe(channel_for(session_id))

    async def _listen(self) -> None:
        prefix = channel_for(0)[:-1]
        while True:
            try:
                if not self.pubsub.subscribed:
                    await asyncio.sleep(0.1)
                    continue
                message = await self.pubsub.get_message(timeout=1.0)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis restart: keep listening, the client reconnects
                logger.exception("live frames: the Redis subscription failed")
                await asyncio.sleep(1.0)
                continue
            if message is None or message.get("type") != "message":
                continue
            name = message["channel"]
            name = name.decode() if isinstance(name, bytes) else name
            try:
                session_id = int(name[len(prefix) :])
            except ValueError:
                continue
            if session_id in self.ingests:  # streamed here: the viewers have it already
                continue
            data = message["data"]
            await self._deliver(session_id, data.decode() if isinstance(data, bytes) else data)

    async def _deliver(self, session_id: int, text: str) -> None:
        for viewer in list(self.viewers.get(session_id, ())):
            try:
                await viewer.deliver(text)
            except Exception:  # one viewer's failure never reaches the device or the others
                logger.exception("live frame not delivered to a viewer")


_fanouts: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def fanout() -> Fanout:
    """This event loop's fan-out (one per process under Daphne; one per test loop)."""
    loop = asyncio.get_running_loop()
    hub = _fanouts.get(loop)
    if hub is None:
        hub = _fanouts[loop] = Fanout(redis_url())
    return hub
