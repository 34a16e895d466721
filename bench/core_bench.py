"""Speed and accuracy of the numeric core (analysis.core), side by side with NeuroKit2.

One run on this machine, pinned to one core (and one BLAS/OpenMP thread):

1. the whole path (read + analyse + score, envelope included) on the 175 s game recording,
   with the isolating child process (production) and without it;
2. the same on a 5-minute, 2-channel, 2 kHz synthetic session written as a C3D file;
   (before these: what importing the package, then ``core.preload()``, costs a fresh
   process; and after the game file, the live analyser's cost per block)
3. per synthetic scenario (clean, 50 Hz hum, drift + DC, low SNR, weak, clipping): our
   detection F1 and onset error against the generator's ground truth, and NeuroKit2's
   ``emg_process`` on the same signals (its time and its F1 by the same matching rule:
   one-to-one at >= 50 % overlap).

    .venv/bin/python bench/core_bench.py [--repeat 40] [--json out.json]

Targets (issue): <= 15 ms median for the game file, <= 40 ms for the synthetic session,
F1 at least NeuroKit2's in every scenario.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import json  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from pathlib import Path  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402

from analysis import core  # noqa: E402
from analysis.core.evaluation import match_contractions  # noqa: E402
from analysis.core.synth import (  # noqa: E402
    HARD_SCENARIOS,
    SCENARIOS,
    generate_session,
    write_session,
)

GAME_FILE = REPO.parent / "shared/data/c3d/ghostly/Ghostly_Emg_20230321_17-50-17-0881.c3d"


def summarise(times_ms: list[float]) -> dict:
    times = sorted(times_ms)
    return {
        "median_ms": statistics.median(times),
        "p90_ms": times[int(0.9 * (len(times) - 1))],
        "min_ms": times[0],
    }


def timed(fn, repeat: int) -> dict:
    fn()  # warm: imports, caches, the reader's helper process
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return summarise(times)


def machine_reference(repeat: int) -> dict:
    """Two fixed workloads, so figures from different machines (or days) can be compared:
    a pure-Python loop of 10^6 additions and one ``sosfilt`` pass over 10^6 samples (the
    core's band-pass: order-2 Butterworth 20-450 Hz at 2 kHz)."""
    from scipy import signal

    def python_loop():
        total = 0
        for i in range(1_000_000):
            total += i
        return total

    sos = signal.butter(2, [20, 450], btype="bandpass", fs=2000, output="sos")
    x = np.random.default_rng(0).normal(size=1_000_000)
    return {
        "python_loop_1e6_ms": timed(python_loop, max(5, repeat // 4))["median_ms"],
        "sosfilt_1e6_ms": timed(lambda: signal.sosfilt(sos, x), max(5, repeat // 4))["median_ms"],
    }


def path_rows(name: str, path: Path, repeat: int, target_ms: float) -> list[dict]:
    """The steps of the whole path; ``target_ms`` is the issue's target for the whole path
    with the isolating reader, as production runs it."""
    rec = core.read_recording(path)
    rows = [
        ("whole path, isolated", lambda: core.analyse_file(path)),
        ("whole path, in-process", lambda: core.analyse_file(path, isolated=False)),
        ("read, isolated", lambda: core.read_recording(path)),
        ("read, in-process", lambda: core.read_recording(path, isolated=False)),
        ("analyse + score", lambda: core.analyse_recording(rec)),
    ]
    out = [{"input": name, "step": step, **timed(fn, repeat)} for step, fn in rows]
    out[0]["target_ms"] = target_ms
    return out


def streaming_rows(path: Path, block_s: float = 0.05) -> list[dict]:
    """Per-block cost of the live analyser on a whole recording fed in ``block_s`` blocks
    (the live path's unit of work), with the fixed-lag band-pass and with no lag."""
    rec = core.read_recording(path)
    labels = [c.label for c in rec.channels]
    data = np.column_stack([c.values for c in rec.channels])
    step = max(1, round(block_s * rec.rate_hz))
    rows = []
    for name, cfg in (
        ("fixed lag 0.3 s", core.AnalysisConfig()),
        ("no lag", core.AnalysisConfig(stream_lookahead_s=0.0)),
    ):
        analyser = core.StreamingAnalyser(rec.rate_hz, labels, config=cfg)
        times = []
        for i in range(0, data.shape[0], step):
            t0 = time.perf_counter()
            analyser.feed(data[i : i + step])
            times.append((time.perf_counter() - t0) * 1000)
        analyser.finish()
        rows.append(
            {
                "input": f"live, {block_s * 1000:g} ms blocks, {name}",
                "step": f"per block ({len(times)} blocks)",
                **summarise(times),
            }
        )
    return rows


def import_rows(runs: int = 5) -> list[dict]:
    """What importing costs a fresh process: the package alone (lazy: what the web process
    pays to catch ``InvalidRecording``), then ``core.preload()`` (numpy, scipy, numba and the
    analysis: what a worker pays once, before it forks)."""
    code = (
        "import time; t0 = time.perf_counter(); from analysis import core; "
        "t1 = time.perf_counter(); core.preload(); t2 = time.perf_counter(); "
        "print((t1 - t0) * 1000, (t2 - t1) * 1000)"
    )
    package, preload = [], []
    for _ in range(runs):
        out = subprocess.run(  # our own interpreter and package
            [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True
        )
        a, b = (float(x) for x in out.stdout.split())
        package.append(a)
        preload.append(b)
    return [
        {
            "input": "fresh process",
            "step": f"import analysis.core ({runs} runs)",
            **summarise(package),
        },
        {"input": "fresh process", "step": f"core.preload() ({runs} runs)", **summarise(preload)},
    ]


def neurokit_contractions(x: np.ndarray, rate: float) -> tuple[list[dict], float]:
    import neurokit2 as nk

    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        signals, _ = nk.emg_process(x, sampling_rate=int(round(rate)))
    elapsed = (time.perf_counter() - t0) * 1000
    active = signals["EMG_Activity"].to_numpy() > 0
    edges = np.diff(np.concatenate(([0], active.astype(np.int8), [0])))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    found = [
        {"start_s": s / rate, "end_s": e / rate, "duration_s": (e - s) / rate}
        for s, e in zip(starts, ends, strict=True)
    ]
    return found, elapsed


def _ms(scores: list[dict], key: str) -> float | None:
    values = [s[key] for s in scores if s[key] is not None]
    return 1000 * float(np.mean(values)) if values else None


def scenario_rows(seed: int, duration_s: float = 120.0, seeds: int = 2) -> list[dict]:
    """Ours and NeuroKit2's ``emg_process`` on the same signals, per scenario: F1 (the
    lowest over channels and seeds), onset and offset mean absolute errors (ms)."""
    rows = []
    for scenario in SCENARIOS + HARD_SCENARIOS:
        kwargs = {"rate_hz": 2000.0, **scenario.kwargs}
        ours, theirs, ours_ms, nk_ms = [], [], 0.0, 0.0
        for s in range(seed, seed + seeds):
            rec, truth = generate_session(s, duration_s=duration_s, **kwargs)
            t0 = time.perf_counter()
            doc = core.analyse_recording(rec, include_envelope=False)
            ours_ms += (time.perf_counter() - t0) * 1000
            for ch in doc["channels"]:
                expected = truth["channels"][ch["label"]]["contractions"]
                ours.append(match_contractions(expected, ch["contractions"]))
                found, elapsed = neurokit_contractions(
                    rec.channel(ch["label"]).values.astype(np.float64), rec.rate_hz
                )
                nk_ms += elapsed
                theirs.append(match_contractions(expected, found))
        rows.append(
            {
                "scenario": scenario.name,
                "rate_hz": kwargs["rate_hz"],
                "ours_f1": min(x["f1"] for x in ours),
                "ours_onset_ms": _ms(ours, "mean_onset_error_s"),
                "ours_offset_ms": _ms(ours, "mean_offset_error_s"),
                "ours_ms": ours_ms / seeds,
                "nk_f1": min(x["f1"] for x in theirs),
                "nk_onset_ms": _ms(theirs, "mean_onset_error_s"),
                "nk_offset_ms": _ms(theirs, "mean_offset_error_s"),
                "nk_ms": nk_ms / seeds,
            }
        )
    return rows


def fmt(value, spec=".1f") -> str:
    return "-" if value is None else format(value, spec)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="also write the figures as JSON")
    parser.add_argument("--no-neurokit", action="store_true", help="skip the comparison")
    parser.add_argument("--scenarios-only", action="store_true", help="skip the timings")
    parser.add_argument("--scenario-duration", type=float, default=120.0)
    args = parser.parse_args(argv)
    cpu = min(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpu})
    print(
        f"analysis.core {core.__version__}; pinned to CPU {cpu}; {os.cpu_count()} CPUs; "
        f"load average {os.getloadavg()[0]:.2f}"
    )
    if args.scenarios_only:
        args.repeat = 1
    reference = machine_reference(args.repeat)
    print(
        f"machine reference: Python loop of 10^6 additions {reference['python_loop_1e6_ms']:.1f} "
        f"ms, sosfilt over 10^6 samples {reference['sosfilt_1e6_ms']:.1f} ms"
    )
    timing = [] if args.scenarios_only else import_rows()
    if args.scenarios_only:
        pass
    elif GAME_FILE.exists():
        timing += path_rows("game file 175 s (990 Hz, 4 ch)", GAME_FILE, args.repeat, 15)
        timing += streaming_rows(GAME_FILE)
    else:
        print(f"(skipping the game file: {GAME_FILE} is missing)")
    if not args.scenarios_only:
        with tempfile.TemporaryDirectory() as tmp:
            rec, _ = generate_session(args.seed, duration_s=300.0, rate_hz=2000.0, channels=2)
            path = write_session(Path(tmp) / "synthetic.c3d", rec)
            timing += path_rows("synthetic 5 min (2 kHz, 2+2 ch)", path, args.repeat, 40)
    print()
    print("| input | step | median ms | p90 ms | min ms |")
    print("|---|---|---:|---:|---:|")
    for r in timing:
        print(
            f"| {r['input']} | {r['step']} | {r['median_ms']:.1f} | {r['p90_ms']:.1f} | "
            f"{r['min_ms']:.1f} |"
        )
    print()
    for r in timing:
        if "target_ms" in r:
            verdict = "met" if r["median_ms"] <= r["target_ms"] else "MISSED"
            print(
                f"target, {r['input']} ({r['step']}): median {r['median_ms']:.1f} ms "
                f"<= {r['target_ms']:g} ms: {verdict}"
            )
    scenarios = []
    if not args.no_neurokit:
        scenarios = scenario_rows(args.seed, args.scenario_duration)
        print()
        print(
            f"Scenarios ({args.scenario_duration:g} s, seeds {args.seed}-{args.seed + 1}, 2 "
            "channels each; F1 = lowest, errors = mean absolute, ms):"
        )
        print(
            "| scenario | Hz | ours F1 | ours onset | ours offset | ours ms | NeuroKit2 F1 | "
            "NK onset | NK offset | NK ms |"
        )
        print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        for r in scenarios:
            print(
                f"| {r['scenario']} | {r['rate_hz']:g} | {r['ours_f1']:.3f} | "
                f"{fmt(r['ours_onset_ms'])} | {fmt(r['ours_offset_ms'])} | {r['ours_ms']:.1f} | "
                f"{fmt(r['nk_f1'], '.3f')} | {fmt(r['nk_onset_ms'])} | "
                f"{fmt(r['nk_offset_ms'])} | {r['nk_ms']:.0f} |"
            )
    if args.json:
        doc = {"reference": reference, "timing": timing, "scenarios": scenarios}
        args.json.write_text(json.dumps(doc, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
