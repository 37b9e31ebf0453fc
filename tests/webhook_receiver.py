"""A webhook receiver for tests: an HTTP server on 127.0.0.1 (an ephemeral port), in a thread,
that records every request and answers as the test tells it."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that gave up waiting (a timeout test) breaks the pipe: that is expected.
        pass


class Receiver:
    """Records each request; answers with the next of ``answers`` (status, body), then with
    ``default``; waits ``delay`` seconds before answering."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.answers: list[tuple[int, bytes, dict[str, str]]] = []
        self.default: tuple[int, bytes, dict[str, str]] = (200, b'{"ok":true}', {})
        self.delay = 0.0
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                with receiver._lock:
                    receiver.received.append(
                        Received(self.path, {k: v for k, v in self.headers.items()}, body)
                    )
                    status, answer, headers = (
                        receiver.answers.pop(0) if receiver.answers else receiver.default
                    )
                if receiver.delay:
                    time.sleep(receiver.delay)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.port = int(self.server.server_address[1])
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._thread.start()

    def url(self, path: str = "/hook") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def answer(
        self, *statuses: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next requests with ``statuses``, in order."""
        with self._lock:
            self.answers.extend((status, body, headers or {}) for status in statuses)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(timeout=10)


@contextmanager
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on (connecting to it is refused)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
