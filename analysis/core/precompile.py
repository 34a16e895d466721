"""Compile every numba loop of the core, or load it from numba's cache, before any recording.

The image build and ``scripts/test`` run this once, so no worker pays the compile on its first
recording. ``kernels.compile_all`` covers the kernels module; the loops of the threshold split
(``activity``) and the edge walks (``edges``) are reached by analysing a short synthetic game
round, which calls them with exactly the argument types the analysis uses.
"""

from __future__ import annotations

from . import kernels, synth
from .analysis import analyse_recording


def compile_all() -> None:
    kernels.compile_all()
    recording, _ = synth.generate_session(
        1, duration_s=20.0, rate_hz=990.0, contractions=3, durations_s=(1.0, 2.0)
    )
    analyse_recording(recording)
