"""Live frames written straight to a viewer's socket under Daphne, framed once for all viewers.

Each live frame goes to every viewer of its session, 40-odd times per stream-second. Through
``send`` it costs, per viewer: the ASGI message dict, Daphne's ``handle_reply`` (connection
lookup, header checks), its ``serverSend`` (UTF-8 encoding), autobahn's ``sendMessage``
(argument checks, statistics, framing) and Twisted's buffered ``write``, whose bytes reach the
socket only on the reactor's next pass (docs/live-deployment.md, eighth round). Here the text is
framed once (autobahn's ``PreparedMessage``, the library's own way to send one payload on many
connections) and each viewer's frame is written at once with the socket's ``send`` when
nothing is buffered before it; the rest, if the kernel takes only part, goes to Twisted's
buffer as usual, so order and back-pressure are those of the normal path.

Only Daphne's websocket protocol over plain TCP (behind the proxy, as deployed) with no
compression negotiated is written to directly; anything else (TLS in Daphne, the test
communicator, another server) returns ``False`` and the caller sends as usual.
"""

from __future__ import annotations

import functools
import sys

from autobahn.websocket.protocol import PreparedMessage, WebSocketProtocol
from twisted.internet import tcp

OPEN = WebSocketProtocol.STATE_OPEN


@functools.lru_cache(maxsize=1)
def text_frame(text: str) -> bytes:
    """The server-side (unmasked) websocket frame of ``text``; the viewers of one session are
    sent the same text in turn, so one entry frames it once for all of them."""
    return PreparedMessage(text.encode(), False, False, False).payloadHybi


class DirectTextSend:
    """Writes text frames to one Daphne websocket connection (see the module)."""

    __slots__ = ("protocol", "connection")

    def __init__(self, protocol, connection: dict) -> None:
        self.protocol = protocol
        self.connection = connection  # Daphne's record of it: "disconnected" once closed

    @classmethod
    def for_send(cls, send) -> DirectTextSend | None:
        """The direct writer behind ``send`` (Daphne's ``handle_reply`` bound to a websocket
        protocol, below channels' wrappers), or None when ``send`` is anything else."""
        found = daphne_protocol(send)
        if found is None:
            return None
        server, protocol = found
        connection = server.connections.get(protocol)
        return None if connection is None else cls(protocol, connection)

    def __call__(self, text: str) -> bool:
        """Send ``text`` as one frame. True: sent, or dropped because the connection is
        closing or closed (as Daphne's send does); False: not for this path (send it as
        usual)."""
        protocol = self.protocol
        if "disconnected" in self.connection or protocol.state != OPEN:
            return True  # Daphne's handle_reply drops it too; autobahn would raise
        transport = protocol.transport
        if (
            protocol._perMessageCompress is not None
            or protocol.send_queue
            or type(transport) is not tcp.Server
        ):
            return False
        frame = text_frame(text)
        if transport.disconnecting or not transport.connected:
            return True
        if transport._tempDataLen or len(transport.dataBuffer) > transport.offset:
            transport.write(frame)  # bytes wait before it: keep their order
            return True
        try:
            sent = transport.socket.send(frame)
        except (BlockingIOError, InterruptedError):
            sent = 0
        except OSError:
            return True  # the connection is gone; Twisted's reader reports it
        if sent < len(frame):
            transport.write(frame[sent:])  # the kernel's buffer is full: Twisted waits
        return True


def daphne_protocol(send) -> tuple | None:
    """Daphne's server and websocket protocol behind ``send`` (``handle_reply`` bound to the
    protocol), or None when ``send`` is anything else. Daphne's modules are looked up, not
    imported: importing ``daphne.server`` installs Twisted's reactor, which only Daphne's
    own process should do."""
    daphne_server = sys.modules.get("daphne.server")
    daphne_ws = sys.modules.get("daphne.ws_protocol")
    if daphne_server is None or daphne_ws is None:
        return None  # not served by Daphne
    if not isinstance(send, functools.partial) or len(send.args) != 1:
        return None
    server = getattr(send.func, "__self__", None)
    protocol = send.args[0]
    if getattr(send.func, "__func__", None) is not daphne_server.Server.handle_reply:
        return None
    if not isinstance(server, daphne_server.Server):
        return None
    if not isinstance(protocol, daphne_ws.WebSocketProtocol):
        return None
    return server, protocol


def release_closed_deferred(send) -> None:
    """Break the cycle a closed autobahn connection keeps: its ``is_closed`` Deferred holds
    the protocol as its result, and the protocol holds the Deferred, so the protocol (its
    buffers, Daphne's request, the scope) waits for a full collection of the garbage
    collector; without the result, reference counting frees it as the connection ends."""
    found = daphne_protocol(send)
    protocol = found[1] if found is not None else None
    closed = getattr(protocol, "is_closed", None)
    if closed is not None and getattr(closed, "called", False) and closed.result is protocol:
        closed.result = None
