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


def _hold_with_relaxation(relax_ms: int, relaxed: float, back: float, rise_ms: int):
    """An envelope (1 sample = 1 ms): rest, a hold at 3, a relaxation, a second hold."""
    rest, hold = np.full(500, 0.1), np.full(2000, 3.0)
    down = np.linspace(3.0, relaxed, 50)
    up = np.linspace(relaxed, back, rise_ms)
    parts = (rest, hold, down, np.full(relax_ms, relaxed), up, np.full(2000, back), rest)
    return np.concatenate(parts)


def _pieces(env, **rule):
    n = env.size
    start, end = 400, n - 400  # one candidate around both holds (ON 1.5, OFF 0.5)
    return split_holds(env, np.array([start]), np.array([end]), 1.5, 0.5, 0.3, 1, n, 250, **rule)


REONSET = {"reonset_ratio": 2.0, "dip": 300, "rise": 500}


def test_relaxing_under_the_activation_level_then_contracting_again_is_two_contractions():
    env = _hold_with_relaxation(relax_ms=400, relaxed=1.2, back=3.0, rise_ms=150)
    starts, ends, first_on, _ = _pieces(env, **REONSET)
    assert starts.size == 2
    relax_from = 500 + 2000 + 50 - int(50 * 0.3 / 1.8)  # where the ramp down crosses ON
    assert abs(int(ends[0]) - relax_from) <= 2
    assert 2549 <= int(starts[1]) <= 2550 + 400  # at the relaxation's lowest point
    assert first_on[1] > starts[1]
    # without the rule (or with it off) the two holds stay one, as the release level allows
    assert _pieces(env)[0].size == 1
    assert _pieces(env, reonset_ratio=0.0, dip=300, rise=500)[0].size == 1


def test_a_brief_relaxation_or_a_slow_return_keeps_the_hold_whole():
    brief = _hold_with_relaxation(relax_ms=150, relaxed=1.2, back=3.0, rise_ms=150)
    assert _pieces(brief, **REONSET)[0].size == 1
    # force wobble: the level comes back, but not to twice its low point within 500 ms
    slow = _hold_with_relaxation(relax_ms=400, relaxed=1.2, back=2.2, rise_ms=150)
    assert _pieces(slow, **REONSET)[0].size == 1
    gradual = _hold_with_relaxation(relax_ms=400, relaxed=1.2, back=3.0, rise_ms=1500)
    assert _pieces(gradual, **REONSET)[0].size == 1


def test_wobbling_holds_are_never_cut_by_the_reonset_rule():
    cfg = AnalysisConfig()
    off = AnalysisConfig(reonset_ratio=0.0)
    for seed in (3, 4, 5):
        rec, _ = generate_session(seed, duration_s=60.0, contractions=6, wobble_pct=(20.0, 30.0))
        for ch in rec.emg_channels:
            c = dsp.condition_channel(ch.values, rec.rate_hz, cfg)
            th = dsp.thresholds(c.noise_v, None, cfg, c.activity_v)
            with_rule = dsp.detect(
                c.envelope_v, c.cumsum_squares, th, rec.rate_hz, cfg, c.grid_step
            )
            without = dsp.detect(c.envelope_v, c.cumsum_squares, th, rec.rate_hz, off, c.grid_step)
            assert with_rule[0].tolist() == without[0].tolist(), (seed, ch.label)


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
