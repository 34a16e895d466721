"""Mutated real files (truncation, byte flips, huge counts): a result or a clean refusal.

Bounded and seeded so it runs in seconds; the reader runs isolated, as in production, and
the calling process must neither crash, hang nor grow.
"""

from __future__ import annotations

import resource
import struct

import numpy as np

from analysis.core import InvalidRecording, ReadLimits, analyse_recording, read_recording

LIMITS = ReadLimits(max_memory_mb=256, timeout_s=5.0)


def _mutants(data: bytes, rng: np.random.Generator):
    n = len(data)
    for frac in (0.0005, 0.01, 0.2, 0.5, 0.9, 0.999):
        yield f"truncated at {frac:g}", data[: int(n * frac)]
    param = (data[0] - 1) * 512 if data else 0
    for k in range(25):
        buf = bytearray(data)
        region = rng.choice(["header", "parameters", "anywhere"])
        if region == "header":
            pos = rng.integers(0, 512, size=3)
        elif region == "parameters":
            pos = rng.integers(param, min(param + 4096, n), size=3)
        else:
            pos = rng.integers(0, n, size=8)
        for p in pos:
            buf[int(p)] = int(rng.integers(0, 256))
        yield f"flipped {region} {k}", bytes(buf)
    for offset, value in ((2, 0xFFFF), (4, 0xFFFF), (8, 0xFFFF), (16, 0xFFFF), (0, 0xFF)):
        buf = bytearray(data)
        if offset == 0:
            buf[0] = value
        else:
            struct.pack_into("<H", buf, offset, value)
        yield f"huge header word {offset}", bytes(buf)
    buf = bytearray(data)
    struct.pack_into("<f", buf, 20, float("nan"))
    yield "NaN frame rate", bytes(buf)


def test_mutated_real_files_give_results_or_clean_refusals(c3d_dir, tmp_path):
    rng = np.random.default_rng(2024)
    sources = [
        c3d_dir / "ghostly" / "Ghostly_Emg_20231004_13-18-43-0464.c3d",
        c3d_dir / "other" / "1123x01EMG.c3d",
        c3d_dir / "other" / "Gait.c3d",
        c3d_dir / "other" / "sgi_real.c3d",
    ]
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    outcomes = {"analysed": 0, "refused": 0}
    for source in sources:
        for name, blob in _mutants(source.read_bytes(), rng):
            path = tmp_path / "mutant.c3d"
            path.write_bytes(blob)
            try:
                rec = read_recording(path, limits=LIMITS)
            except InvalidRecording as exc:
                reason = str(exc)
                assert reason, (source.name, name)
                assert "\n" not in reason
                outcomes["refused"] += 1
                continue
            try:
                analyse_recording(rec, include_envelope=False)
            except ValueError:  # e.g. a band-pass impossible at a corrupted rate
                outcomes["refused"] += 1
                continue
            outcomes["analysed"] += 1
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert outcomes["refused"] > 10
    assert outcomes["analysed"] > 10
    assert grown_mb < 200, grown_mb


def test_the_in_process_parser_refuses_mutants_cleanly_too(c3d_dir, tmp_path):
    # the bounded parser itself, without the child: only InvalidRecording may escape
    rng = np.random.default_rng(7)
    source = c3d_dir / "other" / "1123x01EMG.c3d"
    reasons = []
    for _name, blob in _mutants(source.read_bytes(), rng):
        path = tmp_path / "mutant.c3d"
        path.write_bytes(blob)
        try:
            read_recording(path, limits=LIMITS, isolated=False)
        except InvalidRecording as exc:
            reasons.append(str(exc))
    assert len(reasons) > 5
    assert all(reason and "\n" not in reason for reason in reasons)
