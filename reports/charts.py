"""Server-side SVG charts shared by the staff pages and the PDF reports.

Charts are plain SVG strings built here rather than drawn by a JavaScript library: they need no
CDN, pass the strict CSP (only presentation attributes, no ``style=``), print crisply, and
WeasyPrint renders the very same markup into the PDF reports. Every text is escaped; the result
is marked safe for templates.

Two shapes cover the product:

* :func:`envelope_chart` - one muscle's EMG envelope over a recording, with the detected
  contractions shaded by grade and the threshold / MVC-target lines;
* :func:`trend_chart` - one or more series across sessions (score, compliance, MDF slope, RPE).

Layout: the SVG scales to its container (``viewBox``; pages and reports set ``width: 100%``).
Nothing is printed over the data: the legend has its own rows between the title and the plot,
line labels (threshold, MVC target, reference) sit in a gutter right of the plot and are spread
apart when their lines are close, with a short leader to their line; axis labels are skipped
where they would touch. Text boxes are measured with the advance widths of the bundled DejaVu
Sans (the first font of the charts' font list, and wider than the fallbacks), so the layout
holds wherever the chart is drawn. The charts carry their plot geometry and domains as data
attributes (``data-plot``, ``data-x-domain``, ``data-y-domain``) for the pages' hover read-out
(``static/js/chart-readout.js``).
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
#: Text sizes in the chart's own units (the chart is drawn 760 units wide by default and scaled
#: to the content width: about 1.45x on a 1366 px screen, 0.9x at 768 px and on an A4 page,
#: so 13 units read as 12 px at 768 px and about 8.5 pt in print).
FONT_SIZE = 13
TITLE_SIZE = 14
ASCENT = 12.5  # of FONT_SIZE text above its baseline (DejaVu: 0.93 em), 3.1 below
LINE_HEIGHT = 16  # one line of FONT_SIZE text
LEGEND_ROW = 17
# Advance widths (1/1000 em) of DejaVu Sans and DejaVu Sans Bold for printable ASCII and the few
# other characters the charts print (µ · – ° …); anything else counts as a full em.
_WIDTH_CHARS = "".join(chr(c) for c in range(32, 127)) + "µ·–°…"
_WIDTHS = dict(
    zip(
        _WIDTH_CHARS,
        map(
            int,
            """
    318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 636 636 636 636 636 636
    636 636 636 636 337 337 838 838 838 531 1000 684 686 698 770 632 575 775 752 295 295 656
    557 863 748 787 603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 500 613
    635 550 635 615 352 635 634 278 278 579 278 974 634 612 635 635 411 521 392 634 592 818
    592 592 525 636 337 636 838 636 318 500 500 1000
""".split(),
        ),
        strict=True,
    )
)
_WIDTHS_BOLD = dict(
    zip(
        _WIDTH_CHARS,
        map(
            int,
            """
    348 456 521 838 696 1002 872 306 457 457 523 838 380 415 380 365 696 696 696 696 696 696
    696 696 696 696 400 400 838 838 838 580 1000 774 762 734 830 683 683 821 837 372 372 775
    637 995 837 850 733 850 770 720 682 812 774 1103 771 724 725 457 365 457 838 500 500 675
    716 593 716 678 435 716 712 343 343 665 343 1042 712 687 716 716 493 595 478 712 652 924
    645 652 582 712 365 712 838 736 380 500 500 1000
""".split(),
        ),
        strict=True,
    )
)


def text_width(text: str, size: float = FONT_SIZE, *, bold: bool = False) -> float:
    """The advance width of ``text`` at ``size`` in DejaVu Sans (an upper bound elsewhere)."""
    table = _WIDTHS_BOLD if bold else _WIDTHS
    return size * sum(table.get(ch, 1000) for ch in text) / 1000


def _fit(text: str, max_width: float, size: float = FONT_SIZE, *, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``max_width`` (a long title never leaves the chart)."""
    if text_width(text, size, bold=bold) <= max_width:
        return text
    while text and text_width(text + "…", size, bold=bold) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


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


def spread_labels(desired: Sequence[float], height: float, lo: float, hi: float) -> list[float]:
    """Centres for labels of ``height`` as close as may be to their ``desired`` centres, none
    overlapping, all within [lo, hi] when they fit (least squares: a group of labels that would
    touch is centred on the mean of its wishes). Returned in the order of ``desired``."""

    def place(mean: float, n: int) -> float:
        half = n * height / 2
        return min(max(mean, lo + half), max(hi - half, lo + half))

    order = sorted(range(len(desired)), key=desired.__getitem__)
    groups: list[tuple[float, int]] = []  # (sum of the wishes, labels)
    for i in order:
        groups.append((desired[i], 1))
        while len(groups) > 1:
            (s1, n1), (s2, n2) = groups[-2], groups[-1]
            if place(s1 / n1, n1) + n1 * height / 2 <= place(s2 / n2, n2) - n2 * height / 2:
                break
            groups[-2:] = [(s1 + s2, n1 + n2)]
    centres = [0.0] * len(desired)
    k = 0
    for total, n in groups:
        first = place(total / n, n) - (n - 1) * height / 2
        for j in range(n):
            centres[order[k]] = first + j * height
            k += 1
    return centres


def _svg_open(
    chart_id: str, width: int, height: int, title: str, desc: str, data: str = ""
) -> list[str]:
    return [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" '
        f'aria-labelledby="{chart_id}-title {chart_id}-desc" font-family="{FONT}" '
        f'font-size="{FONT_SIZE}"{data}>',
        f'<title id="{chart_id}-title">{escape(title)}</title>',
        f'<desc id="{chart_id}-desc">{escape(desc)}</desc>',
        f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>',
    ]


def _legend(items: Sequence[tuple[str, str]], x0: float, y0: float, max_width: float):
    """Legend entries (swatch markup with {x} {y} placeholders, label) in rows that wrap within
    ``max_width``; returns (markup, rows used)."""
    out: list[str] = []
    x, row = x0, 0
    for swatch, label in items:
        item_w = 18 + text_width(label)
        if x > x0 and x + item_w > x0 + max_width:
            x, row = x0, row + 1
        y = y0 + row * LEGEND_ROW
        out.append(swatch.format(x=_fmt(x), y=_fmt(y + 2), mid=_fmt(y + 7), x2=_fmt(x + 14)))
        out.append(
            f'<text class="legend-label" x="{_fmt(x + 18)}" y="{_fmt(y + 12)}">'
            f"{escape(label)}</text>"
        )
        x += item_w + 14
    return out, (row + 1 if items else 0)


def _line_labels(lines, *, plot_right: float, top: float, bottom: float, two_rows: bool):
    """Labels of horizontal lines in the right gutter, spread apart, each with a leader from
    the end of its line. ``lines``: (y of the line, colour, kind, first row, second row)."""
    block = LINE_HEIGHT * (2 if two_rows else 1)
    centres = spread_labels([y for y, *_ in lines], block + 2, top, bottom)
    out: list[str] = []
    for (y, colour, kind, first, second), centre in zip(lines, centres, strict=True):
        out.append(
            f'<polyline class="leader" points="{_fmt(plot_right)},{_fmt(y)} '
            f'{_fmt(plot_right + 4)},{_fmt(centre)} {_fmt(plot_right + 6)},{_fmt(centre)}" '
            f'fill="none" stroke="{colour}" stroke-width="1.2"/>'
        )
        x = _fmt(plot_right + 8)
        rows = [first, second] if two_rows else [first]
        baseline = centre - block / 2 + ASCENT
        out.append(
            f'<text class="line-label line-label-{escape(kind)}" fill="{colour}">'
            + "".join(
                f'<tspan x="{x}" y="{_fmt(baseline + i * LINE_HEIGHT)}">{row}</tspan>'
                for i, row in enumerate(rows)
            )
            + "</text>"
        )
    return out


def _y_axis_left(tick_labels: Sequence[str]) -> int:
    """Room left of the plot for the rotated axis title and the widest tick label."""
    widest = max((text_width(t) for t in tick_labels), default=0.0)
    return max(52, math.ceil(18 + 4 + widest + 6))


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
            escape(_fit(line.label, gutter_max)),
            escape(_fit(f"{_label(line.value * scale)} {unit}", gutter_max)),
        )
        for line in lines
    ]
    left = _y_axis_left([_label(t) for t in y_ticks])
    gutter = max(
        [
            min(
                max(text_width(line.label), text_width(f"{_label(line.value * scale)} {unit}")),
                gutter_max,
            )
            for line in lines
        ],
        default=0.0,
    )
    right = math.ceil(8 + gutter + 6) if lines else 12
    plot_w = width - left - right
    legend, legend_rows = _legend(
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
        + "; ".join(f"{line.label} {_label(line.value * scale)} {unit}" for line in lines)
    )
    chart_id = _chart_id(title, len(scaled), rate_hz, tuple(bands), tuple(lines))
    data = (
        f' data-readout="envelope" data-plot="{left} {top} {plot_w} {plot_h}" '
        f'data-x-domain="0 {x_span:g}" data-y-domain="0 {y_top:g}" data-unit="{escape(unit)}"'
    )
    if mvc is not None and math.isfinite(mvc) and mvc > 0:
        data += f' data-mvc="{mvc * scale:g}"'
    out = _svg_open(chart_id, width, height, title, desc, data)
    out.append(
        f'<text class="chart-title" x="{left}" y="16" font-weight="bold" '
        f'font-size="{TITLE_SIZE}">{escape(_fit(title, width - left - 4, TITLE_SIZE, bold=True))}'
        "</text>"
    )
    out.extend(legend)
    for tick in y_ticks:
        y = _fmt(y_of(tick))
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>')
        out.append(
            f'<text class="tick-y" x="{left - 6}" y="{y}" text-anchor="end" dy="4">'
            f"{_label(tick)}</text>"
        )
    # Ticks past the end would be clamped onto the last one and print over it; the tick count
    # follows the plot's width so their labels never touch.
    widest = text_width(_label(duration)) + 12
    n_ticks = max(2, min(8, int(plot_w / max(widest, 1))))
    x_ticks = (
        [t for t in nice_ticks(0.0, duration, n_ticks) if t <= duration] if duration > 0 else [0.0]
    )
    for tick in x_ticks:
        x = _fmt(x_of(tick))
        out.append(
            f'<line x1="{x}" x2="{x}" y1="{top + plot_h}" y2="{top + plot_h + 4}" stroke="#666"/>'
        )
        out.append(
            f'<text class="tick-x" x="{x}" y="{top + plot_h + 18}" text-anchor="middle">'
            f"{_label(tick)}</text>"
        )
    for number, band in enumerate(bands, start=1):
        colour, opacity = BAND_COLOURS.get(band.kind, BAND_COLOURS["neither"])
        x0, x1 = x_of(band.start_s), x_of(band.end_s)
        grade = escape(BAND_LABELS.get(band.kind, band.kind))
        out.append(
            f'<rect class="band band-{escape(band.kind)}" x="{_fmt(x0)}" y="{top}" '
            f'width="{_fmt(max(x1 - x0, 1.0))}" height="{plot_h}" fill="{colour}" '
            f'fill-opacity="{opacity}" data-number="{number}" data-start="{band.start_s:g}" '
            f'data-end="{band.end_s:g}" data-grade="{grade}"><title>{grade}: '
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
    labelled = []
    for line, first, second in line_rows:
        colour = LINE_COLOURS.get(line.kind, LINE_COLOURS["reference"])
        y = y_of(line.value * scale)
        out.append(
            f'<line class="hline hline-{escape(line.kind)}" x1="{left}" x2="{left + plot_w}" '
            f'y1="{_fmt(y)}" y2="{_fmt(y)}" stroke="{colour}" stroke-width="1.2" '
            f'stroke-dasharray="6 4"/>'
        )
        labelled.append((y, colour, line.kind, first, second))
    out.extend(
        _line_labels(
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

    left = _y_axis_left([_label(t) for t in y_ticks])
    reference_label = _fit(reference.label, width / 5) if reference is not None else ""
    right = math.ceil(8 + text_width(reference_label) + 6) if reference is not None else 12
    plot_w = width - left - right
    legend, legend_rows = _legend(
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
        + ", ".join(f"{_x_label(x)} {_label(float(y))}" for x, y in s.points if y is not None)
        for s in series
    )
    chart_id = _chart_id(title, y_label, tuple((s.name, tuple(s.points)) for s in series))
    data = (
        f' data-readout="trend" data-plot="{left} {top} {plot_w} {plot_h}" '
        f'data-y-domain="{lo:g} {hi:g}"'
    )
    out = _svg_open(chart_id, width, height, title, desc, data)
    out.append(
        f'<text class="chart-title" x="{left}" y="16" font-weight="bold" '
        f'font-size="{TITLE_SIZE}">{escape(_fit(title, width - left - 4, TITLE_SIZE, bold=True))}'
        "</text>"
    )
    out.extend(legend)
    for tick in y_ticks:
        y = _fmt(y_of(tick))
        out.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y}" y2="{y}" stroke="#e5e5e5"/>')
        out.append(
            f'<text class="tick-y" x="{left - 6}" y="{y}" text-anchor="end" dy="4">'
            f"{_label(tick)}</text>"
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
                f'<text class="tick-x" x="{_fmt(pos)}" y="{top + plot_h + 18}" '
                f'text-anchor="{anchor}">{escape(label)}</text>'
            )
    if reference is not None:
        colour = LINE_COLOURS.get(reference.kind, LINE_COLOURS["reference"])
        y = y_of(reference.value)
        out.append(
            f'<line class="hline hline-{escape(reference.kind)}" x1="{left}" '
            f'x2="{left + plot_w}" y1="{_fmt(y)}" y2="{_fmt(y)}" stroke="{colour}" '
            f'stroke-dasharray="6 4"/>'
        )
        out.extend(
            _line_labels(
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
            px, py = _fmt(x_of(_x_number(x))), _fmt(y_of(float(y)))
            segment.append(f"{px},{py}")
            out.append(
                f'<circle cx="{px}" cy="{py}" r="3" fill="{colour}" '
                f'data-series="{escape(s.name)}" data-x="{escape(_x_label(x))}" '
                f'data-value="{_label(float(y))}"><title>{escape(s.name)} '
                f"{escape(_x_label(x))}: {_label(float(y))}</title></circle>"
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
