"""SVG text drawn a run at a time instead of a letter at a time (WeasyPrint 70).

WeasyPrint's SVG ``<text>``/``<tspan>`` drawing (``weasyprint.svg.text.text``) lays out and
draws every LETTER on its own - one Pango layout and one PDF text object per character - so
that ``x``/``y``/``dx``/``dy``/``rotate`` lists, ``letter-spacing`` and ``textLength`` can move
single letters. The report's charts use none of that: each label is a plain run at one point.
Its ~1,000 letters (titles, legends, ticks, line labels of 6 charts) cost ~0.1 s of a session
report's ~1 s render.

:func:`text` draws such a plain run as ONE layout and one text object, at the same place, with
the same advances (kerning and ligatures are off, as they are for letters laid out one by one,
so every glyph lands exactly where WeasyPrint's own drawing puts it; the test compares the two
renders pixel by pixel). Any node that uses a per-letter feature is handed to WeasyPrint's own
function unchanged. :func:`install` puts it in place once, and only on the WeasyPrint release
it was written against (``requirements/base.txt`` pins it); on another release the upstream
drawing stays.
"""

from __future__ import annotations

import threading
from math import inf

import weasyprint
import weasyprint.svg as wsvg
from weasyprint.css.properties import INITIAL_VALUES
from weasyprint.draw.text import draw_emojis, draw_first_line
from weasyprint.matrix import Matrix
from weasyprint.svg.bounding_box import extend_bounding_box
from weasyprint.svg.text import Style, TextBox
from weasyprint.svg.text import text as upstream_text
from weasyprint.svg.utils import normalize, size
from weasyprint.text.line_break import split_first_line

#: The WeasyPrint release whose ``svg/text.py`` :func:`text` reproduces for plain runs.
WEASYPRINT_VERSION = "70.0"
#: Attributes that move or stretch single letters: a node with any of them is drawn upstream.
PER_LETTER = ("rotate", "textLength", "letter-spacing", "lengthAdjust")
_installed = threading.Lock()


def _one_value(node, name: str) -> bool:
    value = node.attrib.get(name)
    return value is None or len(normalize(value).strip().split(" ")) <= 1


def is_plain_run(node) -> bool:
    """True when no letter of ``node`` is placed on its own (one x, y, dx, dy at most)."""
    if not node.text or any(name in node.attrib for name in PER_LETTER):
        return False
    return all(_one_value(node, name) for name in ("x", "y", "dx", "dy"))


def _style(svg, node, font_size) -> Style:
    """The style upstream builds for a text node, with kerning and ligatures off."""
    style = Style()
    style.update(INITIAL_VALUES)
    style.font_config = svg.font_config
    style["font_family"] = [
        font.strip("\"'") for font in node.get("font-family", "sans-serif").split(",")
    ]
    style["font_style"] = node.get("font-style", "normal")
    weight = node.get("font-weight", 400)
    if node.get("direction") in ("ltr", "rtl"):
        style["direction"] = node.get("direction")
    if weight == "normal":
        weight = 400
    elif weight == "bold":
        weight = 700
    else:
        try:
            weight = int(weight)
        except ValueError:
            weight = 400
    style["font_weight"] = weight
    style["font_size"] = font_size
    # Letters laid out one by one are never kerned nor joined: keep it so for the whole run.
    style["font_kerning"] = "none"
    style["font_variant_ligatures"] = "none"
    return style


def _y_align(node, height: float, font_size: float) -> float:
    """Upstream's vertical alignment of a text box (``display-anchor`` / baselines)."""
    ascent, descent = font_size * 0.8, font_size * 0.2
    display_anchor = node.get("display-anchor")
    baseline = node.get("dominant-baseline", node.get("alignment-baseline"))
    if display_anchor == "middle":
        return -height / 2
    if display_anchor == "top":
        return 0
    if display_anchor == "bottom":
        return -height
    if baseline in ("central", "middle"):
        return (ascent + descent) / 2 - descent
    if baseline in ("text-before-edge", "before_edge", "top", "hanging", "text-top"):
        return ascent
    if baseline in ("text-after-edge", "after_edge", "bottom", "text-bottom"):
        return -descent
    return 0


def text(svg, node, font_size):
    """Draw a text node: a plain run in one piece, anything else as upstream does."""
    if not is_plain_run(node):
        return upstream_text(svg, node, font_size)
    style = _style(svg, node, font_size)
    layout, _, _, width, height, baseline = split_first_line(node.text, style, svg.context, inf, 0)

    def first(name, extent):
        value = node.attrib.get(name)
        return size(normalize(value).strip(), font_size, extent) if value is not None else None

    x, y = first("x", svg.inner_width), first("y", svg.inner_height)
    dx, dy = first("dx", svg.inner_width), first("dy", svg.inner_height)
    # Upstream tests truthiness: a 0 x or y continues from the cursor, as here.
    if x:
        svg.cursor_d_position[0] = 0
    if y:
        svg.cursor_d_position[1] = 0
    svg.cursor_d_position[0] += dx or 0
    svg.cursor_d_position[1] += dy or 0
    x = svg.cursor_position[0] if x is None else x
    y = svg.cursor_position[1] if y is None else y
    svg.cursor_position = x + width, y

    x_position = x + svg.cursor_d_position[0]
    y_position = y + svg.cursor_d_position[1] + _y_align(node, height, font_size)
    points = (
        (x_position, y_position - baseline),
        (x_position + width, y_position - baseline + height),
    )
    node.text_bounding_box = extend_bounding_box(node.text_bounding_box, points)

    svg.stream.push_state()
    fill, stroke = svg.set_graphical_state(node, font_size)
    svg.stream.begin_text()
    layout.reactivate(style)
    svg.fill_stroke(fill, stroke, text=True)
    text_box = TextBox(layout, style)
    text_box.baseline = baseline
    matrix = Matrix(a=1, d=-1, e=x_position, f=y_position)
    emojis = draw_first_line(svg.stream, text_box, "none", "none", matrix)
    svg.stream.end_text()
    svg.stream.pop_state()
    draw_emojis(svg.stream, style, x, y, emojis)


def install() -> bool:
    """Use :func:`text` for SVG text (once; only on :data:`WEASYPRINT_VERSION`)."""
    if weasyprint.__version__ != WEASYPRINT_VERSION:
        return False
    with _installed:
        # draw_node compares TAGS entries with the module's ``text`` to find text nodes.
        wsvg.TAGS["text"] = wsvg.TAGS["tspan"] = text
        wsvg.text = text
    return True


def uninstall() -> None:
    """Back to WeasyPrint's own drawing (tests compare the two)."""
    with _installed:
        wsvg.TAGS["text"] = wsvg.TAGS["tspan"] = upstream_text
        wsvg.text = upstream_text
