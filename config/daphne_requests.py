"""Daphne's HTTP requests without Twisted's own parse of POSTed forms.

Twisted's ``http.Request`` parses a ``multipart/form-data`` body into ``request.args`` (with the
``email`` package) as soon as the body is in, in the reactor's thread, before Daphne hands the
body to Django, which parses it again. Daphne never reads ``request.args``. For a 1-3 MB C3D
upload that first parse cost 30-50 ms of CPU during which the process served nothing else
(every other request and websocket of that Daphne waited), and its cost grows with what a
client sends, before any of Django's limits apply. Twisted has a switch for it
(``parsePOSTFormSubmission``); Daphne does not set it, so its request class is replaced here
by one that does. Daphne builds each request from the module attribute, so ``install`` must
run before the server accepts connections: ``config/asgi.py`` calls it at import.
"""

from daphne import http_protocol


class BodyOnlyWebRequest(http_protocol.WebRequest):
    """Daphne's request; the body goes to the application only (Django parses the form)."""

    def __init__(self, *args, **kwargs):
        kwargs["parsePOSTFormSubmission"] = False
        super().__init__(*args, **kwargs)


def install() -> None:
    """Make Daphne build every HTTP request as a ``BodyOnlyWebRequest``."""
    http_protocol.WebRequest = BodyOnlyWebRequest
