"""The C3D header check takes any bytes without crashing: bad input is a refusal, never a 500."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.uploads import UploadRefused, c3d_header_problem, upload_check


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_get_an_answer(data):
    problem = c3d_header_problem(data, size=len(data))
    assert problem is None or isinstance(problem, str)


@settings(max_examples=200, deadline=None)
@given(
    first_block=st.integers(0, 255),
    processor=st.integers(0, 255),
    tail=st.binary(max_size=2000),
)
def test_a_c3d_like_header_is_judged_by_its_marker_block_and_processor(
    first_block, processor, tail
):
    data = bytearray([first_block, 0x50]) + bytearray(tail) + bytearray(1024)
    if 1 <= first_block <= 2:
        data[(first_block - 1) * 512 + 3] = processor
    accepted = c3d_header_problem(bytes(data), size=len(data)) is None
    expected = 1 <= first_block <= 2 and processor in (84, 85, 86)
    if first_block <= 2:
        assert accepted == expected
    upload = SimpleUploadedFile("x.c3d", bytes(data))
    if accepted:
        upload_check(uploaded_file=upload)
    else:
        with pytest.raises(UploadRefused, match="x.c3d is not a C3D recording"):
            upload_check(uploaded_file=upload)
