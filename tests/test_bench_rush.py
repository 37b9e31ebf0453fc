"""The enrolment-opening rush of the benchmark: its client against a small local server, its
setup and rule checks against a small database, and its section of the report."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import select, text

from bench import report, rush, scenarios, servers
from skillsup.extensions import db
from skillsup.models import (
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    SeatQuota,
)
from skillsup.timeutil import today_hk
from tests.factories import Factory

# ---------------------------------------------------------------------------------------------
# The client

COURSE_PAGE = """<!doctype html><html><body>
<form method="post" action="/logout"><input type="hidden" name="csrf_token" value="other"></form>
<ul>
{forms}
</ul></body></html>"""
ENROL_FORM = """<li><form method="post" action="/learn/classes/{code}/enrol">
<input type="hidden" name="csrf_token" value="{token}">
<button type="submit">Enrol <span>{code}</span></button></form></li>"""


class PortalHandler(BaseHTTPRequestHandler):
    """The five steps as the portal answers them, keeping connections open (HTTP/1.1) unless
    ``close`` is set. The course page has an enrol form per class whose token is the
    session's own; the enrol POST answers 302 for that token (setting a new cookie, as a
    flash message does) and 400 for any other."""

    protocol_version = "HTTP/1.1"
    close = False
    classes = ("PY101-1", "PY101-2")
    seen: ClassVar[list[tuple[str, str, str, dict[str, list[str]]]]] = []
    lock = threading.Lock()

    def _session(self) -> str:
        cookies = dict(
            part.strip().split("=", 1) for part in (self.headers["Cookie"] or "").split(";")
        )
        return cookies.get("s", "")

    def _answer(
        self, status: int, body: bytes = b"", headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        if self.close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def _record(self, form: dict[str, list[str]] | None = None) -> str:
        session = self._session()
        with self.lock:
            self.seen.append((session, self.command, self.path, form or {}))
        return session

    def do_GET(self) -> None:
        session = self._record()
        path = urlsplit(self.path).path
        if "broken" in session and path == "/my-learning":
            self._answer(500)
        elif path == "/courses/PY101":
            # A session whose page was made for another: its token is refused.
            token = "stale" if session.startswith("wrong") else f"token-{session.split('-')[0]}"
            forms = (
                ""
                if session.startswith("noform")
                else "\n".join(ENROL_FORM.format(code=code, token=token) for code in self.classes)
            )
            self._answer(200, COURSE_PAGE.format(forms=forms).encode())
        elif path in {"/courses", "/my-learning"}:
            self._answer(200, b"<html>" + b"x" * 5000 + b"</html>")
        else:
            self._answer(404)

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = parse_qs(self.rfile.read(length).decode())
        session = self._record(form)
        if form.get("csrf_token") == [f"token-{session.split('-')[0]}"]:
            flashed = f"s={session}-flashed; HttpOnly; Path=/"
            self._answer(302, headers={"Location": "/courses/PY101", "Set-Cookie": flashed})
        else:
            self._answer(400)

    def log_message(self, *_args: object) -> None:
        pass


@contextmanager
def portal(close: bool = False) -> Iterator[str]:
    handler = type("Handler", (PortalHandler,), {"close": close})
    PortalHandler.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def learner(session: str, class_code: str = "PY101-2") -> rush.Learner:
    return rush.Learner(f"s={session}", "PY101", "Python", class_code)


def quick(base_url: str, learners: list[rush.Learner]) -> rush.RushResult:
    return rush.run_rush(base_url, learners, seconds=0.3, pauses=(0.01, 0.03), timeout=10)


def test_each_learner_goes_through_the_steps_in_order_with_the_token_of_the_form() -> None:
    people = [learner(f"p{n}") for n in range(12)]
    with portal() as url:
        result = quick(url, people)
    assert result.learners == 12
    assert result.requests == 60
    assert result.errors == 0
    assert result.no_enrol_form == 0
    for n in range(12):
        mine = [(method, path, form) for s, method, path, form in PortalHandler.seen
                if s.split("-")[0] == f"p{n}"]  # fmt: skip
        assert [(method, path) for method, path, _form in mine] == [
            ("GET", "/courses"),
            ("GET", "/courses?q=Python"),
            ("GET", "/courses/PY101"),
            # The form's own action (not /classes/<code>/enrol) for the class chosen.
            ("POST", "/learn/classes/PY101-2/enrol"),
            ("GET", "/my-learning"),
        ]
        assert mine[3][2] == {"csrf_token": [f"token-p{n}"]}
    # The cookie the enrol answer set is the one My learning is asked with.
    assert {s for s, _m, path, _f in PortalHandler.seen if path == "/my-learning"} == {
        f"p{n}-flashed" for n in range(12)
    }
    assert list(result.steps) == list(rush.STEPS)
    assert result.steps["enrol"].statuses == {302: 12}
    for step in result.steps.values():
        assert step.requests == 12
        assert 0 < step.p50_ms <= step.p95_ms <= step.p99_ms <= step.max_ms


def test_a_learner_keeps_one_connection_while_the_server_keeps_it_open() -> None:
    with portal() as url:
        kept = quick(url, [learner(f"k{n}") for n in range(5)])
    with portal(close=True) as url:
        closed = quick(url, [learner(f"c{n}") for n in range(5)])
    assert kept.connections == 5
    assert closed.connections == 25
    assert kept.errors == closed.errors == 0


def test_errors_are_counted_by_step() -> None:
    people = [
        learner("good"),
        learner("wrongtoken", "PY101-1"),  # its page's token is not its session's: 400
        learner("y-broken"),  # My learning answers 500
        learner("noform"),  # no enrol button: no POST, not an error
    ]
    with portal() as url:
        result = quick(url, people)
    assert result.steps["enrol"].requests == 3
    assert result.steps["enrol"].statuses == {302: 2, 400: 1}
    assert result.steps["enrol"].errors == 1
    assert result.steps["my_learning"].errors == 1
    assert result.steps["my_learning"].statuses == {200: 3, 500: 1}
    assert result.no_enrol_form == 1
    assert result.errors == 2


def test_nothing_listening_is_a_transport_error_at_every_step_but_enrol() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = quick(f"http://127.0.0.1:{port}", [learner("a"), learner("b")])
    # Without a course page there is no form: the learner cannot enrol.
    assert result.no_enrol_form == 2
    assert result.steps["enrol"].requests == 0
    assert result.errors == 8
    assert all(result.steps[s].errors == 2 for s in ("catalogue", "search", "course"))


def test_the_enrol_form_is_the_one_for_the_class_else_another_else_none() -> None:
    page = COURSE_PAGE.format(
        forms="\n".join(ENROL_FORM.format(code=c, token=f"t{c}") for c in ("A-1", "A-2"))
    )
    form = rush.enrol_form(page, "A-2")
    assert form is not None
    assert (form.action, form.fields) == ("/learn/classes/A-2/enrol", {"csrf_token": "tA-2"})
    other = rush.enrol_form(page, "A-9")
    assert other is not None and other.action == "/learn/classes/A-1/enrol"
    assert rush.enrol_form(COURSE_PAGE.format(forms=""), "A-1") is None


def test_percentiles_and_errors_per_step() -> None:
    records = [rush.Record("catalogue", n / 1000, 200, False) for n in range(1, 101)]
    records += [rush.Record("enrol", 0.5, 302, False), rush.Record("enrol", 0.7, None, True)]
    stats = rush.summarise(records)
    assert (stats["catalogue"].p50_ms, stats["catalogue"].p95_ms) == (51.0, 95.0)
    assert (stats["catalogue"].p99_ms, stats["catalogue"].max_ms) == (99.0, 100.0)
    assert stats["enrol"].requests == 2 and stats["enrol"].errors == 1
    assert stats["enrol"].statuses == {302: 1}
    assert stats["search"].requests == 0


@pytest.mark.parametrize(
    ("step", "status", "error"),
    [("catalogue", 200, False), ("enrol", 302, False), ("enrol", 200, True),
     ("course", 302, True), ("search", 503, True), ("my_learning", None, True)],
)  # fmt: skip
def test_what_counts_as_an_error(step: str, status: int | None, error: bool) -> None:
    assert rush.is_error(step, status) is error


def test_arrivals_are_spread_over_the_rush_and_repeatable() -> None:
    times = rush.arrivals(1000, 60, seed=7)
    assert times == sorted(times) == rush.arrivals(1000, 60, seed=7)
    assert 0 <= times[0] < 1 and 59 < times[-1] < 60
    assert times != rush.arrivals(1000, 60, seed=8)


# ---------------------------------------------------------------------------------------------
# The setup and the rules afterwards


def test_the_rush_setup_opens_classes_with_quotas_for_learners_of_several_companies(
    make: Factory,
) -> None:
    for n in range(3):
        make.course(code=f"RUSH-C{n}", title_en=f"Practical Kubernetes {n}")
    make.user(role="trainer")
    free = make.company(code="FREE")
    needs_approval = make.company(code="ASK", requires_approval=True)
    for company in (free, needs_approval):
        for _ in range(4):
            make.user(role="learner", company=company)
    setup = scenarios.make_rush(learners=6, capacities=(1, 2, 3, 4))
    classes = [db.session.get(CourseClass, c.class_id) for c in setup.classes]
    assert [c.capacity for c in classes if c] == [1, 2, 3, 4]
    assert all(c and c.status == ClassStatus.OPEN and c.starts_on.weekday() == 6 for c in classes)
    assert all(c and c.starts_on > today_hk() for c in classes)
    assert {c.course_code for c in setup.classes} == {"RUSH-C1", "RUSH-C2"}
    assert {c.word for c in setup.classes} == {"Kubernetes"}
    assert len(setup.learner_ids) == 6 and set(setup.choices) == set(setup.learner_ids)
    quotas = [db.session.get(SeatQuota, q) for q in setup.quota_ids]
    assert {q.company_id for q in quotas if q} == {free.id}
    # A second rush gets classes of its own, later.
    again = scenarios.make_rush(learners=2, capacities=(1, 1, 1, 1))
    later = db.session.get(CourseClass, again.classes[0].class_id)
    assert later and classes[0] and later.starts_on > classes[-1].ends_on


@pytest.fixture
def scene(make: Factory) -> dict[str, Any]:
    """A class of 2 seats after a rush that kept the rules: two confirmed, two waitlisted in
    order, and a quota of 3 seats with 2 used."""
    company = make.company()
    people = [make.user(role="learner", company=company) for _ in range(6)]
    course_class = make.course_class(capacity=2)
    start = course_class.starts_on
    quota = make.quota(company, 3, start, start)
    for person in people[:2]:
        make.enrolment(course_class, person, company_id=company.id)
    first = make.enrolment(course_class, people[2], EnrolmentStatus.WAITLISTED)
    second = make.enrolment(course_class, people[3], EnrolmentStatus.WAITLISTED)
    second.waitlisted_at = first.waitlisted_at + timedelta(seconds=1)
    db.session.commit()
    return {"class": course_class, "quota": quota, "people": people, "company": company,
            "waitlisted": (first, second)}  # fmt: skip


def _checks(scene: dict[str, Any]) -> dict[str, Any]:
    return scenarios.check_rush_rules([scene["class"].id], [scene["quota"].id])


def _broken(checks: dict[str, Any]) -> set[str]:
    return {name for name, check in checks.items() if not check["held"]}


def test_rules_that_held_are_reported_as_held(scene: dict[str, Any]) -> None:
    checks = _checks(scene)
    assert _broken(checks) == set()
    assert checks["quota"]["detail"] == "2 seats used in 1 quotas"
    assert scenarios.rush_outcome([scene["class"].id]) == {"confirmed": 2, "waitlisted": 2}


def test_a_class_over_capacity_is_found(scene: dict[str, Any], make: Factory) -> None:
    course_class = scene["class"]
    course_class.capacity = 3  # room for the factory's seat, then back to 2 below it
    make.enrolment(course_class, scene["people"][4])
    # The CHECK constraint keeps seats_taken within capacity, not the confirmed learners.
    db.session.execute(
        text("UPDATE classes SET seats_taken = 2, capacity = 2 WHERE id = :id"),
        {"id": course_class.id},
    )
    db.session.commit()
    checks = _checks(scene)
    assert "capacity" in _broken(checks)
    assert "3 confirmed, seats_taken 2, capacity 2" in checks["capacity"]["detail"]


def test_a_quota_exceeded_is_found(scene: dict[str, Any]) -> None:
    scene["quota"].seats = 1
    db.session.commit()
    checks = _checks(scene)
    assert _broken(checks) == {"quota"}
    assert "2 of 1 seats used" in checks["quota"]["detail"]


def test_a_confirmed_request_after_a_waitlisted_one_is_found(
    scene: dict[str, Any], make: Factory
) -> None:
    scene["class"].capacity = 3
    make.enrolment(scene["class"], scene["people"][4], company_id=scene["company"].id)
    checks = _checks(scene)
    assert _broken(checks) == {"first_come_first_served"}
    assert "1 confirmed after a waitlisted one" in checks["first_come_first_served"]["detail"]


def test_a_waitlist_out_of_request_order_is_found(scene: dict[str, Any]) -> None:
    first, second = scene["waitlisted"]
    first.waitlisted_at = second.waitlisted_at + timedelta(seconds=1)
    db.session.commit()
    checks = _checks(scene)
    assert _broken(checks) == {"first_come_first_served"}
    assert "waitlist positions" in checks["first_come_first_served"]["detail"]


UNIQUE_ACTIVE = "uq_enrolments_active_learner_class"


def test_two_active_enrolments_of_one_learner_are_found(
    scene: dict[str, Any], make: Factory
) -> None:
    # The unique index forbids it: dropped here to stand for a database without it, and put
    # back afterwards (the test process's PostgreSQL database serves the tests after this one).
    unique = next(i for i in Enrolment.__table__.indexes if i.name == UNIQUE_ACTIVE)
    db.session.execute(text(f"DROP INDEX {UNIQUE_ACTIVE}"))
    db.session.commit()
    try:
        make.enrolment(scene["class"], scene["people"][3], EnrolmentStatus.WAITLISTED)
        checks = _checks(scene)
        assert "one_place_each" in _broken(checks)
        assert "has 2 in class" in checks["one_place_each"]["detail"]
        assert db.session.scalar(select(SeatQuota.seats).where(SeatQuota.id == scene["quota"].id))
    finally:
        # The rows go first (a unique index cannot be made over twins), then the index.
        db.session.rollback()
        for table in reversed(db.metadata.sorted_tables):
            db.session.execute(table.delete())
        unique.create(db.session.connection())
        db.session.commit()


# ---------------------------------------------------------------------------------------------
# The report

SAMPLE = Path(__file__).resolve().parent / "data" / "bench" / "sample-results.json"


def _run(label: str, p95: float, *, errors: int = 0, held: bool = True) -> dict[str, Any]:
    steps = {
        key: {"requests": 1000, "errors": 0, "statuses": {"200": 1000}, "p50_ms": p95 / 3,
              "p95_ms": p95, "p99_ms": p95 * 1.5, "max_ms": p95 * 2}
        for key in rush.STEPS
    }  # fmt: skip
    steps["enrol"]["errors"] = errors
    return {
        "server": label,
        "label": label,
        "learners": 1000,
        "seconds": 64.2,
        "spread_seconds": 60,
        "requests": 5000,
        "errors": errors,
        "no_enrol_form": 12,
        "connections": 1000,
        "steps": steps,
        "reference": 2000.0,
        "server_cpu_seconds": 50.0,
        "server_cpu_ms_per_request": 10.0,
        "machine_busy": 0.5,
        "checks": {
            "capacity": {"held": True, "detail": ""},
            "quota": {"held": held, "detail": "" if held else "quota 7: 5 of 4 seats used"},
            "first_come_first_served": {"held": True, "detail": ""},
            "one_place_each": {"held": True, "detail": ""},
        },
        "enrolments": {"confirmed": 800, "pending": 100, "waitlisted": 88},
        "notes": {
            "classes": "BENCH-RUSH-001-1 (120 seats)",
            "companies": "40 companies (8 of them need HR approval)",
        },
    }


@pytest.fixture
def sample() -> dict[str, Any]:
    return json.loads(SAMPLE.read_text())


def _section(text: str, heading: str) -> str:
    start = text.index(heading)
    end = text.find("\n## ", start + len(heading))
    return text[start : end if end >= 0 else None]


def _row(text: str, title: str) -> list[str]:
    for line in text.splitlines():
        if line.startswith(f"| {title} |"):
            return [cell.strip() for cell in line.strip("|").split("|")]
    raise AssertionError(f"no row {title!r}")


def test_the_report_has_the_rush_steps_rules_and_server_comparison(
    sample: dict[str, Any],
) -> None:
    results = copy.deepcopy(sample)
    results["scales"]["1"]["rush"] = {
        "learners": 1000,
        "seconds": 60,
        "runs": [_run("gthread 2 × 4, keep-alive 5 s", 120.0),
                 _run("sync × 4", 450.0, errors=3, held=False)],
    }  # fmt: skip
    section = _section(report.render(results), "## The enrolment-opening rush")
    assert "1,000 different learners" in section
    assert "learners from 40 companies (8 of them need HR approval)" in section
    # Each step of the first setting, its median in plaintext answers (2000/s: 0.5 ms each).
    assert _row(section, "Search") == ["Search", "1000", "0", "40.0", "120", "180", "240",
                                       "80", "yes"]  # fmt: skip
    assert _row(section, "no company's seat quota exceeded")[1] == "yes"
    assert "800 confirmed, 100 pending, 88 waitlisted" in section
    fast = _row(section, "gthread 2 × 4, keep-alive 5 s")
    slow = _row(section, "sync × 4")
    assert fast[1:6] == ["120"] * 5 and fast[-2:] == ["yes", "yes"]
    assert slow[6] == "3" and slow[-2:] == ["**no**", "**no**"]


def test_a_run_without_a_rush_has_no_rush_section(sample: dict[str, Any]) -> None:
    text = report.render(sample)
    assert "## The enrolment-opening rush" not in text
    assert "## Enrolment burst" in text
    # Earlier runs named only their sync workers.
    assert "gunicorn with 4 sync workers" in text


def test_the_comparison_with_a_baseline_without_a_rush_shows_a_dash(
    sample: dict[str, Any],
) -> None:
    results = copy.deepcopy(sample)
    results["settings"]["server_label"] = "gthread 2 × 4, keep-alive 5 s"
    runs = [_run("gthread 2 × 4, keep-alive 5 s", 120.0)]
    results["scales"]["1"]["rush"] = {"learners": 1000, "seconds": 60, "runs": runs}
    text = report.render(results, sample)
    row = _row(_section(text, "## Before and after the changes"),
               "Enrolment-opening rush (gthread 2 × 4, keep-alive 5 s)")  # fmt: skip
    assert row[4] == "errors – → 0"
    assert row[5] == "slowest step – → 120 ms"
    assert "gunicorn gthread 2 × 4, keep-alive 5 s." in text


# ---------------------------------------------------------------------------------------------
# Server settings


@pytest.mark.parametrize(
    ("spec", "expected", "label"),
    [
        ("sync:4", ("sync", 4, 1, 2), "sync × 4"),
        ("gthread:2x4:ka5", ("gthread", 2, 4, 5), "gthread 2 × 4, keep-alive 5 s"),
        ("gthread:4x2", ("gthread", 4, 2, 2), "gthread 4 × 2, keep-alive 2 s"),
    ],
)
def test_server_settings_are_read_from_their_spec(
    spec: str, expected: tuple[str, int, int, int], label: str
) -> None:
    settings = servers.ServerSettings.parse(spec)
    assert (settings.worker_class, settings.workers, settings.threads, settings.keepalive) == (
        expected
    )
    assert settings.label == label
    assert settings.arguments()[:4] == [
        "--worker-class",
        expected[0],
        "--workers",
        str(expected[1]),
    ]


@pytest.mark.parametrize("spec", ["", "gevent:4", "sync:2x4", "gthread:x", "sync:4:5"])
def test_a_wrong_server_spec_says_what_is_accepted(spec: str) -> None:
    with pytest.raises(ValueError, match="use production, sync:4, gthread:2x4"):
        servers.ServerSettings.parse(spec)


def test_production_means_the_repositorys_gunicorn_conf(tmp_path: Path) -> None:
    production = servers.ServerSettings.parse("production")
    assert production == servers.production_settings(servers.PRODUCTION_CONFIG)
    assert production.name == "production"
    config = tmp_path / "gunicorn.conf.py"
    config.write_text("workers = 3\n")
    # What the file leaves out is gunicorn's default.
    assert servers.production_settings(config) == servers.ServerSettings("production", "sync", 3)
