"""``python -m bench.profile``: where a page's time goes, in the benchmark's own process.

Each page of the plan is requested through the Flask test client against the bench database
(seeded at ``--scale`` unless that scale is already loaded), warmed up, then requested
``--repeat`` times: the median CPU time per request is printed beside the plaintext
reference's. With ``--profile KEY`` one page is run under cProfile and its most expensive
functions are printed (cumulative and own time), which is how the findings' profile summary
is made.

    python -m bench.profile                     # every page at scale 1, median of 30
    python -m bench.profile --profile course    # and a profile of the course page
    python -m bench.profile --only course --statements course   # and the SQL it runs
    python -m bench.profile --calls             # and the Python calls of one request

The calls of one request are the steady measure for comparing two versions of the code on a
shared machine: the CPU times move by half from one minute to the next with the host's load,
the number of calls moves by a handful at most.
"""

from __future__ import annotations

import argparse
import contextvars
import cProfile
import io
import pstats
import secrets
import sys
import time
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import event

from skillsup.extensions import db

from .queries import _isolated, log_in, median_cpu, start_sessions
from .run import ROOT, ensure_database, make_app, seed, settings
from .scenarios import Plan, Scenario, make_plan


def _pages(plan: Plan, keys: list[str]) -> list[Scenario]:
    """The plan's pages (its exports left out), or those of ``keys``."""
    return [
        scenario
        for scenario in plan.scenarios
        if scenario.kind != "export" and (not keys or scenario.key in keys)
    ]


def _warm_up(client: FlaskClient, session: Any, scenario: Scenario) -> None:
    """Sign ``client`` in as the scenario's actor and ask for its page three times, each of
    which must answer 200 (else ``RuntimeError``)."""
    _isolated(log_in, client, session)
    for _ in range(3):
        status = _isolated(client.get, scenario.path).status_code
        if status != 200:
            raise RuntimeError(f"{scenario.key}: {scenario.path} answered {status}")


def cpu_per_request(app: Flask, plan: Plan, repeat: int, keys: list[str]) -> dict[str, float]:
    """Each page's median CPU ms per request over ``repeat`` requests after three warm-ups
    (which must answer 200, else ``RuntimeError``)."""
    sessions = _isolated(start_sessions, app, plan)
    client = app.test_client()

    def get(path: str) -> tuple[int, bytes]:
        response = client.get(path)
        return response.status_code, response.get_data()

    medians: dict[str, float] = {}
    for scenario in _pages(plan, keys):
        _warm_up(client, sessions[scenario.actor], scenario)
        medians[scenario.key] = median_cpu(get, scenario.path, repeat) * 1000
    return medians


def calls_per_request(app: Flask, plan: Plan, keys: list[str]) -> dict[str, int]:
    """How many Python functions one request of each page calls, after three warm-ups (which
    must answer 200, else ``RuntimeError``): on the same data, the same from run to run but for
    a handful (bookkeeping such as a session's last activity, written once a minute)."""
    sessions = _isolated(start_sessions, app, plan)
    client = app.test_client()
    counts: dict[str, int] = {}
    for scenario in _pages(plan, keys):
        _warm_up(client, sessions[scenario.actor], scenario)
        calls = 0

        def count(_frame: Any, event: str, _arg: Any) -> None:
            nonlocal calls
            if event == "call":
                calls += 1

        def one_request(path: str) -> None:
            sys.setprofile(count)
            try:
                client.get(path)
            finally:
                sys.setprofile(None)

        _isolated(one_request, scenario.path)
        counts[scenario.key] = calls
    return counts


def profile_page(app: Flask, plan: Plan, key: str, repeat: int, top: int) -> str:
    """cProfile's summary of ``repeat`` requests of one page, by cumulative and by own time."""
    scenario = plan.scenario(key)
    sessions = _isolated(start_sessions, app, plan)
    client = app.test_client()
    _warm_up(client, sessions[scenario.actor], scenario)
    # Timed by the process's CPU clock, as the medians are: waiting for PostgreSQL costs none.
    profiler = cProfile.Profile(time.process_time)
    for _ in range(repeat):
        contextvars.Context().run(profiler.runcall, client.get, scenario.path)
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out)
    stats.sort_stats("cumulative").print_stats(top)
    stats.sort_stats("tottime").print_stats(top)
    return out.getvalue()


def page_statements(app: Flask, plan: Plan, key: str) -> list[str]:
    """The SQL statements one request of the page runs, in order, after three warm-ups."""
    scenario = plan.scenario(key)
    sessions = _isolated(start_sessions, app, plan)
    client = app.test_client()
    _warm_up(client, sessions[scenario.actor], scenario)
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(" ".join(statement.split()))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        _isolated(client.get, scenario.path)
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return seen


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=float, default=1.0)
    parser.add_argument("--reseed", action="store_true", help="seed even if the scale is loaded")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--only", nargs="*", default=[], help="scenario keys to measure")
    parser.add_argument("--profile", metavar="KEY", help="profile this scenario with cProfile")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--statements", metavar="KEY", help="print the SQL one request runs")
    parser.add_argument(
        "--calls", action="store_true", help="and the Python calls of one request of each page"
    )
    args = parser.parse_args(argv)

    conf = settings()
    ensure_database(conf["database_url"])
    app = make_app(conf["database_url"], secrets.token_hex(32))
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        seed(args.scale, args.reseed)
        plan = make_plan()
        db.session.commit()
    medians = cpu_per_request(app, plan, args.repeat, args.only)
    calls = calls_per_request(app, plan, args.only) if args.calls else {}
    reference = medians.get("plaintext")
    for key, value in medians.items():
        ratio = f"  ({value / reference:4.1f} × plaintext)" if reference else ""
        counted = f"  {calls[key]:7,} Python calls" if key in calls else ""
        print(f"{key:22} {value:7.2f} ms CPU{ratio}{counted}")  # noqa: T201
    if args.profile:
        print(profile_page(app, plan, args.profile, args.repeat, args.top))  # noqa: T201
    if args.statements:
        for number, statement in enumerate(page_statements(app, plan, args.statements), 1):
            print(f"{number:3}. {statement}")  # noqa: T201
    return 0


if __name__ == "__main__":
    sys.exit(main())
