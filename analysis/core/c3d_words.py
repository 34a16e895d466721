"""Bounds-checked access to a C3D file's bytes in the three processor formats of the C3D
specification: Intel (little-endian IEEE floats), DEC/VAX (little-endian, VAX F-floats) and
SGI/MIPS (big-endian IEEE floats). Every read is checked against the file's size first, so
a corrupt offset or count becomes an :class:`~.errors.InvalidRecording`, never a crash.
"""

from __future__ import annotations

import numpy as np

from .errors import InvalidRecording

PROC_INTEL, PROC_DEC, PROC_MIPS = 84, 85, 86


def _dec_to_ieee(raw: np.ndarray) -> np.ndarray:
    """DEC/VAX F-float bytes -> IEEE float32 (swap 16-bit halves, divide by 4)."""
    b = raw.view(np.uint8).reshape(-1, 4)[:, [2, 3, 0, 1]]
    return np.ascontiguousarray(b).view("<f4").reshape(raw.shape) / np.float32(4.0)


class Words:
    """Bounds-checked access to the file's bytes in its processor's byte order and floats."""

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
