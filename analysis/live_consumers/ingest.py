"""``ws/sessions/<id>/ingest/``: one device per session sends a JSON hello then binary
frames (docs/live-protocol.md). Every frame is checked, kept in the spool, analysed, and what
viewers need is published once through the fan-out (analysis.pipeline.live_fanout); raw
samples never leave the process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.http import Http404

from analysis.consumers import CLOSE_AUDIT_UNAVAILABLE, audit_live_view
from analysis.core import live_protocol as proto
from analysis.live_consumers.base import LiveConsumer, ingest_group
from analysis.pipeline import live
from analysis.pipeline.live_analysis import LiveAnalysis, warm_up
from analysis.pipeline.live_fanout import fanout
from clinic.audit import Action, AuditUnavailable

logger = logging.getLogger(__name__)
# the viewers' frames, compact: one encoder for all (json.dumps with separators builds a new
# one per call); the same text as json.dumps(payload, separators=(",", ":"))
compact_json = json.JSONEncoder(separators=(",", ":")).encode


class IngestConsumer(LiveConsumer):
    """``ws/sessions/<id>/ingest/``: see docs/live-protocol.md for the messages and codes."""

    session_id = None
    user = None
    hello = None
    checker = None
    spool = None
    analysis = None
    rate_guard = None
    owner = False
    finished = False
    watchdog = None
    stopped = None  # the "stopped" message, once the stream became a recording
    last_state_text = None  # the state the viewers were sent last

    async def connect(self):
        await self.accept()  # accept first: a close before accept loses its code
        self.session_id = int(self.scope["url_route"]["kwargs"]["session_id"])
        authorization = ""
        for name, value in self.scope.get("headers", []):
            if name == b"authorization":
                authorization = value.decode("latin1")
        if not authorization:
            query = parse_qs(self.scope.get("query_string", b"").decode("latin1"))
            if query.get("token"):
                authorization = "Ingest " + query["token"][0]
        self.user = await database_sync_to_async(live.ingest_authenticate)(
            session_id=self.session_id, authorization=authorization
        )
        if self.user is None:
            await self.refuse(proto.CLOSE_UNAUTHENTICATED, "a valid ingest token is required")
            return
        try:
            await database_sync_to_async(live.ingest_session_for)(
                user=self.user, session_id=self.session_id
            )
        except Http404:
            await self.refuse(proto.CLOSE_NOT_FOUND, "no such session")
            return
        except PermissionDenied as exc:
            await self.refuse(proto.CLOSE_FORBIDDEN, f"not allowed to stream here: {exc}")
            return
        try:  # a device's stream is a change of the patient's record: audited before a sample
            await database_sync_to_async(audit_live_view)(
                self.scope, self.user, self.session_id, action=Action.CREATE
            )
        except AuditUnavailable:
            await self.refuse(CLOSE_AUDIT_UNAVAILABLE, "the audit trail is unavailable")
            return
        self.last_frame_at = time.monotonic()
        self.watchdog = asyncio.ensure_future(self.watch_idle())

    async def refuse(self, code: int, message: str):
        self.finished = True
        if self.spool is not None:  # what was accepted is on disk before the device hears
            self.spool.close()
        await self.send(text_data=json.dumps({"type": "error", "code": code, "error": message}))
        await self.close(code=code)

    # -- messages from the device ---------------------------------------------------------

    async def receive(self, text_data=None, bytes_data=None, **kwargs):
        if self.finished:
            return
        try:
            if text_data is not None:
                await self.on_text(text_data)
            elif self.hello is None:
                raise proto.ProtocolError(proto.CLOSE_MALFORMED, "send the JSON hello first")
            else:
                await self.on_frame(bytes_data)
        except proto.ProtocolError as exc:
            await self.refuse(exc.code, exc.message)

    async def on_text(self, text: str):
        if len(text) > 64 * 1024:
            raise proto.ProtocolError(proto.CLOSE_TOO_LARGE, "text message above 64 KiB")
        try:
            message = json.loads(text)
        except ValueError:
            raise proto.ProtocolError(proto.CLOSE_MALFORMED, "text messages must be JSON") from None
        kind = message.get("type") if isinstance(message, dict) else None
        if self.hello is None:
            await self.on_hello(proto.parse_hello(message))
        elif kind == "hello":
            hello = proto.parse_hello(message)
            raise proto.ProtocolError(
                proto.CLOSE_MISMATCH,
                "a second hello: channels and rate cannot change mid-stream"
                if not hello.same_stream(self.hello)
                else "a second hello on the same connection",
            )
        elif kind == "stop":
            await self.stop(interrupted=False, reason="the device stopped")
        else:
            raise proto.ProtocolError(
                proto.CLOSE_MALFORMED, f'unknown message type {kind!r} (expected "stop")'
            )

    async def on_hello(self, hello: proto.Hello):
        claimed, replaced = await database_sync_to_async(live.device_claim)(
            self.session_id, self.channel_name, hello.device
        )
        if not claimed:
            raise proto.ProtocolError(
                proto.CLOSE_SECOND_DEVICE, "another device is streaming into this session"
            )
        self.owner = True
        self.fanout = fanout()  # this event loop's, for every frame of the connection
        self.fanout.ingest_started(self.session_id)
        if replaced:
            await self.channel_layer.send(replaced, {"type": "live.replaced"})
            await asyncio.sleep(0.2)  # let it close its spool first
        self.spool, resumed = await database_sync_to_async(live.Spool.open)(
            session_id=self.session_id, hello=hello, user_id=self.user.pk
        )
        self.hello = hello
        self.checker = proto.FrameChecker(
            hello,
            next_sequence=self.spool.next_sequence,
            next_sample=self.spool.next_sample,
            max_bytes=settings.LIVE_MAX_FRAME_BYTES,
        )
        self.rate_guard = proto.RateGuard(hello)
        self.analysis = await database_sync_to_async(self.start_analysis)(resumed)
        await self.channel_layer.group_add(ingest_group(self.session_id), self.channel_name)
        await self.publish_state()
        await self.send(
            text_data=json.dumps(
                {
                    "type": "ready",
                    "resumed": resumed,
                    "next_sequence": self.spool.next_sequence,
                    "next_sample": self.spool.next_sample,
                    "max_frame_samples": hello.max_frame_samples,
                    "max_frame_bytes": settings.LIVE_MAX_FRAME_BYTES,
                    "analysis": self.analysis.analyser is not None,
                }
            )
        )

    def start_analysis(self, resumed: bool) -> LiveAnalysis:
        warm_up()  # the first stream of this process: the compiled kernels, before "ready"
        inputs = live.live_inputs_for(self.session_id, self.hello.labels)
        # each session's analyser blocks fall in their own frames (see LiveAnalysis):
        # consecutive ids spread evenly by the golden ratio's fractional part
        analysis = LiveAnalysis(self.hello, inputs, stagger=(self.session_id * 0.6180339887) % 1)
        alerts = self.spool.meta.get("alerts") or []
        if resumed and analysis.analyser is not None:
            # the analysis state died with the connection: run the spool through it again
            data = (self.spool.folder / "stream.frames").read_bytes()
            samples, _, _ = proto.read_spool(data, len(self.hello.labels))
            step = max(1, int(self.hello.rate_hz))
            for a in range(0, samples.shape[0], step):
                analysis.frame(0, a, samples[a : a + step])
            analysis.alerts = alerts
        return analysis

    async def on_frame(self, data: bytes):
        frame = self.checker.check(data)
        now = time.monotonic()
        self.rate_guard.check(frame.samples.shape[0], now)
        self.last_frame_at = now
        second_done = self.spool.append(data, frame.samples.shape[0])
        payload = self.analysis.frame(frame.sequence, frame.first_sample, frame.samples)
        # the viewers first: the once-a-second work below waits for a worker thread, and
        # the frame that completes a second (one in twenty) would wait with it
        await self.fanout.publish(self.session_id, compact_json(payload))
        if second_done:
            state = self.analysis.state() | {"device": True}
            # once a second, in one trip to a worker thread: the spool to disk, the device's
            # lease and the state new viewers start from (files and the cache, no database).
            # run_in_executor, not to_thread: to_thread runs each call in a copy of this
            # task's context, where Django's cache handler (an asgiref Local) finds no
            # client and builds one, with a new Redis connection, every second; in the
            # worker thread's own context the client and its connection pool are kept
            await asyncio.get_running_loop().run_in_executor(
                None, self.second_tick, self.spool.take(), state
            )
            await self.send(
                text_data=json.dumps(
                    {
                        "type": "ack",
                        "next_sequence": self.spool.next_sequence,
                        "next_sample": self.spool.next_sample,
                    }
                )
            )
            await self.publish_state(state, stored=True)

    def second_tick(self, data: bytes, state: dict) -> None:
        self.spool.sync(data)
        live.device_renew(self.session_id, self.channel_name, self.hello.device)
        live.live_state_publish(self.session_id, state)

    async def publish_state(self, state: dict | None = None, *, stored: bool = False):
        """The state to the cache (for viewers who connect later) and, when it changed since
        the last one sent, to the viewers (counts and alerts also travel in the frames)."""
        if state is None:
            state = self.analysis.state() | {"device": True}
        if not stored:
            await database_sync_to_async(live.live_state_publish)(self.session_id, state)
        text = json.dumps(state)
        if text != self.last_state_text:
            self.last_state_text = text
            await fanout().publish(self.session_id, text)

    # -- stopping ---------------------------------------------------------------------

    async def stop(self, *, interrupted: bool, reason: str, code: int = 1000):
        """Close the spool, make the recording, tell the device and the viewers."""
        if self.finished:
            return
        self.finished = True
        self.spool.close()
        last = self.analysis.finish(self.spool.next_sequence, self.spool.next_sample)
        await fanout().publish(self.session_id, compact_json(last))
        recording = await database_sync_to_async(live.stream_stop)(
            session_id=self.session_id,
            interrupted=interrupted,
            alerts=self.analysis.alerts,
        )
        message = {
            "type": "stopped",
            "reason": reason,
            "interrupted": interrupted,
            "samples": self.spool.next_sample,
            "next_sequence": self.spool.next_sequence,
            "recording": recording.pk if recording else None,
        }
        self.stopped = message
        await self.send(text_data=json.dumps(message))
        await fanout().publish(self.session_id, json.dumps(message))
        await database_sync_to_async(live.live_state_publish)(
            self.session_id, self.analysis.state() | {"device": False, "stopped": message}
        )
        await self.close(code=code)

    async def watch_idle(self):
        while not self.finished:
            await asyncio.sleep(1.0)
            idle = time.monotonic() - self.last_frame_at
            if idle >= settings.LIVE_IDLE_TIMEOUT_S and not self.finished:
                if self.hello is None:
                    await self.refuse(proto.CLOSE_IDLE, "no hello within the idle timeout")
                else:
                    await self.stop(interrupted=True, reason="idle timeout", code=proto.CLOSE_IDLE)

    async def disconnect(self, code):
        if self.watchdog is not None:
            # the cancelled task holds its CancelledError, whose traceback holds watch_idle's
            # frame and so this consumer: without the task, that is no cycle
            self.watchdog.cancel()
            self.watchdog = None
        if self.hello is None:
            return
        self.spool.close()  # on disk before anything else (a refusal closed it already)
        await self.channel_layer.group_discard(ingest_group(self.session_id), self.channel_name)
        if not self.finished:
            self.finished = True
            self.spool.meta["alerts"] = self.analysis.alerts
            if code == 1000:  # a clean close by the device is a stop
                await database_sync_to_async(live.stream_stop)(
                    session_id=self.session_id, interrupted=False, alerts=self.analysis.alerts
                )
            else:  # a network drop: the device may resume; if not, it ends interrupted
                await database_sync_to_async(live.spool_save_alerts)(
                    self.session_id, self.analysis.alerts
                )
                asyncio.ensure_future(stop_if_not_resumed(self.session_id))
        if self.owner:
            fanout().ingest_ended(self.session_id)
            await database_sync_to_async(live.device_release)(self.session_id, self.channel_name)
            state = self.analysis.state() | {"device": False}
            if self.stopped is not None:
                state["stopped"] = self.stopped
            await database_sync_to_async(live.live_state_publish)(self.session_id, state)
            with contextlib.suppress(Exception):
                await fanout().publish(self.session_id, json.dumps(state))

    # -- messages from viewers (through the channel layer) --------------------------------

    async def live_stop(self, event):
        if not self.finished and self.hello is not None:
            await self.stop(interrupted=False, reason=f"stopped by {event.get('by', 'a viewer')}")

    async def live_replaced(self, event):
        """The same device connected again (it dropped and we had not noticed): step aside."""
        if not self.finished:
            self.finished = True
            if self.spool is not None:
                self.spool.close()
            if self.owner:
                fanout().ingest_ended(self.session_id)
            self.owner = False
            await self.send(
                text_data=json.dumps(
                    {
                        "type": "error",
                        "code": proto.CLOSE_SECOND_DEVICE,
                        "error": "replaced by a newer connection of the same device",
                    }
                )
            )
            await self.close(code=proto.CLOSE_SECOND_DEVICE)

    async def live_alert_ack(self, event):
        if self.analysis is None:
            return
        alert = self.analysis.acknowledge(int(event["id"]), event["by"], event["at"])
        if alert is not None:
            await fanout().publish(self.session_id, json.dumps({"type": "alert", "alert": alert}))


async def stop_if_not_resumed(session_id: int):
    await asyncio.sleep(settings.LIVE_RESUME_GRACE_S)
    await database_sync_to_async(live.streams_stop_abandoned)(
        idle_s=settings.LIVE_RESUME_GRACE_S * 0.9
    )
