"""Reading C3D files: the structure via :mod:`.c3d_parse`, then the samples within its layout.

The samples are copied from the frame-major file into channel-major float32 with one
bounded, strided numpy pass per chunk of frames, after the layout has been checked against
the file's size (numbers are harmless; the structure is what makes parsers allocate
gigabytes or loop). :func:`read_analog` re-checks the size, because the isolated reader
(:mod:`.reader`) validates the layout in a child and the caller reads the file again.
"""

from __future__ import annotations

import errno
import mmap
import os
from pathlib import Path
from typing import Any

import numpy as np

from .c3d_parse import RawC3D, parse_layout
from .c3d_words import Words
from .config import ReadLimits
from .errors import InvalidRecording

# Bytes of frames per chunk when reading from disk: small enough that a chunk is still in
# the CPU cache when it is copied out, which beats reading the whole file, then copying.
_CHUNK_BYTES = 256 * 1024


def parse_c3d_bytes(buf: bytes | memoryview, *, limits: ReadLimits | None = None) -> RawC3D:
    """Parse a whole C3D file held in memory. Raises :class:`InvalidRecording`."""
    raw = parse_layout(buf, limits=limits)
    raw.analog = extract_analog(buf, raw.layout)
    return raw


def extract_analog(buf: bytes | memoryview, layout: dict[str, Any]) -> np.ndarray:
    """The samples as channel-major float32, scaled by ANALOG:SCALE/OFFSET/GEN_SCALE.

    Re-checks the layout against this buffer (the caller may have read the file again).
    """
    if len(buf) != layout["file_size"]:
        raise InvalidRecording("the file changed while it was being read")
    analog = np.empty(
        (layout["n_analog"], layout["n_frames"] * layout["samples_per_frame"]), np.float32
    )
    words = Words(buf, layout["processor"]).array(
        layout["data_offset"],
        layout["n_frames"] * layout["frame_words"],
        layout["word"],
        "the data section",
    )
    _copy_frames(analog, words, layout, 0)
    return _scaled(analog, layout)


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
            words = Words(view, layout["processor"]).array(0, count * frame_words, word, "frames")
            _copy_frames(analog, words, layout, first)
    return _scaled(analog, layout)


def _copy_frames(analog: np.ndarray, words: np.ndarray, layout: dict[str, Any], first: int) -> None:
    """Frames ``first ...`` (frame-major words of the file) into channel-major ``analog``."""
    n_analog, spf = layout["n_analog"], layout["samples_per_frame"]
    count = words.size // layout["frame_words"]
    raw = words.reshape(count, layout["frame_words"])[:, layout["point_words"] :]
    if layout["unsigned"]:
        raw = raw.view(np.uint16)
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
