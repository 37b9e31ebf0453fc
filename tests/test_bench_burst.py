"""The burst client of the benchmark, against small local servers."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

import pytest

from bench import burst


class EnrolHandler(BaseHTTPRequestHandler):
    """Answers a POST as the enrol view does: 302 with a cookie for a known token, 400 else."""

    received: list[tuple[str, str, dict[str, list[str]]]] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"])).decode()
        form = parse_qs(body)
        self.received.append((self.path, self.headers["Cookie"], form))
        status = 302 if form.get("csrf_token") == ["good"] else 400
        self.send_response(status)
        self.send_header("Location", "/courses/PY101")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.request_queue_size = 128
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/classes/PY101-2025-01/enrol"
    finally:
        server.shutdown()
        server.server_close()


def test_a_request_carries_the_cookie_the_token_and_its_length() -> None:
    request = burst.burst_request("http://127.0.0.1:8000/classes/A-1/enrol", "s=abc", "t/k+n=")
    head, body = request.split(b"\r\n\r\n", 1)
    lines = head.decode().split("\r\n")
    assert lines[0] == "POST /classes/A-1/enrol HTTP/1.1"
    assert "Host: 127.0.0.1:8000" in lines
    assert "Cookie: s=abc" in lines
    assert "Connection: close" in lines
    assert body == b"csrf_token=t%2Fk%2Bn%3D"
    assert f"Content-Length: {len(body)}" in lines


@pytest.mark.parametrize(
    ("line", "status"), [(b"HTTP/1.1 302 FOUND\r\n", 302), (b"HTTP/1.0 400\r\n", 400)]
)
def test_status_of_reads_the_status_line(line: bytes, status: int) -> None:
    assert burst.status_of(line) == status


@pytest.mark.parametrize("line", [b"", b"SSH-2.0-OpenSSH\r\n", b"HTTP/1.1 abc\r\n"])
def test_status_of_refuses_what_is_not_an_answer(line: bytes) -> None:
    with pytest.raises(ValueError):
        burst.status_of(line)


def test_every_post_is_sent_and_every_answer_counted() -> None:
    EnrolHandler.received = []
    posts = [(f"session={number}", "good") for number in range(40)] + [("session=x", "bad")] * 3
    with serving(EnrolHandler) as url:
        result = burst.fire_burst(url, posts)
    assert result.requests == 43
    assert result.statuses == {302: 40, 400: 3}
    assert result.transport_errors == 0
    assert len(EnrolHandler.received) == 43
    assert {cookie for _path, cookie, _form in EnrolHandler.received} >= {
        f"session={number}" for number in range(40)
    }
    assert {path for path, _cookie, _form in EnrolHandler.received} == {
        "/classes/PY101-2025-01/enrol"
    }
    assert 0 < result.p50_ms <= result.p95_ms <= result.p99_ms <= result.max_ms


def test_a_server_that_hangs_up_without_answering_counts_as_a_transport_error() -> None:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    port = listener.getsockname()[1]

    def hang_up() -> None:
        for _ in range(3):
            connection, _address = listener.accept()
            connection.close()

    thread = threading.Thread(target=hang_up, daemon=True)
    thread.start()
    try:
        result = burst.fire_burst(f"http://127.0.0.1:{port}/enrol", [("s=1", "t")] * 3)
    finally:
        thread.join(timeout=5)
        listener.close()
    assert result.transport_errors == 3
    assert result.statuses == {}


def test_nothing_listening_counts_as_a_transport_error() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = burst.fire_burst(f"http://127.0.0.1:{port}/enrol", [("s=1", "t")] * 2)
    assert result.transport_errors == 2
