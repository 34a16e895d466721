"""Each live alert is raised by a signal made to cause it, and not by a clean signal."""

import numpy as np
import pytest

from analysis.core.live_protocol import Hello
from analysis.pipeline.live_analysis import LiveAnalysis
from analysis.tests.support import live_inputs

RATE = 990.0
FRAME = 50


def run(x, *, ranges=(), **extra):
    analysis = LiveAnalysis(Hello(("CH1 Raw",), RATE, ("V",), ranges=ranges), live_inputs(**extra))
    block = np.asarray(x, dtype="<f4").reshape(-1, 1)
    for k in range(0, block.shape[0], FRAME):
        analysis.frame(k // FRAME, k, block[k : k + FRAME])
    analysis.finish(0, block.shape[0])
    return [a["type"] for a in analysis.alerts], analysis


def noise(seconds, seed=0, scale=1e-5):
    return np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * scale


def bursts(freqs, seed=1):
    """Rest, then a 2 s contraction at each frequency (a sine in noise), 2 s apart."""
    parts = [noise(2, seed)]
    t = np.arange(int(2 * RATE)) / RATE
    for k, f in enumerate(freqs):
        parts.append(noise(2, seed + k + 10) + 5e-4 * np.sin(2 * np.pi * f * t))
        parts.append(noise(2, seed + k + 100))
    return np.concatenate(parts)


def test_a_clean_signal_raises_no_alert():
    kinds, _ = run(bursts([137, 138, 136, 137]), ranges=(1e-2,))
    assert kinds == []


def test_a_flat_line_is_signal_lost():
    x = np.concatenate([noise(2), np.zeros(int(RATE)), noise(2, 5)])
    assert "signal_lost" in run(x)[0]


def test_mains_hum():
    t = np.arange(int(3 * RATE)) / RATE
    assert "mains_hum" in run(noise(3) + 2e-4 * np.sin(2 * np.pi * 50 * t))[0]


def test_saturation_at_the_announced_full_scale():
    x = np.clip(bursts([137]) * 40, -5e-3, 5e-3)
    assert "saturation" in run(x, ranges=(5e-3,))[0]
    assert "saturation" not in run(x)[0]  # without a range, nothing to compare with


def test_fatigue_when_the_median_frequency_falls():
    kinds, analysis = run(bursts([163, 162, 164, 155, 105]))
    assert analysis.counts["CH1 Raw"]["count"] == 5
    assert "fatigue" in kinds


def test_target_reached():
    kinds, _ = run(bursts([137, 137, 137]), target_count=3)
    assert kinds == ["target_reached"]


@pytest.mark.parametrize(("pressure", "alerted"), [(90.0, True), (60.0, False)])
def test_bfr_outside_its_safe_band(pressure, alerted):
    kinds, _ = run(noise(1), bfr_pct_aop=pressure)
    assert ("bfr_out_of_band" in kinds) is alerted


def test_an_alert_is_acknowledged_once_with_who_and_when():
    _, analysis = run(noise(1), bfr_pct_aop=95.0)
    alert = analysis.acknowledge(1, "Alice", "2026-01-01T10:00:00Z")
    assert (alert["acknowledged_by"], alert["acknowledged_at"]) == ("Alice", "2026-01-01T10:00:00Z")
    assert analysis.acknowledge(1, "Bob", "later") is None
