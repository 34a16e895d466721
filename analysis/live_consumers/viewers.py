"""``ws/sessions/<id>/live/``: the therapists' live view (session cookie, the access policy,
Origin checked by config.asgi), each with a bounded queue: a slow viewer loses its oldest
frames (the next frame says how many) and never holds up the device or the other viewers."""

from __future__ import annotations

import collections
import contextlib
import json

from channels.db import database_sync_to_async
from django.conf import settings
from django.http import Http404
from django.utils import timezone

from analysis.consumers import CLOSE_AUDIT_UNAVAILABLE, SessionBoundMixin, audit_live_view
from analysis.core import live_protocol as proto
from analysis.live_consumers.base import ACK_PERMISSION, LiveConsumer, ingest_group
from analysis.pipeline import live
from analysis.pipeline.live_fanout import fanout
from clinic.audit import AuditUnavailable
from sessions import selectors as session_selectors


class LiveViewConsumer(SessionBoundMixin, LiveConsumer):
    """``ws/sessions/<id>/live/``: the live view of a session for those who may see it.

    Flow control: the page acknowledges frames (``{"type": "ack", "seq": n}``); at most
    ``LIVE_VIEWER_WINDOW`` frames are in flight, the rest wait in a queue of
    ``LIVE_VIEWER_QUEUE`` that drops its oldest; the next frame sent carries ``gap`` (frames
    dropped since the last one sent). The socket closes (4401) when the user signs out or the
    session goes idle (analysis.consumers.SessionBoundMixin).
    """

    session_id = None
    ready = False  # the snapshot is out: frames may follow

    async def connect(self):
        await self.accept()
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.close(code=proto.CLOSE_UNAUTHENTICATED)
            return
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        try:
            await database_sync_to_async(session_selectors.session_for)(user, self.session_id)
        except Http404:
            await self.close(code=proto.CLOSE_NOT_FOUND)
            return
        try:  # no frame without the audit entry
            await database_sync_to_async(audit_live_view)(self.scope, user, self.session_id)
        except AuditUnavailable:
            await self.close(code=CLOSE_AUDIT_UNAVAILABLE)
            return
        self.user = user
        self.may_ack = await database_sync_to_async(user.has_perm)(ACK_PERMISSION)
        self.queue = collections.deque()
        self.queue_size = settings.LIVE_VIEWER_QUEUE  # read once: every frame uses them
        self.window = settings.LIVE_VIEWER_WINDOW
        self.dropped = 0
        self.in_flight = 0
        self.watching = True
        await fanout().add_viewer(self.session_id, self)  # frames queue until the snapshot
        state = await database_sync_to_async(live.live_state)(self.session_id)
        device = await database_sync_to_async(live.device_connected)(self.session_id)
        snapshot = (state or {"type": "state", "channels": [], "alerts": []}) | {"device": device}
        await self.send(text_data=json.dumps(snapshot))
        self.ready = True
        await self.bind_session()  # closed (4401) when the user's session ends
        await self.flush()

    async def disconnect(self, code):
        await self.unbind_session()
        if getattr(self, "watching", False):
            self.watching, self.ready = False, False
            await fanout().remove_viewer(self.session_id, self)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if not self.ready:  # refused (the close is on its way), or not started yet
            return
        try:
            message = json.loads(text_data or "")
        except ValueError:
            return
        if not isinstance(message, dict):
            return
        if message.get("type") == "ack":
            self.in_flight = 0
            await self.flush()
        elif message.get("type") == "ack_alert" and self.may_ack:
            with contextlib.suppress(TypeError, ValueError):
                await self.channel_layer.group_send(
                    ingest_group(self.session_id),
                    {
                        "type": "live.alert_ack",
                        "id": int(message.get("id")),
                        "by": self.user.get_full_name() or self.user.email,
                        "at": timezone.now().isoformat(),
                    },
                )

    async def deliver(self, text: str) -> None:
        """A frame from the session's fan-out (analysis.pipeline.live_fanout), called by the
        ingest's task or the Redis listener: sent at once while the window is open, else
        queued (the oldest dropped when the queue is full) until the page acknowledges."""
        queue = self.queue
        if self.ready and not queue and not self.dropped and self.in_flight < self.window:
            self.in_flight += 1  # the usual case: nothing waits, the window is open
            await self.send_text(text)
            return
        if len(queue) >= self.queue_size:
            queue.popleft()
            self.dropped += 1
        queue.append(text)
        if self.ready:
            await self.flush()

    async def flush(self):
        """Send what the window allows. A send only hands the text to the server's buffer
        (it never waits for the network), and the window bounds what one viewer holds."""
        while self.ready and self.queue and self.in_flight < self.window:
            text = self.queue.popleft()
            if self.dropped:
                text = text[:-1] + f',"gap":{self.dropped}}}'
                self.dropped = 0
            self.in_flight += 1
            await self.send_text(text)
