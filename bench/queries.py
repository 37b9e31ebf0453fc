"""SQL statements per page, counted through the Flask test client against the bench database.

A page must run a fixed number of queries whatever the size of the data: the benchmark counts
them at two scales and reports both side by side.
"""

from __future__ import annotations

import contextvars
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

from flask import Flask
from sqlalchemy import event
from sqlalchemy.engine import Engine

from skillsup.extensions import db
from skillsup.models import User
from skillsup.services import user_sessions

from .scenarios import Plan

T = TypeVar("T")


@dataclass(frozen=True)
class QueryCount:
    key: str
    status: int
    queries: int
    bytes: int
    #: The whole request in the benchmark's own process, and the part spent in the database.
    request_ms: float = 0.0
    #: The CPU time the request took in the benchmark's process (the database's not counted):
    #: unlike the wall-clock time, hardly moved by other work on the machine.
    request_cpu_ms: float = 0.0
    sql_ms: float = 0.0
    slowest_ms: float = 0.0
    slowest_sql: str = ""
    #: The page's SELECT statements run again ``REPEAT`` times each, the fastest run of each
    #: added up: steadier than one timing on a shared machine, and what an index changes.
    sql_best_ms: float = 0.0
    slowest_best_ms: float = 0.0


TRANSACTION_CONTROL = ("BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")


class StatementCounter:
    """Counts and times the statements sent to the database while it is active."""

    def __init__(self) -> None:
        self.count = 0
        self.seconds = 0.0
        self.timed: list[tuple[float, str]] = []
        self.selects: list[tuple[str, Any]] = []
        self._started = 0.0

    def before(
        self, _conn: Any, _cursor: Any, statement: str, parameters: Any, *_args: Any
    ) -> None:
        if statement.lstrip()[:9].upper().startswith(TRANSACTION_CONTROL):
            # SQLite's explicit BEGIN IMMEDIATE and savepoints: not queries.
            return
        self.count += 1
        if statement.lstrip()[:6].upper() in ("SELECT", "WITH") and "FOR UPDATE" not in statement:
            self.selects.append((statement, parameters))
        self._started = time.perf_counter()

    def after(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if statement.lstrip()[:9].upper().startswith(TRANSACTION_CONTROL):
            return
        elapsed = time.perf_counter() - self._started
        self.seconds += elapsed
        self.timed.append((elapsed, statement))

    @property
    def slowest(self) -> tuple[float, str]:
        return max(self.timed, default=(0.0, ""))

    @contextmanager
    def watching(self, engine: Engine) -> Iterator[StatementCounter]:
        event.listen(engine, "before_cursor_execute", self.before)
        event.listen(engine, "after_cursor_execute", self.after)
        try:
            yield self
        finally:
            event.remove(engine, "before_cursor_execute", self.before)
            event.remove(engine, "after_cursor_execute", self.after)


def log_in(client: Any, session_key: str | None) -> None:
    """Make the test client's session the one whose secret is ``session_key`` (the id
    Flask-Login keeps), or anonymous."""
    with client.session_transaction() as session:
        session.clear()
        if session_key is not None:
            session["_user_id"] = session_key
            session["_fresh"] = True


def start_sessions(app: Flask, plan: Plan) -> dict[str, str | None]:
    """A session for each actor of the plan who signs in, as a login would start it: the
    secret Flask-Login keeps, by actor (``None`` for anonymous visitors)."""
    keys: dict[str, str | None] = {}
    with app.app_context():
        for key, actor in plan.actors.items():
            user = db.session.get(User, actor.user_id) if actor.user_id is not None else None
            keys[key] = None if user is None else user_sessions.start(user).secret
        db.session.commit()
    return keys


REPEAT = 5
#: Requests of a page whose median CPU time is reported (one for an export).
CPU_REPEAT = 15


def median_cpu(get: Callable[[str], tuple[int, bytes]], path: str, repeat: int) -> float:
    """The median processor time, in seconds, of ``repeat`` requests of ``path``."""
    times = []
    for _ in range(repeat):
        started = time.process_time()
        _isolated(get, path)
        times.append(time.process_time() - started)
    return statistics.median(times)


def best_times(
    engine: Engine, statements: list[tuple[str, Any]], repeat: int = REPEAT
) -> list[float]:
    """Each statement's fastest of ``repeat`` runs (all rows fetched), in seconds."""
    times = []
    with engine.connect() as connection:
        driver = connection.connection.driver_connection
        for statement, parameters in statements:
            best = float("inf")
            for _ in range(repeat):
                started = time.perf_counter()
                cursor = driver.cursor()  # type: ignore[union-attr]
                cursor.execute(statement, parameters)
                cursor.fetchall()
                cursor.close()
                best = min(best, time.perf_counter() - started)
            times.append(best)
        connection.rollback()
    return times


def _isolated(function: Callable[..., T], *args: Any) -> T:
    """Run ``function`` outside any application context the caller has, as a server would run
    a request: Flask-Login keeps the signed-in user on ``g``, which lives as long as the app
    context, so requests that share one would share a user."""
    return contextvars.Context().run(function, *args)


Statements = dict[str, list[tuple[str, Any]]]


def count_queries(
    app: Flask, plan: Plan, selects: Statements | None = None
) -> dict[str, QueryCount]:
    """Each scenario requested once to warm up, then once counted; each page's SELECT
    statements go into ``selects`` when given. Raises ``RuntimeError`` if a page does not
    answer 200."""
    results: dict[str, QueryCount] = {}
    with app.app_context():
        engine = db.engine
    sessions = _isolated(start_sessions, app, plan)
    client = app.test_client()

    def get(path: str) -> tuple[int, bytes]:
        response = client.get(path)
        return response.status_code, response.get_data()

    for scenario in plan.scenarios:
        _isolated(log_in, client, sessions[scenario.actor])
        _isolated(get, scenario.path)
        counter = StatementCounter()
        started = time.perf_counter()
        with counter.watching(engine):
            status, body = _isolated(get, scenario.path)
        elapsed = time.perf_counter() - started
        if status != 200:
            raise RuntimeError(f"{scenario.key}: {scenario.path} answered {status}")
        cpu = median_cpu(get, scenario.path, 1 if scenario.kind == "export" else CPU_REPEAT)
        best = best_times(engine, counter.selects)
        if selects is not None:
            selects[scenario.key] = counter.selects
        slowest_seconds, slowest_sql = counter.slowest
        results[scenario.key] = QueryCount(
            key=scenario.key,
            status=status,
            queries=counter.count,
            bytes=len(body),
            request_ms=round(elapsed * 1000, 1),
            request_cpu_ms=round(cpu * 1000, 1),
            sql_ms=round(counter.seconds * 1000, 1),
            slowest_ms=round(slowest_seconds * 1000, 1),
            slowest_sql=" ".join(slowest_sql.split())[:400],
            sql_best_ms=round(sum(best) * 1000, 1),
            slowest_best_ms=round(max(best, default=0.0) * 1000, 1),
        )
    return results


def sql_ab(
    engine: Engine,
    selects: Statements,
    apply: Callable[[], object],
    undo: Callable[[], object],
    rounds: int = 3,
) -> dict[str, dict[str, float]]:
    """Each page's SELECTs timed without and with a change to the database (``apply``, then
    ``undo``), in alternating rounds so that a drift in the machine's load hits both sides:
    per page the best total of all rounds, in ms."""
    best: dict[str, dict[str, float]] = {
        key: {"without": float("inf"), "with": float("inf")} for key in selects
    }
    for _ in range(rounds):
        for side in ("without", "with"):
            if side == "with":
                apply()
            try:
                for key, statements in selects.items():
                    total = sum(best_times(engine, statements)) * 1000
                    best[key][side] = min(best[key][side], round(total, 1))
            finally:
                if side == "with":
                    undo()
    return best
