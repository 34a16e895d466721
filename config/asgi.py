"""ASGI entry point: HTTP and websockets, served by Daphne (`daphne config.asgi:application`)."""

import gc
import os

import django
from django.urls import get_resolver, re_path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
# What django.core.asgi.get_asgi_application() does, with the sync middleware chain run in one
# hop to the request thread (config/asgi_handler.py).
django.setup(set_prefix=False)

from config import daphne_requests  # noqa: E402
from config.asgi_handler import SyncChainASGIHandler  # noqa: E402

django_asgi_app = SyncChainASGIHandler()
daphne_requests.install()  # Django alone parses uploads (config/daphne_requests.py)

import ezc3d  # noqa: E402, F401 - the C3D writer of a live stream's stop
from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from analysis.pipeline.live_analysis import warm_up as live_warm_up  # noqa: E402
from clinic.middleware import MfaRequiredWebsocketMiddleware  # noqa: E402
from config.celery import app as celery_app  # noqa: E402
from config.websocket_urls import device_urlpatterns, websocket_urlpatterns  # noqa: E402

# Devices authenticate with a token, not a cookie, and send no Origin: their routes skip the
# Origin check and the session middleware. Everything else is a browser's.
browser_websockets = AllowedHostsOriginValidator(
    AuthMiddlewareStack(MfaRequiredWebsocketMiddleware(URLRouter(websocket_urlpatterns)))
)
application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": URLRouter([*device_urlpatterns, re_path(r"", browser_websockets)]),
    }
)

# Import every view now rather than at the first request, then take what exists so far (modules,
# classes, URL patterns: about 258,000 objects that live as long as the
# process) out of the cyclic garbage collector's sight. A request leaves some cyclic garbage,
# which only a full collection frees, and a full collection walked all of those objects with
# the process stopped: one web process under 50 staff ran one every 7-9 s, each 236-385 ms on
# the busy 2-core machine. Frozen: one every ~4 s, each 21-63 ms (bench/README.md).
# The live path's compiled kernels are loaded now too (0.2 s; ~49,000 more objects that would
# otherwise make every later full pass of a streaming process walk them).
# What the first live stream would load after the freeze otherwise (~5,000 objects that every
# later full pass walked): the channel layer, the C3D writer (imported above) and the Celery
# producer that queues the recording's analysis (its task signature, the broker's transport).
get_resolver().url_patterns  # noqa: B018
live_warm_up()
get_channel_layer()
celery_app.signature("analysis.tasks.process_recording")
celery_app.amqp  # noqa: B018
celery_app.connection_for_write().get_transport_cls()
gc.freeze()
