"""Websocket routes of the analysis app (gathered in config/websocket_urls.py)."""

from django.urls import path

from analysis.consumers import SessionStatusConsumer
from analysis.live_consumers import IngestConsumer, LiveViewConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/status/", SessionStatusConsumer.as_asgi()),
    path("ws/sessions/<int:session_id>/live/", LiveViewConsumer.as_asgi()),
]

device_urlpatterns = [
    path("ws/sessions/<int:session_id>/ingest/", IngestConsumer.as_asgi()),
]
