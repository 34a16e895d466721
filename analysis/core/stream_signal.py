"""The live signal path of one EMG channel: blocks of raw samples in, envelope history out.

Causal versions of the batch path's first steps (:mod:`.dsp`), so that live and batch agree:

* Drop-outs blanked as in the batch path, holding back a possible run's start.
* Band-pass: by default a fixed-lag form of the batch's zero-phase filter. The forward
  pass runs causally with its state carried between blocks (started at the first sample's
  level, which is what the batch's mean removal amounts to); the backward pass runs over
  the forward output held back for ``stream_lookahead_s``, started at the newest sample's
  steady state like the batch's at the last sample. Its start-up has decayed by the time
  a sample leaves the lag, so each released sample equals the batch path's band-passed
  value. ``stream_lookahead_s=0`` runs the band-pass twice forward instead: the same
  magnitude response, its group delay compensated in the event times.
* Envelopes: trailing moving-RMS windows whose values are re-aligned to the centre of
  their window (the batch's centred windows), kept for :data:`HISTORY_S`.
* Noise floor: the RMS of every complete ``noise_block_s`` block, for a running percentile.

Positions are *centred indices*: the index of the sample at the centre of an envelope
window, counted from the first sample of the stream.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit
from scipy import signal
from scipy.signal._sosfilt import _sosfilt  # the compiled kernel behind signal.sosfilt

from . import dsp
from .config import AnalysisConfig
from .kernels import _JIT

HISTORY_S = 32.0  # longer than the longest contraction kept (``max_duration_s`` = 30 s)


class EnvelopeHistory:
    """The latest :data:`HISTORY_S` (at least) of one envelope (volts), addressed by
    centred index. A buffer of twice that size written in place: the newest values are
    moved to its front only when it is full, so appending a block copies only the block."""

    def __init__(self, keep_samples: int) -> None:
        self.keep_samples = keep_samples
        self._buffer = np.zeros(2 * max(keep_samples, 1))
        self._size = 0
        self.first = 0  # centred index of values_v[0]

    @property
    def values_v(self) -> np.ndarray:
        return self._buffer[: self._size]

    @property
    def end(self) -> int:
        """One past the newest centred index held."""
        return self.first + self._size

    def append(self, env: np.ndarray, first_centre: int) -> None:
        # centred indices below 0 (the first half-window) are dropped
        if first_centre < 0:
            env = env[-first_centre:]
            first_centre = 0
        if self._size == 0:
            self.first = first_centre
        if env.size > self.keep_samples:
            self.first += self._size + env.size - self.keep_samples
            env, self._size = env[-self.keep_samples :], 0
        if self._size + env.size > self._buffer.size:
            cut = self._size + env.size - self.keep_samples
            kept = self._buffer[cut : self._size].copy()
            self._buffer[: kept.size] = kept
            self._size, self.first = kept.size, self.first + cut
        self._buffer[self._size : self._size + env.size] = env
        self._size += env.size

    def between(self, a: int, b: int) -> np.ndarray:
        """The values at centred indices [a, b) still held (empty where none are)."""
        a, b = max(a, self.first), min(b, self.end)
        return self.values_v[a - self.first : b - self.first] if b > a else np.zeros(0)


class LiveSignal:
    """Filter state, drop-out state, envelope histories and noise blocks of one channel."""

    def __init__(self, rate_hz: float, cfg: AnalysisConfig) -> None:
        self.rate_hz = rate_hz
        self.lag_samples = round(cfg.stream_lookahead_s * rate_hz)
        if self.lag_samples:
            # fixed lag: the batch's forward pass, carried between blocks, and its backward
            # pass over the forward output held back for the lag (_zero_phase)
            self.sos = dsp.sos_for(rate_hz, cfg)
            self.group_delay_samples = 0.0
        else:
            # no lag: the band-pass twice forward, the same magnitude response (|H|^2) as
            # the batch's forward-backward pass; only the phase differs, and its group
            # delay is compensated in the event times
            self.sos = np.vstack([dsp.sos_for(rate_hz, cfg)] * 2)
            self.group_delay_samples = _group_delay_samples(self.sos, rate_hz)
        self.sos = np.ascontiguousarray(self.sos, dtype=np.float64)
        self.steady_zi = signal.sosfilt_zi(self.sos)  # steady state for a unit input
        self.forward_zi: np.ndarray | None = None  # forward pass state between blocks
        self.held_forward = np.zeros(0)  # forward-filtered samples still inside the lag

        self.dropout_min_samples = dsp.dropout_samples(rate_hz, cfg)
        self.held_raw = np.zeros(0)  # raw samples held back: a possible drop-out's start
        self.dropout_level_v: float | None = None  # a drop-out still running at block end
        self.baseline_v = 0.0
        self.dropout_count = 0

        self.envelope_window_samples = dsp.window_samples(cfg.envelope_window_s, rate_hz)
        self.onset_window_samples = dsp.window_samples(cfg.onset_window_s, rate_hz)
        # a trailing window ending at sample g is the batch's centred window at g - shift
        wl, ws = self.envelope_window_samples, self.onset_window_samples
        self.envelope_shift_samples = wl - wl // 2 - 1
        self.onset_shift_samples = ws - ws // 2 - 1
        # the fine edge window (``edge_fine_window_s``; 0 = none), read by the edge walks
        wf = dsp.window_samples(cfg.edge_fine_window_s, rate_hz) if cfg.edge_fine_window_s else 0
        self.fine_window_samples = wf
        self.fine_shift_samples = wf - wf // 2 - 1
        self.squared_tail = np.zeros(0)  # the last envelope window - 1 squared samples
        keep = int(HISTORY_S * rate_hz)
        self.envelope = EnvelopeHistory(keep)  # the envelope_window_s RMS
        self.onset_envelope = EnvelopeHistory(keep)  # the short onset_window_s RMS
        self.fine_envelope = EnvelopeHistory(keep) if wf else None  # edge_fine_window_s RMS
        self.n_filtered = 0  # samples out of the band-pass so far

        self.noise_block_samples = dsp.window_samples(cfg.noise_block_s, rate_hz)
        self.noise_block_sum_sq = 0.0
        self.noise_block_filled = 0
        self.noise_block_rms_v: list[float] = []

    def time_s(self, centred_index: float) -> float:
        """Seconds from the first sample, the no-lag filter's group delay compensated."""
        return (centred_index - self.group_delay_samples) / self.rate_hz

    def holds_samples(self) -> bool:
        """Whether samples wait for the next block (a possible drop-out, the filter lag)."""
        return bool(self.held_raw.size or self.held_forward.size)

    def feed(self, x: np.ndarray) -> None:
        self._filter(self._blank(np.asarray(x, dtype=np.float64)))

    def flush(self) -> None:
        """Release the held-back samples at the end of the stream."""
        rest = self._blank(np.zeros(0), final=True)
        self.held_raw = np.zeros(0)
        self._filter(rest, final=True)

    def _filter(self, x: np.ndarray, *, final: bool = False) -> None:
        """Band-pass released samples and extend both envelope histories."""
        if x.size:
            if self.forward_zi is None:
                self.forward_zi = self.steady_zi * x[0]
            bp, self.forward_zi = sosfilt_1d(self.sos, x, self.forward_zi)
        else:
            bp = x
        if self.lag_samples:
            bp = self._zero_phase(bp, final=final)
        self._extend(bp)

    def _extend(self, bp: np.ndarray) -> None:
        """Extend the noise blocks and the envelope histories with band-passed samples."""
        if bp.size == 0:
            return
        sq = bp * bp
        self._noise_blocks(sq)
        ext = np.concatenate((self.squared_tail, sq))
        fine = self.fine_envelope is not None
        env = _moving_rms(
            ext,
            sq.size,
            self.n_filtered,
            self.envelope_window_samples,
            self.onset_window_samples,
            self.fine_window_samples if fine else 0,
        )
        self.envelope.append(env[0], self.n_filtered - self.envelope_shift_samples)
        self.onset_envelope.append(env[1], self.n_filtered - self.onset_shift_samples)
        if fine:
            self.fine_envelope.append(env[2], self.n_filtered - self.fine_shift_samples)
        width = self.envelope_window_samples
        self.squared_tail = ext[-(width - 1) :] if width > 1 else np.zeros(0)
        self.n_filtered += sq.size

    def _zero_phase(self, forward: np.ndarray, *, final: bool) -> np.ndarray:
        """The batch's backward pass over the forward output, final up to the lag ago.

        Each call runs the backward filter from the newest sample (started at its steady
        state, as the batch path starts at the last sample) down through the held-back
        samples; by the lag later its start-up has decayed (below 1e-9 for the default
        20 Hz corner and 0.3 s), so the released samples equal the batch path's
        band-passed signal. At the end of the stream everything is released, exactly as
        the batch pass ends.
        """
        if self.held_forward.size:
            held = np.concatenate((self.held_forward, forward))
        else:
            held = forward
        n_out = held.size if final else held.size - self.lag_samples
        if n_out <= 0 or held.size == 0:
            self.held_forward = held
            return np.zeros(0)
        back = held[::-1]
        out, _ = sosfilt_1d(self.sos, back, self.steady_zi * back[0])
        self.held_forward = held[n_out:]
        return out[::-1][:n_out]

    def _blank(self, x: np.ndarray, *, final: bool = False) -> np.ndarray:
        """Drop-outs blanked as in the batch path, holding back a possible run's start.

        The trailing run of identical samples (shorter than a drop-out) waits for the next
        block, so a run is blanked from its first sample; that costs at most
        ``dropout_min_s`` of latency, and one sample on a living signal.
        """
        buf = np.concatenate((self.held_raw, x)) if self.held_raw.size else x
        if buf.size == 0:
            return buf
        buf = buf.copy()
        if self.dropout_level_v is not None:
            lead = np.flatnonzero(buf != self.dropout_level_v)
            n_lead = int(lead[0]) if lead.size else buf.size
            buf[:n_lead] = self.baseline_v
            if n_lead < buf.size:
                self.dropout_level_v = None
        starts, ends = dsp.flat_runs(buf, self.dropout_min_samples)
        for a, b in zip(starts.tolist(), ends.tolist(), strict=True):
            if b == buf.size:
                self.dropout_level_v = float(buf[a])
            buf[a:b] = self.baseline_v
            self.dropout_count += 1
        # hold back the trailing run of identical values unless it is already a drop-out
        if self.dropout_level_v is None and not final:
            diffs = np.flatnonzero(buf[1:] != buf[:-1])
            tail = buf.size - (int(diffs[-1]) + 1) if diffs.size else buf.size
            self.held_raw = buf[-tail:].copy()
            release = buf[:-tail]
        else:
            self.held_raw = np.zeros(0)
            release = buf
        live = release[release != self.baseline_v] if self.dropout_count else release
        if live.size:
            self.baseline_v = float(np.mean(live)) if self.n_filtered else float(live[0])
        return release

    def _noise_blocks(self, sq: np.ndarray) -> None:
        """Accumulate squared samples into complete noise blocks and their RMS."""
        k = 0
        while k < sq.size:
            take = min(self.noise_block_samples - self.noise_block_filled, sq.size - k)
            self.noise_block_sum_sq += float(sq[k : k + take].sum())
            self.noise_block_filled += take
            k += take
            if self.noise_block_filled == self.noise_block_samples:
                self.noise_block_rms_v.append(
                    math.sqrt(self.noise_block_sum_sq / self.noise_block_samples)
                )
                self.noise_block_sum_sq, self.noise_block_filled = 0.0, 0


@njit(**_JIT)
def _moving_rms(ext, n_new, n_filtered, w0, w1, w2):
    """The trailing moving RMS of the last ``n_new`` of ``ext`` (squared samples, the older
    ones first; the window is shorter at the stream's start) for up to three widths (``w2``
    0: two) in one compiled pass: the same running sum, differences, divisions and square
    roots as its numpy form (``moving_rms_numpy`` in ``analysis/core/tests/reference.py``),
    so the same floats. Returns (3, n_new); a row of a zero width is left unset."""
    c = np.empty(ext.size + 1)
    c[0] = 0.0
    acc = 0.0
    for k in range(ext.size):
        acc += ext[k]
        c[k + 1] = acc
    out = np.empty((3, n_new))
    first_end = ext.size - n_new + 1
    for row in range(3):
        width = w0 if row == 0 else (w1 if row == 1 else w2)
        if width <= 0:
            continue
        for q in range(n_new):
            end = first_end + q
            count = min(n_filtered + q + 1, width)
            lo = max(end - count, 0)
            v = (c[end] - c[lo]) / count
            if v < 0.0:
                v = 0.0
            out[row, q] = np.sqrt(v)
    return out


def sosfilt_1d(sos: np.ndarray, x: np.ndarray, zi: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``signal.sosfilt(sos, x, zi=zi)`` for a 1-D float64 ``x`` and float64 C-ordered
    ``sos``: the same compiled kernel on the same copies, so the same numbers (tested),
    without the checks and axis moves that cost the live path more than the filtering of
    one block itself."""
    out = np.array(x, dtype=np.float64, order="C").reshape(1, -1)
    state = np.array(zi, dtype=np.float64, order="C").reshape(1, -1, 2)
    _sosfilt(sos, out, state)
    return out[0], state[0]


def _group_delay_samples(sos, rate: float) -> float:
    """The causal band-pass's group delay (samples) at the geometric centre of the default
    20-450 Hz band (the upper corner clamped below Nyquist)."""
    b, a = signal.sos2tf(sos)
    nyq = rate / 2.0
    centre = math.sqrt(20.0 * min(450.0, 0.95 * nyq))
    _, gd = signal.group_delay((b, a), w=[centre], fs=rate)
    return float(gd[0])
