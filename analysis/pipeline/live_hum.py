"""Mains hum in a live stream: once a second, the share of each channel's power at 50/60 Hz
and their harmonics (the ``mains_hum`` alert of :class:`analysis.pipeline.live_analysis.
LiveAnalysis`)."""

from __future__ import annotations

import numpy as np


class MainsHum:
    """Gathers a stream's EMG blocks into seconds and measures the hum in each."""

    def __init__(self, rate_hz: float) -> None:
        self.rate_hz = rate_hz
        self.buffer: list[np.ndarray] = []  # the EMG blocks of the current second
        self.samples = 0
        self.bands: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def second(self, block: np.ndarray) -> np.ndarray | None:
        """Gather ``block`` (samples x channels); once a second's worth has come, the lot
        (then gathered afresh), else None."""
        self.buffer.append(block)
        self.samples += block.shape[0]
        if self.samples < self.rate_hz:
            return None
        second = np.concatenate(self.buffer)
        self.buffer, self.samples = [], 0
        return second

    def ratio(self, seg: np.ndarray) -> float | None:
        """The share of ``seg``'s power above 5 Hz that lies within 1 Hz of 50/60 Hz and
        their harmonics; None for a signal without power."""
        seg = seg - seg.mean()
        power = np.abs(np.fft.rfft(seg)) ** 2
        above, mains = self._bands(seg.size)
        total = power[above].sum()
        return None if total <= 0 else float(power[mains].sum() / total)

    def _bands(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """For a spectrum of ``n`` samples: the bins above 5 Hz, and those within 1 Hz of
        50/60 Hz and their harmonics (kept per size: every second has the same)."""
        bands = self.bands.get(n)
        if bands is None:
            freqs = np.fft.rfftfreq(n, 1 / self.rate_hz)
            mains = np.zeros(freqs.size, bool)
            for base in (50.0, 60.0):
                for h in range(1, 4):
                    mains |= np.abs(freqs - base * h) <= 1.0
            bands = self.bands[n] = (freqs > 5, mains)
        return bands
