"""Myoclinic's numeric core: C3D in, clinical EMG metrics out (numpy, scipy, ezc3d only).

No Django, Celery or Channels here (an import-linter contract enforces it). The public
contract is what this module exports; see docs/core.md for the method and the JSON schema.
"""

__version__ = "1.0.0"

from .analysis import analyse_file, analyse_recording, calibrate_mvc  # noqa: E402
from .c3d_io import write_recording  # noqa: E402
from .config import AnalysisConfig, ReadLimits, ScoringConfig  # noqa: E402
from .errors import InvalidRecording  # noqa: E402
from .reader import read_recording  # noqa: E402
from .recording import Channel, Recording  # noqa: E402
from .streaming import StreamingAnalyser  # noqa: E402

__all__ = [
    "AnalysisConfig",
    "Channel",
    "InvalidRecording",
    "ReadLimits",
    "Recording",
    "ScoringConfig",
    "StreamingAnalyser",
    "__version__",
    "analyse_file",
    "analyse_recording",
    "calibrate_mvc",
    "read_recording",
    "write_recording",
]
