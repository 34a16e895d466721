"""Server-side SVG charts shared by the staff pages and the PDF reports.

Charts are plain SVG strings built here rather than drawn by a JavaScript library: they need no
CDN, pass the strict CSP (only presentation attributes, no ``style=``), print crisply, and
WeasyPrint renders the very same markup into the PDF reports. Every text is escaped; the result
is marked safe for templates.

Two shapes cover the product:

* :func:`envelope_chart` - one muscle's EMG envelope over a recording, with the detected
  contractions shaded by grade and the threshold / MVC-target lines;
* :func:`trend_chart` - one or more series across sessions (score, compliance, MDF slope, RPE).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

#: Fill colours of contraction grades (colour-blind safe pairs, distinct in greyscale by opacity).
BAND_COLOURS = {
    "good": ("#1b7837", 0.30),
    "intensity": ("#e08214", 0.30),
    "duration": ("#2166ac", 0.25),
    "neither": ("#8c8c8c", 0.22),
}
BAND_LABELS = {
    "good": "good (intensity and duration)",
    "intensity": "intensity only",
    "duration": "duration only",
    "neither": "neither",
}
LINE_COLOURS = {"threshold": "#b2182b", "target": "#542788", "reference": "#4d4d4d"}
SERIES_COLOURS = ("#2166ac", "#b2182b", "#1b7837", "#e08214", "#542788", "#4d4d4d")
FONT = "DejaVu Sans, Helvetica, Arial, sans-serif"
#: A white outline under line labels keeps them legible where they cross the signal. Drawn as
#: a stroked copy under the label rather than with ``paint-order`` (WeasyPrint ignores it and
#: would paint the white stroke over the text of the PDF reports).
HALO = 'stroke="#ffffff" stroke-width="3" fill="#ffffff" aria-hidden="true"'


def _haloed(attrs: str, colour: str, text: str) -> list[str]:
    """A label with a white halo under it: the halo copy first, then the label."""
    return [f"<text {attrs} {HALO}>{text}</text>", f'<text {attrs} fill="{colour}">{text}</text>']


@dataclass(frozen=True)
class Band:
    """A shaded time span (a contraction) of the kind ``good|intensity|duration|neither``."""

    start_s: float
    end_s: float
    kind: str = "neither"


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (threshold, MVC target) in the signal's own unit."""

    value: float
    label: str
    kind: str = "reference"


@dataclass(frozen=True)
class Series:
    """A named sequence of (x, y) points; ``y`` None leaves a gap (e.g. no RPE recorded)."""

    name: str
    points: Sequence[tuple[date | datetime | float, float | None]]


def nice_ticks(lo: float, hi: float, count: int = 5) -> list[float]:
    """Round tick values (1, 2, 2.5, 5 x 10^n) from at or below ``lo`` to at or above ``hi``."""
    if not (math.isfinite(lo) and math.isfinite(hi)) or hi <= lo:
        return [lo] if math.isfinite(lo) else [0.0]
    raw = (hi - lo) / max(count, 1)
    magnitude = 10 ** math.floor(math.log10(raw))
    step = next(m * magnitude for m in (1, 2, 2.5, 5, 10) if m * magnitude >= raw)
    first = math.floor(lo / step + 1e-9)
    last = math.ceil(hi / step - 1e-9)
    return [round(i * step, 10) for i in range(first, last + 1)]


def _fmt(value: float) -> str:
    return f"{value:.1f}".rstrip("0").rstrip(".") if value == value else "0"


def _label(value: float) -> str:
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def _chart_id(*parts: object) -> str:
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"chart-{digest}"


def _minmax_decimate(values: Sequence[float], columns: int) -> list[tuple[int, float]]:
    """Keep each pixel column's min and max so peaks survive decimation."""
    n = len(values)
    if n <= columns * 2:
        return list(enumerate(values))
    points: list[tuple[int, float]] = []
    per = n / columns
    for col in range(columns):
        lo_i, hi_i = int(col * per), max(int((col + 1) * per), int(col * per) + 1)
        chunk = values[lo_i:hi_i]
        i_min = min(range(len(chunk)), key=chunk.__getitem__)
        i_max = max(range(len(chunk)), key=chunk.__getitem__)
        for i in sorted({i_min, i_max}):
            points.append((lo_i + i, chunk[i]))
    return points


def _svg_open(chart_id: str, width: int, height: int, title: str, desc: str) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" font-size="11">',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def envelope_chart(
    *,
    values: Sequence[float],
    rate_hz: float,
    title: str,
    bands: Sequence[Band] = (),
    lines: Sequence[HLine] = (),
    unit: str = "µV",
    scale: float = 1e6,
    width: int = 760,
    height: int = 240,
) -> SafeString:
    """An envelope (volts, ``scale`` converts to ``unit``) over time with shaded contractions."""
    # The legend gets its own row under the title, so a long muscle name never runs into it.
    left, right, top, bottom = 56, 12, 44, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    scaled = [float(v) * scale if v is not None and math.isfinite(v) else 0.0 for v in values]
    duration = len(scaled) / rate_hz if rate_hz > 0 and scaled else 0.0
    y_max = max([*scaled, *(line.value * scale for line in lines), 0.0])
    y_ticks = nice_ticks(0.0, y_max * 1.05 if y_max > 0 else 1.0)
    y_top = y_ticks[-1] if y_ticks[-1] > 0 else 1.0
    # Ticks past the end would be clamped onto the last one and print over it.
    x_ticks = [t for t in nice_ticks(0.0, duration, 8) if t <= duration] if duration > 0 else [0.0]
    x_span = duration or 1.0

    def x_of(t: float) -> float:
        return left + plot_w * min(max(t, 0.0), x_span) / x_span

    def y_of(v: float) -> float:
        return top + plot_h * (1 - min(max(v, 0.0), y_top) / y_top)

    counts = {kind: 0 for kind in BAND_COLOURS}
    for band in bands:
        counts[band.kind if band.kind in counts else "neither"] += 1
    desc = (
        f"{len(bands)} contractions over {duration:.0f} s: "
        + ", ".join(f"{counts[k]} {BAND_LABELS[k]}" for k in BAND_COLOURS)
        + ". "
        + "; ".join(f"{line.label} {_label(line.value * scale)} {unit}" for line in lines)
    )
    chart_id = _chart_id(title, len(scaled), rate_hz, tuple(bands), tuple(lines))
    out = _svg_open(chart_id, width, height, title, desc)
    out.append(f'<text x="{left}" y="16" font-weight="bold">{escape(title)}</text>')
    for tick in y_ticks:
        y = _fmt(y_of(tick))
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y}" text-anchor="end" dy="4">{_label(tick)}</text>')
    for tick in x_ticks:
        x = _fmt(x_of(tick))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#666"/>'
        )
        out.append(
            f'<text x="{x}" y="{top + plot_h + 16}" text-anchor="middle">{_label(tick)}</text>'
        )
    for band in bands:
        colour, opacity = BAND_COLOURS.get(band.kind, BAND_COLOURS["neither"])
        x0, x1 = x_of(band.start_s), x_of(band.end_s)
        out.append(
            f'<rect class="band band-{escape(band.kind)}" x="{_fmt(x0)}" y="{top}" '
            f'width="{_fmt(max(x1 - x0, 1.0))}" height="{plot_h}" fill="{colour}" '
            f'fill-opacity="{opacity}"><title>{escape(BAND_LABELS.get(band.kind, band.kind))}: '
            f"{band.start_s:.1f}-{band.end_s:.1f} s</title></rect>"
        )
    if scaled:
        step_s = 1.0 / rate_hz
        points = _minmax_decimate(scaled, plot_w)
        path = " ".join(f"{_fmt(x_of(i * step_s))},{_fmt(y_of(v))}" for i, v in points)
        out.append(
            f'<polyline class="envelope" points="{path}" fill="none" stroke="#222" '
            f'stroke-width="1" stroke-linejoin="round"/>'
        )
    for line in lines:
        colour = LINE_COLOURS.get(line.kind, LINE_COLOURS["reference"])
        y = _fmt(y_of(line.value * scale))
        out.append(
            f'<line class="hline hline-{escape(line.kind)}" x1="{left}" x2="{left + plot_w}" '
            f'y1="{y}" y2="{y}" stroke="{colour}" stroke-width="1.2" stroke-dasharray="6 4"/>'
        )
        out.extend(
            _haloed(
                f'x="{left + plot_w - 4}" y="{y}" dy="-4" text-anchor="end"',
                colour,
                f"{escape(line.label)} {_label(line.value * scale)} {escape(unit)}",
            )
        )
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#666"/>'
    )
    out.append(
        f'<text x="{left + plot_w / 2:.0f}" y="{height - 4}" text-anchor="middle">time (s)</text>'
    )
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{escape(unit)}</text>'
    )
    legend_x = float(left)
    for kind in BAND_COLOURS:
        colour, opacity = BAND_COLOURS[kind]
        out.append(
            f'<rect x="{legend_x:.0f}" y="23" width="10" height="10" fill="{colour}" '
            f'fill-opacity="{min(opacity * 2.5, 1)}"/>'
        )
        out.append(f'<text x="{legend_x + 14:.0f}" y="32">{escape(BAND_LABELS[kind])}</text>')
        legend_x += 14 + 6.2 * len(BAND_LABELS[kind]) + 12
    out.append("</svg>")
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated text is escaped above


def _x_number(x: date | datetime | float) -> float:
    if isinstance(x, datetime):
        return x.timestamp() / 86400.0
    if isinstance(x, date):
        return float(x.toordinal())
    return float(x)


def _x_label(x: date | datetime | float) -> str:
    if isinstance(x, datetime | date):
        return x.strftime("%d %b")
    return _label(float(x))


def trend_chart(
    *,
    series: Sequence[Series],
    title: str,
    y_label: str,
    y_min: float | None = None,
    y_max: float | None = None,
    reference: HLine | None = None,
    width: int = 760,
    height: int = 220,
) -> SafeString:
    """Series across sessions as lines with markers; gaps where a value is missing."""
    left, right, top, bottom = 56, 12, 28, 34
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [_x_number(x) for s in series for x, _ in s.points]
    ys = [float(y) for s in series for _, y in s.points if y is not None and math.isfinite(y)]
    if reference is not None:
        ys.append(reference.value)
    lo = y_min if y_min is not None else min([*ys, 0.0])
    hi = y_max if y_max is not None else max([*ys, lo + 1.0])
    if hi <= lo:
        hi = lo + 1.0
    y_ticks = nice_ticks(lo, hi)
    lo, hi = min(lo, y_ticks[0]), max(hi, y_ticks[-1])
    x_lo, x_hi = (min(xs), max(xs)) if xs else (0.0, 1.0)
    x_span = (x_hi - x_lo) or 1.0

    def x_of(x: float) -> float:
        if x_hi == x_lo:
            return left + plot_w / 2
        return left + plot_w * (x - x_lo) / x_span

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, lo), hi) - lo) / (hi - lo))

    n_points = sum(1 for s in series for _, y in s.points if y is not None)
    desc = f"{n_points} values. " + "; ".join(
        f"{s.name}: "
        + ", ".join(f"{_x_label(x)} {_label(float(y))}" for x, y in s.points if y is not None)
        for s in series
    )
    chart_id = _chart_id(title, y_label, tuple((s.name, tuple(s.points)) for s in series))
    out = _svg_open(chart_id, width, height, title, desc)
    out.append(f'<text x="{left}" y="16" font-weight="bold">{escape(title)}</text>')
    for tick in y_ticks:
        y = _fmt(y_of(tick))
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>')
        out.append(f'<text x="{left - 6}" y="{y}" text-anchor="end" dy="4">{_label(tick)}</text>')
    seen_labels: list[tuple[float, str]] = []
    for s in series:
        for x, _ in s.points:
            label, pos = _x_label(x), x_of(_x_number(x))
            if all(abs(pos - p) > 42 for p, _ in seen_labels):
                seen_labels.append((pos, label))
    for pos, label in seen_labels:
        # Labels at the plot's edges are anchored inside it, so none is cut off.
        anchor = "start" if pos < left + 20 else "end" if pos > left + plot_w - 20 else "middle"
        out.append(
            f'<text x="{_fmt(pos)}" y="{top + plot_h + 16}" text-anchor="{anchor}">'
            f"{escape(label)}</text>"
        )
    if reference is not None:
        colour = LINE_COLOURS.get(reference.kind, LINE_COLOURS["reference"])
        y = _fmt(y_of(reference.value))
        out.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="{colour}" '
            f'stroke-dasharray="6 4"/>'
        )
        out.extend(
            _haloed(
                f'x="{left + plot_w - 4}" y="{y}" dy="-4" text-anchor="end"',
                colour,
                escape(reference.label),
            )
        )
    for index, s in enumerate(series):
        colour = SERIES_COLOURS[index % len(SERIES_COLOURS)]
        segment: list[str] = []
        segments: list[list[str]] = []
        for x, y in sorted(s.points, key=lambda p: _x_number(p[0])):
            if y is None or not math.isfinite(y):
                if segment:
                    segments.append(segment)
                segment = []
                continue
            px, py = _fmt(x_of(_x_number(x))), _fmt(y_of(float(y)))
            segment.append(f"{px},{py}")
            out.append(
                f'<circle cx="{px}" cy="{py}" r="3" fill="{colour}"><title>{escape(s.name)} '
                f"{escape(_x_label(x))}: {_label(float(y))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline points="{" ".join(seg)}" fill="none" stroke="{colour}" '
                    f'stroke-width="1.5"/>'
                )
        legend_y = top + 4 + 14 * index
        out.append(
            f'<line x1="{left + 8}" x2="{left + 24}" y1="{legend_y + 4}" y2="{legend_y + 4}" '
            f'stroke="{colour}" stroke-width="2"/>'
        )
        out.append(f'<text x="{left + 28}" y="{legend_y + 8}">{escape(s.name)}</text>')
    out.append(
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#666"/>'
    )
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 12 {top + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    out.append("</svg>")
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated text is escaped above
