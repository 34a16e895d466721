"""The SVG charts are valid XML, escape what they print, keep peaks and pass a strict CSP."""

import xml.etree.ElementTree as ET
from datetime import date

import pytest

from reports.chart_envelope import Band, envelope_chart
from reports.chart_layout import HLine, nice_ticks
from reports.chart_trend import Series, trend_chart

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # noqa: S314 - our own output


def polyline_points(root: ET.Element) -> list[tuple[float, float]]:
    line = root.find(f"{SVG}polyline")
    return [tuple(map(float, p.split(","))) for p in line.get("points").split()]


def test_envelope_chart_shades_each_contraction_by_grade():
    values = [0.0] * 1000
    bands = [Band(1.0, 3.0, "good"), Band(4.0, 4.5, "intensity"), Band(6.0, 9.0, "neither")]
    root = parse(envelope_chart(values=values, rate_hz=100.0, title="Left quadriceps", bands=bands))
    shaded = [r.get("class") for r in root.iter(f"{SVG}rect") if "band" in (r.get("class") or "")]
    assert shaded == ["band band-good", "band band-intensity", "band band-neither"]
    assert "3 contractions over 10 s: 1 good" in root.find(f"{SVG}desc").text


def test_envelope_chart_draws_threshold_and_target_lines_in_microvolts():
    root = parse(
        envelope_chart(
            values=[0.0, 1e-4, 2e-4],
            rate_hz=10.0,
            title="t",
            lines=[HLine(50e-6, "threshold", "threshold"), HLine(150e-6, "75 % MVC", "target")],
        )
    )
    labels = [
        [span.text for span in t.iter(f"{SVG}tspan")]
        for t in root.iter(f"{SVG}text")
        if "line-label" in (t.get("class") or "")
    ]
    assert labels == [["threshold", "50 µV"], ["75 % MVC", "150 µV"]]
    assert "threshold 50 µV; 75 % MVC 150 µV" in root.find(f"{SVG}desc").text


def test_envelope_chart_decimation_keeps_the_peak():
    values = [1e-6] * 200_000
    values[123_457] = 900e-6
    root = parse(envelope_chart(values=values, rate_hz=1000.0, title="peak", width=400))
    points = polyline_points(root)
    assert len(points) < 2 * 400
    top_y = min(y for _, y in points)
    ticks = [float(t.text) for t in root.iter(f"{SVG}text") if (t.text or "").isdigit()]
    assert max(ticks) >= 900
    _, plot_top, _, plot_h = map(float, root.get("data-plot").split())
    assert top_y == pytest.approx(plot_top + plot_h * (1 - 900 / max(ticks)), abs=0.1)


def test_chart_text_is_escaped():
    hostile = '<script>alert("x")</script>&'
    svg = envelope_chart(values=[0.0], rate_hz=1.0, title=hostile)
    assert "<script>" not in svg
    assert parse(svg).find(f"{SVG}title").text == hostile
    svg = trend_chart(series=[Series(hostile, [(1.0, 2.0)])], title=hostile, y_label=hostile)
    assert "<script>" not in svg
    parse(svg)


def test_charts_use_no_style_attributes_so_a_strict_csp_allows_them():
    svg = envelope_chart(values=[0.0, 1.0], rate_hz=1.0, title="x", bands=[Band(0, 1, "good")])
    svg += trend_chart(series=[Series("s", [(date(2026, 1, 1), 1.0)])], title="y", y_label="z")
    assert "style=" not in svg
    assert "<script" not in svg


def test_trend_chart_leaves_a_gap_where_a_value_is_missing():
    points = [
        (date(2026, 3, d), v) for d, v in [(1, 10.0), (2, 20.0), (3, None), (4, 30.0), (5, 40.0)]
    ]
    root = parse(trend_chart(series=[Series("RPE", points)], title="RPE", y_label="CR-10"))
    assert len(root.findall(f"{SVG}circle")) == 4
    assert len(root.findall(f"{SVG}polyline")) == 2


def test_trend_chart_of_no_sessions_is_still_a_valid_chart():
    root = parse(trend_chart(series=[Series("score", [])], title="Score", y_label="0-100"))
    assert root.find(f"{SVG}desc").text.startswith("0 values")


@pytest.mark.parametrize(
    ("lo", "hi", "expected"),
    [
        (0, 100, [0, 20, 40, 60, 80, 100]),
        (0, 0.9, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
        (3, 17, [0, 5, 10, 15, 20]),
        (0, 1, [0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    ],
)
def test_nice_ticks_are_round_numbers(lo, hi, expected):
    assert nice_ticks(lo, hi) == pytest.approx(expected)
