"""Myoclinic's numeric core: C3D in, clinical EMG metrics out (numpy, scipy, ezc3d only).

No Django, Celery or Channels here (an import-linter contract enforces it). The public
contract is what this module exports; see docs/core.md for the method and the JSON schema.
"""

from .c3d_io import write_recording
from .config import AnalysisConfig, ReadLimits, ScoringConfig
from .errors import InvalidRecording
from .reader import read_recording
from .recording import Channel, Recording

__version__ = "1.0.0"

__all__ = [
    "AnalysisConfig",
    "Channel",
    "InvalidRecording",
    "ReadLimits",
    "Recording",
    "ScoringConfig",
    "__version__",
    "read_recording",
    "write_recording",
]
