"""The isolated reader: limits, crashes and hangs end as InvalidRecording, never in the caller."""

from __future__ import annotations

import os
import signal
import threading

import pytest

from analysis.core import ChannelMapMismatch, InvalidRecording, ReadLimits, read_recording
from analysis.core import _isolate as isolate_module
from analysis.core import reader as reader_module

from .conftest import run_python, wait_until


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


def _idle_pids() -> list[int]:
    return [r.pid for r in reader_module._READERS.idle]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_healthy_reader_is_reused_for_the_next_file(game_file):
    read_recording(game_file)
    (pid,) = _idle_pids()[-1:]
    read_recording(game_file)
    assert _idle_pids()[-1] == pid


def test_a_reader_that_hit_its_memory_cap_is_retired(game_file):
    read_recording(game_file)
    before = set(_idle_pids())
    with pytest.raises(InvalidRecording, match="memory limit"):
        read_recording(game_file, limits=ReadLimits(max_memory_mb=1))
    used = before - set(_idle_pids())
    assert len(used) == 1
    (pid,) = used
    assert wait_until(lambda: not _alive(pid))
    assert read_recording(game_file).n_samples == 173_370  # the cap was for that file only


def test_a_reader_that_died_while_idle_is_not_blamed_on_the_next_file(game_file):
    read_recording(game_file)
    idle = _idle_pids()
    for pid in idle:
        os.kill(pid, signal.SIGKILL)
    assert wait_until(lambda: not any(_alive(pid) for pid in idle))
    assert read_recording(game_file).n_samples == 173_370


def test_a_reader_that_overran_is_killed(tmp_path, game_file):
    read_recording(game_file)
    fifo = tmp_path / "hang.c3d"
    os.mkfifo(fifo)
    pids = set(_idle_pids())
    with pytest.raises(InvalidRecording, match="longer than the limit"):
        read_recording(fifo, limits=ReadLimits(timeout_s=0.3))
    (killed,) = pids - set(_idle_pids())
    assert wait_until(lambda: not _alive(killed))


def test_without_the_helper_readers_are_forked_directly_and_retire_after_their_quota(
    monkeypatch, game_file
):
    monkeypatch.setattr(reader_module._READERS, "idle", [])
    monkeypatch.setattr(isolate_module, "READER_MAX_FILES", 2)

    def no_helper(fd):
        raise OSError("helper unavailable")

    monkeypatch.setattr(reader_module._READERS.zygote, "spawn", no_helper)
    read_recording(game_file)
    (first,) = _idle_pids()
    read_recording(game_file)  # its second and last file
    assert _idle_pids() == []
    assert not _alive(first)  # reaped by the caller, not left a zombie
    read_recording(game_file)
    assert _idle_pids() != [first]
    for reader in reader_module._READERS.idle:
        reader.close()  # directly forked: the caller reaps it


def test_the_reader_child_describes_a_file_without_loading_numba(game_file):
    # the helper boots with package stubs (no analysis.core __init__); describing a file
    # must stay within the parser's modules, so the readers stay small and quick to fork
    script = (
        isolate_module.BOOT.split("from analysis.core import _isolate")[0]
        + "from analysis.core import _isolate\n"
        + "from analysis.core.config import ReadLimits\n"
        + "reply, _ = _isolate.describe({'path': sys.argv[3], "
        + "'limits': ReadLimits().to_dict(), 'channel_map': None})\n"
        + "assert 'error' not in reply, reply\n"
        + "print(sorted(m for m in sys.modules if m.split('.')[0] in ('numba', 'scipy')))\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.abspath(isolate_module.__file__)))
    out = run_python("-c", script, root, "-1", str(game_file))
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("isolated", [True, False], ids=["isolated", "in-process"])
def test_a_refusal_keeps_its_type_across_the_reader_socket(game_file, isolated):
    # callers fall back to the automatic channel choice on exactly this type
    with pytest.raises(ChannelMapMismatch, match="channel mapping does not fit this file"):
        read_recording(game_file, isolated=isolated, channel_map={"CH9": ("quadriceps", "left")})
    with pytest.raises(InvalidRecording) as refused:
        read_recording(game_file, isolated=isolated, limits=ReadLimits(max_channels=2))
    assert type(refused.value) is InvalidRecording
