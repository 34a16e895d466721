"""Errors raised by the numeric core."""

from __future__ import annotations


class InvalidRecording(Exception):
    """A recording that cannot be analysed; ``str()`` is one human-readable line.

    Raised for every refusal (unreadable file, inconsistent header, no EMG channel,
    sampling rate too low, parser out of memory or time, ...). Callers show the
    message to the user as-is and store it as the failure reason.
    """

    def __init__(self, reason: str) -> None:
        reason = " ".join(str(reason).split()) or "invalid recording"
        super().__init__(reason)
        self.reason = reason

    def __str__(self) -> str:
        return self.reason
