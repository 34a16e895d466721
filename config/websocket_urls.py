"""Websocket routes of every app, gathered in one place like config/urls.py."""

from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import re_path

from analysis.routing import device_urlpatterns as analysis_device_routes
from analysis.routing import websocket_urlpatterns as analysis_routes

CLOSE_NOT_FOUND = 4404


class NotFoundConsumer(AsyncWebsocketConsumer):
    """Any other ws/ path (``ws/sessions/abc/status/``): a clean 4404, not a 500 handshake."""

    async def connect(self):
        await self.accept()
        await self.close(code=CLOSE_NOT_FOUND)


# Token-authenticated device routes (no cookie, no Origin check: config/asgi.py).
device_urlpatterns: list = [*analysis_device_routes]

websocket_urlpatterns: list = [
    *analysis_routes,
    re_path(r"", NotFoundConsumer.as_asgi()),
]
