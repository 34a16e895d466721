"""Compile every numba loop of the core, or load it from numba's cache, before any recording.

The image build and ``scripts/test`` run this once, so no worker pays the compile on its first
recording. ``kernels.compile_all`` covers the kernels module; the loops of the threshold split
(``activity``) and the edge walks (``edges``) are reached by analysing a short synthetic game
round, which calls them with exactly the argument types the analysis uses; the live path's
(``stream_signal``, ``activity``) by streaming the same round through the
:class:`~.streaming.StreamingAnalyser` in 0.2 s blocks, as the live ingest does.
"""

from __future__ import annotations

import numpy as np

from . import kernels, synth
from .analysis import analyse_recording
from .streaming import StreamingAnalyser


def compile_all() -> None:
    kernels.compile_all()
    recording, _ = synth.generate_session(
        1, duration_s=20.0, rate_hz=990.0, contractions=3, durations_s=(1.0, 2.0)
    )
    analyse_recording(recording)
    data = np.stack([c.values for c in recording.channels], axis=1)
    analyser = StreamingAnalyser(recording.rate_hz, recording.labels)
    for k in range(0, data.shape[0], 198):
        analyser.feed(data[k : k + 198])
    analyser.finish()
