"""The isolated reader: limits, crashes and hangs end as InvalidRecording, never in the caller."""

from __future__ import annotations

import os
import threading

import pytest

from analysis.core import InvalidRecording, ReadLimits, read_recording


def test_a_file_over_the_memory_cap_is_refused_with_the_limit_named(game_file):
    with pytest.raises(InvalidRecording, match="memory limit of 1 MB"):
        read_recording(game_file, limits=ReadLimits(max_memory_mb=1))


def test_a_reader_that_hangs_is_killed_at_the_time_limit(tmp_path):
    # a FIFO with no writer blocks the child in open(): the caller must not wait for it
    fifo = tmp_path / "hang.c3d"
    os.mkfifo(fifo)
    with pytest.raises(InvalidRecording, match="longer than the limit of 0.5 s"):
        read_recording(fifo, limits=ReadLimits(timeout_s=0.5))


def test_channel_and_duration_limits_are_enforced(game_file):
    with pytest.raises(InvalidRecording, match="4 analog channels exceeds the limit of 2"):
        read_recording(game_file, limits=ReadLimits(max_channels=2))
    with pytest.raises(InvalidRecording, match="longer than the limit of 60 s"):
        read_recording(game_file, limits=ReadLimits(max_duration_s=60))


def test_limits_refuse_nonsense_values():
    with pytest.raises(ValueError, match="timeout_s must be > 0"):
        ReadLimits(timeout_s=0)
    with pytest.raises(ValueError, match="unknown ReadLimits key"):
        ReadLimits.from_dict({"max_memory": 5})


def test_concurrent_threads_share_the_helper_safely(game_file):
    results, errors = [], []

    def work():
        try:
            results.append(read_recording(game_file).n_samples)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert results == [173_370] * 4


def test_a_forked_caller_gets_its_own_helper(game_file):
    read_recording(game_file)  # the parent's helper exists now
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - child
        try:
            ok = read_recording(game_file).n_samples == 173_370
            os.write(w, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(w)
    answer = os.read(r, 1)
    os.close(r)
    os.waitpid(pid, 0)
    assert answer == b"1"
