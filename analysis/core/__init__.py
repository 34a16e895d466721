"""Myoclinic's numeric core: C3D in, clinical EMG metrics out (numpy, scipy, numba, ezc3d).

No Django, Celery or Channels here (an import-linter contract enforces it). The public
contract is what this module exports; see docs/core.md for the method and the JSON schema.

Importing the package is cheap: the names below are loaded from their submodules on first
use (PEP 562 ``__getattr__``, as in scientific-python SPEC 1), so the web process can catch
``InvalidRecording`` or check an upload's header without loading numpy, scipy or numba.
A process that will analyse calls :func:`preload` first (a Celery worker before it forks).
"""

from __future__ import annotations

import importlib

from .version import __version__

TYPE_CHECKING = False  # not typing's: importing typing would cost more than this package

# public name -> the submodule that defines it
_EXPORTS = {
    "AnalysisConfig": "config",
    "ReadLimits": "config",
    "ScoringConfig": "config",
    "InvalidRecording": "errors",
    "ChannelMapMismatch": "errors",
    "UnknownChannel": "errors",
    "C3D_HEADER_BYTES": "c3d_header",
    "c3d_header_problem": "c3d_header",
    "Channel": "recording",
    "Recording": "recording",
    "read_recording": "reader",
    "write_recording": "c3d_write",
    "analyse_file": "analysis",
    "analyse_recording": "analysis",
    "MvcEstimate": "mvc",
    "calibrate_mvc": "mvc",
    "StreamingAnalyser": "streaming",
}
# submodules reachable as attributes (``core.synth``) without an import statement
_SUBMODULES = {
    "analysis",
    "c3d_header",
    "c3d_metadata",
    "c3d_parse",
    "c3d_read",
    "c3d_words",
    "c3d_write",
    "channels",
    "cli",
    "config",
    "dsp",
    "errors",
    "evaluation",
    "kernels",
    "mvc",
    "reader",
    "recording",
    "runs",
    "scoring",
    "stream_detector",
    "stream_signal",
    "streaming",
    "synth",
    "version",
}
# what preload() imports: everything an analysis or a live stream needs
_HEAVY = ("analysis", "mvc", "streaming")

__all__ = [  # = _EXPORTS + __version__ + preload (tested)
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
]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(f".{_EXPORTS[name]}", __name__), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return __all__


def preload() -> None:
    """Import the heavy modules (numpy, scipy, numba and the analysis) now.

    For a process that forks workers (Celery prefork): imported once in the parent, the
    modules are shared by every child instead of being imported by each on its first
    recording.
    """
    for module in _HEAVY:
        importlib.import_module(f".{module}", __name__)


if TYPE_CHECKING:  # what static analysis sees; at run time the names load lazily
    from .analysis import analyse_file, analyse_recording
    from .c3d_header import C3D_HEADER_BYTES, c3d_header_problem
    from .c3d_write import write_recording
    from .config import AnalysisConfig, ReadLimits, ScoringConfig
    from .errors import ChannelMapMismatch, InvalidRecording, UnknownChannel
    from .mvc import MvcEstimate, calibrate_mvc
    from .reader import read_recording
    from .recording import Channel, Recording
    from .streaming import StreamingAnalyser
