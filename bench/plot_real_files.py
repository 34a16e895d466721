"""Plot each real GHOSTLY file with our contractions and the game's (SVG, no dependency).

    .venv/bin/python bench/plot_real_files.py [--data ../shared/data/c3d/ghostly]
                                              [--out docs/real-files]

One SVG per file, one panel per EMG channel: the band-passed signal's RMS envelope (100 ms,
the detector's own input) and the rectified raw signal's peaks per pixel (grey), on a
logarithmic amplitude axis so rest, tonic activity and bursts are all visible; the ON/OFF
thresholds as lines; our contractions as blue bars above the trace and the game's (the
documented rule over ``CHn activated``) as orange bars below it, unmatched ones in red.
"""

from __future__ import annotations

import argparse
import math
import sys
from html import escape
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.core import AnalysisConfig, analyse_recording, dsp, read_recording  # noqa: E402

WIDTH, PANEL_H, TOP, LEFT, RIGHT = 1400, 260, 30, 60, 10


def _y(v_uv, lo, hi, y0, h):
    v = np.clip(np.log10(np.maximum(v_uv, lo)), math.log10(lo), math.log10(hi))
    return y0 + h - (v - math.log10(lo)) / (math.log10(hi) - math.log10(lo)) * h


def _path(xs, ys) -> str:
    return "M" + " L".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def _bars(items, matched, t_to_x, y, colour, miss_colour, title):
    out = []
    for i, c in enumerate(items):
        x0, x1 = t_to_x(c["start_s"]), t_to_x(c["end_s"])
        fill = colour if matched[i] else miss_colour
        out.append(
            f'<rect x="{x0:.1f}" y="{y}" width="{max(x1 - x0, 1):.1f}" height="10" '
            f'fill="{fill}"><title>{title} {i}: {c["start_s"]:.2f}-{c["end_s"]:.2f} s'
            "</title></rect>"
        )
    return out


def plot_file(path: Path, out_dir: Path) -> Path:
    rec = read_recording(path, isolated=False)
    doc = analyse_recording(rec, include_envelope=False)
    cfg = AnalysisConfig()
    rate = rec.rate_hz
    width = WIDTH - LEFT - RIGHT
    parts = []
    for p, (ch, res) in enumerate(zip(rec.emg_channels, doc["channels"], strict=True)):
        y0 = TOP + p * (PANEL_H + 40)
        h = PANEL_H - 40
        cond = dsp.condition_channel(ch.values, rate, cfg)
        env_uv = cond.envelope_v * 1e6
        raw = np.abs(np.asarray(ch.values, dtype=float) - np.median(ch.values)) * 1e6
        n_px = width
        edges = np.linspace(0, raw.size, n_px + 1).astype(int)
        peaks = np.maximum.reduceat(raw, edges[:-1])
        env_px = np.interp(
            (edges[:-1] + edges[1:]) / 2.0, np.arange(env_uv.size) * cond.grid_step, env_uv
        )
        lo = max(0.5, float(np.percentile(env_uv, 1)) / 2)
        hi = max(float(peaks.max()), lo * 10)
        xs = LEFT + np.arange(n_px)

        def t_to_x(t, _w=width):
            return LEFT + t / rec.duration_s * _w

        parts.append(
            f'<text x="{LEFT}" y="{y0 - 8}" font-size="13">{escape(res["label"])}: ours '
            f"{res['summary']['count']}, game {res['summary']['game_count']}, "
            f"agreement {escape(str(res['agreement']))}; noise {res['noise'] * 1e6:.1f} uV, "
            f"ON {res['threshold'] * 1e6:.1f} uV, OFF {res['threshold_off'] * 1e6:.1f} uV</text>"
        )
        parts.append(
            f'<rect x="{LEFT}" y="{y0}" width="{width}" height="{h}" fill="none" stroke="#999"/>'
        )
        for decade in range(math.ceil(math.log10(lo)), math.floor(math.log10(hi)) + 1):
            yy = _y(10.0**decade, lo, hi, y0, h)
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + width}" y1="{yy:.1f}" y2="{yy:.1f}" '
                f'stroke="#eee"/><text x="{LEFT - 4}" y="{yy + 4:.1f}" font-size="10" '
                f'text-anchor="end">{10.0**decade:g} uV</text>'
            )
        parts.append(
            f'<path d="{_path(xs, _y(peaks, lo, hi, y0, h))}" stroke="#bbb" fill="none" '
            'stroke-width="0.7"/>'
        )
        parts.append(
            f'<path d="{_path(xs, _y(env_px, lo, hi, y0, h))}" stroke="#222" fill="none" '
            'stroke-width="1"/>'
        )
        for level, colour in ((res["threshold"], "#2a7"), (res["threshold_off"], "#9c6")):
            yy = _y(level * 1e6, lo, hi, y0, h)
            parts.append(
                f'<line x1="{LEFT}" x2="{LEFT + width}" y1="{yy:.1f}" y2="{yy:.1f}" '
                f'stroke="{colour}" stroke-dasharray="4 3"/>'
            )
        ours, game = res["contractions"], res["game_contractions"]
        matched_game = {c["game_match"] for c in ours if c["game_match"] is not None}
        ours_ok = [c["game_match"] is not None for c in ours]
        game_ok = [i in matched_game for i in range(len(game))]
        parts += _bars(ours, ours_ok, t_to_x, y0 + 2, "#36c", "#d22", "ours")
        parts += _bars(game, game_ok, t_to_x, y0 + h + 4, "#e90", "#d22", "game")
        for t in range(0, int(rec.duration_s) + 1, 5):
            x = t_to_x(t)
            parts.append(
                f'<text x="{x:.1f}" y="{y0 + h + 28}" font-size="9" text-anchor="middle">{t}</text>'
            )
    height = TOP + len(doc["channels"]) * (PANEL_H + 40)
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif"><rect width="100%" height="100%" fill="white"/>'
        f'<text x="{LEFT}" y="14" font-size="14" font-weight="bold">{escape(path.name)} '
        "(blue: ours, orange: game's by the rule, red: unmatched; grey: |raw| peaks, "
        "black: 100 ms RMS envelope; dashed: ON/OFF)</text>" + "".join(parts) + "</svg>"
    )
    out = out_dir / (path.stem + ".svg")
    out.write_text(svg)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared/data/c3d/ghostly"))
    parser.add_argument("--out", default=str(ROOT / "docs/real-files"))
    args = parser.parse_args()
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for path in sorted(Path(args.data).glob("*.c3d")):
        print(plot_file(path, out_dir))


if __name__ == "__main__":
    main()
