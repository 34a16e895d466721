"""Websocket routes of every app, gathered in one place like config/urls.py."""

from analysis.routing import websocket_urlpatterns as analysis_routes

websocket_urlpatterns: list = [*analysis_routes]
