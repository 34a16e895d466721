"""The one entry point that turns a template and its context into a PDF (WeasyPrint).

Every report goes through :func:`render_pdf`: PDF/A-3b (``pdf_variant``), the machine-readable
results attached as JSON (``AFRelationship /Data``), the bundled DejaVu Sans (``static/fonts``),
vector charts inline as SVG (their labels drawn a run at a time: ``reports.svg_text``).

Resources are fetched by :class:`StaticOnlyFetcher`: our own static files (under ``STATIC_URL``
of the report's base URL, read from disk by Django's staticfiles finders) and ``data:`` URLs.
Anything else - ``file:///etc/passwd``, an ``http(s)`` URL, a path outside the static folders -
stops the render with :class:`ReportRenderError` naming the URL; nothing is fetched over the
network and no other file of the machine is read. Templates autoescape: patient-entered text
reaches the PDF as text, never as markup.
"""

from __future__ import annotations

import gc
import json
import mimetypes
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.exceptions import SuspiciousFileOperation
from django.template.loader import render_to_string
from weasyprint import CSS, HTML, Attachment
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from reports import svg_text

#: The base URL of every report: a reserved name (RFC 2606) that is never resolved; only paths
#: under STATIC_URL on it are served, from disk.
REPORT_ORIGIN = "https://report.myoclinic.invalid"
PDF_VARIANT = "pdf/a-3b"

# Chart labels drawn a run at a time, not a letter at a time (reports/svg_text.py).
svg_text.install()


class ReportRenderError(Exception):
    """A report could not be rendered (a refused resource, a template error)."""


class RefusedResource(ValueError):
    """A template or text asked for a resource the report may not load."""


def static_path(url: str) -> Path:
    """The file on disk behind one of our static URLs, or :class:`RefusedResource`."""
    prefix = REPORT_ORIGIN + settings.STATIC_URL
    if not url.startswith(prefix):
        raise RefusedResource(
            f"refused {url!r}: a report loads only its own static files and data: URLs"
        )
    parts = urlsplit(url)
    relative = unquote(parts.path[len(settings.STATIC_URL) :])
    try:
        found = finders.find(relative) if relative and ".." not in relative.split("/") else None
    except SuspiciousFileOperation:
        found = None
    if not found:
        raise RefusedResource(f"refused {url!r}: no such static file")
    return Path(found)


class StaticOnlyFetcher(URLFetcher):
    """Serves ``data:`` URLs and our static files; refuses everything else (fatal)."""

    def __init__(self):
        # fail_on_errors: a refused resource stops the render instead of a logged warning.
        super().__init__(allowed_protocols=("data", "https"), fail_on_errors=True)
        #: Every refusal, also those WeasyPrint swallows (inside an SVG it logs and goes on):
        #: :func:`html_to_pdf` fails the render when this is not empty.
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        scheme = url.split(":", 1)[0].lower()
        if scheme == "data":
            return super().fetch(url, headers)
        try:
            path = static_path(url)
        except RefusedResource as exc:
            self.refused.append(str(exc))
            raise
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(url, path.read_bytes(), {"Content-Type": content_type})


_fonts = threading.local()
_collector = threading.Lock()
_collector_state = {"renders": 0, "resume": False}


@contextmanager
def collector_paused():
    """Python's cyclic garbage collector off while WeasyPrint renders (on again after).

    A render allocates hundreds of thousands of objects, so the collector ran many times per
    report, each full pass walking every object of the process (Django, the app, the render):
    140-400 ms of a ~1.5 s render measured on the session report. The render's objects live
    until it ends anyway; what it leaves is collected by the next pass after. Reference-counted
    across threads: the collector comes back on only when the last concurrent render ends, and
    only if it was on before.
    """
    with _collector:
        if _collector_state["renders"] == 0:
            _collector_state["resume"] = gc.isenabled()
            gc.disable()
        _collector_state["renders"] += 1
    try:
        yield
    finally:
        with _collector:
            _collector_state["renders"] -= 1
            if _collector_state["renders"] == 0 and _collector_state["resume"]:
                gc.enable()


def font_configuration() -> FontConfiguration:
    """This thread's WeasyPrint font configuration, kept between renders.

    It registers the bundled ``@font-face`` fonts with Fontconfig once (per thread: it is not
    shared between threads) instead of on every report. It holds only our own static fonts.
    """
    config = getattr(_fonts, "config", None)
    if config is None:
        config = _fonts.config = FontConfiguration()
    return config


#: The print stylesheet of every report (``static/reports/report.css``).
STYLESHEET = "reports/report.css"


def report_stylesheet() -> CSS:
    """The reports' print stylesheet, parsed once per thread (and again when the file changes).

    A ``<link>`` in the template was fetched, tokenised and compiled into selectors on every
    render (~2 % of a session report); the parsed :class:`weasyprint.CSS` is reused instead,
    with this thread's font configuration (its ``@font-face`` fonts registered there).
    """
    url = REPORT_ORIGIN + settings.STATIC_URL + STYLESHEET
    path = static_path(url)
    key = (str(path), path.stat().st_mtime_ns)
    cached = getattr(_fonts, "stylesheet", None)
    if cached is None or cached[0] != key:
        css = CSS(
            string=path.read_text(encoding="utf-8"),
            base_url=url,
            url_fetcher=StaticOnlyFetcher(),
            font_config=font_configuration(),
        )
        cached = _fonts.stylesheet = (key, css)
    return cached[1]


@dataclass(frozen=True)
class ReportAttachment:
    """A file embedded in the PDF (PDF/A-3 associated file)."""

    name: str
    data: bytes
    description: str = ""
    relationship: str = "Data"


def json_attachment(name: str, document, description: str) -> ReportAttachment:
    """``document`` as pretty-printed UTF-8 JSON (keys kept in order, NaN refused)."""
    data = json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False, default=str)
    return ReportAttachment(name=name, data=data.encode(), description=description)


def render_html(template_name: str, context: dict) -> str:
    return render_to_string(template_name, context)


def html_to_pdf(html: str, *, attachments=()) -> bytes:
    """PDF/A-3b bytes of ``html`` (already rendered) in the reports' print stylesheet, with
    ``attachments`` embedded."""
    fetcher = StaticOnlyFetcher()
    now = datetime.now(UTC).replace(tzinfo=None)
    embedded = [
        Attachment(
            string=a.data,
            name=a.name,
            description=a.description,
            relationship=a.relationship,
            url_fetcher=fetcher,
            created=now,
            modified=now,
        )
        for a in attachments
    ]
    try:
        with collector_paused():
            pdf = HTML(string=html, base_url=REPORT_ORIGIN + "/", url_fetcher=fetcher).write_pdf(
                stylesheets=[report_stylesheet()],
                pdf_variant=PDF_VARIANT,
                attachments=embedded,
                font_config=font_configuration(),
            )
    except FatalURLFetchingError as exc:
        cause = exc.__cause__ or exc
        raise ReportRenderError(f"The report was not rendered: {cause}") from None
    if fetcher.refused:
        raise ReportRenderError(f"The report was not rendered: {fetcher.refused[0]}")
    return pdf


def render_pdf(template_name: str, context: dict, *, attachments=()) -> bytes:
    """The one way a report becomes a PDF: template + context -> PDF/A-3b bytes."""
    return html_to_pdf(render_html(template_name, context), attachments=attachments)
