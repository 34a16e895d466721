"""Live streams over websockets: a device's ingest and the therapists' live view.

``ws/sessions/<id>/ingest/``: one device per session sends a JSON hello then binary frames
(docs/live-protocol.md). Every frame is checked, appended to the spool, analysed, and what
viewers need is published once through the process's fan-out (analysis.pipeline.live_fanout);
raw samples never leave the process. ``ws/sessions/<id>/live/``: the viewers (session
cookie, the access policy, Origin checked by config.asgi), each with a bounded queue: a slow
viewer loses its oldest frames (the next frame says how many) and never holds up the device
or the other viewers.

``base`` (dispatch, the ingest group), ``ingest`` (the device), ``viewers`` (the live view).
"""

from analysis.live_consumers.base import LiveConsumer, ingest_group
from analysis.live_consumers.ingest import IngestConsumer
from analysis.live_consumers.viewers import LiveViewConsumer

__all__ = ["IngestConsumer", "LiveConsumer", "LiveViewConsumer", "ingest_group"]
