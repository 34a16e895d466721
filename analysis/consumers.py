"""Live status of a session's recordings, pushed to its open pages over a websocket."""

from __future__ import annotations

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer

from analysis import selectors
from analysis.pipeline.notify import session_group
from clinic.audit import (
    Action,
    AuditUnavailable,
    patient_ids_for,
    record_access,
    scope_client_address,
)
from sessions.models import TherapySession

CLOSE_UNAUTHENTICATED = 4401
CLOSE_NOT_FOUND = 4404
CLOSE_AUDIT_UNAVAILABLE = 4503


def audit_live_view(scope, user, session_id, *, action=Action.LIVE_VIEW) -> None:
    """The audit entry of one websocket joining a session: a viewer of its status or live view,
    or a device streaming into it (``action`` create). Raises AuditUnavailable."""
    record_access(
        user,
        action,
        patient_ids_for(TherapySession, [session_id]),
        object_type=TherapySession._meta.label_lower,
        object_id=session_id,
        address=scope_client_address(scope),
        path=scope.get("path", ""),
    )


class SessionStatusConsumer(AsyncJsonWebsocketConsumer):
    """``ws/sessions/<id>/status/``: the current statuses on connect, then every change.

    The access policy decides: anonymous users are closed with 4401, a session outside the
    user's scope (or that does not exist) with 4404, exactly like a 404 page. Each accepted
    viewer writes one audit entry (live view); without it the socket closes with 4503. The
    worker sends ``recording.status`` events to the group ``session-<id>``
    (analysis.pipeline.notify.status_notify).
    """

    group = None

    async def connect(self):
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            await self.refuse(CLOSE_UNAUTHENTICATED)
            return
        session_id = self.scope["url_route"]["kwargs"]["session_id"]
        statuses = await database_sync_to_async(selectors.session_statuses_for)(
            user=user, session_id=session_id
        )
        if statuses is None:
            await self.refuse(CLOSE_NOT_FOUND)
            return
        try:  # no snapshot, and no updates, without the audit entry
            await database_sync_to_async(audit_live_view)(self.scope, user, session_id)
        except AuditUnavailable:
            await self.refuse(CLOSE_AUDIT_UNAVAILABLE)
            return
        self.group = session_group(session_id)
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()
        await self.send_json({"type": "snapshot", "recordings": statuses})

    async def refuse(self, code):
        """Accept then close: a close before accept is a bare HTTP 403 and loses the code."""
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Viewers only listen: whatever they send (JSON or not, text or binary) is ignored."""

    async def recording_status(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"} | {"type": "status"})
