"""The cheap, certain checks of a C3D file's first bytes (standard library only).

One definition for the upload form (which refuses a file before storing it, from the first
:data:`C3D_HEADER_BYTES` bytes, without numpy) and for the core's parser (:mod:`.c3d_parse`,
which adds its own stricter checks of everything behind the header).
"""

from __future__ import annotations

C3D_BLOCK = 512
# Byte 2 of a C3D file is always 0x50 (80); byte 1 points at the first parameter block, whose
# 4th byte is the processor type: 84 Intel, 85 DEC, 86 SGI/MIPS.
C3D_MARKER = 0x50
C3D_PROCESSORS = {84, 85, 86}
MAX_FIRST_PARAMETER_BLOCK = 127
C3D_HEADER_BYTES = MAX_FIRST_PARAMETER_BLOCK * C3D_BLOCK
"""How many leading bytes a caller must pass to :func:`c3d_header_problem` (fewer skip the
processor check when the parameter section starts beyond them)."""


def c3d_header_problem(head: bytes, *, size: int) -> str | None:
    """Why ``head`` (the first bytes of a file of ``size`` bytes) is not a C3D file, or None.

    Checks only what is cheap and certain: the 0x50 marker, a first parameter block that lies
    inside the file, and a known processor type in that block's header. ``head`` may be any
    indexable buffer (``bytes``, ``memoryview``, ``mmap``), including the whole file.
    """
    if size == 0:
        return "the file is empty"
    if size < C3D_BLOCK or len(head) < 2:
        return "the file is too short to be a C3D file"
    if head[1] != C3D_MARKER:
        return "the file does not start with a C3D header"
    first_block = head[0]
    if not 1 <= first_block <= MAX_FIRST_PARAMETER_BLOCK:
        return "the C3D header points at an impossible parameter block"
    processor_at = (first_block - 1) * C3D_BLOCK + 3
    if size <= processor_at:
        return "the C3D parameter section lies beyond the end of the file"
    if processor_at < len(head) and head[processor_at] not in C3D_PROCESSORS:
        return "the C3D parameter section has an unknown processor type"
    return None
