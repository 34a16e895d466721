"""Charts for print: fewer points, drawn once as an SVG image embedded in the report.

The pages' envelope charts (``reports.chart_envelope.envelope_chart``) draw up to two points per
screen pixel column (~1,400 per line). A printed chart is ~170 mm wide: at 300 columns (0.6 mm
each) the eye sees no difference, while WeasyPrint parses, styles and draws every point and
every SVG element in pure Python. So the session report prepares its envelopes here:

* :func:`decimate_envelope` keeps the minimum and the maximum of each of ``PRINT_COLUMNS``
  time columns, in the order they occur, as an evenly spaced series over the same duration
  (``envelope_chart`` places value ``i`` at ``i / rate_hz``). Every peak survives - a
  contraction's highest point is the maximum of its column - and a point moves in time by at
  most half a column (~0.1 s on a 75 s round, 0.3 mm on paper).
* :func:`svg_data_uri` turns a chart's SVG into a ``data:image/svg+xml`` URL for an ``<img>``:
  still vector (WeasyPrint draws SVG images as PDF paths and text), but parsed by the XML
  parser instead of the pure-Python HTML5 parser, and its ~80 elements are not styled by the
  page's CSS cascade.
* :func:`print_svg` drops what only a screen uses and WeasyPrint would still walk: the
  contraction bands' ``<title>`` tooltips, and ``text-anchor``: WeasyPrint draws every
  anchored label into a group of its own (a PDF form XObject) to measure and shift it; here
  its start is computed from the font's advance widths (``reports.chart_layout.text_width``, the
  widths the chart's own layout uses) and the label is drawn in place - the same pixels;
  the grid lines and tick marks of one colour become one path, the contraction bands of one
  grade too (WeasyPrint walks, styles and strokes each element on its own).
"""

from __future__ import annotations

import base64
import math
import xml.etree.ElementTree as ET
from collections.abc import Sequence

from reports.chart_layout import FONT_SIZE, text_width

#: Time columns of a printed envelope chart (two points each at most).
PRINT_COLUMNS = 300


def decimate_envelope(envelope: dict | None, *, columns: int = PRINT_COLUMNS) -> dict | None:
    """``{"rate_hz", "values"}`` with at most ``2 * columns`` values, peaks kept.

    Returns the envelope unchanged when it is already short enough or not usable (the chart
    then says what is missing, as on the pages).
    """
    if not envelope:
        return envelope
    values = envelope.get("values")
    rate = envelope.get("rate_hz")
    if not isinstance(values, Sequence) or not rate or not math.isfinite(rate) or rate <= 0:
        return envelope
    n = len(values)
    if n <= 2 * columns:
        return envelope
    clean = [
        float(v) if v is not None and math.isfinite(v) else 0.0  # as envelope_chart does
        for v in values
    ]
    out = minmax_columns(clean, columns)
    duration_s = n / rate
    return {**envelope, "values": out, "rate_hz": len(out) / duration_s}


def minmax_columns(values: Sequence[float], columns: int) -> list[float]:
    """Per column the minimum and maximum in the order they occur (two values per column)."""
    n = len(values)
    out: list[float] = []
    for col in range(columns):
        lo = col * n // columns
        hi = max((col + 1) * n // columns, lo + 1)
        chunk = values[lo:hi]
        i_min = min(range(len(chunk)), key=chunk.__getitem__)
        i_max = max(range(len(chunk)), key=chunk.__getitem__)
        first, second = (i_min, i_max) if i_min <= i_max else (i_max, i_min)
        out += [chunk[first], chunk[second]]
    return out


SVG_NS = "http://www.w3.org/2000/svg"
_TEXT, _TITLE, _RECT = f"{{{SVG_NS}}}text", f"{{{SVG_NS}}}title", f"{{{SVG_NS}}}rect"
#: How far an anchored label's start is left of its x, as a share of its width.
_ANCHOR_SHIFT = {"middle": 0.5, "end": 1.0}


def _number(value: str | None) -> float | None:
    try:
        number = float(value) if value is not None else None
    except ValueError:
        return None
    return number if number is not None and math.isfinite(number) else None


def _place_anchored(text: ET.Element, font_size: float) -> None:
    """Turn ``text-anchor`` middle/end into the label's start x (a plain, one-line label)."""
    share = _ANCHOR_SHIFT.get(text.get("text-anchor", ""))
    x = _number(text.get("x"))
    if share is None or x is None or len(text) or not text.text:
        return  # tspans, x lists or no text: left to WeasyPrint
    size = _number(text.get("font-size")) or font_size
    width = text_width(text.text, size, bold=text.get("font-weight") == "bold")
    text.set("x", f"{x - share * width:.3f}")
    del text.attrib["text-anchor"]


_LINE, _PATH = f"{{{SVG_NS}}}line", f"{{{SVG_NS}}}path"
#: A plain line (grid line, tick mark): merged with the others of its colour into one path.
_PLAIN_LINE = {"x1", "x2", "y1", "y2", "stroke"}
_BAND_PAINT = ("fill", "fill-opacity")


def _merge(root: ET.Element, members, key, segment, attributes) -> None:
    """Replace ``members`` (direct children of ``root``) by one ``<path>`` per ``key``, drawn
    where the first of them was (the same strokes or fills, one element to walk)."""
    groups: dict[tuple, list[ET.Element]] = {}
    for element in members:
        groups.setdefault(key(element), []).append(element)
    children = list(root)
    for group_key, elements in groups.items():
        path = ET.Element(_PATH, {"d": "".join(segment(e) for e in elements)})
        path.attrib.update(attributes(elements[0], group_key))
        root.insert(children.index(elements[0]), path)
        for element in elements:
            root.remove(element)
        children = list(root)


def _line_segment(line: ET.Element) -> str:
    return f"M{line.get('x1')} {line.get('y1')}L{line.get('x2')} {line.get('y2')}"


def _band_segment(rect: ET.Element) -> str:
    width, height = rect.get("width"), rect.get("height")
    return f"M{rect.get('x')} {rect.get('y')}h{width}v{height}h-{width}Z"


def print_svg(svg: str) -> str:
    """A chart's SVG for print: no band tooltips, anchored labels placed at their start, the
    plain grid lines and tick marks one path per colour, the bands one path per grade."""
    ET.register_namespace("", SVG_NS)
    root = ET.fromstring(svg)  # noqa: S314 - our own chart markup (reports.chart_*)
    font_size = _number(root.get("font-size")) or FONT_SIZE
    for rect in root.iter(_RECT):
        for title in rect.findall(_TITLE):
            rect.remove(title)
    for text in root.iter(_TEXT):
        _place_anchored(text, font_size)
    _merge(
        root,
        [e for e in root if e.tag == _LINE and set(e.attrib) == _PLAIN_LINE],
        key=lambda e: (e.get("stroke"),),
        segment=_line_segment,
        attributes=lambda e, k: {"stroke": k[0], "fill": "none"},
    )
    _merge(
        root,
        [
            e
            for e in root
            if e.tag == _RECT
            and (e.get("class") or "").startswith("band ")
            and all(e.get(a) for a in ("x", "y", "width", "height", *_BAND_PAINT))
        ],
        key=lambda e: (e.get("class"), *(e.get(a) for a in _BAND_PAINT)),
        segment=_band_segment,
        attributes=lambda e, k: {"class": k[0], "fill": k[1], "fill-opacity": k[2]},
    )
    return ET.tostring(root, encoding="unicode")


def svg_data_uri(svg: str) -> str:
    """A ``data:`` URL of an SVG document (served by the report's fetcher, nothing else)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
