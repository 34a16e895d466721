"""What every SVG chart is drawn with: palette, type, text metrics, ticks and the shared parts.

Charts are plain SVG strings built on the server rather than drawn by a JavaScript library:
they need no CDN, pass the strict CSP (only presentation attributes, no ``style=``), print
crisply, and WeasyPrint renders the very same markup into the PDF reports. Every text is
escaped; the chart kinds mark their result safe for templates. The kinds are
``reports.chart_envelope`` (one muscle's EMG envelope over a recording) and
``reports.chart_trend`` (series across sessions); this module holds what they share, so a new
kind is drawn the same way.

Layout: the SVG scales to its container (``viewBox``; pages and reports set ``width: 100%``).
Nothing is printed over the data: the legend has its own rows between the title and the plot
(:func:`draw_legend`), line labels (threshold, MVC target, reference) sit in a gutter right of
the plot and are spread apart when their lines are close, with a short leader to their line
(:func:`draw_line_labels`, :func:`spread_labels`); axis labels are skipped where they would
touch. Text boxes are measured with the advance widths of the bundled DejaVu Sans
(:func:`text_width`; the first font of the charts' font list, and wider than the fallbacks), so
the layout holds wherever the chart is drawn. The charts carry their plot geometry and domains
as data attributes (``data-plot``, ``data-x-domain``, ``data-y-domain``) for the pages' hover
read-out (``static/js/chart-readout.js``).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass
from html import escape

#: Colours of the horizontal lines (threshold, MVC target, reference) and of their labels.
LINE_COLOURS = {"threshold": "#b2182b", "target": "#542788", "reference": "#4d4d4d"}
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


def fit_text(text: str, max_width: float, size: float = FONT_SIZE, *, bold: bool = False) -> str:
    """``text`` cut with an ellipsis to fit ``max_width`` (a long title never leaves the chart)."""
    if text_width(text, size, bold=bold) <= max_width:
        return text
    while text and text_width(text + "…", size, bold=bold) > max_width:
        text = text[:-1]
    return text.rstrip() + "…"


@dataclass(frozen=True)
class HLine:
    """A horizontal reference line (threshold, MVC target) in the signal's own unit."""

    value: float
    label: str
    kind: str = "reference"


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


def fmt(value: float) -> str:
    """A coordinate as SVG markup writes it: one decimal at most, NaN as 0."""
    return f"{value:.1f}".rstrip("0").rstrip(".") if value == value else "0"


def number_label(value: float) -> str:
    """A value as ticks and labels print it: no decimals when whole or >= 100, else 3 digits."""
    if abs(value) >= 100 or value == int(value):
        return f"{value:.0f}"
    return f"{value:.3g}"


def new_chart_id(*parts: object) -> str:
    """An id for the chart's title and description, the same for the same chart."""
    digest = hashlib.sha1(repr(parts).encode(), usedforsecurity=False).hexdigest()[:10]
    return f"chart-{digest}"


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


def svg_open(
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


def draw_legend(items: Sequence[tuple[str, str]], x0: float, y0: float, max_width: float):
    """Legend entries (swatch markup with {x} {y} placeholders, label) in rows that wrap within
    ``max_width``; returns (markup, rows used)."""
    out: list[str] = []
    x, row = x0, 0
    for swatch, label in items:
        item_w = 18 + text_width(label)
        if x > x0 and x + item_w > x0 + max_width:
            x, row = x0, row + 1
        y = y0 + row * LEGEND_ROW
        out.append(swatch.format(x=fmt(x), y=fmt(y + 2), mid=fmt(y + 7), x2=fmt(x + 14)))
        out.append(
            f'<text class="legend-label" x="{fmt(x + 18)}" y="{fmt(y + 12)}">{escape(label)}</text>'
        )
        x += item_w + 14
    return out, (row + 1 if items else 0)


def draw_line_labels(lines, *, plot_right: float, top: float, bottom: float, two_rows: bool):
    """Labels of horizontal lines in the right gutter, spread apart, each with a leader from
    the end of its line. ``lines``: (y of the line, colour, kind, first row, second row)."""
    block = LINE_HEIGHT * (2 if two_rows else 1)
    centres = spread_labels([y for y, *_ in lines], block + 2, top, bottom)
    out: list[str] = []
    for (y, colour, kind, first, second), centre in zip(lines, centres, strict=True):
        out.append(
            f'<polyline class="leader" points="{fmt(plot_right)},{fmt(y)} '
            f'{fmt(plot_right + 4)},{fmt(centre)} {fmt(plot_right + 6)},{fmt(centre)}" '
            f'fill="none" stroke="{colour}" stroke-width="1.2"/>'
        )
        x = fmt(plot_right + 8)
        rows = [first, second] if two_rows else [first]
        baseline = centre - block / 2 + ASCENT
        out.append(
            f'<text class="line-label line-label-{escape(kind)}" fill="{colour}">'
            + "".join(
                f'<tspan x="{x}" y="{fmt(baseline + i * LINE_HEIGHT)}">{row}</tspan>'
                for i, row in enumerate(rows)
            )
            + "</text>"
        )
    return out


def y_axis_left(tick_labels: Sequence[str]) -> int:
    """Room left of the plot for the rotated axis title and the widest tick label."""
    widest = max((text_width(t) for t in tick_labels), default=0.0)
    return max(52, math.ceil(18 + 4 + widest + 6))
