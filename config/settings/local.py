"""Settings for running on one machine: the embedded defaults, debug on unless told otherwise."""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=True)
# Serve static files straight from static/ without collectstatic while developing.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# The demo's live page can replay a stored recording through the ingest websocket.
LIVE_DEMO_REPLAY = env.bool("LIVE_DEMO_REPLAY", default=True)
