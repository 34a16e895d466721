"""Small helpers the views of every app share (no business rule lives here), and ``audited``,
the one way a page records its read or change of patient data in the audit trail."""

from functools import wraps
from itertools import islice

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.http import HttpResponse, StreamingHttpResponse
from django.template.loader import render_to_string
from django.utils.http import url_has_allowed_host_and_scheme

from clinic.audit import Action, AuditUnavailable, patient_ids_for, record_access


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


def audit_note(request, *, action=None, obj=None, patients=None, object_type="") -> None:
    """Tell ``audited`` what this response showed or changed, when the URL cannot say it: a list
    page's patients, a new object, an upload's outcome."""
    request._audit_note = {
        "action": action,
        "obj": obj,
        "patients": patients,
        "object_type": object_type,
    }


def audit_unavailable_response() -> HttpResponse:
    """503 instead of the page: data is never shown without its audit entry."""
    return HttpResponse(render_to_string("audit_unavailable.html"), status=503)


def audited(model=None, *, write=Action.CHANGE, action=None, pk_kwarg="pk"):
    """Write one audit entry for each successful response of the view (status < 400).

    The subject is the ``model`` row named by the URL's ``pk_kwarg`` unless the view said
    otherwise with ``audit_note``. The action is ``action`` if given, else ``write`` for a POST
    answered by a redirect (the change was made), else view (a GET, or a form shown again).
    Error responses record nothing: nothing was shown. If the entry cannot be written, the
    response is dropped and a 503 says why.
    """

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            response = view(request, *args, **kwargs)
            if response.status_code >= 400:
                return response
            note = getattr(request, "_audit_note", None) or {}
            changed = request.method == "POST" and 300 <= response.status_code < 400
            act = note.get("action") or action or (write if changed else Action.VIEW)
            obj, patients = note.get("obj"), note.get("patients")
            object_type, object_id = note.get("object_type", ""), ""
            if obj is not None and patients is None:
                patients = patient_ids_for(type(obj), [obj.pk])
            elif patients is None:
                if model is None or pk_kwarg not in kwargs:
                    return response  # a blank form or a page without patient data
                object_type, object_id = model._meta.label_lower, kwargs[pk_kwarg]
                patients = patient_ids_for(model, [object_id])
            if not patients and obj is None and not object_id:
                return response  # an empty list shows no patient
            try:
                record_access(
                    request, act, patients, obj, object_type=object_type, object_id=object_id
                )
            except AuditUnavailable:
                return audit_unavailable_response()
            return response

        return wrapper

    return decorate
