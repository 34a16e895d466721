"""What the live consumers share: dispatch without a thread hop or a task per message, the
ingest's group."""

from __future__ import annotations

import asyncio
import contextlib
import functools

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer

ACK_PERMISSION = "therapy_sessions.add_recording"  # acknowledge alerts, as for adding recordings


class LiveConsumer(AsyncWebsocketConsumer):
    """A websocket consumer whose messages are dispatched without a thread hop or a new
    task each.

    Channels' ``dispatch`` runs ``close_old_connections`` in the sync thread before every
    message (a ``sync_to_async`` round trip through the thread pool, per frame and viewer).
    These consumers touch the database only through ``database_sync_to_async``, which closes
    stale connections itself, in the thread that uses them; so the hop is skipped.

    Channels' receive loop (``await_many_dispatch``) starts a task for every message it
    waits for and an ``asyncio.wait`` over both sources around each; here each source (the
    client's messages, the channel layer's) is read by one long-lived loop, and a lock
    keeps the handlers one at a time, in arrival order, as channels runs them. Each loop
    yields to the event loop after every message, as channels' does.
    """

    async def __call__(self, scope, receive, send):
        """``AsyncConsumer.__call__`` with the leaner receive loop (see the class)."""
        self.scope = scope
        self.channel_layer = get_channel_layer(self.channel_layer_alias)
        sources = [receive]
        if self.channel_layer is not None:
            self.channel_name = await self.channel_layer.new_channel()
            self.channel_receive = functools.partial(self.channel_layer.receive, self.channel_name)
            sources.append(self.channel_receive)
        self.base_send = send
        turn = asyncio.Lock()

        async def pump(source):
            while True:
                message = await source()
                async with turn:
                    await self.dispatch(message)
                # a queue that holds messages already returns without yielding: let the
                # other connections (a viewer's acknowledgement, the sockets) have their
                # turn between two messages, as channels' loop does
                await asyncio.sleep(0)

        pumps = [asyncio.ensure_future(pump(source)) for source in sources]
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # StopConsumer ends the consumer; an error propagates
        except StopConsumer:
            pass
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError, StopConsumer):
                    await task

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


def ingest_group(session_id: int) -> str:
    """The group of the session's ingest connection (stop button, alert acknowledgements)."""
    return f"live-ingest-{session_id}"
