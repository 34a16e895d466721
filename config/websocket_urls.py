"""Websocket routes of every app, gathered in one place like config/urls.py."""

websocket_urlpatterns: list = []
