"""A bare ASGI application served by a real Daphne in ``test_live_direct_send``: it sends
through :class:`~analysis.live_consumers.direct_send.DirectTextSend` as the live viewers do,
and reports what it saw (no Django: the test is about Daphne, autobahn and Twisted).

- ``ws /frames/``: accepts, says whether the direct path exists, then sends texts of awkward
  sizes (empty, 125/126 and 65535/65536 bytes at the framing's length boundaries, 4 MB that
  the kernel cannot take at once), the direct path interleaved with Daphne's own send, and a
  closing ``"end N"`` (N: frames the direct path took); the client checks each arrives whole
  and in order.
- ``ws /closing/?keep=1``: on disconnect, ``release_closed_deferred`` (unless ``keep``) and
  a weak reference to the connection's protocol.
- ``http /alive/``: with the garbage collector off in this process, how many of those
  protocols are still alive (freed by reference counting or not).
"""

from __future__ import annotations

import gc
import json
import os
import weakref

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
django.setup()  # the live consumers' package loads Django's apps

from analysis.live_consumers.direct_send import (  # noqa: E402 - needs django.setup()
    DirectTextSend,
    daphne_protocol,
    release_closed_deferred,
)

closed = {"released": [], "kept": []}

SIZES = [0, 125, 126, 127, 65535, 65536, 4_000_000, 10]  # bytes of UTF-8


def payload(index: int, size: int) -> str:
    """``size`` bytes of UTF-8, a non-ASCII character among them."""
    head = f"{index}:é"
    return head + "x" * (size - len(head.encode())) if size else ""


def goes_direct(index: int) -> bool:
    return index % 3 != 2  # the others through Daphne's send, in between


async def application(scope, receive, send):
    gc.disable()  # in the server only: reference counting alone frees what the test counts
    if scope["type"] == "lifespan":
        return
    if scope["type"] == "http":
        await receive()
        alive = {kind: sum(ref() is not None for ref in refs) for kind, refs in closed.items()}
        body = json.dumps(alive | {"total": {k: len(v) for k, v in closed.items()}}).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    direct = DirectTextSend.for_send(send)
    await send({"type": "websocket.send", "text": json.dumps({"direct": direct is not None})})
    if scope["path"] == "/frames/":
        written = 0  # frames the direct path took
        for index, size in enumerate(SIZES):
            text = payload(index, size)
            if direct is not None and goes_direct(index) and direct(text):
                written += 1
            else:
                await send({"type": "websocket.send", "text": text})
        await send({"type": "websocket.send", "text": f"end {written}"})
    while (await receive())["type"] != "websocket.disconnect":
        pass
    if scope["path"] == "/closing/":
        keep = b"keep=1" in scope.get("query_string", b"")
        if not keep:
            release_closed_deferred(send)
        found = daphne_protocol(send)
        if found is not None:
            closed["kept" if keep else "released"].append(weakref.ref(found[1]))
