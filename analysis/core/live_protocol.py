"""The live ingest protocol: the device's hello, its binary sample frames, and the spool.

A device announces its channels in a JSON hello, then sends binary frames: a 16-byte
little-endian header (``sequence`` uint32, ``first_sample`` uint64, ``n_samples`` uint16,
``n_channels`` uint16) followed by ``n_samples * n_channels`` little-endian float32 values,
sample by sample (all channels of sample 0, then of sample 1, ...). docs/live-protocol.md is
the vendor's description; this module is its one implementation (server and replay client).

The server appends every accepted frame, byte for byte as received, to a spool file; the
spool is therefore a sequence of frames that :func:`read_spool` reads back (a partial last
frame, from a crash mid-write, is ignored).
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass

import numpy as np

HEADER = struct.Struct("<IQHH")
HEADER_BYTES = HEADER.size  # 16
SAMPLE_DTYPE = np.dtype("<f4")
MAX_CHANNELS = 32
MAX_LABEL_CHARS = 32
MIN_RATE_HZ = 50.0
MAX_RATE_HZ = 10000.0
MAX_FRAME_S = 1.0  # a frame holds at most one second of samples
MAX_SPEED = 50.0

# Close codes (the application range 4000-4999), one per kind of refusal.
CLOSE_MALFORMED = 4400
CLOSE_UNAUTHENTICATED = 4401
CLOSE_FORBIDDEN = 4403
CLOSE_NOT_FOUND = 4404
CLOSE_IDLE = 4408
CLOSE_SECOND_DEVICE = 4409
CLOSE_WRONG_SIZE = 4411
CLOSE_SEQUENCE = 4412
CLOSE_TOO_LARGE = 4413
CLOSE_MISMATCH = 4415
CLOSE_NOT_FINITE = 4422
CLOSE_TOO_FAST = 4429


class ProtocolError(Exception):
    """A refusal: ``code`` is the websocket close code, ``message`` says why in words."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Hello:
    """What the device announced: its channels, their rate and units, the replay speed."""

    labels: tuple[str, ...]
    rate_hz: float
    units: tuple[str, ...]
    speed: float = 1.0
    device: str = ""
    ranges: tuple = ()  # full scale per channel (+/- in its unit), None when not given

    def as_json(self) -> dict:
        return {
            "labels": list(self.labels),
            "rate_hz": self.rate_hz,
            "units": list(self.units),
            "speed": self.speed,
            "device": self.device,
            "ranges": list(self.ranges),
        }

    def same_stream(self, other: Hello) -> bool:
        """Whether ``other`` may resume this stream (same channels, rate and units)."""
        return (self.labels, self.rate_hz, self.units) == (
            other.labels,
            other.rate_hz,
            other.units,
        )

    @property
    def max_frame_samples(self) -> int:
        return min(65535, max(1, int(self.rate_hz * MAX_FRAME_S)))


def parse_hello(message) -> Hello:
    """The hello (a decoded JSON object), checked; ProtocolError(4400) says what is wrong."""

    def bad(why: str) -> ProtocolError:
        return ProtocolError(CLOSE_MALFORMED, f"hello: {why}")

    if not isinstance(message, dict) or message.get("type") != "hello":
        raise bad('the first message must be a JSON object with "type": "hello"')
    channels = message.get("channels")
    if not isinstance(channels, list) or not 1 <= len(channels) <= MAX_CHANNELS:
        raise bad(f'"channels" must be a list of 1 to {MAX_CHANNELS} channels')
    labels, units, ranges = [], [], []
    for ch in channels:
        if not isinstance(ch, dict):
            raise bad('each channel must be an object {"label": ..., "unit": ...}')
        label, unit = ch.get("label"), ch.get("unit", "V")
        if not isinstance(label, str) or not label.strip() or len(label) > MAX_LABEL_CHARS:
            raise bad(f"each channel needs a label of 1 to {MAX_LABEL_CHARS} characters")
        if unit not in ("V", "mV", "uV"):
            raise bad(f'unit of {label!r} must be "V", "mV" or "uV"')
        full_scale = ch.get("range")
        if full_scale is not None and (
            isinstance(full_scale, bool)
            or not isinstance(full_scale, int | float)
            or not (math.isfinite(full_scale) and full_scale > 0)
        ):
            raise bad(f'"range" of {label!r} must be a positive number (full scale, +/-)')
        labels.append(label.strip())
        units.append(unit)
        ranges.append(float(full_scale) if full_scale is not None else None)
    if len(set(labels)) != len(labels):
        raise bad("channel labels must be unique")
    rate = message.get("rate_hz")
    if isinstance(rate, bool) or not isinstance(rate, int | float) or not math.isfinite(rate):
        raise bad('"rate_hz" must be a number')
    if not MIN_RATE_HZ <= rate <= MAX_RATE_HZ:
        raise bad(f'"rate_hz" must be between {MIN_RATE_HZ:g} and {MAX_RATE_HZ:g}')
    speed = message.get("speed", 1)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not math.isfinite(speed):
        raise bad('"speed" must be a number')
    if not 0 < speed <= MAX_SPEED:
        raise bad(f'"speed" must be above 0 and at most {MAX_SPEED:g}')
    device = message.get("device", "")
    if not isinstance(device, str) or len(device) > 64:
        raise bad('"device" must be a string of at most 64 characters')
    return Hello(
        tuple(labels), float(rate), tuple(units), float(speed), device.strip(), tuple(ranges)
    )


def encode_frame(sequence: int, first_sample: int, samples: np.ndarray) -> bytes:
    """One binary frame: ``samples`` is (n_samples, n_channels), sent as float32 LE."""
    block = np.ascontiguousarray(samples, dtype=SAMPLE_DTYPE)
    n, c = block.shape
    return HEADER.pack(sequence, first_sample, n, c) + block.tobytes()


@dataclass
class Frame:
    sequence: int
    first_sample: int
    samples: np.ndarray  # (n_samples, n_channels) float32


class FrameChecker:
    """Checks each frame of one stream against the hello and what came before.

    ``next_sequence``/``next_sample`` are where the stream stands (0/0 for a new stream,
    the spool's end when a device resumes). Frames must follow on without a gap or overlap.
    """

    def __init__(
        self, hello: Hello, *, next_sequence: int = 0, next_sample: int = 0, max_bytes: int
    ) -> None:
        self.hello = hello
        self.n_channels = len(hello.labels)
        self.next_sequence = next_sequence
        self.next_sample = next_sample
        self.max_bytes = max_bytes

    def check(self, data: bytes) -> Frame:
        """The frame decoded, or a ProtocolError; accepting it moves the stream on."""
        if len(data) > self.max_bytes:
            raise ProtocolError(
                CLOSE_TOO_LARGE, f"frame of {len(data)} bytes is above the {self.max_bytes} limit"
            )
        if len(data) < HEADER_BYTES:
            raise ProtocolError(
                CLOSE_MALFORMED, f"frame of {len(data)} bytes is shorter than its 16-byte header"
            )
        seq, first, n, c = HEADER.unpack_from(data)
        if c != self.n_channels:
            raise ProtocolError(
                CLOSE_MISMATCH, f"frame has {c} channels, the hello announced {self.n_channels}"
            )
        if n == 0 or n > self.hello.max_frame_samples:
            raise ProtocolError(
                CLOSE_TOO_LARGE if n else CLOSE_WRONG_SIZE,
                f"frame holds {n} samples per channel (1 to "
                f"{self.hello.max_frame_samples}, at most one second, are allowed)",
            )
        expected = HEADER_BYTES + n * c * SAMPLE_DTYPE.itemsize
        if len(data) != expected:
            raise ProtocolError(
                CLOSE_WRONG_SIZE,
                f"frame is {len(data)} bytes; its header ({n} samples x {c} channels) "
                f"needs {expected}",
            )
        if seq != self.next_sequence:
            kind = "duplicated" if seq < self.next_sequence else "out of order"
            raise ProtocolError(
                CLOSE_SEQUENCE,
                f"sequence {seq} is {kind}: the next expected is {self.next_sequence}",
            )
        if first != self.next_sample:
            raise ProtocolError(
                CLOSE_SEQUENCE,
                f"first_sample {first} does not follow on: the next expected is {self.next_sample}",
            )
        samples = np.frombuffer(data, dtype=SAMPLE_DTYPE, offset=HEADER_BYTES).reshape(n, c)
        if not np.isfinite(samples).all():
            bad = np.argwhere(~np.isfinite(samples))[0]
            raise ProtocolError(
                CLOSE_NOT_FINITE,
                f"sample {first + int(bad[0])} of {self.hello.labels[int(bad[1])]} is not a "
                "finite number (NaN or infinity)",
            )
        self.next_sequence += 1
        self.next_sample += n
        return Frame(seq, first, samples)


class RateGuard:
    """Refuses a device that sends faster than it announced (a silent rate change).

    Samples may run ahead of the wall clock by ``burst_s`` of signal (network bunching,
    a device catching up after a stall); beyond that, the rate is not the announced one.
    """

    def __init__(self, hello: Hello, *, burst_s: float = 2.0, tolerance: float = 0.1) -> None:
        self.rate = hello.rate_hz * hello.speed * (1 + tolerance)
        self.burst = burst_s * hello.rate_hz * hello.speed
        self.start: float | None = None
        self.samples = 0

    def check(self, n_samples: int, now: float) -> None:
        if self.start is None:
            self.start = now
        self.samples += n_samples
        allowed = (now - self.start) * self.rate + self.burst
        if self.samples > allowed:
            raise ProtocolError(
                CLOSE_TOO_FAST,
                f"{self.samples} samples in {now - self.start:.2f} s is faster than the "
                "announced rate_hz (times speed): a rate change is not allowed mid-stream",
            )


def read_spool(data: bytes, n_channels: int) -> tuple[np.ndarray, int, int]:
    """The samples of a spool (n, n_channels float32), the next sequence and the bytes used.

    Stops at the first incomplete or inconsistent frame (a crash mid-write): what follows
    it is not the stream's.
    """
    blocks, pos, seq = [], 0, 0
    while pos + HEADER_BYTES <= len(data):
        s, first, n, c = HEADER.unpack_from(data, pos)
        end = pos + HEADER_BYTES + n * c * SAMPLE_DTYPE.itemsize
        if c != n_channels or end > len(data) or s != seq:
            break
        blocks.append(np.frombuffer(data, SAMPLE_DTYPE, n * c, pos + HEADER_BYTES).reshape(n, c))
        pos, seq = end, s + 1
    samples = np.concatenate(blocks) if blocks else np.zeros((0, n_channels), SAMPLE_DTYPE)
    return samples, seq, pos
