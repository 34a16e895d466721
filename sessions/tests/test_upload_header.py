"""The C3D header check takes any bytes without crashing: bad input is a refusal, never a 500."""

from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import given, settings
from hypothesis import strategies as st

from sessions.uploads import UploadRefused, upload_check


def accepted(data: bytes, name="x.c3d") -> bool:
    """Whether the upload check lets ``data`` through; a refusal names the file and says why."""
    try:
        upload_check(uploaded_file=SimpleUploadedFile(name, data))
    except UploadRefused as refused:
        message = refused.message
    else:
        return True
    assert message.startswith(f"{name} is not a C3D recording: ")
    return False


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=3000))
def test_any_bytes_get_an_answer(data):
    assert accepted(data) in (True, False)


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
    expected = 1 <= first_block <= 2 and processor in (84, 85, 86)
    if first_block <= 2:
        assert accepted(bytes(data)) == expected
    else:
        accepted(bytes(data))  # a parameter block further on: an answer either way
