"""The one render entry point: PDF/A-3b with the JSON attached, our font, and a URL fetcher
that serves only our static files and data: URLs."""

import base64
import gc
import io
import json

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from reports.render import (
    REPORT_ORIGIN,
    ReportRenderError,
    collector_paused,
    html_to_pdf,
    json_attachment,
    render_pdf,
    report_stylesheet,
)
from reports.tests.support import pdfa_problems

PAGE = "<html><head><title>t</title></head><body>{}</body></html>"


def _text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


@pytest.mark.parametrize(
    "html",
    [
        '<img src="file:///etc/passwd">',
        '<link rel="stylesheet" href="file:///etc/passwd">',
        '<img src="http://127.0.0.1:1/x.png">',
        '<link rel="stylesheet" href="https://example.org/evil.css">',
        '<img src="/static/../../../../etc/passwd">',
        '<img src="/media-not-served/recordings/x.c3d">',
        "<style>@import url('file:///etc/passwd');</style>",
        '<svg><image href="file:///etc/passwd" width="10" height="10"/></svg>',
    ],
)
def test_anything_but_our_static_files_and_data_urls_fails_the_render(html):
    with pytest.raises(ReportRenderError) as caught:
        html_to_pdf(PAGE.format(html))
    message = str(caught.value)
    assert "refused" in message
    assert "a report loads only its own static files" in message or "no such static file" in message


def test_static_files_and_data_urls_are_served():
    pixel = base64.b64encode(
        bytes.fromhex(
            "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
            "1f15c4890000000d49444154789c6360f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
        )
    ).decode()
    pdf = html_to_pdf(
        PAGE.format(f'<p>Hello µV ≥ 75 %</p><img src="data:image/png;base64,{pixel}">')
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert "Hello µV ≥ 75 %" in _text(pdf)
    fonts = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            fonts.add(str(font.get_object()["/BaseFont"]))
    assert fonts
    assert all("DejaVu" in f for f in fonts), fonts


def test_the_output_is_pdf_a_3b_with_the_json_attached():
    document = {"score": 81.5, "muscles": ["left quadriceps"], "text": "µ ≥ é"}
    pdf = html_to_pdf(
        PAGE.format("<p>Report</p>"),
        attachments=[json_attachment("results.json", document, "The results")],
    )
    reader = PdfReader(io.BytesIO(pdf))
    assert reader.attachments.keys() == {"results.json"}
    assert json.loads(reader.attachments["results.json"][0]) == document
    xmp = reader.xmp_metadata
    assert xmp is not None
    raw = reader.trailer["/Root"]["/Metadata"].get_object().get_data().decode()
    assert "<pdfaid:part>3</pdfaid:part>" in raw or 'pdfaid:part="3"' in raw
    assert "<pdfaid:conformance>B</pdfaid:conformance>" in raw or 'pdfaid:conformance="B"' in raw
    # PDF/A-3: the embedded file is an associated file with a relationship.
    files = reader.trailer["/Root"]["/AF"]
    assert len(reader.attachments["results.json"]) == 1
    assert {f.get_object()["/AFRelationship"] for f in files} == {"/Data"}
    assert pdfa_problems(pdf) == []


def test_a_template_renders_through_the_same_entry_point(settings):
    pdf = render_pdf(
        "reports/base.html",
        {"clinic": {"name": "North <Rehab>"}, "card": {"code": "P001"}, "identity": True},
    )
    assert "North <Rehab>" in _text(pdf)
    assert REPORT_ORIGIN.endswith(".invalid")


def test_the_pdf_a_check_fails_a_plain_pdf():
    """The PDF/A-3b check of these tests can fail: a PDF written without the variant does."""
    plain = HTML(string="<p>x</p>").write_pdf()
    problems = " ".join(pdfa_problems(plain))
    assert "6.6.4" in problems
    assert "6.2.3" in problems


def test_the_collector_is_paused_during_renders_and_comes_back_after_the_last():
    gc.enable()
    with collector_paused():
        assert not gc.isenabled()
        with collector_paused():  # a second render at the same time (another thread)
            assert not gc.isenabled()
        assert not gc.isenabled()  # the first one is still rendering
    assert gc.isenabled()
    gc.disable()
    try:
        with collector_paused():
            pass
        assert not gc.isenabled()  # off before, left off
    finally:
        gc.enable()
    with pytest.raises(ReportRenderError), collector_paused():
        raise ReportRenderError("a failed render")
    assert gc.isenabled()


def test_every_render_is_in_the_print_stylesheet_parsed_once_per_thread():
    assert report_stylesheet() is report_stylesheet()
    pdf = html_to_pdf(PAGE.format('<p class="warning">Styled</p><p>Plain</p>'))
    page = PdfReader(io.BytesIO(pdf)).pages[0]
    content = page.get_contents().get_data().decode("latin-1")
    # .warning { color: #8a1c1c } of static/reports/report.css, without a <link> in the page.
    red = " ".join(f"{c / 255:.6f}" for c in (0x8A, 0x1C, 0x1C)) + " rg"
    assert red in content, content[:800]
    fonts = [str(f.get_object()["/BaseFont"]) for f in page["/Resources"]["/Font"].values()]
    assert all("DejaVu" in name for name in fonts), fonts
