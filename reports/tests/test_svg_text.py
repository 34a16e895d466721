"""SVG labels drawn a run at a time (reports/svg_text.py) look as WeasyPrint draws them letter
by letter: the same chart rendered both ways, rasterised by pdftoppm, differs in a handful of
anti-aliased pixels at most; per-letter features still go to WeasyPrint's own drawing. The
print SVG (reports/print_charts.py: print_svg) draws the same pixels as the pages' chart."""

import io
import subprocess
import xml.etree.ElementTree as ET

import pytest
import weasyprint
import weasyprint.svg as wsvg
from cssselect2 import ElementWrapper
from PIL import Image, ImageChops
from pypdf import PdfReader

from reports import svg_text
from reports.chart_envelope import Band, envelope_chart
from reports.chart_layout import HLine
from reports.print_charts import print_svg, svg_data_uri
from reports.render import html_to_pdf
from reports.tests.test_print_layout import _envelope

pytestmark = pytest.mark.skipif(
    weasyprint.__version__ != svg_text.WEASYPRINT_VERSION,
    reason="reports.svg_text is installed only on the WeasyPrint release it reproduces",
)


def _chart() -> str:
    return envelope_chart(
        values=_envelope()["values"],
        rate_hz=24.75,
        title="Left quadriceps · channel CH1 Raw",
        bands=[Band(2.2, 2.7, "good"), Band(30.2, 30.8, "neither"), Band(40.0, 41.0, "intensity")],
        lines=[HLine(8e-5, "threshold", "threshold"), HLine(3.6e-4, "MVC target", "target")],
    )


def _chart_html() -> str:
    chart = _chart()
    # A rotated label and a per-letter x list: both left to WeasyPrint's own drawing.
    extra = (
        '<svg xmlns="http://www.w3.org/2000/svg" width="300" height="60" font-size="13">'
        '<text x="10" y="20" rotate="10">Rotated</text>'
        '<text x="10 30 50" y="45">abc</text></svg>'
    )
    return (
        f'<img src="{svg_data_uri(chart)}" style="width: 180mm">'
        f'<img src="{svg_data_uri(extra)}" style="width: 90mm">'
    )


def _raster(pdf: bytes, folder, name: str) -> Image.Image:
    source = folder / f"{name}.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "150", "-png", "-singlefile", str(source), str(folder / name)],
        check=True,
    )
    return Image.open(folder / f"{name}.png").convert("L")


def test_installed_with_the_report_renderer():
    assert wsvg.TAGS["text"] is svg_text.text
    assert wsvg.TAGS["tspan"] is svg_text.text
    assert wsvg.text is svg_text.text


def test_plain_runs_are_drawn_where_weasyprint_draws_them_letter_by_letter(tmp_path):
    html = _chart_html()
    fast = html_to_pdf(html)
    svg_text.uninstall()
    try:
        upstream = html_to_pdf(html)
    finally:
        svg_text.install()
    ours, theirs = _raster(fast, tmp_path, "ours"), _raster(upstream, tmp_path, "upstream")
    assert ours.size == theirs.size
    diff = ImageChops.difference(ours, theirs)
    changed = sum(diff.histogram()[65:])
    assert changed <= ours.size[0] * ours.size[1] // 10_000, changed  # <= 0.01 % of pixels
    # The labels are still text (searchable, extractable), once per run.
    text = PdfReader(io.BytesIO(fast)).pages[0].extract_text()
    for label in ("threshold", "MVC target", "time (s)", "intensity only"):
        assert label in text


def test_only_plain_runs_take_the_short_path():
    def node(xml: str):
        element = ET.fromstring(xml)  # noqa: S314 - literal test markup
        return wsvg.Node(ElementWrapper.from_xml_root(element), {})

    assert svg_text.is_plain_run(node('<text x="1" y="2" dy="4">ab</text>'))
    assert not svg_text.is_plain_run(node('<text x="1 5" y="2">ab</text>'))
    assert not svg_text.is_plain_run(node('<text x="1" y="2" rotate="5">ab</text>'))
    assert not svg_text.is_plain_run(node('<text x="1" y="2" letter-spacing="2">ab</text>'))
    assert not svg_text.is_plain_run(node('<text x="1" y="2" textLength="40">ab</text>'))
    assert not svg_text.is_plain_run(node('<text x="1" y="2"></text>'))


def test_the_print_svg_draws_the_same_pixels_as_the_pages_chart(tmp_path):
    """Anchored labels placed at their start by reports.print_charts.print_svg land where
    WeasyPrint's anchor groups put them; the tooltips it drops are never drawn anyway."""
    chart = _chart()

    def pdf(svg: str) -> bytes:
        return html_to_pdf(f'<img src="{svg_data_uri(svg)}" style="width: 180mm">')

    ours = _raster(pdf(print_svg(chart)), tmp_path, "print")
    theirs = _raster(pdf(chart), tmp_path, "page")
    assert ours.size == theirs.size
    changed = sum(ImageChops.difference(ours, theirs).histogram()[65:])
    assert changed <= ours.size[0] * ours.size[1] // 10_000, changed
