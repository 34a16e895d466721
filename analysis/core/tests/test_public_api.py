"""The package's public names: cheap to import, loaded on first use, errors told apart by type."""

from __future__ import annotations

import pytest

from analysis import core
from analysis.core import c3d_header

from .conftest import run_python

PUBLIC = {
    "AnalysisConfig",
    "C3D_HEADER_BYTES",
    "Channel",
    "ChannelMapMismatch",
    "InvalidRecording",
    "MvcEstimate",
    "ReadLimits",
    "Recording",
    "ScoringConfig",
    "StreamingAnalyser",
    "UnknownChannel",
    "__version__",
    "analyse_file",
    "analyse_recording",
    "c3d_header_problem",
    "calibrate_mvc",
    "preload",
    "read_recording",
    "write_recording",
}
HEAVY = "sorted(m for m in sys.modules if m.split('.')[0] in ('numpy', 'scipy', 'numba'))"


def test_importing_the_package_and_its_cheap_names_loads_no_numeric_library():
    # the web process imports the core to catch its errors and check upload headers
    out = run_python(
        "-c",
        "import sys\n"
        "import analysis.core\n"
        "from analysis.core import InvalidRecording, c3d_header_problem, __version__\n"
        "from analysis.core import ChannelMapMismatch, UnknownChannel, C3D_HEADER_BYTES\n"
        f"print({HEAVY})\n",
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


def test_preload_imports_what_an_analysis_needs():
    out = run_python(
        "-c",
        "import sys\n"
        "from analysis import core\n"
        "core.preload()\n"
        "print(sorted({m.split('.')[0] for m in eval(sys.argv[1])}))\n"
        "print(all(f'analysis.core.{m}' in sys.modules for m in ('analysis', 'streaming')))\n",
        HEAVY,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[:2] == ["['numba', 'numpy', 'scipy']", "True"]


def test_every_public_name_resolves_and_is_listed():
    assert set(core.__all__) == PUBLIC == {*core._EXPORTS, "__version__", "preload"}
    assert set(dir(core)) == PUBLIC
    for name in PUBLIC:
        assert getattr(core, name) is not None
    assert core.calibrate_mvc.__module__ == "analysis.core.mvc"
    assert core.synth.generate_session  # submodules load on attribute access too
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        core.nope  # noqa: B018


def test_the_analysis_documents_carry_the_package_version():
    from analysis.core import analysis, version

    assert core.__version__ == version.__version__
    assert "from .version import __version__" in open(analysis.__file__).read()


def test_error_types_share_the_one_line_base():
    for cls in (core.ChannelMapMismatch, core.UnknownChannel):
        assert issubclass(cls, core.InvalidRecording)
        assert str(cls("two\nlines")) == "two lines"


def _file(size: int, first_block: int = 2, processor: int = 84) -> bytes:
    data = bytearray(size)
    if size:
        data[0] = first_block
    if size > 1:
        data[1] = 0x50
    at = (first_block - 1) * 512 + 3
    if 0 <= at < size:
        data[at] = processor
    return bytes(data)


@pytest.mark.parametrize(
    ("head", "size", "problem"),
    [
        (b"", 0, "the file is empty"),
        (_file(100), 100, "the file is too short to be a C3D file"),
        (b"\x02", 2048, "the file is too short to be a C3D file"),
        (b"\x02\x51" + bytes(1022), 1024, "the file does not start with a C3D header"),
        (
            _file(2048, first_block=0),
            2048,
            "the C3D header points at an impossible parameter block",
        ),
        (_file(2048, first_block=128), 2048 * 64, "impossible parameter block"),
        (
            _file(512, first_block=2),
            512,
            "the C3D parameter section lies beyond the end of the file",
        ),
        (
            _file(2048, processor=83),
            2048,
            "the C3D parameter section has an unknown processor type",
        ),
        (_file(2048, processor=86), 2048, None),
        # the processor lies beyond the bytes given: not checked, and no error
        (_file(2048, first_block=3)[:600], 2048, None),
    ],
)
def test_the_header_check_states_the_first_problem(head, size, problem):
    got = c3d_header.c3d_header_problem(head, size=size)
    assert got == problem or (problem is not None and problem in (got or ""))


def test_header_bytes_cover_the_furthest_parameter_block():
    assert c3d_header.C3D_HEADER_BYTES == 127 * 512
    head = _file(200 * 512, first_block=127)
    assert c3d_header.c3d_header_problem(head[: core.C3D_HEADER_BYTES], size=len(head)) is None


def test_the_parser_refuses_a_bad_header_with_the_shared_reason(tmp_path):
    # one check for uploads and the worker: the parser's reason is the same sentence
    path = tmp_path / "x.c3d"
    path.write_bytes(_file(4096, processor=12))
    with pytest.raises(
        core.InvalidRecording,
        match="^not a C3D file: the C3D parameter section has an unknown processor type$",
    ):
        core.read_recording(path, isolated=False)
