"""C3D reading (a bounded pure-numpy parser) and writing (ezc3d).

Why a own parser for reading: ezc3d takes ~65 ms for the 175 s game file (it
materialises every point and parameter object) and, on a few mutated bytes, can
allocate 12-17 GB or crash. This parser reads only what the analysis needs (the
parameter section and the analog block, via ``np.frombuffer`` with strides), checks
every offset and size against the file before touching it, and understands the
three processor formats of the C3D specification (Intel, DEC/VAX and SGI/MIPS
big-endian), so SGI files are read instead of refused. The tests check it against
ezc3d on every real file ezc3d can read. It still runs inside the isolated child
(``isolation.py``): defence in depth.

Writing uses ezc3d with the GHOSTLY conventions (labels padded to 13 characters,
INFO/SUBJECTS groups, float storage).
"""

from __future__ import annotations

import errno
import math
import mmap
import os
import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from .config import ReadLimits
from .errors import InvalidRecording

BLOCK = 512
PROC_INTEL, PROC_DEC, PROC_MIPS = 84, 85, 86
_GHOSTLY_NAME = re.compile(r"Ghostly_Emg_(\d{8})_(\d{2})-(\d{2})-(\d{2})-(\d{4})", re.IGNORECASE)
_VOLT_UNITS = {"v": 1.0, "volt": 1.0, "volts": 1.0, "mv": 1e-3, "uv": 1e-6, "µv": 1e-6, "μv": 1e-6}


@dataclass
class RawC3D:
    """What the parser extracts: analog block, labels, units, rate and parameters."""

    labels: list[str]
    units: list[str]
    rate_hz: float
    analog: np.ndarray | None  # (n_channels, n_samples) float32, scaled; None: layout only
    parameters: dict[str, dict[str, Any]]
    processor: str
    header_rate_hz: float
    warnings: list[str] = field(default_factory=list)
    layout: dict[str, Any] = field(default_factory=dict)

    @property
    def n_channels(self) -> int:
        return int(self.layout["n_analog"])

    @property
    def n_samples(self) -> int:
        return int(self.layout["n_samples"])


def _dec_to_ieee(raw: np.ndarray) -> np.ndarray:
    """DEC/VAX F-float bytes -> IEEE float32 (swap 16-bit halves, divide by 4)."""
    b = raw.view(np.uint8).reshape(-1, 4)[:, [2, 3, 0, 1]]
    return np.ascontiguousarray(b).view("<f4").reshape(raw.shape) / np.float32(4.0)


class _Reader:
    """Bounds-checked little/big-endian access to the file bytes."""

    def __init__(self, buf: bytes | memoryview, processor: int) -> None:
        self.buf = buf
        self.size = len(buf)
        self.processor = processor
        self.end = ">" if processor == PROC_MIPS else "<"

    def need(self, offset: int, n: int, what: str) -> None:
        if offset < 0 or n < 0 or offset + n > self.size:
            raise InvalidRecording(
                f"file is truncated or corrupt: {what} lies beyond the end of the file"
            )

    def i8(self, off: int) -> int:
        self.need(off, 1, "parameter section")
        v = self.buf[off]
        return v - 256 if v > 127 else v

    def u8(self, off: int) -> int:
        self.need(off, 1, "parameter section")
        return self.buf[off]

    def i16(self, off: int) -> int:
        self.need(off, 2, "a header word")
        return int.from_bytes(
            self.buf[off : off + 2], "big" if self.end == ">" else "little", signed=True
        )

    def u16(self, off: int) -> int:
        return self.i16(off) & 0xFFFF

    def f32(self, off: int) -> float:
        return float(self.array(off, 1, 4, "a float")[0])

    def array(self, off: int, count: int, itemsize: int, what: str) -> np.ndarray:
        self.need(off, count * itemsize, what)
        if itemsize == 4:
            raw = np.frombuffer(self.buf, dtype=self.end + "u4", count=count, offset=off)
            if self.processor == PROC_DEC:
                return _dec_to_ieee(raw)
            return raw.view(self.end + "f4")
        if itemsize == 2:
            return np.frombuffer(self.buf, dtype=self.end + "i2", count=count, offset=off)
        return np.frombuffer(self.buf, dtype="i1", count=count, offset=off)


def _decode(b: bytes) -> str:
    return b.decode("latin-1").replace("\x00", " ").strip()


def _parse_parameters(r: _Reader, start: int, n_blocks: int) -> dict[str, dict[str, Any]]:
    """Parse the parameter section into ``{GROUP: {NAME: value}}`` (names upper-case)."""
    end = min(start + n_blocks * BLOCK, r.size) if n_blocks > 0 else r.size
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
        body = pos + 2
        if gid < 0:
            groups[-gid] = name
        else:
            dtype = r.i8(body)
            ndim = r.u8(body + 1)
            dims = [r.u8(body + 2 + k) for k in range(ndim)]
            data_off = body + 2 + ndim
            itemsize = {-1: 1, 1: 1, 2: 2, 4: 4}.get(dtype)
            if itemsize is None:
                raise InvalidRecording(f"corrupt parameter {name}: unknown data type {dtype}")
            count = math.prod(dims)  # 1 for a scalar (no dimensions)
            value: Any
            if dtype == -1:
                r.need(data_off, count, f"parameter {name}")
                raw = bytes(r.buf[data_off : data_off + count])
                if ndim <= 1:
                    value = [_decode(raw)]
                else:
                    width = dims[0]
                    value = (
                        [_decode(raw[k : k + width]) for k in range(0, count, width)]
                        if width
                        else []
                    )
            elif dtype == 1:
                value = r.array(data_off, count, 1, f"parameter {name}").astype(np.int64)
            elif dtype == 2:
                value = r.array(data_off, count, 2, f"parameter {name}").astype(np.int64)
            else:
                value = r.array(data_off, count, 4, f"parameter {name}").astype(np.float64)
            params.append((gid, name, value))
        if nxt == 0:
            break
        off = pos + nxt
    out: dict[str, dict[str, Any]] = {name: {} for name in groups.values()}
    for gid, name, value in params:
        out.setdefault(groups.get(gid, f"GROUP{gid}"), {})[name] = value
    return out


def _first(params: dict, group: str, name: str, default=None):
    value = params.get(group, {}).get(name)
    if value is None or len(value) == 0:
        return default
    return value[0]


def parse_c3d_bytes(buf: bytes | memoryview, *, limits: ReadLimits | None = None) -> RawC3D:
    """Parse a whole C3D file held in memory. Raises :class:`InvalidRecording`."""
    raw = parse_layout(buf, limits=limits)
    raw.analog = extract_analog(buf, raw.layout)
    return raw


def parse_layout(buf: bytes | memoryview, *, limits: ReadLimits | None = None) -> RawC3D:
    """Everything but the samples: header, parameters, and where and how the samples lie.

    This is the part that walks untrusted structure (the isolated child runs it); the
    returned ``layout`` is plain JSON, checked against the file size, from which
    :func:`extract_analog` copies the samples with one bounded, strided numpy pass.
    """
    limits = limits or ReadLimits()
    size = len(buf)
    if size == 0:
        raise InvalidRecording("file is empty (0 bytes)")
    if size < BLOCK or buf[1] != 0x50:
        raise InvalidRecording("not a C3D file (missing the C3D header signature)")
    param_block = buf[0]
    pstart = (param_block - 1) * BLOCK
    if param_block < 1 or pstart + 4 > size:
        raise InvalidRecording("not a C3D file: parameter section pointer is outside the file")
    proc_code = buf[pstart + 3]
    if proc_code not in (PROC_INTEL, PROC_DEC, PROC_MIPS):
        raise InvalidRecording(
            f"unknown C3D processor type {proc_code} (expected Intel, DEC or SGI/MIPS)"
        )
    processor = {PROC_INTEL: "intel", PROC_DEC: "dec", PROC_MIPS: "sgi-mips"}[proc_code]
    r = _Reader(buf, proc_code)
    n_points = r.u16(2)
    analog_per_frame = r.u16(4)
    first_frame = r.u16(6)
    last_frame = r.u16(8)
    scale_factor = r.f32(12)
    data_block = r.u16(16)
    spf_header = r.u16(18)
    header_rate = r.f32(20)
    params = _parse_parameters(r, pstart, buf[pstart + 2])
    warnings: list[str] = []

    point_used = int(_first(params, "POINT", "USED", n_points)) & 0xFFFF
    if point_used != n_points:
        n_points = point_used
    ana = params.get("ANALOG", {})
    n_analog = int(_first(params, "ANALOG", "USED", 0)) & 0xFFFF
    if n_analog > limits.max_channels:
        raise InvalidRecording(
            f"{n_analog} analog channels exceeds the limit of {limits.max_channels}"
        )
    if n_analog == 0 or analog_per_frame == 0:
        raise InvalidRecording("the file contains no analog channels (no EMG)")
    if analog_per_frame % n_analog:
        raise InvalidRecording(
            f"corrupt header: {analog_per_frame} analog values per frame is not a multiple "
            f"of {n_analog} channels"
        )
    spf = analog_per_frame // n_analog
    if spf_header and spf_header != spf:
        warnings.append(f"header says {spf_header} analog samples per frame, using {spf}")
    # like ezc3d, the frame rate is POINT:RATE (0 when the POINT group is missing)
    frame_rate = _first(params, "POINT", "RATE")
    frame_rate = float(frame_rate) if frame_rate is not None else 0.0
    if not np.isfinite(frame_rate) or frame_rate <= 0:
        rate_param = _first(params, "ANALOG", "RATE")
        hint = f" (ANALOG:RATE says {float(rate_param):g} Hz)" if rate_param is not None else ""
        raise InvalidRecording(
            f"the file's frame rate is {frame_rate:g} Hz (analog rate 0 or unknown), so sample "
            f"timing and duration cannot be computed{hint}"
        )
    header_rate = frame_rate
    rate = _first(params, "ANALOG", "RATE")
    rate = float(rate) if rate is not None else float(header_rate) * spf
    if not np.isfinite(rate) or rate <= 0:
        raise InvalidRecording(f"analog rate is {rate:g} Hz: duration cannot be computed")
    if rate > limits.max_rate_hz:
        raise InvalidRecording(
            f"analog rate {rate:g} Hz exceeds the limit of {limits.max_rate_hz:g} Hz"
        )
    if abs(rate - header_rate * spf) > 1e-3 * rate:
        warnings.append(
            f"ANALOG:RATE {rate:g} Hz differs from header rate x samples per frame "
            f"({header_rate * spf:g} Hz); using ANALOG:RATE"
        )

    # frame count: header words, POINT:FRAMES (unsigned), TRIAL end field
    frames_header = last_frame - first_frame + 1 if last_frame >= first_frame else 0
    frames_param = _first(params, "POINT", "FRAMES")
    candidates = [frames_header]
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
    n_frames = max(candidates)

    is_float = scale_factor < 0
    word = 4 if is_float else 2
    frame_words = n_points * 4 + analog_per_frame
    frame_bytes = frame_words * word
    dstart = (data_block - 1) * BLOCK
    if data_block < 1 or dstart > size:
        raise InvalidRecording("corrupt header: data section pointer is outside the file")
    available = (size - dstart) // frame_bytes
    if n_frames <= 1 and available > 1:
        # header never finalised (the game crashed or was killed while recording)
        n = available
        body = np.frombuffer(buf, dtype=np.uint8, count=n * frame_bytes, offset=dstart).reshape(
            n, frame_bytes
        )
        nz = np.flatnonzero(body.any(axis=1))
        n = int(nz[-1]) + 1 if nz.size else 0
        if n <= 1:
            raise InvalidRecording("header declares no frames and the data section is empty")
        warnings.append(
            f"header was never finalised (declares {n_frames} frames); recovered {n} frames "
            f"({n * spf / rate:.1f} s) from the data blocks"
        )
        n_frames = n
    elif n_frames > available:
        raise InvalidRecording(
            f"file is truncated: header declares {n_frames} frames but only {available} are present"
        )
    n_samples = n_frames * spf
    if n_samples > limits.max_samples:
        raise InvalidRecording(
            f"{n_samples} samples per channel exceeds the limit of {limits.max_samples}"
        )
    if n_samples / rate > limits.max_duration_s:
        raise InvalidRecording(
            f"recording lasts {n_samples / rate:.0f} s, longer than the limit of "
            f"{limits.max_duration_s:.0f} s"
        )

    fmt = str(_first(params, "ANALOG", "FORMAT", "") or "").upper()

    def per_channel(name: str, default: float) -> list[float]:
        v = ana.get(name)
        out = np.full(n_analog, default, dtype=np.float64)
        if v is not None and len(v):
            k = min(len(v), n_analog)
            out[:k] = np.asarray(v[:k], dtype=np.float64)
        return out.tolist()

    layout = {
        "file_size": size,
        "processor": int(proc_code),
        "data_offset": int(dstart),
        "n_frames": int(n_frames),
        "frame_words": int(frame_words),
        "point_words": int(n_points * 4),
        "word": int(word),
        "unsigned": bool(not is_float and fmt.startswith("UNSIGNED")),
        "samples_per_frame": int(spf),
        "n_analog": int(n_analog),
        "n_samples": int(n_samples),
        "scale": per_channel("SCALE", 1.0),
        "offset": per_channel("OFFSET", 0.0),
        "gen_scale": float(_first(params, "ANALOG", "GEN_SCALE", 1.0)),
    }

    labels = list(ana.get("LABELS", [])) + list(ana.get("LABELS2", []))
    labels = [lab.strip() for lab in labels[:n_analog]]
    labels += [f"A{k + 1}" for k in range(len(labels), n_analog)]
    units = list(ana.get("UNITS", [])) + list(ana.get("UNITS2", []))
    units = [u.strip() for u in units[:n_analog]] + [""] * max(0, n_analog - len(units))
    return RawC3D(
        labels=labels,
        units=units,
        rate_hz=rate,
        analog=None,
        parameters=params,
        processor=processor,
        header_rate_hz=float(header_rate),
        warnings=warnings,
        layout=layout,
    )


def extract_analog(buf: bytes | memoryview, layout: dict[str, Any]) -> np.ndarray:
    """The samples as channel-major float32, scaled by ANALOG:SCALE/OFFSET/GEN_SCALE.

    Re-checks the layout against this buffer (the caller may have read the file again).
    """
    if len(buf) != layout["file_size"]:
        raise InvalidRecording("the file changed while it was being read")
    analog = np.empty(
        (layout["n_analog"], layout["n_frames"] * layout["samples_per_frame"]), np.float32
    )
    words = _Reader(buf, layout["processor"]).array(
        layout["data_offset"],
        layout["n_frames"] * layout["frame_words"],
        layout["word"],
        "the data section",
    )
    _copy_frames(analog, words, layout, 0)
    return _scaled(analog, layout)


# Frames per chunk when reading from disk: small enough that a chunk is still in the CPU
# cache when it is copied out (half the time of reading the whole file, then copying).
_CHUNK_BYTES = 256 * 1024


def read_analog(path: str | os.PathLike, layout: dict[str, Any]) -> np.ndarray:
    """:func:`extract_analog` of the file on disk, read in chunks of frames.

    Raises :class:`InvalidRecording` if the file no longer matches the layout.
    """
    n_frames, frame_words, word = layout["n_frames"], layout["frame_words"], layout["word"]
    frame_bytes = frame_words * word
    analog = np.empty((layout["n_analog"], n_frames * layout["samples_per_frame"]), np.float32)
    chunk_frames = max(1, _CHUNK_BYTES // frame_bytes)
    chunk = bytearray(min(chunk_frames, n_frames) * frame_bytes)
    changed = InvalidRecording("the file changed while it was being read")
    with open(path, "rb", buffering=0) as fh:
        if os.fstat(fh.fileno()).st_size != layout["file_size"]:
            raise changed
        fh.seek(layout["data_offset"])
        for first in range(0, n_frames, chunk_frames):
            count = min(chunk_frames, n_frames - first)
            view = memoryview(chunk)[: count * frame_bytes]
            filled = 0
            while filled < len(view):
                got = fh.readinto(view[filled:])
                if not got:
                    raise changed
                filled += got
            words = _Reader(view, layout["processor"]).array(0, count * frame_words, word, "frames")
            _copy_frames(analog, words, layout, first)
    return _scaled(analog, layout)


def _copy_frames(analog: np.ndarray, words: np.ndarray, layout: dict[str, Any], first: int) -> None:
    """Frames ``first ...`` (frame-major words of the file) into channel-major ``analog``."""
    n_analog, spf = layout["n_analog"], layout["samples_per_frame"]
    count = words.size // layout["frame_words"]
    raw = words.reshape(count, layout["frame_words"])[:, layout["point_words"] :]
    if layout["unsigned"]:
        raw = raw.view(np.uint16)
    # one strided pass from the frame-major file layout into channel-major float32
    np.copyto(
        analog.reshape(n_analog, -1, spf)[:, first : first + count],
        raw.reshape(count, spf, n_analog).transpose(2, 0, 1),
        casting="unsafe",
    )


def _scaled(analog: np.ndarray, layout: dict[str, Any]) -> np.ndarray:
    scale = np.asarray(layout["scale"], dtype=np.float64)
    offset = np.asarray(layout["offset"], dtype=np.float64)
    gen = float(layout["gen_scale"])
    if np.any(scale != 1.0) or np.any(offset != 0.0) or gen != 1.0:
        analog -= offset[:, None].astype(np.float32)
        analog *= (scale[:, None] * gen).astype(np.float32)
    return analog


def read_raw(
    path: str | os.PathLike, *, limits: ReadLimits | None = None, layout_only: bool = False
) -> RawC3D:
    """Read and parse a file from disk (size-checked before reading).

    ``layout_only`` maps the file instead of reading it and stops before the samples: the
    isolated child then touches only the header and parameter blocks (plus the data blocks
    when it must recover the frames of a header that was never finalised).
    """
    limits = limits or ReadLimits()
    path = Path(path)
    try:
        with open(path, "rb") as fh:
            size = os.fstat(fh.fileno()).st_size
            if size > limits.max_file_mb * 1024 * 1024:
                raise InvalidRecording(
                    f"file is {size / 1e6:.0f} MB, larger than the limit of {limits.max_file_mb} MB"
                )
            if size == 0:
                raise InvalidRecording("file is empty (0 bytes)")
            if layout_only:
                buf = mmap.mmap(fh.fileno(), size, prot=mmap.PROT_READ)
            else:
                buf = fh.read()
    except OSError as exc:
        if exc.errno == errno.ENOMEM:  # the isolated reader's memory cap, not a bad file
            raise MemoryError(str(exc)) from None
        raise InvalidRecording(f"cannot read file: {exc.strerror or exc}") from None
    try:
        if layout_only:
            return parse_layout(buf, limits=limits)
        return parse_c3d_bytes(buf, limits=limits)
    except InvalidRecording:
        raise
    except (ValueError, TypeError, IndexError, KeyError, OverflowError, ZeroDivisionError) as exc:
        # a structure no check anticipated: still a refusal with a reason, never a crash
        raise InvalidRecording(
            f"the file is corrupt and could not be parsed ({type(exc).__name__}: {exc})"[:300]
        ) from None


# ---------------------------------------------------------------- metadata


def _param_str(params: dict, group: str, name: str) -> str | None:
    v = params.get(group, {}).get(name)
    if v is None or len(v) == 0:
        return None
    if isinstance(v, list):
        s = " ".join(x for x in v if x).strip()
        return s or None
    return str(v[0])


def _param_num(params: dict, group: str, name: str) -> float | None:
    v = params.get(group, {}).get(name)
    if v is None or len(v) == 0:
        return None
    try:
        x = float(v[0])
    except (TypeError, ValueError):
        return None
    return x if np.isfinite(x) else None


def extract_metadata(params: dict) -> dict[str, Any]:
    """Game metadata from the INFO/SUBJECTS groups (None where absent)."""
    level = _param_num(params, "INFO", "GAME_LEVEL")
    if level is None:
        s = _param_str(params, "INFO", "GAME_LEVEL")
        level = float(s) if s and s.lstrip("-").isdigit() else None
    score = _param_num(params, "SUBJECTS", "GAME_SCORE")
    duration = _param_num(params, "INFO", "DURATION")
    return {
        "game_name": _param_str(params, "INFO", "GAME_NAME"),
        "game_level": int(level) if level is not None else None,
        "game_duration_s": duration,
        "therapist_id": _param_str(params, "INFO", "THERAPIST_ID"),
        "group_id": _param_str(params, "INFO", "GROUP_ID"),
        "player": _param_str(params, "SUBJECTS", "PLAYER_NAME"),
        "game_score": score,
    }


def extract_started_at(params: dict, filename: str | None) -> datetime | None:
    """Start time from ``INFO:TIME`` [y, m, d, h, min], else the Ghostly file name."""
    v = params.get("INFO", {}).get("TIME")
    if isinstance(v, list) and len(v) >= 5:
        try:
            y, mo, d, h, mi = (int(float(x)) for x in v[:5])
            return datetime(y, mo, d, h, mi)  # noqa: DTZ001 (the game writes local wall time)
        except (TypeError, ValueError):
            pass
    if filename:
        m = _GHOSTLY_NAME.search(filename)
        if m:
            try:
                date = datetime.strptime(m.group(1), "%Y%m%d")  # noqa: DTZ007
                return date.replace(
                    hour=int(m.group(2)),
                    minute=int(m.group(3)),
                    second=int(m.group(4)),
                    microsecond=int(m.group(5)) * 100,
                )
            except ValueError:
                return None
    return None


def volts_factor(unit: str) -> float | None:
    """Multiplier to volts for a voltage unit string, None for non-voltage units."""
    return _VOLT_UNITS.get(unit.strip().lower())


# ---------------------------------------------------------------- writing


def _samples_per_frame(rate_hz: float, n_samples: int) -> int:
    for spf in (30, 20, 25, 24, 16, 15, 12, 10, 8, 6, 5, 4, 3, 2):
        if n_samples % spf == 0 and n_samples // spf <= 65535:
            return spf
    return 1


def write_recording(
    path: str | os.PathLike,
    *,
    rate_hz: float,
    channels: dict[str, np.ndarray],
    started_at: datetime | None = None,
    metadata: dict | None = None,
) -> Path:
    """Write analog channels (volts) to a C3D file with the GHOSTLY conventions.

    Labels are space-padded to 13 characters, samples stored as float32, one point
    (``PlayerPosition``, zeros) at the frame rate, ``INFO``/``SUBJECTS`` groups from
    ``metadata`` (keys as in :func:`extract_metadata`) and ``started_at``.
    """
    import ezc3d  # local: only writers need it

    if not channels:
        raise ValueError("write_recording needs at least one channel")
    arrays = [np.asarray(v, dtype=np.float64).ravel() for v in channels.values()]
    n = arrays[0].size
    if any(a.size != n for a in arrays) or n == 0:
        raise ValueError("all channels must have the same, non-zero length")
    if not (np.isfinite(rate_hz) and rate_hz > 0):
        raise ValueError("rate_hz must be finite and > 0")
    spf = _samples_per_frame(rate_hz, n)
    n_frames = n // spf
    c = ezc3d.c3d()
    c["parameters"]["POINT"]["RATE"]["value"] = [rate_hz / spf]
    c["parameters"]["POINT"]["UNITS"]["value"] = ["m"]
    c["parameters"]["ANALOG"]["RATE"]["value"] = [float(rate_hz)]
    labels = [str(k).ljust(13) for k in channels]
    c["parameters"]["ANALOG"]["LABELS"]["value"] = labels
    c["parameters"]["ANALOG"]["UNITS"]["value"] = ["V".ljust(1)] * len(labels)
    c["parameters"]["POINT"]["LABELS"]["value"] = ["PlayerPosition"]
    pts = np.zeros((4, 1, n_frames))
    pts[3] = 0
    c["data"]["points"] = pts
    c["data"]["analogs"] = np.stack(arrays)[None].astype(np.float32).astype(np.float64)
    meta = metadata or {}
    info = {
        "SYSTEM": ["OpenFeasyo"],
        "EVENT": ["gameplay"],
        "GAME_NAME": [str(meta.get("game_name") or "")],
        "VERSION": ["myoclinic"],
        "THERAPIST_ID": [str(meta.get("therapist_id") or "---")],
        "GROUP_ID": [str(meta.get("group_id") or "N/A")],
    }
    for group, name, value in [("INFO", k, v) for k, v in info.items()] + [
        ("SUBJECTS", "PLAYER_NAME", [str(meta.get("player") or "Default")])
    ]:
        c.add_parameter(group, name, value)
    if meta.get("game_level") is not None:
        c.add_parameter("INFO", "GAME_LEVEL", [int(meta["game_level"])])
    duration = meta.get("game_duration_s")
    c.add_parameter("INFO", "DURATION", [int(duration if duration is not None else n / rate_hz)])
    if started_at is not None:
        c.add_parameter(
            "INFO",
            "TIME",
            [
                str(started_at.year),
                str(started_at.month),
                str(started_at.day),
                str(started_at.hour),
                str(started_at.minute),
            ],
        )
    if meta.get("game_score") is not None:
        c.add_parameter("SUBJECTS", "GAME_SCORE", [float(meta["game_score"])])
    path = Path(path)
    c.write(str(path))
    return path
