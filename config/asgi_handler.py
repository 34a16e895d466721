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
"""

from __future__ import annotations

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler


class SyncChainASGIHandler(ASGIHandler):
    def load_middleware(self, is_async=False):
        # ASGIHandler.__init__ asks for the async chain; build the sync one (once).
        super().load_middleware(is_async=False)

    async def get_response_async(self, request):
        """``BaseHandler.get_response`` (URL conf, the chain, closing the request with the
        response, logging of 4xx/5xx) in the request thread."""
        return await sync_to_async(self.get_response, thread_sensitive=True)(request)
