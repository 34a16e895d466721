"""Hypothesis properties of the detector: silence is silent, scale changes only amplitudes."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.core import Channel, Recording, analyse_recording
from analysis.core.synth import generate_session


def _recording(values: np.ndarray, rate: float) -> Recording:
    ch = Channel("CH1 Raw", "V", values.astype(np.float32), True, "quadriceps", "left")
    n = values.size
    return Recording([ch], rate, n, n / rate, None, {}, [], {})


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    seed=st.integers(0, 2**32 - 1),
    noise_uv=st.floats(0.5, 50.0),
    rate=st.sampled_from([990.0, 1000.0, 2000.0]),
    hum_uv=st.floats(0.0, 30.0),
)
def test_silence_has_no_contractions(seed, noise_uv, rate, hum_uv):
    rng = np.random.default_rng(seed)
    n = int(20 * rate)
    t = np.arange(n) / rate
    x = rng.standard_normal(n) * noise_uv * 1e-6 + hum_uv * 1e-6 * np.sin(2 * np.pi * 50 * t)
    doc = analyse_recording(_recording(x, rate), include_envelope=False)
    assert doc["channels"][0]["contractions"] == []


def test_digital_silence_has_no_contractions():
    doc = analyse_recording(_recording(np.zeros(20_000), 1000.0), include_envelope=False)
    assert doc["channels"][0]["summary"]["count"] == 0


BASE, _ = generate_session(21, duration_s=60.0, rate_hz=1000.0, channels=1, contractions=6)
BASE_DOC = analyse_recording(BASE, include_envelope=False)


@settings(max_examples=15, deadline=None)
@given(scale=st.floats(0.05, 20.0))
def test_scaling_the_signal_scales_amplitudes_and_keeps_timing(scale):
    scaled = _recording(BASE.channels[0].values.astype(np.float64) * scale, BASE.rate_hz)
    doc = analyse_recording(scaled, include_envelope=False)
    a, b = BASE_DOC["channels"][0], doc["channels"][0]
    assert len(a["contractions"]) == len(b["contractions"]) == 6
    for ca, cb in zip(a["contractions"], b["contractions"], strict=True):
        assert cb["start_s"] == pytest.approx(ca["start_s"], abs=2e-3)
        assert cb["end_s"] == pytest.approx(ca["end_s"], abs=2e-3)
        assert cb["peak"] == pytest.approx(ca["peak"] * scale, rel=1e-3)
        assert cb["mnf_hz"] == pytest.approx(ca["mnf_hz"], rel=1e-3)
        # an estimated MVC scales too, so % MVC does not move
        assert cb["peak_pct_mvc"] == pytest.approx(ca["peak_pct_mvc"], rel=1e-3)
    assert b["mvc"] == pytest.approx(a["mvc"] * scale, rel=1e-3)
