"""Charts and contraction tables made for print (reports/print_charts.py, print_tables.py):
fewer points without losing a peak, and one text line per contraction whose numbers stand
exactly under their headers."""

import base64
import math
import random
import xml.etree.ElementTree as ET
from pathlib import Path
from types import SimpleNamespace

from django.conf import settings
from fontTools.ttLib import TTFont

from reports.chart_envelope import Band, envelope_chart
from reports.chart_layout import HLine, text_width
from reports.print_charts import PRINT_COLUMNS, decimate_envelope, print_svg, svg_data_uri
from reports.print_tables import (
    CONTRACTION_COLUMNS,
    FIGURE_DASH,
    FIGURE_SPACE,
    GAP_CH,
    GRADE_INDENT_CH,
    GRADE_WIDTH,
    GRADE_WIDTH_CH,
    contraction_line,
    contraction_text,
    width_ch,
)
from reports.session_report import methods_groups

SVG = "{http://www.w3.org/2000/svg}"


def _envelope(seconds=75.0, rate=24.75, bursts=((2.2, 0.5, 4e-4), (30.2, 0.6, 2.4e-4))):
    """A quiet baseline with short bursts (start s, length s, peak V), as the stored envelopes."""
    rng = random.Random(3)
    n = int(seconds * rate)
    values = [2e-5 + rng.random() * 1e-5 for _ in range(n)]
    for start, length, peak in bursts:
        first, last = int(start * rate), int((start + length) * rate)
        for i in range(first, last + 1):
            values[i] = peak * math.sin(math.pi * (i - first + 0.5) / (last - first + 1))
    return {"rate_hz": rate, "values": values}


def test_decimation_keeps_every_peak_the_duration_and_the_lowest_value():
    # 4334 values: the longest real GHOSTLY round (175 s at 24.75 Hz).
    bursts = tuple((5.0 + 7.0 * k, 0.3 + 0.05 * (k % 5), 1e-4 * (1 + k % 7)) for k in range(24))
    env = _envelope(seconds=175.1, bursts=bursts)
    out = decimate_envelope(env)
    assert len(out["values"]) <= 2 * PRINT_COLUMNS < len(env["values"])
    assert math.isclose(
        len(out["values"]) / out["rate_hz"], len(env["values"]) / env["rate_hz"], rel_tol=1e-9
    )
    assert max(out["values"]) == max(env["values"])
    assert min(out["values"]) == min(env["values"])
    column_s = (len(env["values"]) / env["rate_hz"]) / PRINT_COLUMNS
    for start, length, _peak in bursts:
        first, last = int(start * env["rate_hz"]), int((start + length) * env["rate_hz"])
        peak = max(env["values"][first : last + 1])
        # The burst's peak is in the decimated series, within one column of where it was.
        near = [
            v
            for i, v in enumerate(out["values"])
            if start - column_s <= i / out["rate_hz"] <= start + length + column_s
        ]
        assert peak in near


def test_short_or_unusable_envelopes_are_left_alone():
    short = {"rate_hz": 10.0, "values": [0.0] * (2 * PRINT_COLUMNS)}
    assert decimate_envelope(short) is short
    assert decimate_envelope(None) is None
    assert decimate_envelope({"rate_hz": 0, "values": [1.0] * 5000})["rate_hz"] == 0
    with_gaps = {"rate_hz": 24.75, "values": [None, float("nan"), 1e-4] * 1000}
    assert max(decimate_envelope(with_gaps)["values"]) == 1e-4


def test_the_print_chart_is_an_svg_image_with_every_contraction_and_both_lines():
    env = decimate_envelope(_envelope())
    chart = envelope_chart(
        values=env["values"],
        rate_hz=env["rate_hz"],
        title="Left quadriceps",
        bands=[Band(2.2, 2.7, "good"), Band(30.2, 30.8, "neither")],
        lines=[HLine(8e-5, "threshold", "threshold"), HLine(3.6e-4, "MVC target", "target")],
    )
    uri = svg_data_uri(chart)
    assert uri.startswith("data:image/svg+xml;base64,")
    root = ET.fromstring(base64.b64decode(uri.split(",", 1)[1]))  # noqa: S314 - our own SVG
    assert len(root.findall(f".//{SVG}rect[@class='band band-good']")) == 1
    assert len(root.findall(f".//{SVG}rect[@class='band band-neither']")) == 1
    assert {line.get("class") for line in root.iter(f"{SVG}line") if line.get("class")} == {
        "hline hline-threshold",
        "hline hline-target",
    }
    points = root.find(f".//{SVG}polyline").get("points").split()
    assert len(points) <= 2 * PRINT_COLUMNS


def test_the_print_svg_has_no_tooltips_and_places_anchored_labels_at_their_start():
    chart = envelope_chart(
        values=decimate_envelope(_envelope())["values"],
        rate_hz=24.75,
        title="Left quadriceps",
        bands=[Band(2.2, 2.7, "good"), Band(30.2, 30.8, "neither")],
        lines=[HLine(8e-5, "threshold", "threshold"), HLine(3.6e-4, "MVC target", "target")],
    )
    before = ET.fromstring(chart)  # noqa: S314 - our own SVG
    after = ET.fromstring(print_svg(chart))  # noqa: S314
    texts = list(before.iter(f"{SVG}text"))
    placed = list(after.iter(f"{SVG}text"))
    assert [t.text for t in placed] == [t.text for t in texts]  # every label, in order
    anchored = 0
    for old, new in zip(texts, placed, strict=True):
        anchor = old.get("text-anchor")
        assert new.get("text-anchor") is None
        if anchor is None:
            assert new.get("x") == old.get("x")
            continue
        anchored += 1
        share = 0.5 if anchor == "middle" else 1.0
        size = float(old.get("font-size") or 13)
        expected = float(old.get("x")) - share * text_width(old.text, size)
        assert math.isclose(float(new.get("x")), expected, abs_tol=1e-3)
    assert anchored >= 8  # the y and x ticks and the axis titles
    assert before.findall(f".//{SVG}rect/{SVG}title")
    assert not after.findall(f".//{SVG}rect/{SVG}title")
    # Bands: one path per grade with a closed rectangle per contraction.
    good = after.findall(f"{SVG}path[@class='band band-good']")
    neither = after.findall(f"{SVG}path[@class='band band-neither']")
    assert len(good) == len(neither) == 1
    assert good[0].get("d").count("Z") == neither[0].get("d").count("Z") == 1
    assert not after.findall(f".//{SVG}rect[@class='band band-good']")
    # Grid lines and tick marks: one path per colour, every segment kept.
    plain = [e for e in before.iter(f"{SVG}line") if e.get("class") is None]
    merged = [e for e in after.iter(f"{SVG}path") if e.get("fill") == "none"]
    assert sum(p.get("d").count("M") for p in merged) == len(plain) >= 10
    assert not [e for e in after.iter(f"{SVG}line") if e.get("class") is None]
    assert len(list(after.iter(f"{SVG}line"))) == 2  # the threshold and MVC-target lines


def _row(**values):
    base = dict(
        number=1,
        start_s=2.2,
        duration_s=0.5,
        peak_pct_mvc=100.0,
        mean_pct_mvc=52.0,
        mnf_hz=88.9,
        mdf_hz=81.5,
        grade="intensity",
    )
    return SimpleNamespace(**{**base, **values})


BLANK = (" ", FIGURE_SPACE)


def _right_edges(line: str) -> list[float]:
    """Where each number of a line ends, in ch (the printed widths the table relies on)."""
    edges, cursor, token = [], 0.0, ""
    for char in line + " ":
        if char in BLANK:
            if token and token[0] in "0123456789" + FIGURE_DASH:
                edges.append(cursor)
            token = ""
        else:
            token += char
        cursor += width_ch(char)
    return edges


def _grade(line: str) -> str:
    return line.rstrip("".join(BLANK)).rsplit(FIGURE_SPACE, 1)[-1].strip()


def test_every_number_ends_under_its_header_whatever_its_digits():
    expected, right = [], 0.0
    for column in CONTRACTION_COLUMNS:
        right += column.width_ch
        expected.append(right - GAP_CH)
    for row in (
        _row(),
        _row(number=112, start_s=171.8, duration_s=12.25, peak_pct_mvc=7.0, mnf_hz=100.7),
        _row(number=9, start_s=0.0, mean_pct_mvc=None, mdf_hz=float("nan"), grade="good"),
    ):
        line = contraction_line(row)
        assert _right_edges(line)[: len(expected)] == expected, line
    missing = contraction_line(_row(mean_pct_mvc=None, mdf_hz=float("nan")))
    assert missing.count(FIGURE_DASH) == 2
    assert _grade(contraction_line(_row(grade="good"))) == "good"
    assert _grade(contraction_line(_row(grade="neither"))) == "neither"


def test_lines_are_figure_spaced_and_padded_to_the_full_width_for_their_rule():
    total = sum(c.width_ch for c in CONTRACTION_COLUMNS) + GRADE_WIDTH_CH
    numbers_end = sum(c.width_ch for c in CONTRACTION_COLUMNS) + GRADE_INDENT_CH
    for grade, text in (("good", "good"), ("intensity", "intensity only"), ("neither", "neither")):
        line = contraction_line(_row(grade=grade))
        assert "  " not in line  # two spaces are one figure space: half the glyphs
        head, tail = line.split(text)
        assert width_ch(head) == numbers_end
        # The grade's printed width plus the padding ends within half a ch of the right edge.
        assert abs(numbers_end + GRADE_WIDTH[text] + width_ch(tail) - total) <= 0.5
    rows = [_row(number=1), _row(number=2, grade="good")]
    assert contraction_text(rows).split("\n") == [contraction_line(r) for r in rows]


def test_the_grade_widths_are_the_bundled_fonts():
    font = TTFont(Path(settings.BASE_DIR) / "static/fonts/DejaVuSans.ttf")
    cmap, hmtx = font.getBestCmap(), font["hmtx"]
    digit = hmtx[cmap[ord("0")]][0]
    for text, width in GRADE_WIDTH.items():
        assert sum(hmtx[cmap[ord(c)]][0] for c in text) / digit == width
    # Spaces: half a digit; the figure space has no glyph of its own (HarfBuzz gives the
    # space glyph a digit's advance), the figure dash a digit's.
    assert 2 * hmtx[cmap[ord(" ")]][0] in (digit - 1, digit)
    assert ord(FIGURE_SPACE) not in cmap
    assert hmtx[cmap[ord(FIGURE_DASH)]][0] == digit


def test_a_value_too_wide_for_its_column_is_still_printed_whole():
    line = contraction_line(_row(start_s=123456789012.5))
    assert "123456789012.5" in line
    assert "0.50" in line
    assert _grade(line) == "intensity only"


def test_recordings_with_the_same_settings_share_one_methods_box():
    def m(rate, low=20.0):
        return {
            "rate_hz": rate,
            "duration_s": 60.0,
            "channels": [{"label": "CH1", "muscle": "left quadriceps"}],
            "core_version": "1.1.1",
            "analysed_at": None,
            "bandpass_low_hz": low,
            "parameters_json": f'{{"bandpass_low_hz": {low}}}',
        }

    recordings = [
        {"number": 1, "methods": m(990.0)},
        {"number": 2, "methods": None},  # not analysed: no box
        {"number": 3, "methods": m(1000.0)},
        {"number": 4, "methods": m(990.0, low=10.0)},
    ]
    groups = methods_groups(recordings)
    assert [g["numbers"] for g in groups] == [[1, 3], [4]]
    assert [number for number, _ in groups[0]["recordings"]] == [1, 3]
    assert groups[0]["recordings"][1][1]["rate_hz"] == 1000.0  # each keeps its own rate
    assert groups[1]["shared"]["bandpass_low_hz"] == 10.0
