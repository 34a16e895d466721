"""The live signal path of several channels at once (:class:`~.stream_signal.LiveSignal`
per channel): while the channels of a block move in lockstep, which is the usual case, one
call does the work of one per channel; otherwise each channel goes alone. Every step is
the one-channel step's arithmetic row by row, so each channel gets the same floats as fed
alone (``tests/test_streaming_rows_equal_one_at_a_time.py``).
"""

from __future__ import annotations

import numpy as np
from numba import njit
from scipy.signal._sosfilt import _sosfilt  # the compiled kernel behind signal.sosfilt

from .jit import _JIT
from .stream_signal import LiveSignal, _moving_rms


def share_filter(lives: list[LiveSignal]) -> None:
    """Let channels with equal band-pass coefficients share one copy of them (and of its
    steady state), which :func:`feed_rows` checks by identity on every block."""
    first = lives[0]
    for live in lives[1:]:
        if np.array_equal(live.sos, first.sos) and np.array_equal(live.steady_zi, first.steady_zi):
            live.sos, live.steady_zi = first.sos, first.steady_zi


def feed_rows(lives: list[LiveSignal], columns) -> None:
    """:meth:`LiveSignal.feed` of each channel's block (``columns[k]`` to ``lives[k]``), the
    band-pass of all channels in one call of the compiled filter per pass where they move in
    lockstep: the same number of samples released by the drop-out blanking, the same
    filter, started, with the same number of samples inside the lag. scipy's kernel filters
    each row of a 2-D input on its own with the same arithmetic as a 1-D one, so every
    channel gets the same floats as fed alone (tested); otherwise each is fed alone.
    """
    released = _blank_rows(lives, columns)
    if released is None:
        pairs = zip(lives, columns, strict=True)
        released = [live._blank(np.asarray(x, dtype=np.float64)) for live, x in pairs]
    first = lives[0]
    n = released[0].size
    if not (
        n
        and all(
            x.size == n
            and live.forward_zi is not None
            and live.held_forward.size == first.held_forward.size
            and live.lag_samples == first.lag_samples
            and live.sos is first.sos
            for live, x in zip(lives, released, strict=True)
        )
    ):
        for live, x in zip(lives, released, strict=True):
            live._filter(x)
        return
    # (channels, samples), a new C-ordered array (np.array of equal-shaped arrays stacks
    # them, as np.stack does, without its Python-level checks)
    out = np.array(released)
    state = np.array([live.forward_zi for live in lives])
    _sosfilt(first.sos, out, state)
    for k, live in enumerate(lives):
        live.forward_zi = state[k]
    if first.lag_samples:
        out = _zero_phase_rows(lives, out)
    _extend_rows(lives, out)


def _windows(live: LiveSignal) -> tuple:
    fine = live.fine_envelope is not None
    return (
        live.n_filtered,
        live.squared_tail.size,
        live.envelope_window_samples,
        live.onset_window_samples,
        live.fine_window_samples if fine else 0,
    )


def _extend_rows(lives: list[LiveSignal], bp: np.ndarray) -> None:
    """:meth:`LiveSignal._extend` of each row of ``bp``; the moving RMS of all rows in one
    compiled call where the channels stand at the same sample with the same windows."""
    key = _windows(lives[0])
    if not bp.shape[1] or any(_windows(live) != key for live in lives[1:]):
        for k, live in enumerate(lives):
            live._extend(bp[k])
        return
    n_filtered, width = key[0], key[2]
    sq = bp * bp
    ext = np.concatenate((np.array([live.squared_tail for live in lives]), sq), axis=1)
    env = _moving_rms_rows(ext, sq.shape[1], n_filtered, key[2], key[3], key[4])
    for k, live in enumerate(lives):
        live._noise_blocks(sq[k])
        live.envelope.append(env[k, 0], n_filtered - live.envelope_shift_samples)
        live.onset_envelope.append(env[k, 1], n_filtered - live.onset_shift_samples)
        if live.fine_envelope is not None:
            live.fine_envelope.append(env[k, 2], n_filtered - live.fine_shift_samples)
        live.squared_tail = ext[k, -(width - 1) :] if width > 1 else np.zeros(0)
        live.n_filtered += sq.shape[1]


def _blank_rows(lives: list[LiveSignal], columns) -> np.ndarray | None:
    """:meth:`LiveSignal._blank` (not final) of every channel at once in the usual case: no
    drop-out running, the same number of samples held back, no run of identical samples
    long enough to be a drop-out and none at the block's end (so one sample is held back,
    as the one-channel form holds its trailing run). The released samples (channels x
    samples), or None (nothing changed) where a channel needs the one-channel form."""
    first = lives[0]
    min_run, held = first.dropout_min_samples, first.held_raw.size
    if min_run < 2 or any(
        live.dropout_level_v is not None
        or live.held_raw.size != held
        or live.dropout_min_samples != min_run
        for live in lives
    ):
        return None
    block = np.array(columns, dtype=np.float64)  # (channels, samples), a copy
    buf = np.concatenate((np.array([live.held_raw for live in lives]), block), axis=1)
    if buf.shape[1] < 2:
        return None
    same = buf[:, 1:] == buf[:, :-1]
    if same[:, -1].any() or (np.count_nonzero(same, axis=1) >= min_run - 1).any():
        return None
    release = buf[:, :-1]
    for k, live in enumerate(lives):
        live.held_raw = buf[k, -1:].copy()
    if all(live.n_filtered and not live.dropout_count for live in lives):
        for live, mean in zip(lives, np.mean(release, axis=1).tolist(), strict=True):
            live.baseline_v = mean
        return release
    for live, row in zip(lives, release, strict=True):
        values = row[row != live.baseline_v] if live.dropout_count else row
        if values.size:
            live.baseline_v = float(np.mean(values)) if live.n_filtered else float(values[0])
    return release


def _zero_phase_rows(lives: list[LiveSignal], forward: np.ndarray) -> np.ndarray:
    """:meth:`LiveSignal._zero_phase` (not final) of channels in lockstep, one kernel call."""
    first = lives[0]
    if first.held_forward.size:
        held = np.concatenate((np.array([live.held_forward for live in lives]), forward), axis=1)
    else:
        held = forward
    n_out = held.shape[1] - first.lag_samples
    if n_out <= 0:
        for k, live in enumerate(lives):
            live.held_forward = held[k]
        return held[:, :0]
    back = np.array(held[:, ::-1], order="C")
    state = np.array([live.steady_zi * row[0] for live, row in zip(lives, back, strict=True)])
    _sosfilt(first.sos, back, state)
    for k, live in enumerate(lives):
        live.held_forward = held[k, n_out:]
    return back[:, ::-1][:, :n_out]


@njit(**_JIT)
def _moving_rms_rows(ext, n_new, n_filtered, w0, w1, w2):
    """:func:`_moving_rms` of each row of ``ext`` (channels x squared samples), in one call:
    (channels, 3, n_new)."""
    out = np.empty((ext.shape[0], 3, n_new))
    for r in range(ext.shape[0]):
        out[r] = _moving_rms(ext[r], n_new, n_filtered, w0, w1, w2)
    return out
