"""Django's ASGI handler with the middleware chain run synchronously: one hop to the request
thread per request instead of several.

Every middleware of ``settings.MIDDLEWARE`` and every HTTP view of the site is synchronous.
Django's stock ``ASGIHandler`` builds the chain for an async handler anyway, so a request
goes to the sync thread for the middleware, back to the event loop for the async core
(``async_to_sync``), to the thread again for each sync ``process_view`` (CSRF) and for the
view, and back each time: every hop is a future, a wake-up of the loop and a hand-over of the
GIL. Here the chain is Django's synchronous one (as under WSGI), called in one
``sync_to_async`` hop on the same thread-sensitive executor as before; the ASGI side (request
from the scope, body, disconnects, streaming, ``request_finished``) is the stock handler's.
Responses are the same (``config/tests/test_asgi_handler.py``); measured in-process it saves
0.6-0.9 ms of CPU per API request (docs/api.md, round 4).

The request's thread is reused. The stock handler gives every request a new
``ThreadSensitiveContext``, and asgiref makes a new one-thread executor for it: a thread
started for each request, and a second one started to join the first at the end. Starting a
thread blocks the event loop until the new thread runs, which on a busy machine is a wait for
a core and for the GIL: every other request and websocket of the process waits with it.
Here each request still has a thread of its own for all its synchronous code (requests run
concurrently, as before), but the thread comes from a free list of one-thread executors and
goes back to it when the request is over and the thread is idle (without a hop to it).
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from asgiref.sync import ThreadSensitiveContext, sync_to_async
from django.core.handlers.asgi import ASGIHandler


class RequestThread(ThreadPoolExecutor):
    """One thread, for one request at a time. Calls are submitted from the event loop only,
    and run in order: the thread is idle once the last one is done."""

    def __init__(self):
        super().__init__(max_workers=1, thread_name_prefix="request")
        self.last_call = None

    def submit(self, fn, /, *args, **kwargs):
        self.last_call = super().submit(fn, *args, **kwargs)
        return self.last_call


class RequestThreads:
    """A free list of request threads: a request takes one, or a new one when all are busy;
    so a process has as many as it ever ran requests at once."""

    def __init__(self):
        self.idle: list[RequestThread] = []
        self.started = 0

    def take(self) -> RequestThread:
        if self.idle:
            return self.idle.pop()
        self.started += 1
        return RequestThread()

    def give_back(self, thread: RequestThread) -> None:
        """Back on the list now, or when its last call is over: a view whose client went away
        runs on to its end, and the next request must not queue behind it."""
        last = thread.last_call
        if last is None or last.done():
            self.idle.append(thread)
        else:
            loop = asyncio.get_running_loop()
            last.add_done_callback(lambda _: loop.call_soon_threadsafe(self.idle.append, thread))


class SyncChainASGIHandler(ASGIHandler):
    def __init__(self):
        super().__init__()
        self.threads = RequestThreads()

    async def __call__(self, scope, receive, send):
        """``ASGIHandler.__call__`` with the request's thread taken from ``self.threads``."""
        if scope["type"] != "http":
            raise ValueError(f"Django can only handle ASGI/HTTP connections, not {scope['type']}.")
        thread = self.threads.take()
        try:
            async with ThreadSensitiveContext(executor=thread):
                await self.handle(scope, receive, send)
        finally:
            self.threads.give_back(thread)

    def load_middleware(self, is_async=False):
        # ASGIHandler.__init__ asks for the async chain; build the sync one (once).
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        """``BaseHandler.get_response`` (URL conf, the chain, closing the request with the
        response, logging of 4xx/5xx) in the request thread."""
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
