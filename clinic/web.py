"""Small helpers the views of every app share (no business rule lives here)."""

from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import StreamingHttpResponse
from django.utils.http import url_has_allowed_host_and_scheme


def wants_json(request) -> bool:
    """A script's request (upload.js, session-status.js) rather than a page's form post."""
    return request.headers.get("x-requested-with") == "XMLHttpRequest"


def safe_next(request, fallback: str) -> str:
    """The ``next`` target of a form when it stays on this site, else ``fallback``."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def streaming_download(request, lines, *, filename: str, content_type: str, chunk_lines=500):
    """A file download streamed from an iterator of text ``lines`` (e.g. CSV rows).

    Under ASGI (Daphne) the lines are pulled in batches through ``sync_to_async`` (on the
    request's thread: database cursors stay valid), so a long export is never held whole in
    memory; Django would otherwise buffer a synchronous iterator entirely before sending it.
    """
    batches = _batches(iter(lines), chunk_lines)
    content = _async_batches(batches) if isinstance(request, ASGIRequest) else batches
    response = StreamingHttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _batches(lines, size):
    while batch := list(islice(lines, size)):
        yield "".join(batch).encode()


async def _async_batches(batches):
    done = object()
    while (batch := await sync_to_async(next)(batches, done)) is not done:
        yield batch
