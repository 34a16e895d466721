"""The contraction table of the session report, one line of text per contraction.

A table of 80-odd contractions by 8 columns is ~700 cells; WeasyPrint builds, styles, lays
out (one Pango layout each) and draws every cell in Python, which made the contraction tables a
third of a session report's render time. Here each contraction is ONE cell holding one line of
text whose columns are placed by character widths, under a header row of ordinary cells sized
in ``ch`` (the width of the digit 0) so the two line up exactly:

* the bundled DejaVu Sans has tabular digits (every digit 1303/2048 em wide, which is ``1ch``),
  and its space and full stop are each half a digit (651/2048 em), so a number right-aligned
  with spaces ends where the same number of ``ch`` says, whatever its digits;
* a missing value is a figure dash (U+2012, a digit wide);
* the gaps are figure spaces (U+2007, a digit wide: HarfBuzz gives the space glyph that advance
  when the font has no glyph of its own, as the bundled subset has not) and at most one space:
  half the glyphs of a line of spaces, and WeasyPrint draws a line glyph by glyph in Python;
* each line is padded to the table's full width (the grades' printed widths are known), so the
  rule under it (the table's ``text-decoration``) runs across the whole table.

All lines of a channel are one text block in one table cell (``contraction_text``): a cell per
contraction still cost a table row, a cell box and a line box each. The row may break across
pages (the header row repeats on the next page, as for any table).

The template prints :func:`contraction_text` under :data:`CONTRACTION_COLUMNS`' headers
(``static/reports/report.css``: ``table.lines``; kerning is off there so nothing moves).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FIGURE_DASH = "\u2012"
FIGURE_SPACE = "\u2007"
GRADE_TEXT = {
    "good": "good",
    "intensity": "intensity only",
    "duration": "duration only",
    "neither": "neither",
}
#: Printed widths of the grades in ch (DejaVu Sans advances / the digit's 1303 units; a test
#: measures them in the bundled font).
GRADE_WIDTH = {
    "good": 5106 / 1303,
    "intensity only": 13862 / 1303,
    "duration only": 13601 / 1303,
    "neither": 7330 / 1303,
}


@dataclass(frozen=True)
class Column:
    header: str
    attribute: str
    decimals: int
    width_ch: int  # the header cell's width; the value ends GAP_CH before its right edge


#: The gap (in ch) between a number and the next column (the header cells' right padding).
GAP_CH = 1.5
CONTRACTION_COLUMNS = (
    Column("#", "number", 0, 6),
    Column("Start (s)", "start_s", 1, 13),
    Column("Duration (s)", "duration_s", 2, 13),
    Column("Peak % MVC", "peak_pct_mvc", 0, 13),
    Column("Mean % MVC", "mean_pct_mvc", 0, 13),
    Column("MNF (Hz)", "mnf_hz", 1, 13),
    Column("MDF (Hz)", "mdf_hz", 1, 13),
)
#: The Grade column's width; with it every column has a width and the table is exactly their
#: sum (``table.lines`` in the CSS: 108ch, ~182 mm at 7.5 pt), so no column is stretched.
GRADE_WIDTH_CH = 24
#: Where the grade starts, in ch from the left edge (the Grade header's left padding).
GRADE_INDENT_CH = 1.0


def _text(value, decimals: int) -> str:
    if value is None or isinstance(value, bool):
        return FIGURE_DASH
    try:
        number = float(value)
    except (TypeError, ValueError):
        return FIGURE_DASH
    if not math.isfinite(number):
        return FIGURE_DASH
    return f"{number:.{decimals}f}"


def width_ch(text: str) -> float:
    """The printed width of a number's text in ``ch`` (digits, figure dash and figure space 1,
    . and space 1/2).

    Only what :func:`_text` makes is measured; a minus sign is a digit wide in this table
    (values here are never negative, but a wrong one must not shift the columns much).
    """
    return sum(0.5 if ch in ". " else 1.0 for ch in text)


def _pad(cursor_ch: float, target_ch: float) -> str:
    """Blank from ``cursor_ch`` to ``target_ch`` (at least half a ch): figure spaces (1 ch)
    and one space (half a ch) when the gap is an odd number of halves."""
    halves = max(1, round(2 * (target_ch - cursor_ch)))
    return FIGURE_SPACE * (halves // 2) + " " * (halves % 2)


def contraction_line(row) -> str:
    """One contraction as one line: numbers right-aligned under their headers, then the grade."""
    parts: list[str] = []
    cursor, right = 0.0, 0.0
    for column in CONTRACTION_COLUMNS:
        right += column.width_ch
        text = _text(getattr(row, column.attribute, None), column.decimals)
        start = right - GAP_CH - width_ch(text)
        if start > cursor:
            parts.append(_pad(cursor, start))
            cursor = start
        elif parts:  # too wide for its column: one space, the rest of the line moves right
            parts.append(" ")
            cursor += 0.5
        parts.append(text)
        cursor += width_ch(text)
    parts.append(_pad(cursor, right + GRADE_INDENT_CH))
    grade = GRADE_TEXT.get(getattr(row, "grade", None), "neither")
    parts.append(grade)
    end = right + GRADE_INDENT_CH + GRADE_WIDTH[grade]
    if end < right + GRADE_WIDTH_CH - 0.5:  # to the table's right edge: the rule's length
        parts.append(_pad(end, right + GRADE_WIDTH_CH))
    return "".join(parts)


def contraction_lines(rows) -> list[str]:
    return [contraction_line(row) for row in rows]


def contraction_text(rows) -> str:
    """The lines of a channel's table as one text (one per line; ``white-space: pre``)."""
    return "\n".join(contraction_lines(rows))
