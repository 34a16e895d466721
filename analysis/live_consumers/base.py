"""What the live consumers share: dispatch without a thread hop or a task per message, a
send for websocket messages that skips what only concerns HTTP, the ingest's group."""

from __future__ import annotations

import asyncio
import contextlib
import functools

from channels.consumer import get_handler_name
from channels.exceptions import StopConsumer
from channels.generic.websocket import AsyncWebsocketConsumer
from channels.layers import get_channel_layer
from channels.sessions import InstanceSessionWrapper

from analysis.live_consumers.direct_send import DirectTextSend, release_closed_deferred

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
    keeps the handlers one at a time, in arrival order, as channels runs them. Between two
    messages each loop lets the event loop run, as channels' does: the wait for the next
    message does it, or, when that message is already queued, one yield before it. The
    client's messages go to ``receive`` as ``websocket_receive`` passes them (which these
    consumers do not override), without the handler lookup.
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
        self.socket_send = websocket_send(send)
        # looked up at the first frame (send_text); False when not served by Daphne
        self.direct_send = None
        turn = asyncio.Lock()

        async def pump(source):
            # the server's queue (Daphne's, the test communicator's: an asyncio.Queue's get)
            # is read without waiting when it holds messages, so the yield between two
            # messages is taken only then: a get that waits has let the others run already
            queue = getattr(source, "__self__", None)
            if not isinstance(queue, asyncio.Queue):
                queue = None
            while True:
                if queue is not None and not queue.empty():
                    # messages already waiting: let the other connections (a viewer's
                    # acknowledgement, the sockets) have their turn before the next one,
                    # as channels' loop does
                    await asyncio.sleep(0)
                    message = queue.get_nowait()
                else:
                    message = await source()
                async with turn:
                    await self.dispatch(message)
                if queue is None:
                    await asyncio.sleep(0)  # as above, for a source that may not wait

        pumps = [asyncio.ensure_future(pump(source)) for source in sources]
        try:
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                error = task.exception()  # StopConsumer ends the consumer: not raised here
                if error is not None and not isinstance(error, StopConsumer):
                    raise error  # an error propagates
        finally:
            for task in pumps:
                task.cancel()
            for task in pumps:
                with contextlib.suppress(asyncio.CancelledError, StopConsumer):
                    await task
            # Nothing of the connection outlives it in a reference cycle: an exception raised
            # in this frame would hold the frame in its traceback, the frame the tasks, the
            # tasks their exceptions; such a cycle (the consumer, its session and user, the
            # scope) waits for a full collection of the garbage collector instead of being
            # freed now by reference counting (docs/live-deployment.md, seventh round)
            pumps.clear()
            done = task = error = None
            self.direct_send = None
            release_closed_deferred(self.socket_send)

    async def dispatch(self, message):
        if message["type"] == "websocket.receive":  # the client's messages, most of them
            text = message.get("text")
            if text is not None:
                await self.receive(text_data=text)
            else:
                await self.receive(bytes_data=message["bytes"])
            return
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)

    async def send_text(self, text: str) -> None:
        """``self.send(text_data=text)`` on the path of every live frame: under Daphne
        written straight to the socket, framed once for all viewers
        (:mod:`analysis.live_consumers.direct_send`); elsewhere the server's send below
        channels' wrappers (:func:`websocket_send`)."""
        direct = self.direct_send
        if direct is None:
            direct = self.direct_send = DirectTextSend.for_send(self.socket_send) or False
        if direct and direct(text):
            return
        await self.socket_send({"type": "websocket.send", "text": text})


def websocket_send(send):
    """The server's send below channels' session wrappers, for websocket messages.

    ``SessionMiddleware`` wraps a connection's send to save the session and set its cookie
    on ``http.response.start``; for any other message it reads two attributes of the
    session and passes the message on. The live path sends 40-odd websocket messages per
    stream-second, so they go to the send below it; everything else (accept, close, the
    other consumers) still goes through ``self.send``.
    """
    while isinstance(getattr(send, "__self__", None), InstanceSessionWrapper):
        send = send.__self__.real_send
    return send


def ingest_group(session_id: int) -> str:
    """The group of the session's ingest connection (stop button, alert acknowledgements)."""
    return f"live-ingest-{session_id}"
