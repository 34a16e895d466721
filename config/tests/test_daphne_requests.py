"""Daphne hands a POSTed form's body to Django untouched, without Twisted parsing it first
(config/daphne_requests.py)."""

from types import SimpleNamespace

import pytest
from daphne import http_protocol
from twisted.internet.address import IPv4Address
from twisted.internet.testing import StringTransport

from config import daphne_requests

BOUNDARY = "b0undary"
BODY = (
    (
        f"--{BOUNDARY}\r\n"
        'Content-Disposition: form-data; name="files"; filename="round.c3d"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    + bytes(range(256)) * 64
    + f"\r\n--{BOUNDARY}--\r\n".encode()
)


@pytest.fixture
def stock_request_class(monkeypatch):
    """Each test starts from Daphne's own request class and leaves it as the process had it
    (importing config.asgi installs ours)."""
    (stock,) = daphne_requests.BodyOnlyWebRequest.__bases__
    monkeypatch.setattr(http_protocol, "WebRequest", stock)
    return stock


def post_form_through_daphne(monkeypatch):
    """Feed one multipart POST to a connection of Daphne's HTTP factory: the request it built."""
    received = []
    request_class = http_protocol.WebRequest
    monkeypatch.setattr(request_class, "process", lambda request: received.append(request))
    server = SimpleNamespace(protocol_connected=lambda request: None)  # process() is the recorder
    channel = http_protocol.HTTPFactory(server).buildProtocol(IPv4Address("TCP", "127.0.0.1", 8000))
    channel.makeConnection(StringTransport())
    channel.dataReceived(
        b"POST /sessions/1/upload/ HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        + f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n".encode()
        + f"Content-Length: {len(BODY)}\r\n\r\n".encode()
        + BODY
    )
    assert len(received) == 1
    return received[0]


def test_stock_twisted_parses_the_uploaded_file_before_django_does(
    stock_request_class, monkeypatch
):
    request = post_form_through_daphne(monkeypatch)
    assert request.args[b"files"] == [bytes(range(256)) * 64]


def test_installed_requests_leave_the_form_to_django_with_the_body_intact(
    stock_request_class, monkeypatch
):
    daphne_requests.install()
    request = post_form_through_daphne(monkeypatch)
    assert isinstance(request, daphne_requests.BodyOnlyWebRequest)
    assert request.args == {}
    assert request.content.read() == BODY
