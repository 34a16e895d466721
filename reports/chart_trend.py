"""The trend chart: one or more series across sessions (score, compliance, MDF slope, RPE).

Lines with a marker per value (each marker carries its value for the page's read-out), a gap
where a value is missing, dates under the points kept only where they do not touch, and an
optional dashed reference line labelled in the right gutter. Drawn by ``patients.progress`` for
the patient pages and the progress report. What every chart shares (palette, text metrics,
ticks, legend, line labels) is ``reports.chart_layout``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from html import escape

from django.utils.safestring import SafeString, mark_safe

from reports.chart_layout import (
    LEGEND_ROW,
    LINE_COLOURS,
    TITLE_SIZE,
    HLine,
    draw_legend,
    draw_line_labels,
    fit_text,
    fmt,
    new_chart_id,
    nice_ticks,
    number_label,
    svg_open,
    text_width,
    y_axis_left,
)

SERIES_COLOURS = ("#2166ac", "#b2182b", "#1b7837", "#e08214", "#542788", "#4d4d4d")


@dataclass(frozen=True)
class Series:
    """A named sequence of (x, y) points; ``y`` None leaves a gap (e.g. no RPE recorded)."""

    name: str
    points: Sequence[tuple[date | datetime | float, float | None]]


def _x_number(x: date | datetime | float) -> float:
    if isinstance(x, datetime):
        return x.timestamp() / 86400.0
    if isinstance(x, date):
        return float(x.toordinal())
    return float(x)


def _x_label(x: date | datetime | float) -> str:
    if isinstance(x, datetime | date):
        return x.strftime("%d %b")
    return number_label(float(x))


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

    left = y_axis_left([number_label(t) for t in y_ticks])
    reference_label = fit_text(reference.label, width / 5) if reference is not None else ""
    right = math.ceil(8 + text_width(reference_label) + 6) if reference is not None else 12
    plot_w = width - left - right
    legend, legend_rows = draw_legend(
        [
            (
                f'<line x1="{{x}}" x2="{{x2}}" y1="{{mid}}" y2="{{mid}}" '
                f'stroke="{SERIES_COLOURS[i % len(SERIES_COLOURS)]}" stroke-width="2"/>',
                s.name,
            )
            for i, s in enumerate(series)
        ],
        left,
        24,
        plot_w,
    )
    top, bottom = 24 + legend_rows * LEGEND_ROW + 8, 26
    plot_h = height - top - bottom

    # The first and last points clear the frame, their dates centred under them.
    inset = max([12.0, *(text_width(_x_label(x)) / 2 + 1 for s in series for x, _ in s.points)])

    def x_of(x: float) -> float:
        if x_hi == x_lo:
            return left + plot_w / 2
        return left + inset + (plot_w - 2 * inset) * (x - x_lo) / x_span

    def y_of(v: float) -> float:
        return top + plot_h * (1 - (min(max(v, lo), hi) - lo) / (hi - lo))

    n_points = sum(1 for s in series for _, y in s.points if y is not None)
    desc = f"{n_points} values. " + "; ".join(
        f"{s.name}: "
        + ", ".join(f"{_x_label(x)} {number_label(float(y))}" for x, y in s.points if y is not None)
        for s in series
    )
    chart_id = new_chart_id(title, y_label, tuple((s.name, tuple(s.points)) for s in series))
    data = (
        f' data-readout="trend" data-plot="{left} {top} {plot_w} {plot_h}" '
        f'data-y-domain="{lo:g} {hi:g}"'
    )
    out = svg_open(chart_id, width, height, title, desc, data)
    out.append(
        f'<text class="chart-title" x="{left}" y="16" font-weight="bold" '
        f'font-size="{TITLE_SIZE}">'
        f"{escape(fit_text(title, width - left - 4, TITLE_SIZE, bold=True))}</text>"
    )
    out.extend(legend)
    for tick in y_ticks:
        y = fmt(y_of(tick))
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>')
        out.append(
            f'<text class="tick-y" x="{left - 6}" y="{y}" text-anchor="end" dy="4">'
            f"{number_label(tick)}</text>"
        )
    # Date labels: each kept only where its box clears the ones already kept.
    kept: list[tuple[float, float]] = []
    for x in sorted({x for s in series for x, _ in s.points}, key=_x_number):
        label, pos = _x_label(x), x_of(_x_number(x))
        w = text_width(label)
        # Labels at the plot's edges are anchored inside it, so none is cut off.
        if pos - w / 2 < left:
            anchor, x0 = "start", pos
        elif pos + w / 2 > left + plot_w:
            anchor, x0 = "end", pos - w
        else:
            anchor, x0 = "middle", pos - w / 2
        if all(x0 >= b + 8 or x0 + w + 8 <= a for a, b in kept):
            kept.append((x0, x0 + w))
            out.append(
                f'<text class="tick-x" x="{fmt(pos)}" y="{top + plot_h + 18}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
    if reference is not None:
        colour = LINE_COLOURS.get(reference.kind, LINE_COLOURS["reference"])
        y = y_of(reference.value)
        out.append(
            f'<line class="hline hline-{escape(reference.kind)}" x1="{left}" '
            f'x2="{left + plot_w}" y1="{fmt(y)}" y2="{fmt(y)}" stroke="{colour}" '
            f'stroke-dasharray="6 4"/>'
        )
        out.extend(
            draw_line_labels(
                [(y, colour, reference.kind, escape(reference_label), "")],
                plot_right=left + plot_w,
                top=top - 4,
                bottom=top + plot_h + 4,
                two_rows=False,
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
            px, py = fmt(x_of(_x_number(x))), fmt(y_of(float(y)))
            segment.append(f"{px},{py}")
            out.append(
                f'<circle cx="{px}" cy="{py}" r="3" fill="{colour}" '
                f'data-series="{escape(s.name)}" data-x="{escape(_x_label(x))}" '
                f'data-value="{number_label(float(y))}"><title>{escape(s.name)} '
                f"{escape(_x_label(x))}: {number_label(float(y))}</title></circle>"
            )
        if segment:
            segments.append(segment)
        for seg in segments:
            if len(seg) > 1:
                out.append(
                    f'<polyline class="series" points="{" ".join(seg)}" fill="none" '
                    f'stroke="{colour}" stroke-width="1.5"/>'
                )
    out.append(
        f'<rect class="plot-frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" stroke="#666"/>'
    )
    out.append(
        f'<text class="axis-y" x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">{escape(y_label)}</text>'
    )
    out.append("</svg>")
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated text is escaped above
