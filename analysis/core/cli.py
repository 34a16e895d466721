"""``python -m analysis.core``: analyse a C3D file or write synthetic recordings (no Django).

analyse FILE.c3d [--config JSON] [--mvc CH=VALUE ...] [--rpe N] [--bfr PCT] [--json]
    prints a human summary (amplitudes in microvolts) or one JSON document (volts);
    an invalid file exits with status 2 and its one-line reason ({"error": ...} with --json).
synth OUT [--scenario NAME] [--seed N] [...]
    writes OUT (a .c3d path or a folder) in the GHOSTLY format plus OUT.truth.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from pathlib import Path

from .analysis import analyse_file
from .config import AnalysisConfig, ReadLimits, ScoringConfig
from .errors import InvalidRecording
from .synth import SCENARIOS, generate_session, ghostly_name, write_session

_UNITS = {"": 1.0, "v": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6}


def _mvc_arg(text: str) -> tuple[str, float]:
    """``CH1=0.00035``, ``CH1=350uV``, ``left quadriceps=0.35mV`` -> (key, volts)."""
    key, sep, value = text.partition("=")
    m = re.fullmatch(r"\s*([-+0-9.eE]+)\s*([a-zA-Zµ]*)\s*", value)
    if not sep or not key.strip() or not m or m.group(2).lower() not in _UNITS:
        raise argparse.ArgumentTypeError(f"expected CH=VALUE[V|mV|uV], got {text!r}")
    return key.strip(), float(m.group(1)) * _UNITS[m.group(2).lower()]


def _config_arg(text: str) -> dict:
    path = Path(text)
    try:
        data = json.loads(path.read_text() if path.is_file() else text)
    except (OSError, json.JSONDecodeError) as exc:
        raise argparse.ArgumentTypeError(
            f"--config is neither a JSON file nor JSON: {exc}"
        ) from None
    if not isinstance(data, dict):
        raise argparse.ArgumentTypeError("--config must be a JSON object")
    return data


def _configs(data: dict | None) -> tuple[AnalysisConfig, ScoringConfig, ReadLimits]:
    """``{"analysis": {...}, "scoring": {...}, "limits": {...}}`` or flat analysis keys."""
    data = dict(data or {})
    if not set(data) <= {"analysis", "scoring", "limits"}:
        data = {"analysis": data}
    return (
        AnalysisConfig.from_dict(data.get("analysis")),
        ScoringConfig.from_dict(data.get("scoring")),
        ReadLimits.from_dict(data.get("limits")),
    )


def _uv(volts) -> str:
    return "-" if volts is None else f"{volts * 1e6:.1f} uV"


def _num(value, fmt: str = ".1f") -> str:
    return "-" if value is None else format(value, fmt)


def human_summary(doc: dict, name: str) -> str:
    rec = doc["recording"]
    meta = rec["metadata"]
    lines = [
        f"{name}: {rec['duration_s']:.2f} s at {rec['rate_hz']:g} Hz, "
        f"started {rec['started_at'] or 'unknown'}",
    ]
    if meta.get("game_name"):
        lines.append(
            f"game {meta['game_name']} level {meta.get('game_level')}, "
            f"score {meta.get('game_score')}"
        )
    for w in rec["warnings"]:
        lines.append(f"warning: {w}")
    for ch in doc["channels"]:
        s = ch["summary"]
        where = " ".join(x for x in (ch["side"], ch["muscle"]) if x) or "unmapped"
        lines.append("")
        lines.append(
            f"{ch['label']} ({where}): MVC {_uv(ch['mvc'])} ({ch['mvc_source']}), "
            f"threshold {_uv(ch['threshold'])} / off {_uv(ch['threshold_off'])}, "
            f"noise {_uv(ch['noise'])}"
        )
        lines.append(
            f"  {s['count']} contractions, {s['good']} good, {s['intensity_ok']} strong "
            f"enough, {s['duration_ok']} long enough; time under tension "
            f"{s['time_under_tension_s']:.1f} s; MNF slope "
            f"{_num(s['mnf_slope_hz_per_contraction'], '.2f')} Hz/contraction"
            + (f"; game counted {s['game_count']}" if s["game_count"] is not None else "")
        )
        for i, c in enumerate(ch["contractions"], 1):
            lines.append(
                f"  {i:3d}. {c['start_s']:8.2f} s  {c['duration_s']:5.2f} s  "
                f"peak {c['peak'] * 1e6:7.1f} uV  {_num(c['peak_pct_mvc'], '5.0f')} % MVC  "
                f"MNF {_num(c['mnf_hz'])} Hz  {'good' if c['good'] else ''}"
            )
    sc = doc["score"]
    lines.append("")
    lines.append(
        f"score: overall {_num(sc['overall'])}, compliance {_num(sc['compliance']['mean'])}, "
        f"symmetry {_num(sc['symmetry'])}, effort {_num(sc['effort'])}, "
        f"game {_num(sc['game'])}"
        + (f"; missing: {', '.join(sc['missing'])}" if sc["missing"] else "")
        + ("; GATED: BFR pressure outside the safe band" if sc["bfr"]["gated"] else "")
    )
    return "\n".join(lines)


def cmd_analyse(args) -> int:
    try:
        cfg, scoring, limits = _configs(args.config)
        doc = analyse_file(
            args.file,
            limits=limits,
            config=cfg,
            scoring=scoring,
            mvc=dict(args.mvc or []) or None,
            rpe=args.rpe,
            bfr_pct_aop=args.bfr,
            include_envelope=args.envelope,
        )
    except (InvalidRecording, ValueError, FileNotFoundError) as exc:
        reason = f"file not found: {args.file}" if isinstance(exc, FileNotFoundError) else str(exc)
        if args.json:
            print(json.dumps({"error": reason}))
        else:
            print(f"{args.file}: {reason}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(doc, allow_nan=False))
    else:
        print(human_summary(doc, Path(args.file).name))
    return 0


def cmd_synth(args) -> int:
    scenarios = {s.name: s.kwargs for s in SCENARIOS}
    kwargs = dict(scenarios[args.scenario])
    for name in (
        "duration_s",
        "rate_hz",
        "channels",
        "contractions",
        "noise_uv",
        "hum_uv",
        "drift_uv",
        "clip_uv",
        "fatigue",
    ):
        value = getattr(args, name)
        if value is not None:
            kwargs[name] = value
    try:
        rec, truth = generate_session(args.seed, **kwargs)
    except ValueError as exc:
        print(f"synth: {exc}", file=sys.stderr)
        return 2
    out = Path(args.out)
    if out.suffix.lower() != ".c3d":
        out.mkdir(parents=True, exist_ok=True)
        out = out / ghostly_name(rec.started_at)
    truth["scenario"] = args.scenario
    write_session(out, rec, truth)
    print(out)
    print(out.with_suffix(".truth.json"))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis.core", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    a = sub.add_parser("analyse", help="analyse one C3D file")
    a.add_argument("file")
    a.add_argument("--config", type=_config_arg, help="JSON (or a JSON file) of parameters")
    a.add_argument(
        "--mvc", type=_mvc_arg, action="append", metavar="CH=VALUE", help="entered MVC (volts)"
    )
    a.add_argument("--rpe", type=float, help="post-session Borg CR-10 RPE (0-10)")
    a.add_argument("--bfr", type=float, help="BFR cuff pressure, %% of AOP")
    a.add_argument("--json", action="store_true", help="one JSON document (volts)")
    a.add_argument("--envelope", action="store_true", help="include the display envelope")
    a.set_defaults(func=cmd_analyse)
    s = sub.add_parser("synth", help="write a synthetic recording and its ground truth")
    s.add_argument("out", help="a .c3d path or a folder")
    s.add_argument("--seed", type=int, default=1)
    s.add_argument(
        "--scenario",
        default="clean",
        choices=[scenario.name for scenario in SCENARIOS],
    )
    s.add_argument("--duration", dest="duration_s", type=float)
    s.add_argument("--rate", dest="rate_hz", type=float)
    s.add_argument("--channels", type=int)
    s.add_argument("--contractions", type=int)
    s.add_argument("--noise", dest="noise_uv", type=float, help="noise floor, uV RMS")
    s.add_argument("--hum", dest="hum_uv", type=float, help="50 Hz hum amplitude, uV")
    s.add_argument("--drift", dest="drift_uv", type=float, help="baseline drift, uV")
    s.add_argument("--clip", dest="clip_uv", type=float, help="clipping level, uV")
    s.add_argument("--fatigue", type=float, help="MNF drop first->last contraction (0-1)")
    s.set_defaults(func=cmd_synth)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except BrokenPipeError:
        # the reader went away (``| head``): not an error of ours, and no traceback;
        # stdout is pointed at /dev/null so the interpreter's final flush cannot fail too
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
