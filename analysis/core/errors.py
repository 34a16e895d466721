"""Errors raised by the numeric core; callers tell them apart by type, never by message."""

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


class ChannelMapMismatch(InvalidRecording):
    """The ``channel_map`` given does not fit this file (a key names no channel of it, or a
    side is not left/right). A caller that applies a clinic-wide map can catch this one and
    read the file again with the automatic channel choice."""


class UnknownChannel(InvalidRecording):
    """A channel named by the caller (e.g. ``calibrate_mvc(channel=...)``) is not among the
    recording's EMG channels."""


# The isolated reader reports a refusal as JSON; the caller raises the same type again.
BY_NAME = {cls.__name__: cls for cls in (InvalidRecording, ChannelMapMismatch, UnknownChannel)}
