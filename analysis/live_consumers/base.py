"""What the live consumers share: dispatch without a thread hop, the ingest's group."""

from __future__ import annotations

from channels.consumer import get_handler_name
from channels.generic.websocket import AsyncWebsocketConsumer

ACK_PERMISSION = "therapy_sessions.add_recording"  # acknowledge alerts, as for adding recordings


class LiveConsumer(AsyncWebsocketConsumer):
    """A websocket consumer whose messages are dispatched without a thread hop each.

    Channels' ``dispatch`` runs ``close_old_connections`` in the sync thread before every
    message (a ``sync_to_async`` round trip through the thread pool, per frame and viewer).
    These consumers touch the database only through ``database_sync_to_async``, which closes
    stale connections itself, in the thread that uses them; so the hop is skipped.
    """

    async def dispatch(self, message):
        handler = getattr(self, get_handler_name(message), None)
        if handler is None:
            raise ValueError(f"No handler for message type {message['type']}")
        await handler(message)


def ingest_group(session_id: int) -> str:
    """The group of the session's ingest connection (stop button, alert acknowledgements)."""
    return f"live-ingest-{session_id}"
