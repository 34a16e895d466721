"""The envelope chart: one muscle's EMG envelope over a recording, as an SVG string.

The detected contractions are shaded by grade, with the threshold / MVC-target lines labelled in
the right gutter; a recording's ~75,000 samples are cut to each pixel column's minimum and
maximum, so every peak survives. Drawn for the recording pages (``analysis.presentation``) and,
decimated further for print (``reports.print_charts``), for the session report. What every
chart shares (palette, text metrics, ticks, legend, line labels) is ``reports.chart_layout``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True)
class Band:
    """A shaded time span (a contraction) of the kind ``good|intensity|duration|neither``."""

    start_s: float
    end_s: float
    kind: str = "neither"


def minmax_decimate(values: Sequence[float], columns: int) -> list[tuple[int, float]]:
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
    mvc: float | None = None,
) -> SafeString:
    """An envelope (volts, ``scale`` converts to ``unit``) over time with shaded contractions.

    ``mvc`` (volts, optional) lets the page's read-out give values as % MVC.
    """
    scaled = [float(v) * scale if v is not None and math.isfinite(v) else 0.0 for v in values]
    duration = len(scaled) / rate_hz if rate_hz > 0 and scaled else 0.0
    y_max = max([*scaled, *(line.value * scale for line in lines), 0.0])
    y_ticks = nice_ticks(0.0, y_max * 1.05 if y_max > 0 else 1.0)
    y_top = y_ticks[-1] if y_ticks[-1] > 0 else 1.0
    x_span = duration or 1.0

    # The gutter fits the widest label, up to a fifth of the chart (longer labels are cut).
    gutter_max = width / 5
    line_rows = [
        (
            line,
            escape(fit_text(line.label, gutter_max)),
            escape(fit_text(f"{number_label(line.value * scale)} {unit}", gutter_max)),
        )
        for line in lines
    ]
    left = y_axis_left([number_label(t) for t in y_ticks])
    gutter = max(
        [
            min(
                max(
                    text_width(line.label), text_width(f"{number_label(line.value * scale)} {unit}")
                ),
                gutter_max,
            )
            for line in lines
        ],
        default=0.0,
    )
    right = math.ceil(8 + gutter + 6) if lines else 12
    plot_w = width - left - right
    legend, legend_rows = draw_legend(
        [
            (
                f'<rect x="{{x}}" y="{{y}}" width="10" height="10" fill="{BAND_COLOURS[kind][0]}" '
                f'fill-opacity="{min(BAND_COLOURS[kind][1] * 2.5, 1):g}"/>',
                BAND_LABELS[kind],
            )
            for kind in BAND_COLOURS
        ],
        left,
        24,
        plot_w,
    )
    top, bottom = 24 + legend_rows * LEGEND_ROW + 8, 40
    plot_h = height - top - bottom

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
        + "; ".join(f"{line.label} {number_label(line.value * scale)} {unit}" for line in lines)
    )
    chart_id = new_chart_id(title, len(scaled), rate_hz, tuple(bands), tuple(lines))
    data = (
        f' data-readout="envelope" data-plot="{left} {top} {plot_w} {plot_h}" '
        f'data-x-domain="0 {x_span:g}" data-y-domain="0 {y_top:g}" data-unit="{escape(unit)}"'
    )
    if mvc is not None and math.isfinite(mvc) and mvc > 0:
        data += f' data-mvc="{mvc * scale:g}"'
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
    # Ticks past the end would be clamped onto the last one and print over it; the tick count
    # follows the plot's width so their labels never touch.
    widest = text_width(number_label(duration)) + 12
    n_ticks = max(2, min(8, int(plot_w / max(widest, 1))))
    x_ticks = (
        [t for t in nice_ticks(0.0, duration, n_ticks) if t <= duration] if duration > 0 else [0.0]
    )
    for tick in x_ticks:
        x = fmt(x_of(tick))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#666"/>'
        )
        out.append(
            f'<text class="tick-x" x="{x}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{number_label(tick)}</text>"
        )
    for number, band in enumerate(bands, start=1):
        colour, opacity = BAND_COLOURS.get(band.kind, BAND_COLOURS["neither"])
        x0, x1 = x_of(band.start_s), x_of(band.end_s)
        grade = escape(BAND_LABELS.get(band.kind, band.kind))
        out.append(
            f'<rect class="band band-{escape(band.kind)}" x="{fmt(x0)}" y="{top}" '
            f'width="{fmt(max(x1 - x0, 1.0))}" height="{plot_h}" fill="{colour}" '
            f'fill-opacity="{opacity}" data-number="{number}" data-start="{band.start_s:g}" '
            f'data-end="{band.end_s:g}" data-grade="{grade}"><title>{grade}: '
            f"{band.start_s:.1f}-{band.end_s:.1f} s</title></rect>"
        )
    if scaled:
        step_s = 1.0 / rate_hz
        points = minmax_decimate(scaled, plot_w)
        path = " ".join(f"{fmt(x_of(i * step_s))},{fmt(y_of(v))}" for i, v in points)
        out.append(
            f'<polyline class="envelope" points="{path}" fill="none" stroke="#222" '
            f'stroke-width="1" stroke-linejoin="round"/>'
        )
    labelled = []
    for line, first, second in line_rows:
        colour = LINE_COLOURS.get(line.kind, LINE_COLOURS["reference"])
        y = y_of(line.value * scale)
        out.append(
            f'<line class="hline hline-{escape(line.kind)}" x1="{left}" x2="{left + plot_w}" '
            f'y1="{fmt(y)}" y2="{fmt(y)}" stroke="{colour}" stroke-width="1.2" '
            f'stroke-dasharray="6 4"/>'
        )
        labelled.append((y, colour, line.kind, first, second))
    out.extend(
        draw_line_labels(
            labelled,
            plot_right=left + plot_w,
            top=top - 4,
            bottom=top + plot_h + 4,
            two_rows=True,
        )
    )
    out.append(
        f'<rect class="plot-frame" x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" '
        f'fill="none" stroke="#666"/>'
    )
    out.append(
        f'<text class="axis-x" x="{left + plot_w / 2:.0f}" y="{height - 4}" '
        f'text-anchor="middle">time (s)</text>'
    )
    out.append(
        f'<text class="axis-y" x="14" y="{top + plot_h / 2:.0f}" text-anchor="middle" '
        f'transform="rotate(-90 14 {top + plot_h / 2:.0f})">{escape(unit)}</text>'
    )
    out.append("</svg>")
    return mark_safe("\n".join(out))  # noqa: S308 - every interpolated text is escaped above
