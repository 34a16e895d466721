"""The metric cards of the session report drawn as one small SVG per channel.

As HTML, each of a channel's 12 cards was a floated box holding two or three blocks of text:
~50 boxes per channel that WeasyPrint styles, lays out (a line box each) and draws in Python,
a fifth of a session report's render for 12 numbers. Here they are one vector image (an
``<img>`` with a ``data:`` URL, as the charts): rounded boxes and real text (searchable, read
back by the tests), the same sizes, rows and type as the CSS cards had:

* a card is 25 mm wide (50 mm for the game's count and its agreement), 2 mm padding, 1.5 mm
  apart; five fit the 182 mm content width, and Compliance and SNR start the second and third
  rows;
* the label is 7 pt grey, the value 11 pt bold (14 pt on the two main cards), the line under
  the game's count 7 pt; lines are 1.35 em high, the DejaVu Sans baseline 1.021 em below a
  line's top (half the leading plus the ascent: (1.35 - 1.164) / 2 + 0.928).

Values are formatted as the template filters ``num`` and ``uv`` format them
(``analysis/templatetags/analysis_ui.py``): fixed decimals, a dash when missing.
"""

from __future__ import annotations

from dataclasses import dataclass
from html import escape

from analysis.values import finite_or_none
from reports.chart_layout import FONT

DASH = "–"
PT_PER_MM = 72 / 25.4
WIDTH_MM, WIDE_MM, PAD_MM, GAP_MM = 25.0, 50.0, 2.0, 1.5
PAD_Y_MM, BORDER_PT = 1.0, 0.5
LINE_EM, BASELINE_EM = 1.35, 1.021
LABEL_PT, VALUE_PT, MAIN_VALUE_PT = 7.0, 11.0, 14.0
CONTENT_MM = 182.0


def num(value, digits: int = 1) -> str:
    number = finite_or_none(value)
    return DASH if number is None else f"{number:.{digits}f}"


def uv(value, digits: int = 1) -> str:
    number = finite_or_none(value)
    return DASH if number is None else f"{number * 1e6:.{digits}f}"


@dataclass(frozen=True)
class Card:
    label: str
    value: str
    sub: str = ""
    main: bool = False
    wide: bool = False
    row_start: bool = False


def channel_cards(ch) -> list[Card]:
    """The 12 cards of a channel (a ``analysis.presentation.ChannelView``), in page order."""
    m = ch.metrics or {}
    agreement = ch.agreement
    sub = (
        f"matched {agreement['matched']}, only ours {agreement['only_ours']}, "
        f"only game {agreement['only_game']}"
        if agreement
        else ""
    )
    return [
        Card("Contractions (ours)", num(m.get("count"), 0), main=True),
        Card("Game's own count", num(ch.game_count, 0), sub=sub, main=True, wide=True),
        Card("Good", num(m.get("good"), 0)),
        Card("Intensity met", num(m.get("intensity_ok"), 0)),
        Card("Duration met", num(m.get("duration_ok"), 0)),
        Card("Compliance", num(m.get("compliance"), 0), row_start=True),
        Card("Time under tension", f"{num(m.get('time_under_tension_s'), 1)} s"),
        Card("RMS", f"{uv(m.get('rms_v'))} µV"),
        Card("Threshold", f"{uv(ch.threshold_v)} µV"),
        Card("MVC target", f"{uv(ch.target_v)} µV"),
        Card("SNR", f"{num(m.get('snr_db'), 1)} dB", row_start=True),
        Card("Saturation", f"{num(m.get('saturation_pct'), 2)} %"),
    ]


def _height_pt(card: Card) -> float:
    lines = LABEL_PT + (MAIN_VALUE_PT if card.main else VALUE_PT) + (LABEL_PT if card.sub else 0)
    return lines * LINE_EM + 2 * PAD_Y_MM * PT_PER_MM + 2 * BORDER_PT


def _text(x: float, y: float, size: float, text: str, *, bold=False, grey=False) -> str:
    weight = ' font-weight="bold"' if bold else ""
    fill = ' fill="#444"' if grey else ""
    return f'<text x="{x:.2f}" y="{y:.2f}" font-size="{size:g}"{weight}{fill}>{escape(text)}</text>'


def cards_svg(cards: list[Card]) -> str:
    """The cards as an SVG document in points, as wide as the report's content."""
    width = CONTENT_MM * PT_PER_MM
    placed, x, y, row_height = [], 0.0, 0.0, 0.0
    for card in cards:
        w = ((WIDE_MM if card.wide else WIDTH_MM) + 2 * PAD_MM) * PT_PER_MM + 2 * BORDER_PT
        if card.row_start or (placed and x + w > width):
            x, y, row_height = 0.0, y + row_height + GAP_MM * PT_PER_MM, 0.0
        placed.append((card, x, y, w))
        x += w + GAP_MM * PT_PER_MM
        row_height = max(row_height, _height_pt(card))
    height = y + row_height
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.2f}pt" height="{height:.2f}pt" '
        f'viewBox="0 0 {width:.2f} {height:.2f}" font-family="{FONT}" fill="#111">'
    ]
    for card, x, y, w in placed:
        h = _height_pt(card)
        half = BORDER_PT / 2
        out.append(
            f'<rect x="{x + half:.2f}" y="{y + half:.2f}" width="{w - BORDER_PT:.2f}" '
            f'height="{h - BORDER_PT:.2f}" rx="{PT_PER_MM:.2f}" fill="none" stroke="#999" '
            f'stroke-width="{BORDER_PT}"/>'
        )
        left = x + BORDER_PT + PAD_MM * PT_PER_MM
        top = y + BORDER_PT + PAD_Y_MM * PT_PER_MM
        out.append(_text(left, top + BASELINE_EM * LABEL_PT, LABEL_PT, card.label, grey=True))
        top += LINE_EM * LABEL_PT
        size = MAIN_VALUE_PT if card.main else VALUE_PT
        out.append(_text(left, top + BASELINE_EM * size, size, card.value, bold=True))
        if card.sub:
            top += LINE_EM * size
            out.append(_text(left, top + BASELINE_EM * LABEL_PT, LABEL_PT, card.sub, grey=True))
    out.append("</svg>")
    return "".join(out)
