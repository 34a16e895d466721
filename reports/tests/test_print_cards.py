"""The session report's metric cards as one SVG per channel (reports/print_cards.py): every
card, its value formatted as the pages' template filters format it, in rows of five."""

import xml.etree.ElementTree as ET
from types import SimpleNamespace

from analysis.templatetags.analysis_ui import num, uv
from reports.print_cards import PT_PER_MM, cards_svg, channel_cards

SVG = "{http://www.w3.org/2000/svg}"


def _channel(**metrics):
    base = dict(
        count=16,
        good=0,
        intensity_ok=7,
        duration_ok=None,
        compliance=48.4,
        time_under_tension_s=8.25,
        rms_v=2.233e-4,
        snr_db=float("nan"),
        saturation_pct=0.0,
    )
    return SimpleNamespace(
        metrics={**base, **metrics},
        game_count=15,
        agreement={"matched": 15, "only_ours": 1, "only_game": 0},
        threshold_v=7.9e-5,
        target_v=None,
    )


def test_every_card_with_its_value_formatted_as_the_pages():
    ch = _channel()
    cards = {card.label: card for card in channel_cards(ch)}
    m = ch.metrics
    assert [c.label for c in channel_cards(ch)] == [
        "Contractions (ours)",
        "Game's own count",
        "Good",
        "Intensity met",
        "Duration met",
        "Compliance",
        "Time under tension",
        "RMS",
        "Threshold",
        "MVC target",
        "SNR",
        "Saturation",
    ]
    assert cards["Contractions (ours)"].value == num(m["count"], 0) == "16"
    assert cards["Game's own count"].sub == "matched 15, only ours 1, only game 0"
    assert cards["Duration met"].value == num(None, 0) == "–"
    assert cards["Compliance"].value == num(48.4, 0)
    assert cards["Time under tension"].value == f"{num(8.25, 1)} s"
    assert cards["RMS"].value == f"{uv(2.233e-4)} µV" == "223.3 µV"
    assert cards["Threshold"].value == f"{uv(7.9e-5)} µV"
    assert cards["MVC target"].value == "– µV"
    assert cards["SNR"].value == "– dB"  # NaN is a dash, never "nan"
    assert cards["Saturation"].value == f"{num(0.0, 2)} %"
    assert channel_cards(SimpleNamespace(**{**vars(ch), "agreement": None}))[1].sub == ""


def test_the_svg_has_every_label_and_value_in_rows_of_five_within_the_content_width():
    cards = channel_cards(_channel())
    root = ET.fromstring(cards_svg(cards))  # noqa: S314 - our own SVG
    texts = [t.text for t in root.iter(f"{SVG}text")]
    expected = []
    for card in cards:
        expected += [card.label, card.value] + ([card.sub] if card.sub else [])
    assert texts == expected  # label, value (and the agreement) card by card, in order
    boxes = list(root.iter(f"{SVG}rect"))
    assert len(boxes) == 12
    tops = sorted({round(float(b.get("y")), 1) for b in boxes})
    assert len(tops) == 3  # rows: 5, 5, 2
    row = [b for b in boxes if round(float(b.get("y")), 1) == tops[0]]
    assert len(row) == 5
    for box in boxes:
        right = float(box.get("x")) + float(box.get("width"))
        assert right <= 182 * PT_PER_MM
    assert float(root.get("width").removesuffix("pt")) == round(182 * PT_PER_MM, 2)
