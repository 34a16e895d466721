"""The structure of an untrusted C3D file: header, parameter section, where the samples lie.

Why a parser of our own rather than ezc3d: ezc3d materialises every point and parameter
object (slow on long recordings) and, on a few mutated bytes, can allocate gigabytes or
crash. This one reads only what the analysis needs, checks every offset and size against
the file before touching it, and understands the three processor formats of the C3D
specification (Intel, DEC/VAX and SGI/MIPS big-endian), so SGI files are read instead of
refused. The tests check it against ezc3d on every real file ezc3d can read.

It is the part that walks untrusted structure, so the isolated reader child runs it
(:mod:`._isolate`): defence in depth. Its result is a plain-JSON ``layout`` from which
:mod:`.c3d_read` copies the samples with bounded, strided numpy passes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .c3d_header import C3D_BLOCK, c3d_header_problem
from .c3d_words import PROC_DEC, PROC_INTEL, PROC_MIPS, Words
from .config import ReadLimits
from .errors import InvalidRecording

PROCESSOR_NAMES = {PROC_INTEL: "intel", PROC_DEC: "dec", PROC_MIPS: "sgi-mips"}


@dataclass
class RawC3D:
    """What the parser extracts: analog block, labels, units, rate and parameters."""

    labels: list[str]
    units: list[str]
    rate_hz: float
    analog: np.ndarray | None  # (n_channels, n_samples) float32, scaled; None: layout only
    parameters: dict[str, dict[str, Any]]
    processor: str
    warnings: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return int(self.layout["n_analog"])

    @property
    def n_samples(self) -> int:
        return int(self.layout["n_samples"])


def _decode(b: bytes) -> str:
    return b.decode("latin-1").replace("\x00", " ").strip()


def _parse_parameters(r: Words, start: int, n_blocks: int) -> dict[str, dict[str, Any]]:
    """Parse the parameter section into ``{GROUP: {NAME: value}}`` (names upper-case)."""
    end = min(start + n_blocks * C3D_BLOCK, r.size) if n_blocks > 0 else r.size
    groups: dict[int, str] = {}
    params: list[tuple[int, str, Any]] = []
    off = start + 4
    for _ in range(100_000):
        if off + 2 > end:
            break
        name_len = abs(r.i8(off))
        gid = r.i8(off + 1)
        if name_len == 0 or gid == 0:
            break
        r.need(off + 2, name_len + 2, "a parameter name")
        name = _decode(bytes(r.buf[off + 2 : off + 2 + name_len])).upper()
        pos = off + 2 + name_len
        nxt = r.u16(pos)
        if gid < 0:
            groups[-gid] = name
        else:
            params.append((gid, name, _parameter_value(r, pos + 2, name)))
        if nxt == 0:
            break
        off = pos + nxt
    out: dict[str, dict[str, Any]] = {name: {} for name in groups.values()}
    for gid, name, value in params:
        out.setdefault(groups.get(gid, f"GROUP{gid}"), {})[name] = value
    return out


def _parameter_value(r: Words, body: int, name: str) -> Any:
    """A parameter's data: a list of strings (characters), else an int64/float64 array."""
    dtype = r.i8(body)
    ndim = r.u8(body + 1)
    dims = [r.u8(body + 2 + k) for k in range(ndim)]
    data_off = body + 2 + ndim
    if dtype not in (-1, 1, 2, 4):
        raise InvalidRecording(f"corrupt parameter {name}: unknown data type {dtype}")
    count = math.prod(dims)  # 1 for a scalar (no dimensions)
    if dtype == -1:
        r.need(data_off, count, f"parameter {name}")
        raw = bytes(r.buf[data_off : data_off + count])
        if ndim <= 1:
            return [_decode(raw)]
        width = dims[0]
        return [_decode(raw[k : k + width]) for k in range(0, count, width)] if width else []
    what = f"parameter {name}"
    if dtype == 4:
        return r.array(data_off, count, 4, what).astype(np.float64)
    return r.array(data_off, count, abs(dtype), what).astype(np.int64)


def _first(params: dict, group: str, name: str, default=None):
    value = params.get(group, {}).get(name)
    if value is None or len(value) == 0:
        return default
    return value[0]


@dataclass(frozen=True)
class _HeaderWords:
    """The header block's words the layout needs (the points' own fields are not)."""

    n_points: int
    analog_per_frame: int
    first_frame: int
    last_frame: int
    scale_factor: float  # < 0: samples stored as floats
    data_block: int
    samples_per_frame: int  # 0 in many files: then derived from the parameters

    @classmethod
    def read(cls, r: Words) -> _HeaderWords:
        return cls(
            n_points=r.u16(2),
            analog_per_frame=r.u16(4),
            first_frame=r.u16(6),
            last_frame=r.u16(8),
            scale_factor=r.f32(12),
            data_block=r.u16(16),
            samples_per_frame=r.u16(18),
        )


def _parameter_start(buf: bytes | memoryview) -> int:
    """Byte offset of the parameter section, after the header checks shared with uploads."""
    problem = c3d_header_problem(buf, size=len(buf))
    if problem:
        raise InvalidRecording(f"not a C3D file: {problem}")
    return (buf[0] - 1) * C3D_BLOCK


def _analog_channels(
    params: dict, head: _HeaderWords, limits: ReadLimits, warnings: list[str]
) -> tuple[int, int]:
    """(analog channels, samples per frame): ANALOG:USED must divide the header's count."""
    n_analog = int(_first(params, "ANALOG", "USED", 0)) & 0xFFFF
    if n_analog > limits.max_channels:
        raise InvalidRecording(
            f"{n_analog} analog channels exceeds the limit of {limits.max_channels}"
        )
    if n_analog == 0 or head.analog_per_frame == 0:
        raise InvalidRecording("the file contains no analog channels (no EMG)")
    if head.analog_per_frame % n_analog:
        raise InvalidRecording(
            f"corrupt header: {head.analog_per_frame} analog values per frame is not a "
            f"multiple of {n_analog} channels"
        )
    spf = head.analog_per_frame // n_analog
    if head.samples_per_frame and head.samples_per_frame != spf:
        warnings.append(
            f"header says {head.samples_per_frame} analog samples per frame, using {spf}"
        )
    return n_analog, spf


def _analog_rate(params: dict, spf: int, limits: ReadLimits, warnings: list[str]) -> float:
    """The analog rate (Hz): ANALOG:RATE wins over frame rate x samples per frame."""
    # like ezc3d, the frame rate is POINT:RATE (0 when the POINT group is missing)
    frame_rate = _first(params, "POINT", "RATE")
    frame_rate = float(frame_rate) if frame_rate is not None else 0.0
    if not math.isfinite(frame_rate) or frame_rate <= 0:
        rate_param = _first(params, "ANALOG", "RATE")
        hint = f" (ANALOG:RATE says {float(rate_param):g} Hz)" if rate_param is not None else ""
        raise InvalidRecording(
            f"the file's frame rate is {frame_rate:g} Hz (analog rate 0 or unknown), so sample "
            f"timing and duration cannot be computed{hint}"
        )
    rate = _first(params, "ANALOG", "RATE")
    rate = float(rate) if rate is not None else frame_rate * spf
    if not math.isfinite(rate) or rate <= 0:
        raise InvalidRecording(f"analog rate is {rate:g} Hz: duration cannot be computed")
    if rate > limits.max_rate_hz:
        raise InvalidRecording(
            f"analog rate {rate:g} Hz exceeds the limit of {limits.max_rate_hz:g} Hz"
        )
    if abs(rate - frame_rate * spf) > 1e-3 * rate:
        warnings.append(
            f"ANALOG:RATE {rate:g} Hz differs from header rate x samples per frame "
            f"({frame_rate * spf:g} Hz); using ANALOG:RATE"
        )
    return rate


def _declared_frames(params: dict, head: _HeaderWords) -> int:
    """The largest frame count the file declares: header words, POINT:FRAMES (unsigned),
    and the TRIAL group's 32-bit start and end fields."""
    frames_header = (
        head.last_frame - head.first_frame + 1 if head.last_frame >= head.first_frame else 0
    )
    candidates = [frames_header]
    frames_param = _first(params, "POINT", "FRAMES")
    if frames_param is not None:
        fp = int(frames_param)
        candidates.append(fp & 0xFFFF if fp < 0 else fp)
    trial_end = params.get("TRIAL", {}).get("ACTUAL_END_FIELD")
    trial_start = params.get("TRIAL", {}).get("ACTUAL_START_FIELD")
    if (
        trial_end is not None
        and len(trial_end) >= 2
        and trial_start is not None
        and len(trial_start) >= 2
    ):
        end = int(trial_end[0] & 0xFFFF) + (int(trial_end[1] & 0xFFFF) << 16)
        beg = int(trial_start[0] & 0xFFFF) + (int(trial_start[1] & 0xFFFF) << 16)
        if end >= beg:
            candidates.append(end - beg + 1)
    return max(candidates)


def _frames_present(
    buf,
    declared: int,
    data_offset: int,
    frame_bytes: int,
    spf: int,
    rate: float,
    warnings: list[str],
) -> int:
    """The frames to read: as declared, or recovered from the data blocks when the header
    was never finalised (the game crashed or was killed while recording); a file shorter
    than it declares is refused rather than zero-filled."""
    available = (len(buf) - data_offset) // frame_bytes
    if declared <= 1 and available > 1:
        body = np.frombuffer(
            buf, dtype=np.uint8, count=available * frame_bytes, offset=data_offset
        ).reshape(available, frame_bytes)
        nz = np.flatnonzero(body.any(axis=1))
        n = int(nz[-1]) + 1 if nz.size else 0
        if n <= 1:
            raise InvalidRecording("header declares no frames and the data section is empty")
        warnings.append(
            f"header was never finalised (declares {declared} frames); recovered {n} frames "
            f"({n * spf / rate:.1f} s) from the data blocks"
        )
        return n
    if declared > available:
        raise InvalidRecording(
            f"file is truncated: header declares {declared} frames but only {available} are present"
        )
    return declared


def _check_length(n_samples: int, rate: float, limits: ReadLimits) -> None:
    """The recording's length against the limits, before any sample is copied."""
    if n_samples > limits.max_samples:
        raise InvalidRecording(
            f"{n_samples} samples per channel exceeds the limit of {limits.max_samples}"
        )
    if n_samples / rate > limits.max_duration_s:
        raise InvalidRecording(
            f"recording lasts {n_samples / rate:.0f} s, longer than the limit of "
            f"{limits.max_duration_s:.0f} s"
        )


def _per_channel(analog: dict, name: str, n_analog: int, default: float) -> list[float]:
    """ANALOG:SCALE or OFFSET for every channel (``default`` where the list is short)."""
    v = analog.get(name)
    out = np.full(n_analog, default, dtype=np.float64)
    if v is not None and len(v):
        k = min(len(v), n_analog)
        out[:k] = np.asarray(v[:k], dtype=np.float64)
    return out.tolist()


def _labels_and_units(analog: dict, n_analog: int) -> tuple[list[str], list[str]]:
    """ANALOG:LABELS/UNITS continued in LABELS2/UNITS2; ``A<n>`` for unnamed channels."""
    labels = list(analog.get("LABELS", [])) + list(analog.get("LABELS2", []))
    labels = [lab.strip() for lab in labels[:n_analog]]
    labels += [f"A{k + 1}" for k in range(len(labels), n_analog)]
    units = list(analog.get("UNITS", [])) + list(analog.get("UNITS2", []))
    units = [u.strip() for u in units[:n_analog]] + [""] * max(0, n_analog - len(units))
    return labels, units


def parse_layout(buf: bytes | memoryview, *, limits: ReadLimits | None = None) -> RawC3D:
    """Everything but the samples: header, parameters, and where and how the samples lie.

    The returned ``layout`` is plain JSON, checked against the file size, from which
    :func:`.c3d_read.extract_analog` copies the samples. Raises :class:`InvalidRecording`.
    """
    limits = limits or ReadLimits()
    pstart = _parameter_start(buf)
    proc_code = buf[pstart + 3]
    r = Words(buf, proc_code)
    head = _HeaderWords.read(r)
    params = _parse_parameters(r, pstart, buf[pstart + 2])
    warnings: list[str] = []
    n_points = int(_first(params, "POINT", "USED", head.n_points)) & 0xFFFF
    n_analog, spf = _analog_channels(params, head, limits, warnings)
    rate = _analog_rate(params, spf, limits, warnings)

    declared = _declared_frames(params, head)
    word = 4 if head.scale_factor < 0 else 2
    frame_words = n_points * 4 + head.analog_per_frame
    data_offset = (head.data_block - 1) * C3D_BLOCK
    if head.data_block < 1 or data_offset > len(buf):
        raise InvalidRecording("corrupt header: data section pointer is outside the file")
    n_frames = _frames_present(buf, declared, data_offset, frame_words * word, spf, rate, warnings)
    n_samples = n_frames * spf
    _check_length(n_samples, rate, limits)

    analog = params.get("ANALOG", {})
    fmt = str(_first(params, "ANALOG", "FORMAT", "") or "").upper()
    layout = {
        "file_size": len(buf),
        "processor": int(proc_code),
        "data_offset": int(data_offset),
        "n_frames": int(n_frames),
        "frame_words": int(frame_words),
        "point_words": int(n_points * 4),
        "word": int(word),
        "unsigned": bool(word == 2 and fmt.startswith("UNSIGNED")),
        "samples_per_frame": int(spf),
        "n_analog": int(n_analog),
        "n_samples": int(n_samples),
        "scale": _per_channel(analog, "SCALE", n_analog, 1.0),
        "offset": _per_channel(analog, "OFFSET", n_analog, 0.0),
        "gen_scale": float(_first(params, "ANALOG", "GEN_SCALE", 1.0)),
    }
    labels, units = _labels_and_units(analog, n_analog)
    return RawC3D(
        labels=labels,
        units=units,
        rate_hz=rate,
        analog=None,
        parameters=params,
        processor=PROCESSOR_NAMES[proc_code],
        warnings=warnings,
        layout=layout,
    )
