"""Charts for print: fewer points, drawn once as an SVG image embedded in the report.

The pages' envelope charts (``reports.charts.envelope_chart``) draw up to two points per
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
"""

from __future__ import annotations

import base64
import math
from collections.abc import Sequence

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


def svg_data_uri(svg: str) -> str:
    """A ``data:`` URL of an SVG document (served by the report's fetcher, nothing else)."""
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode("ascii")
