"""Live status of a session's recordings, pushed to its open pages over a websocket; and
the rule every browser websocket follows: it closes when the user's session ends."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import time
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.contrib.auth.signals import user_logged_out
from django.dispatch import receiver

from analysis import selectors
from analysis.pipeline.notify import session_group
from clinic.audit import (
    Action,
    AuditUnavailable,
    patient_ids_for,
    record_access,
    scope_client_address,
)
from clinic.middleware import LAST_SEEN_KEY, SIGNED_IN_KEY
from sessions.models import TherapySession

logger = logging.getLogger(__name__)

CLOSE_UNAUTHENTICATED = 4401  # also: the session ended (signed out, idle, expired)
CLOSE_NOT_FOUND = 4404
CLOSE_AUDIT_UNAVAILABLE = 4503
SESSION_CHECK_EVERY_S = 30.0  # how often an open browser websocket checks its session


# ---------------------------------------------------------------------------------------------
# A browser's websocket lives no longer than the session it was opened with
# ---------------------------------------------------------------------------------------------


def signed_out_group(session_key: str) -> str:
    """The channel-layer group of the websockets opened with one session (a digest: the
    session key itself never travels through the channel layer)."""
    return "signed-out-" + hashlib.sha256(session_key.encode()).hexdigest()[:40]


def session_signed_in(session_key: str, user_id) -> bool:
    """Whether the session still signs this user in: it exists and has not expired (its
    expiry follows the last request, ``SESSION_IDLE_TIMEOUT``), names the user, and is
    neither idle nor older than ``SESSION_COOKIE_AGE`` by the idle middleware's rule."""
    store = import_module(settings.SESSION_ENGINE).SessionStore(session_key=session_key)
    if store.get(SESSION_KEY) != str(user_id):
        return False
    idle = settings.SESSION_IDLE_TIMEOUT
    if not idle:
        return True
    now = int(time.time())
    last_seen, signed_in = store.get(LAST_SEEN_KEY, now), store.get(SIGNED_IN_KEY, now)
    return now - last_seen <= idle and now - signed_in <= settings.SESSION_COOKIE_AGE


@receiver(user_logged_out, dispatch_uid="analysis.consumers.close_websockets_on_sign_out")
def close_websockets_on_sign_out(sender, request=None, user=None, **kwargs):
    """Signing out closes that session's open websockets at once (on every process)."""
    session = getattr(request, "session", None)
    key = getattr(session, "session_key", None)
    if not key:
        return
    try:
        async_to_sync(get_channel_layer().group_send)(
            signed_out_group(key), {"type": "session.ended", "reason": "signed out"}
        )
    except Exception:  # the periodic check closes them anyway; sign-out itself never fails
        logger.exception("open websockets not told of a sign-out")


class SessionBoundMixin:
    """For consumers of browser websockets: close with 4401 when the user's session ends,
    at once on sign-out (the group :func:`signed_out_group`) and within
    ``SESSION_CHECK_EVERY_S`` when it goes idle or expires. Call :meth:`bind_session` once
    the socket is accepted and :meth:`unbind_session` on disconnect."""

    bound_group = None
    session_watch = None

    async def bind_session(self):
        session, user = self.scope.get("session"), self.scope.get("user")
        key = getattr(session, "session_key", None)
        if not key or user is None:
            return
        self.bound_group = signed_out_group(key)
        await self.channel_layer.group_add(self.bound_group, self.channel_name)
        self.session_watch = asyncio.ensure_future(self.watch_session(key, user.pk))

    async def unbind_session(self):
        if self.session_watch is not None:
            self.session_watch.cancel()
            self.session_watch = None
        if self.bound_group is not None:
            with contextlib.suppress(Exception):
                await self.channel_layer.group_discard(self.bound_group, self.channel_name)
            self.bound_group = None

    async def watch_session(self, key: str, user_id):
        while True:
            await asyncio.sleep(SESSION_CHECK_EVERY_S)
            try:
                alive = await database_sync_to_async(session_signed_in)(key, user_id)
            except Exception:  # the database is away: try again at the next check
                logger.exception("websocket session check failed")
                continue
            if not alive:
                await self.session_ended({"reason": "session expired"})
                return

    async def session_ended(self, event):
        await self.close(code=CLOSE_UNAUTHENTICATED)


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


class SessionStatusConsumer(SessionBoundMixin, AsyncJsonWebsocketConsumer):
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
        await self.bind_session()
        await self.send_json({"type": "snapshot", "recordings": statuses})

    async def refuse(self, code):
        """Accept then close: a close before accept is a bare HTTP 403 and loses the code."""
        await self.accept()
        await self.close(code=code)

    async def disconnect(self, code):
        await self.unbind_session()
        if self.group is not None:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        """Viewers only listen: whatever they send (JSON or not, text or binary) is ignored."""

    async def recording_status(self, event):
        await self.send_json({k: v for k, v in event.items() if k != "type"} | {"type": "status"})
