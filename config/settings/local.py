"""Settings for running on one machine: the embedded defaults, as a clinic would first see them.

Debug pages are off, as in production: errors answer the site's own 403/404/500 pages. A
developer turns them on explicitly with DJANGO_DEBUG=true.
"""

from .base import *  # noqa: F403
from .base import env

DEBUG = env.bool("DJANGO_DEBUG", default=False)
# Static files are served by WhiteNoise from the apps' and static/'s folders through the finders
# (no collectstatic needed, though scripts/run collects them too), with debug on or off.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
# The demo's live page can replay a stored recording through the ingest websocket.
LIVE_DEMO_REPLAY = env.bool("LIVE_DEMO_REPLAY", default=True)
