"""The enrolment burst: many POSTs at once from plain asyncio sockets.

Standard library only, so that the test suite can exercise it without the benchmark's own
requirements. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit

HOST = "127.0.0.1"
USER_AGENT = "skillsup-bench/1"


def percentile(values: Sequence[float], share: float) -> float:
    """The value at ``share`` (0 to 1) of the sorted ``values``, nearest rank; 0 for none."""
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))
    return ordered[index]


@dataclass
class BurstResult:
    requests: int
    seconds: float
    statuses: dict[int, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    transport_errors: int


def burst_request(url: str, cookie: str, token: str) -> bytes:
    """The bytes of one enrolment POST, as a browser sends the form: one request on a
    connection of its own, closed after the answer."""
    parts = urlsplit(url)
    body = urlencode({"csrf_token": token}).encode("ascii")
    head = (
        f"POST {parts.path} HTTP/1.1\r\n"
        f"Host: {parts.netloc}\r\n"
        f"User-Agent: {USER_AGENT}\r\n"
        f"Cookie: {cookie}\r\n"
        "Content-Type: application/x-www-form-urlencoded\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("latin-1") + body


def status_of(status_line: bytes) -> int:
    """``b"HTTP/1.1 302 FOUND"`` -> 302; raises ValueError for anything else."""
    version, status, *_ = status_line.split(b" ", 2)
    if not version.startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP answer: {status_line[:40]!r}")
    return int(status)


def fire_burst(url: str, posts: Sequence[tuple[str, str]], timeout: float = 120) -> BurstResult:
    """POST to ``url`` once per (Cookie header, CSRF token), all at once; wait for every
    answer.

    Each request is written to a plain socket, its bytes made before the start, and only the
    status line of the answer is parsed: a general HTTP client spends more of the two cores
    on its own bookkeeping than the server spends on some of the requests, and would be
    measured along with the portal.
    """
    parts = urlsplit(url)
    host, port = parts.hostname or HOST, parts.port or 80
    requests = [burst_request(url, cookie, token) for cookie, token in posts]

    async def main() -> BurstResult:
        statuses: Counter[int] = Counter()
        latencies: list[float] = []
        failures = 0
        start_gate = asyncio.Event()

        async def exchange(request: bytes) -> int:
            reader, writer = await asyncio.open_connection(host, port)
            try:
                writer.write(request)
                await writer.drain()
                status = status_of(await reader.readline())
                # The server closes the connection after the answer: read it to the end.
                while await reader.read(65536):
                    pass
                return status
            finally:
                writer.close()

        async def one(request: bytes) -> None:
            nonlocal failures
            await start_gate.wait()
            began = time.perf_counter()
            try:
                status = await asyncio.wait_for(exchange(request), timeout)
            except (OSError, ValueError, TimeoutError):
                failures += 1
                return
            latencies.append(time.perf_counter() - began)
            statuses[status] += 1

        tasks = [asyncio.create_task(one(request)) for request in requests]
        await asyncio.sleep(0.05)
        started = time.perf_counter()
        start_gate.set()
        await asyncio.gather(*tasks)
        elapsed = time.perf_counter() - started
        return BurstResult(
            requests=len(posts),
            seconds=round(elapsed, 2),
            statuses=dict(statuses),
            p50_ms=round(percentile(latencies, 0.5) * 1000, 1),
            p95_ms=round(percentile(latencies, 0.95) * 1000, 1),
            p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            max_ms=round(max(latencies, default=0) * 1000, 1),
            transport_errors=failures,
        )

    return asyncio.run(main())
