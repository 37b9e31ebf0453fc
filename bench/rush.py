"""The enrolment-opening rush: many different learners, each browsing and enrolling once.

Each learner arrives at a time of their own within the rush (a seeded uniform spread), and
with their own signed-in session goes through catalogue -> search -> course page -> enrol ->
My learning, pausing a little (seeded, 0.5 to 2 s) between steps, as a person does. The enrol
POST carries the CSRF token read from the course page's enrol form for the learner's class
(the form's own action and hidden fields, not a guessed URL).

Like a browser, each learner keeps one connection open to the server between steps
(HTTP/1.1 keep-alive) and opens a new one only when the server has closed it: a server that
closes after every answer (gunicorn's sync workers) pays for a new connection at every step,
one that keeps it open does not, and that difference is part of what the rush measures. The
client is plain asyncio sockets with a small HTTP/1.1 reader, standard library only (as
:mod:`bench.burst`): a general client would spend more of the two cores on its own bookkeeping
than the server spends on the cheap steps, and the test suite can run it without the
benchmark's requirements. Traffic goes to 127.0.0.1 only.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from html.parser import HTMLParser
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from .burst import HOST, USER_AGENT, percentile

STEPS = ("catalogue", "search", "course", "enrol", "my_learning")
STEP_TITLES = {
    "catalogue": "Catalogue (GET /courses)",
    "search": "Search (GET /courses?q=...)",
    "course": "Course page (GET /courses/<code>)",
    "enrol": "Enrol (POST, 302 expected)",
    "my_learning": "My learning (GET /my-learning)",
}
#: The status each step must answer with; anything else is an error.
EXPECTED_STATUS = {"enrol": 302}
PAUSE_SECONDS = (0.5, 2.0)
REQUEST_TIMEOUT = 60.0


@dataclass(frozen=True)
class Learner:
    """One person of the rush: their session cookie (``name=value``), the course they look
    for (its code and a word of its title) and the class they want."""

    cookie: str
    course_code: str
    word: str
    class_code: str


# ---------------------------------------------------------------------------------------------
# The enrol form


@dataclass
class Form:
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)


class _FormParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[Form] = []
        self._open: Form | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self._open = Form(values.get("action", ""), values.get("method", "get").lower())
            self.forms.append(self._open)
        elif tag == "input" and self._open is not None and values.get("type") == "hidden":
            self._open.fields[values.get("name", "")] = values.get("value", "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._open = None


def enrol_form(html: str, class_code: str) -> Form | None:
    """The course page's POST form that enrols in ``class_code`` (its action ends in
    ``/classes/<code>/enrol``); failing that, the page's first enrol form for another class
    (a person whose class offers no button takes another of the course); ``None`` when the
    page offers none (every class unavailable to this learner, a quota used up)."""
    parser = _FormParser()
    parser.feed(html)
    enrol_forms = [
        form
        for form in parser.forms
        if form.method == "post" and urlsplit(form.action).path.endswith("/enrol")
    ]
    wanted = f"/{quote(class_code)}/enrol"
    for form in enrol_forms:
        if urlsplit(form.action).path.endswith(wanted):
            return form
    return enrol_forms[0] if enrol_forms else None


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 with keep-alive


@dataclass
class Answer:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


class ConnectionLost(OSError):
    """The server closed a kept connection before answering: the request may be sent again."""


class Browser:
    """One learner's connection and cookies: requests go over one kept-alive connection,
    reopened when the server has closed it, and cookies the server sets are kept."""

    def __init__(self, host: str, port: int, cookie: str) -> None:
        self.host, self.port = host, port
        self.cookies: dict[str, str] = dict(
            part.strip().split("=", 1) for part in cookie.split(";") if "=" in part
        )
        self.connections = 0
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(self, method: str, path: str, form: dict[str, str] | None = None) -> Answer:
        """Send one request and read its whole answer. A kept connection that the server has
        closed in the meantime is reopened and the request sent again, as browsers do."""
        reused = self._writer is not None
        try:
            return await self._exchange(method, path, form)
        except ConnectionLost:
            self.close()
            if not reused:
                raise
            return await self._exchange(method, path, form)

    async def _exchange(self, method: str, path: str, form: dict[str, str] | None) -> Answer:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            self.connections += 1
        assert self._reader is not None and self._writer is not None
        reader, writer = self._reader, self._writer
        body = urlencode(form).encode("ascii") if form is not None else b""
        head = [
            f"{method} {path} HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            f"User-Agent: {USER_AGENT}",
            "Accept: text/html",
        ]
        if self.cookies:
            head.append("Cookie: " + "; ".join(f"{k}={v}" for k, v in self.cookies.items()))
        if form is not None:
            head += [
                "Content-Type: application/x-www-form-urlencoded",
                f"Content-Length: {len(body)}",
            ]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + body)
        try:
            await writer.drain()
            status_line = await reader.readline()
        except (ConnectionResetError, BrokenPipeError) as error:
            raise ConnectionLost(str(error)) from error
        if not status_line:
            raise ConnectionLost("the server closed the connection")
        answer = await read_answer(reader, status_line)
        self._keep_cookies(answer)
        connection = (answer.header("Connection") or "").lower()
        if connection == "close" or status_line.startswith(b"HTTP/1.0"):
            self.close()
        return answer

    def _keep_cookies(self, answer: Answer) -> None:
        for name, value in answer.headers:
            if name.lower() != "set-cookie":
                continue
            pair, *attributes = value.split(";")
            key, _, cookie_value = pair.strip().partition("=")
            expired = any(
                a.strip().lower() in {"max-age=0", "max-age=-1"}
                or a.strip().lower().startswith("expires=thu, 01 jan 1970")
                for a in attributes
            )
            if expired or not cookie_value:
                self.cookies.pop(key, None)
            else:
                self.cookies[key] = cookie_value


async def read_answer(reader: asyncio.StreamReader, status_line: bytes) -> Answer:
    """The rest of an answer after its status line: headers, then a body of Content-Length
    bytes, chunked, or (without either) up to the end of the connection."""
    version, status, *_ = status_line.split(b" ", 2)
    if not version.startswith(b"HTTP/1."):
        raise ValueError(f"not an HTTP answer: {status_line[:40]!r}")
    headers: list[tuple[str, str]] = []
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b"\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers.append((name.strip(), value.strip()))
    lowered = {k.lower(): v for k, v in headers}
    if "chunked" in lowered.get("transfer-encoding", "").lower():
        chunks = []
        while True:
            size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                await reader.readline()
                break
            chunks.append(await reader.readexactly(size))
            await reader.readline()
        body = b"".join(chunks)
    elif "content-length" in lowered:
        body = await reader.readexactly(int(lowered["content-length"]))
    else:
        body = await reader.read()
    return Answer(int(status), headers, body)


# ---------------------------------------------------------------------------------------------
# The rush


@dataclass
class Record:
    step: str
    seconds: float
    status: int | None  # None: a transport error
    error: bool


@dataclass
class StepStats:
    requests: int
    errors: int
    statuses: dict[int, int]
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float


@dataclass
class RushResult:
    learners: int
    seconds: float
    spread_seconds: float
    requests: int
    errors: int
    no_enrol_form: int
    connections: int
    steps: dict[str, StepStats]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def arrivals(count: int, seconds: float, seed: int) -> list[float]:
    """``count`` arrival times spread uniformly at random (seeded) over ``seconds``, sorted."""
    generator = random.Random(seed)  # noqa: S311 - a repeatable schedule, not a secret
    return sorted(generator.uniform(0, seconds) for _ in range(count))


def is_error(step: str, status: int | None) -> bool:
    """A transport error, a 5xx, or any status other than the step's expected one."""
    return status is None or status != EXPECTED_STATUS.get(step, 200)


def summarise(records: Sequence[Record]) -> dict[str, StepStats]:
    """p50/p95/p99/max, requests, errors and statuses per step, in the steps' order."""
    stats = {}
    for step in STEPS:
        mine = [r for r in records if r.step == step]
        latencies = [r.seconds for r in mine]
        statuses = Counter(r.status for r in mine if r.status is not None)
        stats[step] = StepStats(
            requests=len(mine),
            errors=sum(r.error for r in mine),
            statuses=dict(sorted(statuses.items())),
            p50_ms=round(percentile(latencies, 0.5) * 1000, 1),
            p95_ms=round(percentile(latencies, 0.95) * 1000, 1),
            p99_ms=round(percentile(latencies, 0.99) * 1000, 1),
            max_ms=round(max(latencies, default=0) * 1000, 1),
        )
    return stats


def run_rush(
    base_url: str,
    learners: Sequence[Learner],
    *,
    seconds: float,
    seed: int = 2026,
    pauses: tuple[float, float] = PAUSE_SECONDS,
    timeout: float = REQUEST_TIMEOUT,
) -> RushResult:
    """Let every learner arrive (spread over ``seconds``) and go through the steps; wait for
    the last one to finish."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or HOST, parts.port or 80
    starts = arrivals(len(learners), seconds, seed)
    generator = random.Random(seed + 1)  # noqa: S311 - repeatable pauses
    waits = [[generator.uniform(*pauses) for _ in STEPS[1:]] for _ in learners]

    async def main() -> RushResult:
        records: list[Record] = []
        no_form = 0
        connections = 0

        async def step(browser: Browser, name: str, method: str, path: str,
                       form: dict[str, str] | None = None) -> Answer | None:  # fmt: skip
            began = time.perf_counter()
            try:
                answer = await asyncio.wait_for(browser.request(method, path, form), timeout)
            except (OSError, ValueError, TimeoutError, asyncio.IncompleteReadError):
                browser.close()
                records.append(Record(name, time.perf_counter() - began, None, True))
                return None
            status = answer.status
            records.append(
                Record(name, time.perf_counter() - began, status, is_error(name, status))
            )
            return answer

        async def learner(index: int, person: Learner, began: float) -> None:
            nonlocal no_form, connections
            await asyncio.sleep(max(0.0, began + starts[index] - time.perf_counter()))
            browser = Browser(host, port, person.cookie)
            pause = iter(waits[index])
            try:
                await step(browser, "catalogue", "GET", "/courses")
                await asyncio.sleep(next(pause))
                await step(browser, "search", "GET", "/courses?" + urlencode({"q": person.word}))
                await asyncio.sleep(next(pause))
                page = await step(browser, "course", "GET", f"/courses/{quote(person.course_code)}")
                await asyncio.sleep(next(pause))
                form = None
                if page is not None and page.status == 200:
                    form = enrol_form(page.body.decode("utf-8", "replace"), person.class_code)
                if form is None:
                    # No page or no button: the person cannot enrol and goes on to their list.
                    no_form += 1
                else:
                    await step(browser, "enrol", "POST", urlsplit(form.action).path, form.fields)
                await asyncio.sleep(next(pause))
                await step(browser, "my_learning", "GET", "/my-learning")
            finally:
                connections += browser.connections
                browser.close()

        began = time.perf_counter()
        await asyncio.gather(
            *(learner(index, person, began) for index, person in enumerate(learners))
        )
        elapsed = time.perf_counter() - began
        return RushResult(
            learners=len(learners),
            seconds=round(elapsed, 2),
            spread_seconds=seconds,
            requests=len(records),
            errors=sum(r.error for r in records),
            no_enrol_form=no_form,
            connections=connections,
            steps=summarise(records),
        )

    return asyncio.run(main())
