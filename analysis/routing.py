"""Websocket routes of the analysis app (gathered in config/websocket_urls.py)."""

from django.urls import path

from analysis.consumers import SessionStatusConsumer

websocket_urlpatterns = [
    path("ws/sessions/<int:session_id>/status/", SessionStatusConsumer.as_asgi()),
]
