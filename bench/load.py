"""Serving the portal with gunicorn and putting it under load: wrk for pages and a thread pool
for exports (the enrolment burst is in ``bench.burst``). Traffic goes to 127.0.0.1 only."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil

from .burst import HOST, USER_AGENT, percentile
from .servers import PRODUCTION_CONFIG, ServerSettings, production_settings

ROOT = Path(__file__).resolve().parent.parent
WRK_MARKER = "BENCH_JSON "


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


# ---------------------------------------------------------------------------------------------
# The server


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    port: int
    workers: int
    log: Path
    settings: ServerSettings | None = None

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}"

    def worker_processes(self) -> list[psutil.Process]:
        try:
            return psutil.Process(self.process.pid).children()
        except psutil.NoSuchProcess:
            return []

    def worker_rss(self) -> list[int]:
        sizes = []
        for worker in self.worker_processes():
            try:
                sizes.append(worker.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        return sizes

    def cpu_seconds(self) -> float:
        """Processor time (user and system) the master and its workers have used so far."""
        total = 0.0
        for process in [psutil.Process(self.process.pid), *self.worker_processes()]:
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total


@contextmanager
def serve(
    env: dict[str, str],
    *,
    log_dir: Path,
    settings: ServerSettings | None = None,
    workers: int | None = None,
) -> Iterator[Server]:
    """gunicorn on a free local port, until the block ends: with the production settings
    (the repository's gunicorn.conf.py, which gunicorn reads from the folder it runs in)
    unless ``settings`` names others (``workers`` alone: that many sync workers)."""
    if settings is None:
        settings = (
            ServerSettings(f"sync:{workers}", "sync", workers) if workers else production_settings()
        )
    port = free_port()
    log = log_dir / "gunicorn.log"
    command = [
        sys.executable, "-m", "gunicorn",
        "--config", str(PRODUCTION_CONFIG),
        *settings.arguments(),
        "--bind", f"{HOST}:{port}",
        "--backlog", "2048",
        "--timeout", "120",
        "--log-level", "warning",
        "--chdir", str(ROOT),
        "bench.wsgi:create_bench_app()",
    ]  # fmt: skip
    with log.open("ab") as log_file:
        process = subprocess.Popen(  # noqa: S603 - a fixed command
            command, env=env, stdout=log_file, stderr=subprocess.STDOUT, cwd=ROOT
        )
    server = Server(process, port, settings.workers, log, settings)
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {process.returncode}: see {log}")
            try:
                answer = httpx.get(f"{server.base_url}/_bench/plaintext", timeout=2)
                if answer.status_code == 200 and len(server.worker_processes()) >= settings.workers:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not answer within a minute: see {log}")
            time.sleep(0.2)
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


# ---------------------------------------------------------------------------------------------
# Signing in


def login_cookie(base_url: str, email: str, password: str) -> str:
    """Sign in through the login form, as a browser would; returns the Cookie header."""
    with httpx.Client(base_url=base_url, headers={"User-Agent": USER_AGENT}) as client:
        page = client.get("/login")
        match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page.text)
        if match is None:
            raise RuntimeError("the login page has no CSRF token")
        response = client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": match.group(1)},
        )
        if response.status_code != 302:
            raise RuntimeError(f"signing in as {email} failed: HTTP {response.status_code}")
        return "; ".join(f"{name}={value}" for name, value in client.cookies.items())


# ---------------------------------------------------------------------------------------------
# Pages under wrk

WRK_SCRIPT = """
wrk.method = "GET"
wrk.headers["User-Agent"] = "%(agent)s"
%(cookie)s
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  other = 0
end
function response(status, headers, body)
  if status ~= 200 then other = other + 1 end
end
function done(summary, latency, requests)
  local unexpected = 0
  for _, thread in ipairs(threads) do unexpected = unexpected + thread:get("other") end
  local e = summary.errors
  io.write(string.format(
    '%(marker)s{"requests": %%d, "duration_us": %%d, "bytes": %%d, "not_200": %%d, '
    .. '"errors": {"connect": %%d, "read": %%d, "write": %%d, "status": %%d, "timeout": %%d}, '
    .. '"latency_us": {"p50": %%d, "p90": %%d, "p95": %%d, "p99": %%d, "max": %%d, '
    .. '"mean": %%.1f}}\\n',
    summary.requests, summary.duration, summary.bytes, unexpected,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
"""


@dataclass
class LoadResult:
    key: str
    requests: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    errors: int
    not_200: int
    concurrency: int
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wrk_version() -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        return "not installed"
    output = subprocess.run([wrk, "--version"], capture_output=True, text=True, check=False)  # noqa: S603
    return (output.stdout or output.stderr).splitlines()[0].strip()


def run_wrk(
    key: str,
    url: str,
    *,
    cookie: str | None,
    connections: int,
    threads: int,
    seconds: float,
) -> LoadResult:
    """Load ``url`` with ``connections`` keep-alive connections for ``seconds``."""
    wrk = shutil.which("wrk")
    if wrk is None:
        raise RuntimeError("wrk is not installed: apt-get install wrk")
    cookie_line = f'wrk.headers["Cookie"] = "{cookie}"' if cookie else ""
    script = WRK_SCRIPT % {"agent": USER_AGENT, "cookie": cookie_line, "marker": WRK_MARKER}
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as file:
        file.write(script)
        path = file.name
    try:
        completed = subprocess.run(  # noqa: S603
            [
                wrk,
                f"--threads={threads}",
                f"--connections={connections}",
                f"--duration={max(round(seconds), 1)}s",
                "--timeout=30s",
                f"--script={path}",
                url,
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=seconds + 120,
        )
    finally:
        os.unlink(path)
    line = next(
        (line for line in completed.stdout.splitlines() if line.startswith(WRK_MARKER)), None
    )
    if line is None:
        raise RuntimeError(f"wrk gave no result for {url}: {completed.stdout} {completed.stderr}")
    data = json.loads(line.removeprefix(WRK_MARKER))
    duration = data["duration_us"] / 1e6
    latency = data["latency_us"]
    errors = sum(data["errors"].values())
    return LoadResult(
        key=key,
        requests=data["requests"],
        seconds=round(duration, 2),
        throughput=round(data["requests"] / duration, 1) if duration else 0.0,
        p50_ms=round(latency["p50"] / 1000, 1),
        p95_ms=round(latency["p95"] / 1000, 1),
        p99_ms=round(latency["p99"] / 1000, 1),
        max_ms=round(latency["max"] / 1000, 1),
        errors=errors,
        not_200=data["not_200"],
        concurrency=connections,
        extra={"bytes": data["bytes"]},
    )


# ---------------------------------------------------------------------------------------------
# Exports, with the workers' memory watched


class MemoryWatch:
    """Samples the gunicorn workers' resident memory every ``interval`` seconds."""

    def __init__(self, server: Server, interval: float = 0.05) -> None:
        self.server = server
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            sizes = self.server.worker_rss()
            if sizes:
                self.peak = max(self.peak, max(sizes))
            self._stop.wait(self.interval)

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_downloads(
    key: str,
    url: str,
    *,
    cookie: str,
    requests: int,
    concurrency: int,
    server: Server,
    expect_type: str,
) -> LoadResult:
    """``requests`` downloads, ``concurrency`` at a time, each read to the end; the workers'
    memory before, at its peak during, and after."""
    latencies: list[float] = []
    sizes: list[int] = []
    statuses: Counter[int] = Counter()
    types: set[str] = set()

    def download(_index: int) -> None:
        started = time.perf_counter()
        size = 0
        with (
            httpx.Client(headers={"Cookie": cookie, "User-Agent": USER_AGENT}, timeout=120) as c,
            c.stream("GET", url) as response,
        ):
            for chunk in response.iter_bytes():
                size += len(chunk)
            statuses[response.status_code] += 1
            types.add(response.headers.get("content-type", "").split(";")[0])
        latencies.append(time.perf_counter() - started)
        sizes.append(size)

    before = max(server.worker_rss() or [0])
    started = time.perf_counter()
    with MemoryWatch(server) as watch, ThreadPoolExecutor(concurrency) as pool:
        list(pool.map(download, range(requests)))
    elapsed = time.perf_counter() - started
    after = max(server.worker_rss() or [0])
    wrong_type = sorted(t for t in types if t != expect_type)
    return LoadResult(
        key=key,
        requests=requests,
        seconds=round(elapsed, 2),
        throughput=round(requests / elapsed, 2),
        p50_ms=round(statistics.median(latencies) * 1000, 1),
        p95_ms=round(percentile(latencies, 0.95) * 1000, 1),
        p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
        max_ms=round(max(latencies) * 1000, 1),
        errors=0,
        not_200=sum(count for status, count in statuses.items() if status != 200),
        concurrency=concurrency,
        extra={
            "bytes": round(statistics.median(sizes)),
            "rss_before_mb": round(before / 2**20, 1),
            "rss_peak_mb": round(watch.peak / 2**20, 1),
            "rss_after_mb": round(after / 2**20, 1),
            "content_types": wrong_type,
        },
    )
