"""The stateless analysis: an uploaded file in, the core's document out, nothing stored."""

from __future__ import annotations

from django.conf import settings

from analysis import core
from analysis.pipeline.inputs import read_limits, uploaded_file_copy
from sessions.uploads import upload_check

STATELESS_PREFIX = "myoclinic-stateless-"


def analysis_stateless(*, uploaded_file, timeout_s: float | None = None) -> dict:
    """Analyse an uploaded file and return the core's document, storing nothing.

    The same checks as an upload (size, C3D header) run first and raise ``UploadRefused``; the
    file is then read in the core's isolated child with a time limit, and the temporary copy
    is deleted whatever happens. ``InvalidRecording`` propagates with its human reason.
    """
    upload_check(uploaded_file=uploaded_file)
    limits = read_limits(timeout_s=timeout_s or settings.STATELESS_ANALYSIS_TIMEOUT_S)
    with uploaded_file_copy(uploaded_file, prefix=STATELESS_PREFIX) as path:
        return core.analyse_file(path, limits=limits, isolated=True, include_envelope=True)
