"""The activity level, the hold split and the edge walks against plain forms of them."""

from __future__ import annotations

import numpy as np

from analysis.core import AnalysisConfig, dsp, kernels
from analysis.core.activity import activity_level, split_holds
from analysis.core.edges import baseline_level, extend_edges, short_rms, walk_back, walk_forward
from analysis.core.runs import runs_of
from analysis.core.synth import generate_session


def test_the_burst_level_lies_above_tonic_activity_and_below_the_bursts():
    rng = np.random.default_rng(1)
    rest, tonic, bursts = rng.normal(3, 0.3, 400), rng.normal(15, 2, 300), rng.normal(200, 30, 60)
    level = activity_level(np.abs(np.concatenate((rest, tonic, bursts))) * 1e-6)
    assert 20e-6 < level < 150e-6


def test_weak_holds_among_strong_ones_are_not_cut_off():
    # rest and bursts of 20-90 %: no tonic class, the level stays under the weak bursts
    rng = np.random.default_rng(2)
    rest = rng.normal(5, 0.5, 700)
    bursts = rng.uniform(100, 450, 300)
    assert activity_level(np.abs(np.concatenate((rest, bursts))) * 1e-6) < 60e-6


def _split_by_hand(env, starts, ends, on, off, release, k, gap):
    out = [], [], [], []
    for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
        g0, g1 = a // k, -(-b // k)
        seg = env[g0:g1]
        held = seg[seg >= on]
        level = max(off, release * float(np.median(held))) if held.size else off
        parts = kernels.threshold_runs(seg, *runs_of(seg > level), on, k, b - g0 * k, gap)
        for acc, values in zip(out, parts, strict=True):
            acc.extend((values + g0 * k).tolist())
    return out


def test_the_compiled_split_equals_its_plain_form():
    rec, _ = generate_session(71, duration_s=60.0, contractions=6, wobble_pct=(0.0, 30.0))
    cfg = AnalysisConfig()
    for ch in rec.emg_channels:
        c = dsp.condition_channel(ch.values, rec.rate_hz, cfg)
        th = dsp.thresholds(c.noise_v, None, cfg, c.activity_v)
        n, k = c.bandpassed_v.size, c.grid_step
        starts, ends, _, _ = kernels.threshold_runs(
            c.envelope_v, *runs_of(c.envelope_v > th.off), th.on, k, n, 500
        )
        # join neighbours into one candidate so the split has something to split
        joined_s, joined_e = starts[::2], np.minimum(np.append(starts[2::2], n), n)
        for release in (0.5, 0.9):
            got = split_holds(c.envelope_v, joined_s, joined_e, th.on, th.off, release, k, n, 500)
            want = _split_by_hand(c.envelope_v, joined_s, joined_e, th.on, th.off, release, k, 500)
            for g, w in zip(got, want, strict=True):
                assert g.tolist() == w


def test_the_compiled_edge_walks_equal_their_plain_form():
    rec, _ = generate_session(72, duration_s=60.0, contractions=6, noise_uv=20.0, ramp_s=0.1)
    cfg = AnalysisConfig()
    rate = rec.rate_hz
    c = dsp.condition_channel(rec.emg_channels[0].values, rate, cfg)
    csq, n = c.cumsum_squares, c.bandpassed_v.size
    onset = np.array([int(t * rate) for t in (5.0, 15.0, 30.0)], dtype=np.int64)
    end = onset + int(2 * rate)
    bounds = np.append(onset[1:], n)
    got_on, got_end = extend_edges(onset, end, onset, bounds, csq, n, rate, c.noise_v, cfg)
    ws = round(cfg.onset_window_s * rate)
    search, span = round(cfg.edge_search_s * rate), round(cfg.edge_baseline_s * rate)
    guard = round(cfg.edge_guard_s * rate)
    prev = 0
    for r in range(onset.size):
        o, e = int(onset[r]), int(end[r])
        cap = float(short_rms(csq, n, ws, o - 1, o)[0])
        before = short_rms(csq, n, ws, max(o - guard - span, prev), o - guard)
        level = baseline_level(before, c.noise_v, cap, cfg)
        lo = max(o - search, prev)
        assert got_on[r] == min(o, lo + walk_back(short_rms(csq, n, ws, lo, o + 1), level))
        after = short_rms(csq, n, ws, e + guard, min(e + guard + span, int(bounds[r])))
        level = max(level, baseline_level(after, c.noise_v, np.inf, cfg))
        hi = min(e + search, int(bounds[r]), n)
        assert got_end[r] == e + walk_forward(short_rms(csq, n, ws, e, hi), level)
        prev = int(got_end[r])
