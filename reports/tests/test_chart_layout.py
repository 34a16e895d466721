"""Nothing on a chart is printed over anything else (issue 16): text boxes never touch each other,
stay inside the chart and off the plot (so never over the signal, the contractions or the lines),
the legend never covers a line, and the threshold / MVC-target labels sit in the gutter beside
their lines, spread apart when the lines are close.

The boxes are measured here with the bundled DejaVu Sans itself (fontTools reads its advance
widths and ascent), not with the chart module's own table, on the charts of the three real
GHOSTLY recordings as the results pages draw them, and on synthetic edge cases.
"""

from __future__ import annotations

import itertools
import re
import xml.etree.ElementTree as ET
from datetime import date, timedelta
from functools import cache
from pathlib import Path

import pytest
from fontTools.ttLib import TTFont

from analysis import core
from analysis.presentation import results_from_document
from conftest import shared_c3d_dir
from patients.progress_charts import trend_charts
from reports.chart_envelope import Band, envelope_chart
from reports.chart_layout import HLine, spread_labels
from reports.chart_trend import Series, trend_chart

SVG = "{http://www.w3.org/2000/svg}"
FONTS = Path(__file__).resolve().parents[2] / "static" / "fonts"


@cache
def font(bold: bool):
    ttf = TTFont(FONTS / ("DejaVuSans-Bold.ttf" if bold else "DejaVuSans.ttf"))
    upm = ttf["head"].unitsPerEm
    return ttf.getBestCmap(), ttf["hmtx"], upm, ttf["hhea"].ascent / upm, -ttf["hhea"].descent / upm


def advance(text: str, size: float, bold: bool) -> float:
    cmap, hmtx, upm, _, _ = font(bold)
    return size * sum(hmtx[cmap.get(ord(ch), ".notdef")][0] for ch in text) / upm


class Chart:
    """A parsed chart: its text boxes, legend swatches, plot rectangle and drawn points."""

    def __init__(self, svg: str):
        self.svg = str(svg)
        self.root = ET.fromstring(self.svg)  # noqa: S314 - our own output
        _, _, self.width, self.height = map(float, self.root.get("viewBox").split())
        left, top, w, h = map(float, self.root.get("data-plot").split())
        self.plot = (left, top, left + w, top + h)
        self.size = float(self.root.get("font-size"))
        self.texts = [(el, self.box(el)) for el in self.root.iter(f"{SVG}text")]

    def box(self, el) -> tuple[float, float, float, float]:
        size = float(el.get("font-size") or self.size)
        bold = el.get("font-weight") == "bold"
        _, _, _, ascent, descent = font(bold)
        pieces = list(el.iter(f"{SVG}tspan")) or [el]
        boxes = []
        for piece in pieces:
            text = piece.text or ""
            x = float(piece.get("x"))
            y = float(piece.get("y")) + float(piece.get("dy") or "0")
            w = advance(text, size, bold)
            anchor = el.get("text-anchor") or "start"
            x0 = x - {"start": 0, "middle": w / 2, "end": w}[anchor]
            boxes.append((x0, y - ascent * size, x0 + w, y + descent * size))
        box = (
            min(b[0] for b in boxes),
            min(b[1] for b in boxes),
            max(b[2] for b in boxes),
            max(b[3] for b in boxes),
        )
        rotation = re.fullmatch(r"rotate\(-90 ([\d.]+) ([\d.]+)\)", el.get("transform") or "")
        if rotation:
            cx, cy = map(float, rotation.groups())
            corners = [(cx + (y - cy), cy - (x - cx)) for x in box[::2] for y in box[1::2]]
            xs, ys = [c[0] for c in corners], [c[1] for c in corners]
            box = (min(xs), min(ys), max(xs), max(ys))
        return box

    def texts_of(self, cls: str):
        return [(el, box) for el, box in self.texts if cls in (el.get("class") or "").split()]

    def points(self) -> list[tuple[float, float]]:
        points = []
        for line in self.root.iter(f"{SVG}polyline"):
            if "leader" in (line.get("class") or ""):
                continue
            points += [tuple(map(float, p.split(","))) for p in line.get("points").split()]
        points += [(float(c.get("cx")), float(c.get("cy"))) for c in self.root.iter(f"{SVG}circle")]
        return points


def overlap(a, b, slack: float = 0.25) -> bool:
    return (
        a[0] < b[2] - slack and b[0] < a[2] - slack and a[1] < b[3] - slack and b[1] < a[3] - slack
    )


def inside(point, box) -> bool:
    return box[0] <= point[0] <= box[2] and box[1] <= point[1] <= box[3]


def assert_nothing_overprints(chart: Chart):
    for (el_a, a), (el_b, b) in itertools.combinations(chart.texts, 2):
        assert not overlap(a, b), (ET.tostring(el_a), ET.tostring(el_b), a, b)
    for el, box in chart.texts:
        assert box[0] >= 0, (ET.tostring(el), box)
        assert box[2] <= chart.width, (ET.tostring(el), box, chart.width)
        assert box[1] >= 0, (ET.tostring(el), box)
        assert box[3] <= chart.height, (ET.tostring(el), box, chart.height)
        # Off the plot: never over the signal, the contractions, the lines or the points.
        assert not overlap(box, chart.plot, slack=0), (ET.tostring(el), box, chart.plot)
    for rect in chart.root.iter(f"{SVG}rect"):  # legend swatches
        if rect.get("class") is None and rect.get("fill") != "#ffffff":
            x, y = float(rect.get("x")), float(rect.get("y"))
            swatch = (x, y, x + float(rect.get("width")), y + float(rect.get("height")))
            assert not overlap(swatch, chart.plot, slack=0), swatch
            assert not any(overlap(swatch, box, slack=0) for _, box in chart.texts), swatch
    for point in chart.points():
        assert not any(inside(point, box) for _, box in chart.texts), point


def line_labels(chart: Chart):
    """(line y, label box, leader points) for each labelled horizontal line."""
    lines = [
        float(el.get("y1"))
        for el in chart.root.iter(f"{SVG}line")
        if "hline" in (el.get("class") or "")
    ]
    leaders = [
        [tuple(map(float, p.split(","))) for p in el.get("points").split()]
        for el in chart.root.iter(f"{SVG}polyline")
        if el.get("class") == "leader"
    ]
    boxes = [box for _, box in chart.texts_of("line-label")]
    assert len(lines) == len(leaders) == len(boxes)
    return list(zip(lines, boxes, leaders, strict=True))


def assert_line_labels_beside_their_lines(chart: Chart):
    right = chart.plot[2]
    for y, box, leader in line_labels(chart):
        assert box[0] > right  # in the gutter
        assert leader[0] == pytest.approx((right, y), abs=0.06)  # from the end of its line
        assert box[1] <= leader[-1][1] <= box[3]  # to its label


@cache
def real_documents():
    folder = shared_c3d_dir() / "ghostly"
    files = sorted(folder.glob("*.c3d"))
    assert len(files) == 3
    return {path.name: core.analyse_file(str(path), isolated=False) for path in files}


def real_charts():
    charts = []
    for name, document in real_documents().items():
        for channel in results_from_document(document)["channels"]:
            assert channel.chart, (name, channel.label)
            charts.append((f"{name} {channel.label}", Chart(channel.chart)))
    return charts


def test_the_real_recordings_charts_print_nothing_over_anything():
    charts = real_charts()
    assert len(charts) == 6
    for name, chart in charts:
        assert_nothing_overprints(chart)
        assert_line_labels_beside_their_lines(chart)
        labels = ["".join(el.itertext()) for el, _ in chart.texts_of("line-label")]
        assert any(text.startswith("threshold") for text in labels), name
        assert any(text.startswith("MVC target") for text in labels), name
        assert chart.root.get("data-mvc"), name  # the read-out can give % MVC


def ramp(seconds=50, rate=100.0, peak=200e-6):
    return [((i % 500) / 500) * peak for i in range(int(seconds * rate))]


@pytest.mark.parametrize(
    "lines",
    [
        # threshold and target 1 % apart, the same, both at zero, both at the top, three lines
        [HLine(100e-6, "threshold", "threshold"), HLine(101e-6, "MVC target", "target")],
        [HLine(100e-6, "threshold", "threshold"), HLine(100e-6, "MVC target", "target")],
        [HLine(0.0, "threshold", "threshold"), HLine(0.0, "MVC target", "target")],
        [HLine(250e-6, "threshold", "threshold"), HLine(249e-6, "MVC target", "target")],
        [
            HLine(80e-6, "threshold", "threshold"),
            HLine(81e-6, "MVC target", "target"),
            HLine(82e-6, "MVC", "reference"),
        ],
    ],
    ids=["1-percent-apart", "equal", "at-zero", "at-the-top", "three-lines"],
)
@pytest.mark.parametrize("width", [760, 400])
def test_close_lines_get_labels_that_never_overprint(lines, width):
    chart = Chart(
        envelope_chart(
            values=ramp(),
            rate_hz=100.0,
            title="Left quadriceps · channel CH1",
            bands=[Band(1, 4, "good"), Band(10, 12, "intensity"), Band(20, 30, "neither")],
            lines=lines,
            width=width,
        )
    )
    assert_nothing_overprints(chart)
    assert_line_labels_beside_their_lines(chart)
    placed = line_labels(chart)
    # Labels stacked in the order of their lines (the higher line's label above).
    by_line = sorted(placed, key=lambda item: item[0])
    assert [box[1] for _, box, _ in by_line] == sorted(box[1] for _, box, _ in by_line)


def test_labels_of_lines_far_apart_sit_level_with_their_lines():
    chart = Chart(
        envelope_chart(
            values=ramp(),
            rate_hz=100.0,
            title="t",
            lines=[HLine(40e-6, "threshold", "threshold"), HLine(180e-6, "MVC target", "target")],
        )
    )
    for y, box, _ in line_labels(chart):
        assert (box[1] + box[3]) / 2 == pytest.approx(y, abs=1.5)


def test_long_titles_big_values_and_many_ticks_still_fit():
    chart = Chart(
        envelope_chart(
            values=ramp(seconds=600, rate=50.0, peak=0.05),
            rate_hz=50.0,
            title="Right musculus quadriceps femoris, vastus medialis obliquus · channel "
            "CH12 Raw with a very long label indeed that goes on",
            bands=[Band(t, t + 2, "good") for t in range(0, 600, 7)],
            lines=[HLine(0.01, "threshold", "threshold"), HLine(0.0101, "MVC target", "target")],
            width=400,
        )
    )
    assert_nothing_overprints(chart)
    assert chart.texts_of("chart-title")[0][0].text.endswith("…")


def test_long_line_labels_are_cut_to_the_gutter_not_over_the_plot():
    long = "MVC target of the calibration done last Tuesday at 75 % of the maximum"
    chart = Chart(
        envelope_chart(
            values=ramp(),
            rate_hz=100.0,
            title="t",
            lines=[HLine(100e-6, "threshold", "threshold"), HLine(100e-6, long, "target")],
        )
    )
    assert_nothing_overprints(chart)
    assert_line_labels_beside_their_lines(chart)
    assert chart.plot[2] - chart.plot[0] >= 760 * 0.7  # the plot keeps most of the width
    assert "".join(chart.texts_of("line-label")[1][0].itertext()).startswith("MVC target of")
    series = [Series("a", [(date(2026, 2, d), float(d)) for d in range(1, 28)])]
    chart = Chart(trend_chart(series=series, title="t", y_label="y", reference=HLine(9.0, long)))
    assert_nothing_overprints(chart)
    assert chart.plot[2] - chart.plot[0] >= 760 * 0.7


def progress_points(n, symmetry=99.0):
    first = date(2026, 1, 5)
    return [
        {
            "date": first + timedelta(days=2 * i),
            "score": {"overall": 95 + (i % 5)},
            "symmetry": symmetry - (i % 2),
            "rpe": 10 - (i % 2),
            "compliance": {"left quadriceps": 100 - (i % 3), "right quadriceps": 98},
            "mdf_slope_pct_per_min": {"left quadriceps": 0.2, "right quadriceps": -0.1 * i},
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("n", [1, 2, 12, 60])
def test_the_progress_charts_legends_never_cover_their_lines(n):
    """Values at the very top (symmetry 98-99 of 100, RPE 10) where the legend used to sit."""
    charts = [Chart(svg) for svg in trend_charts(progress_points(n))]
    assert len(charts) == 5
    for chart in charts:
        assert_nothing_overprints(chart)
        legend = chart.texts_of("legend-label")
        assert legend
        for point in chart.points():
            assert not any(inside(point, box) for _, box in legend), point
    symmetry = charts[2]
    assert symmetry.root.find(f"{SVG}title").text == "Symmetry"
    assert len(symmetry.root.findall(f"{SVG}circle")) == n
    mdf = charts[3]
    assert_line_labels_beside_their_lines(mdf)  # "no fatigue" beside its zero line


def test_a_trend_reference_line_label_stays_clear_of_the_points():
    series = [Series("a", [(date(2026, 2, d), 0.0) for d in range(1, 28)])]
    chart = Chart(
        trend_chart(series=series, title="t", y_label="y", reference=HLine(0.0, "no fatigue"))
    )
    assert_nothing_overprints(chart)
    assert_line_labels_beside_their_lines(chart)


def test_spread_labels_keeps_order_bounds_and_distance():
    assert spread_labels([50.0, 150.0], 30, 0, 200) == [50.0, 150.0]
    centres = spread_labels([100.0, 101.0, 99.0], 30, 0, 200)
    ordered = sorted(centres)
    assert [b - a for a, b in itertools.pairwise(ordered)] == [pytest.approx(30)] * 2
    assert sorted(range(3), key=centres.__getitem__) == [2, 0, 1]
    assert sum(centres) / 3 == pytest.approx(100.0)  # centred on their wishes
    low = spread_labels([199.0, 200.0, 200.0], 30, 0, 200)
    assert max(low) <= 200 - 15
    assert min(low) >= 15
