"""``make bench``: seed, count queries, load the served portal, and write the report.

Settings come from the environment (see bench/README.md): ``SKILLSUP_BENCH_DATABASE_URL``
(default: the machine's own PostgreSQL, database ``skillsup_bench``), ``BENCH_SCALE`` (the scales
to load test, default ``0.1 1``), ``BENCH_DURATION`` (seconds per page, default 10),
``BENCH_BASELINE`` (an earlier run's JSON to compare with, default bench/results/before.json when
it exists) and more. Queries per page are always counted at scale 0.1 as well as at the largest
scale.

Run as ``python -m bench.run`` from the project folder.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import importlib.metadata
import json
import os
import platform
import re
import secrets
import sys
import tempfile
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil
import redis
from flask import Flask, g, session
from flask_login import login_user
from flask_migrate import upgrade
from flask_wtf.csrf import generate_csrf
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

from skillsup import CACHE_KEY_PREFIX, create_app
from skillsup.devdata.bench import (
    BENCH_PASSWORD,
    SEEDED_ACTION,
    BenchDataExists,
    analyse,
    seed_bench,
)
from skillsup.extensions import db
from skillsup.models import AuditEntry, CourseClass, Enrolment, EnrolmentStatus, User
from skillsup.services import user_sessions

from . import burst, load, report, rush
from .queries import Statements, count_queries, sql_ab
from .scenarios import (
    BURST_CAPACITY,
    BURST_REQUESTS,
    RUSH_LEARNERS,
    Plan,
    check_rush_rules,
    make_burst_class,
    make_plan,
    make_rush,
    rush_outcome,
)
from .wsgi import REFERENCE_PREFIX, add_reference_routes

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/skillsup_bench"
#: The server's shared cache, as in production: the catalogue's results and the HR
#: dashboard's figures are kept there.
DEFAULT_CACHE_URL = "redis://127.0.0.1:6379/2"
#: The rush runs under the production settings and, to compare, threaded workers.
DEFAULT_RUSH_SERVERS = "production gthread:2x4:ka5"
PROPOSED_INDEXES = ROOT / "bench" / "proposed_indexes.sql"
DEFAULT_BASELINE = ROOT / "bench" / "results" / "before.json"
QUERY_SCALE = 0.1
POSTGRES_SETTINGS = (
    "server_version",
    "shared_buffers",
    "work_mem",
    "effective_cache_size",
    "max_connections",
    "random_page_cost",
    "jit",
)


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def settings() -> dict[str, Any]:
    scales = sorted({float(s) for s in re.split(r"[,\s]+", _env("BENCH_SCALE", "0.1 1")) if s})
    output = Path(_env("BENCH_OUTPUT", str(ROOT / "bench" / "results" / "latest.md")))
    return {
        "database_url": _env("SKILLSUP_BENCH_DATABASE_URL", DEFAULT_DATABASE_URL),
        "cache_url": _env("SKILLSUP_BENCH_CACHE_URL", DEFAULT_CACHE_URL),
        "scales": scales,
        "duration": float(_env("BENCH_DURATION", "10")),
        "warmup": float(_env("BENCH_WARMUP", "2")),
        "reference_seconds": float(_env("BENCH_REFERENCE_DURATION", "3")),
        "connections": int(_env("BENCH_CONNECTIONS", "8")),
        "threads": int(_env("BENCH_THREADS", "2")),
        "export_requests": int(_env("BENCH_EXPORT_REQUESTS", "6")),
        "export_concurrency": int(_env("BENCH_EXPORT_CONCURRENCY", "2")),
        "burst_requests": int(_env("BENCH_BURST", str(BURST_REQUESTS))),
        "burst_capacity": int(_env("BENCH_BURST_CAPACITY", str(BURST_CAPACITY))),
        "server": server_spec("BENCH_SERVER", _page_server_default()),
        "rush_learners": int(_env("BENCH_RUSH_LEARNERS", str(RUSH_LEARNERS))),
        "rush_seconds": float(_env("BENCH_RUSH_SECONDS", "60")),
        "rush_servers": [
            server_spec("BENCH_RUSH_SERVERS", spec)
            for spec in re.split(r"[,\s]+", _env("BENCH_RUSH_SERVERS", DEFAULT_RUSH_SERVERS))
            if spec
        ],
        "try_indexes": _env("BENCH_TRY_INDEXES", "1") not in {"0", "no", "false"},
        "reseed": _env("BENCH_RESEED", "1") not in {"0", "no", "false"},
        "output": output,
        # Unlike the others, set empty it means "none" rather than the default.
        "baseline": report.choose_baseline(
            os.environ.get("BENCH_BASELINE"), DEFAULT_BASELINE, output.with_suffix(".json")
        ),
    }


def _page_server_default() -> str:
    """The pages' server: the production settings, or (as before they existed) that many sync
    workers when only ``BENCH_WORKERS`` is set."""
    workers = os.environ.get("BENCH_WORKERS", "").strip()
    return f"sync:{workers}" if workers else "production"


def server_spec(variable: str, spec: str) -> str:
    """``spec`` once it is known to name server settings; SystemExit naming ``variable`` else."""
    try:
        load.ServerSettings.parse(spec)
    except ValueError as error:
        raise SystemExit(f"{variable}: {error}") from error
    return spec


def shown_path(path: Path) -> str:
    """A path as the report shows it: from the project folder when it is inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def baseline_run(path: Path | None, largest: float) -> dict[str, Any] | None:
    """The earlier run to compare with, read before anything is measured so that a wrong path
    stops the run at once. Raises SystemExit if it cannot be read."""
    if path is None:
        log("no baseline: the report compares with no earlier run")
        return None
    try:
        baseline = report.read_baseline(path)
    except (OSError, ValueError) as error:
        raise SystemExit(f"BENCH_BASELINE: cannot read {path}: {error}") from error
    log(f"baseline: {shown_path(path)}, the run of {baseline['started_at']}")
    if report.largest_scale(baseline) != f"{largest:g}":
        log(
            f"the baseline was load tested at scale {report.largest_scale(baseline)}, this run "
            f"at {largest:g}: the report will not compare them"
        )
    return baseline


def log(message: str) -> None:
    print(f"[bench {dt.datetime.now(dt.UTC):%H:%M:%S}] {message}", flush=True)  # noqa: T201


# ---------------------------------------------------------------------------------------------
# The database and the application


def ensure_database(url: str) -> None:
    """Create the bench database on its PostgreSQL server if it is not there yet."""
    import psycopg
    from psycopg import sql

    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit("The benchmark runs on PostgreSQL: set SKILLSUP_BENCH_DATABASE_URL.")
    params: dict[str, Any] = {
        "host": parsed.host or "127.0.0.1",
        "port": parsed.port or 5432,
        "user": parsed.username or "postgres",
        "dbname": "postgres",
        "autocommit": True,
    }
    if parsed.password:
        params["password"] = parsed.password
    with psycopg.connect(**params) as connection:
        found = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (parsed.database,)
        ).fetchone()
        if not found:
            name = sql.Identifier(parsed.database)
            connection.execute(sql.SQL("CREATE DATABASE {}").format(name))


def server_environment(url: str, secret_key: str, cache_url: str) -> dict[str, str]:
    """What gunicorn runs with: production settings, over plain HTTP on the loopback."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSUP_")}
    env.update(
        {
            "SKILLSUP_ENV": "production",
            "SKILLSUP_SECRET_KEY": secret_key,
            "SKILLSUP_DATABASE_URL": url,
            "SKILLSUP_CACHE_URL": cache_url,
            # No TLS on the loopback; the cookies' Secure flag costs nothing on the server.
            "SKILLSUP_SESSION_COOKIE_SECURE": "0",
            "SKILLSUP_REMEMBER_COOKIE_SECURE": "0",
            "SKILLSUP_RATELIMIT_STORAGE_URL": "memory://",
            # The generated HR officers and admin have no second factor: the benchmark
            # measures their pages, not the sign-in, which would stop at its setup.
            "SKILLSUP_REQUIRE_TWO_FACTOR": "0",
            "PYTHONPATH": str(ROOT),
        }
    )
    return env


def make_app(url: str, secret_key: str) -> Flask:
    return add_reference_routes(
        create_app(
            {
                "SKILLSUP_ENV": "production",
                "SECRET_KEY": secret_key,
                "SQLALCHEMY_DATABASE_URI": url,
                "SESSION_COOKIE_SECURE": False,
                "REMEMBER_COOKIE_SECURE": False,
                "RATELIMIT_STORAGE_URI": "memory://",
                "REQUIRE_TWO_FACTOR": False,
                "MAIL_SERVER": None,
                # Queries are counted for the work a page does: the HR dashboard's figures
                # and the catalogue's results are worked out every time here, while the
                # server under load keeps them for the production defaults
                # (HR_DASHBOARD_CACHE_SECONDS, CATALOGUE_CACHE_SECONDS).
                "HR_DASHBOARD_CACHE_SECONDS": 0,
                "CATALOGUE_CACHE_SECONDS": 0,
            }
        )
    )


def seeded_scale() -> float | None:
    details = db.session.scalar(
        select(AuditEntry.details)
        .where(AuditEntry.action == SEEDED_ACTION)
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    return float(details["scale"]) if details else None


def seed(scale: float, reseed: bool) -> dict[str, Any]:
    if not reseed and seeded_scale() == scale:
        log(f"bench data at scale {scale:g} already loaded: kept")
        return {"kept": True}
    log(f"seeding scale {scale:g}")
    started = time.perf_counter()
    try:
        seeded = seed_bench(scale, reset=True)
    except BenchDataExists as error:
        # A database with data of its own, not a benchmark one: set SKILLSUP_BENCH_DATABASE_URL.
        raise SystemExit(f"SKILLSUP_BENCH_DATABASE_URL: {error.message}") from error
    db.session.commit()
    seconds = time.perf_counter() - started
    analyse_started = time.perf_counter()
    analyse()
    result = {
        "seconds": round(seconds, 1),
        "analyse_seconds": round(time.perf_counter() - analyse_started, 1),
        "created": dict(seeded.created),
        "today": seeded.today.isoformat(),
        "seed": seeded.seed,
    }
    log(f"seeded in {seconds:.1f} s: {seeded.created}")
    return result


# ---------------------------------------------------------------------------------------------
# Load


def mint_sessions(app: Flask, user_ids: list[int]) -> list[tuple[str, str]]:
    """Signed-in session cookies and CSRF tokens for many learners, made with the app's own
    secret key as the login page would make them, without 500 password checks. Runs in an
    application context of its own, so that nobody stays signed in in the caller's."""
    return contextvars.Context().run(_mint_sessions, app, user_ids)


def _mint_sessions(app: Flask, user_ids: list[int]) -> list[tuple[str, str]]:
    serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
    name = app.config["SESSION_COOKIE_NAME"]
    posts = []
    with app.app_context():
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids)))}
        # Each session's record, as a login starts it: its secret is the id the cookie keeps.
        keys = {
            user_id: user_sessions.start(
                users[user_id], ip_address=load.HOST, user_agent=load.USER_AGENT
            ).secret
            for user_id in user_ids
        }
        db.session.commit()
        for user_id in user_ids:
            users[user_id].session_key = keys[user_id]
            posts.append(_mint_session(app, serializer, name, users[user_id]))
        db.session.rollback()
    return posts


def _mint_session(app: Flask, serializer: Any, name: str, user: User) -> tuple[str, str]:
    with app.test_request_context(
        "/", environ_base={"REMOTE_ADDR": load.HOST}, headers={"User-Agent": load.USER_AGENT}
    ):
        login_user(user)
        # The token is cached on ``g``, which lives as long as the app context: drop it so
        # that each session gets a token of its own.
        g.pop(app.config.get("WTF_CSRF_FIELD_NAME", "csrf_token"), None)
        token = generate_csrf()
        return f"{name}={serializer.dumps(dict(session))}", token


def check_scenarios(server: load.Server, plan: Plan, cookies: dict[str, str | None]) -> None:
    """Every scenario answers 200 with the right content before it is measured."""
    import httpx

    for scenario in plan.scenarios:
        cookie = cookies[scenario.actor]
        headers = {"User-Agent": load.USER_AGENT, **({"Cookie": cookie} if cookie else {})}
        response = httpx.get(server.base_url + scenario.path, headers=headers, timeout=120)
        kind = response.headers.get("content-type", "").split(";")[0]
        if response.status_code != 200 or kind != scenario.content_type:
            raise RuntimeError(
                f"{scenario.key}: {scenario.path} answered {response.status_code} {kind}"
            )


Cookies = dict[str, str | None]


def plaintext_reference(server: load.Server, conf: dict[str, Any]) -> load.LoadResult:
    """The plaintext reference, measured for a few seconds just before what it is a
    yardstick for: the machine is shared, and its pace drifts."""
    return load.run_wrk(
        "plaintext",
        f"{server.base_url}{REFERENCE_PREFIX}/plaintext",
        cookie=None,
        connections=conf["connections"],
        threads=conf["threads"],
        seconds=conf["reference_seconds"],
    )


def run_pages(
    server: load.Server, plan: Plan, cookies: Cookies, conf: dict[str, Any]
) -> dict[str, Any]:
    """Each page under load, right after a short plaintext run: the machine is shared, so a
    page's ratio is taken against the reference measured just before it."""
    results: dict[str, Any] = {}
    references = [s.key for s in plan.of_kind("reference")]
    order = references + [s.key for s in plan.of_kind("page")] + ["plaintext_end"]
    for key in order:
        scenario = plan.scenario(key.removesuffix("_end"))
        url = server.base_url + scenario.path
        cookie = cookies[scenario.actor]
        reference = None
        if scenario.key != "plaintext":
            reference = plaintext_reference(server, conf)
        if conf["warmup"] > 0:
            load.run_wrk(key, url, cookie=cookie, connections=conf["connections"],
                         threads=conf["threads"], seconds=conf["warmup"])  # fmt: skip
        result = load.run_wrk(
            key,
            url,
            cookie=cookie,
            connections=conf["connections"],
            threads=conf["threads"],
            seconds=conf["duration"],
        )
        if reference is not None:
            result.extra["reference"] = reference.throughput
        log(
            f"{key}: {result.throughput} req/s, p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, "
            f"p99 {result.p99_ms} ms, not 200: {result.not_200}, errors: {result.errors}"
            + (f", plaintext just before: {reference.throughput} req/s" if reference else "")
        )
        results[key] = result.as_dict()
    return results


def run_exports(
    server: load.Server, plan: Plan, cookies: Cookies, conf: dict[str, Any]
) -> dict[str, Any]:
    results: dict[str, Any] = {}
    for scenario in plan.of_kind("export"):
        cookie = cookies[scenario.actor]
        assert cookie is not None
        result = load.run_downloads(
            scenario.key,
            server.base_url + scenario.path,
            cookie=cookie,
            requests=conf["export_requests"],
            concurrency=conf["export_concurrency"],
            server=server,
            expect_type=scenario.content_type,
        )
        result.extra["rows"] = plan.export_rows
        log(
            f"{scenario.key}: p50 {result.p50_ms} ms, p95 {result.p95_ms} ms, "
            f"RSS {result.extra['rss_before_mb']} -> peak {result.extra['rss_peak_mb']} -> "
            f"{result.extra['rss_after_mb']} MB"
        )
        results[scenario.key] = result.as_dict()
    return results


def warm_up_enrolment(app: Flask, server: load.Server, conf: dict[str, Any]) -> None:
    """A small burst for a class of its own before the measured one, as the pages have their
    warm-up: every worker then has its e-mail templates compiled and its statements prepared,
    on both the confirmed and the waitlisted path, and the burst measures a running server
    rather than one that has just started."""
    requests = 8 * server.workers
    setup = make_burst_class(requests=requests, capacity=requests // 2)
    posts = mint_sessions(app, setup.learner_ids)
    db.session.commit()
    result = burst.fire_burst(f"{server.base_url}/classes/{setup.class_code}/enrol", posts)
    log(
        f"burst warm-up: {requests} requests at {setup.class_code} in {result.seconds} s, "
        f"statuses {result.statuses}, transport errors {result.transport_errors}"
    )


def run_burst(app: Flask, server: load.Server, conf: dict[str, Any]) -> dict[str, Any]:
    warm_up_enrolment(app, server, conf)
    setup = make_burst_class(requests=conf["burst_requests"], capacity=conf["burst_capacity"])
    posts = mint_sessions(app, setup.learner_ids)
    db.session.commit()
    # The burst's yardstick, as each page has its own: the machine's pace just before it.
    reference = plaintext_reference(server, conf)
    log(
        f"burst: {len(posts)} learners at {setup.class_code} ({conf['burst_capacity']} seats), "
        f"plaintext just before: {reference.throughput} req/s"
    )
    url = f"{server.base_url}/classes/{setup.class_code}/enrol"
    result = burst.fire_burst(url, posts)
    db.session.expire_all()
    counts = dict(
        db.session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.class_id == setup.class_id)
            .group_by(Enrolment.status)
        ).all()
    )
    course_class = db.session.get(CourseClass, setup.class_id)
    assert course_class is not None
    waitlisted = list(
        db.session.scalars(
            select(Enrolment.learner_id)
            .where(
                Enrolment.class_id == setup.class_id,
                Enrolment.status == EnrolmentStatus.WAITLISTED,
            )
            .order_by(Enrolment.waitlisted_at, Enrolment.id)
        )
    )
    confirmed = counts.get(EnrolmentStatus.CONFIRMED, 0)
    expected_waitlist = conf["burst_requests"] - conf["burst_capacity"]
    outcome = {
        **asdict(result),
        "reference": reference.throughput,
        "class": setup.class_code,
        "capacity": conf["burst_capacity"],
        "confirmed": confirmed,
        "waitlisted": counts.get(EnrolmentStatus.WAITLISTED, 0),
        "other_statuses": {
            str(status): count
            for status, count in counts.items()
            if status not in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)
        },
        "seats_taken": course_class.seats_taken,
        "distinct_waitlisted": len(set(waitlisted)),
    }
    outcome["correct"] = (
        confirmed == conf["burst_capacity"]
        and outcome["waitlisted"] == expected_waitlist
        and course_class.seats_taken == conf["burst_capacity"]
        and outcome["distinct_waitlisted"] == expected_waitlist
        and result.statuses == {302: conf["burst_requests"]}
        and result.transport_errors == 0
    )
    db.session.commit()
    log(
        f"burst: {result.seconds} s, statuses {result.statuses}, {confirmed} confirmed, "
        f"{outcome['waitlisted']} waitlisted, correct: {outcome['correct']}"
    )
    return outcome


def proposed_index_names() -> list[str]:
    return report.index_names(PROPOSED_INDEXES.read_text())


def proposed_index_statements() -> list[str]:
    """The statements of bench/proposed_indexes.sql, comments left out."""
    return report.index_statements(PROPOSED_INDEXES.read_text())


def apply_proposed_indexes() -> float:
    started = time.perf_counter()
    for statement in proposed_index_statements():
        db.session.execute(text(statement))
    db.session.commit()
    analyse()
    return round(time.perf_counter() - started, 1)


def drop_proposed_indexes() -> None:
    for name in proposed_index_names():
        db.session.execute(text(f'DROP INDEX IF EXISTS "{name}"'))
    db.session.commit()
    analyse()


def with_proposed_indexes(
    app: Flask, plan: Plan, conf: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    """The pages' SQL timed without and with bench/proposed_indexes.sql in alternating
    rounds, then the pages and exports under load again with the indexes. The indexes are
    dropped afterwards, whatever happens."""
    log("with the proposed indexes")
    selects: Statements = {}
    count_queries(app, plan, selects)
    db.session.commit()
    builds: list[float] = []
    outcome: dict[str, Any] = {
        "sql": sql_ab(
            db.engine,
            selects,
            lambda: builds.append(apply_proposed_indexes()),
            drop_proposed_indexes,
        )
    }
    log(f"SQL without and with the indexes: {outcome['sql']}")
    outcome["build_seconds"] = max(builds)
    apply_proposed_indexes()
    try:
        outcome["queries"] = {k: asdict(v) for k, v in count_queries(app, plan).items()}
        db.session.commit()
        outcome["load"] = load_test(app, plan, conf, env, burst=False)
    finally:
        drop_proposed_indexes()
    return outcome


def index_pass(app: Flask, plan: Plan, conf: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The pass with the proposed indexes as the results record it: none when
    bench/proposed_indexes.sql holds no statements, its error if it fails (the report still
    gets the rest)."""
    if not proposed_index_statements():
        log("bench/proposed_indexes.sql holds no statements: no pass with proposed indexes")
        return {}
    try:
        return {"with_indexes": with_proposed_indexes(app, plan, conf, env)}
    except Exception as error:
        db.session.rollback()
        drop_proposed_indexes()
        log(f"the pass with the proposed indexes failed: {error!r}")
        return {"with_indexes_error": repr(error)}


def forget_kept(cache_url: str) -> int:
    """Delete the portal's keys (and only those) from the server's cache; how many went."""
    connection = redis.Redis.from_url(cache_url)
    try:
        keys = list(connection.scan_iter(match=f"{CACHE_KEY_PREFIX}*", count=1000))
        return int(connection.delete(*keys)) if keys else 0
    finally:
        connection.close()


def server_log_dir() -> Path:
    """Where the server's log goes: out of the results folder; errors name it."""
    log_dir = Path(tempfile.gettempdir()) / "skillsup-bench"
    log_dir.mkdir(parents=True, exist_ok=True)
    return log_dir


def rush_learners(app: Flask, setup: Any) -> list[rush.Learner]:
    """The rush's people: a signed-in session each and the class they chose."""
    sessions = mint_sessions(app, setup.learner_ids)
    db.session.commit()
    learners = []
    for user_id, (cookie, _token) in zip(setup.learner_ids, sessions, strict=True):
        wanted = setup.classes[setup.choices[user_id]]
        learners.append(rush.Learner(cookie, wanted.course_code, wanted.word, wanted.class_code))
    return learners


def run_one_rush(
    app: Flask, spec: str, conf: dict[str, Any], env: dict[str, str]
) -> dict[str, Any]:
    """The rush against a server with the settings ``spec``, on classes and quotas of its own,
    after a small rush of its own as warm-up; then the rules checked in the database."""
    settings = load.ServerSettings.parse(spec)
    forget_kept(conf["cache_url"])
    warm_up = make_rush(learners=16, capacities=(4, 4, 4, 4))
    warm_up_learners = rush_learners(app, warm_up)
    setup = make_rush(learners=conf["rush_learners"])
    learners = rush_learners(app, setup)
    with load.serve(env, settings=settings, log_dir=server_log_dir()) as server:
        rush.run_rush(server.base_url, warm_up_learners, seconds=2, pauses=(0.1, 0.3))
        reference = plaintext_reference(server, conf)
        log(
            f"rush on {settings.label}: {len(learners)} learners over {conf['rush_seconds']:g} s, "
            f"plaintext just before: {reference.throughput} req/s"
        )
        load_average = [round(x, 2) for x in os.getloadavg()]
        cpu_before, machine_before = server.cpu_seconds(), psutil.cpu_times()
        result = rush.run_rush(server.base_url, learners, seconds=conf["rush_seconds"])
        cpu = server.cpu_seconds() - cpu_before
        machine_after = psutil.cpu_times()
    total = sum(machine_after) - sum(machine_before)
    idle = (machine_after.idle - machine_before.idle) + (
        getattr(machine_after, "iowait", 0) - getattr(machine_before, "iowait", 0)
    )
    db.session.expire_all()
    class_ids = [c.class_id for c in setup.classes]
    outcome = {
        "server": settings.name,
        "label": settings.label,
        **result.as_dict(),
        "reference": reference.throughput,
        "server_cpu_seconds": round(cpu, 1),
        "server_cpu_ms_per_request": round(cpu * 1000 / max(result.requests, 1), 1),
        "machine_busy": round(1 - idle / total, 3) if total else None,
        "load_average": load_average,
        "checks": check_rush_rules(class_ids, setup.quota_ids),
        "enrolments": rush_outcome(class_ids),
        "notes": setup.notes,
    }
    db.session.commit()
    held = all(check["held"] for check in outcome["checks"].values())
    log(
        f"rush on {settings.label}: {result.seconds} s, {result.requests} requests, "
        f"{result.errors} errors, p95 per step "
        + ", ".join(f"{k} {v.p95_ms} ms" for k, v in result.steps.items())
        + f"; server CPU {cpu:.1f} s; rules held: {held}; {outcome['enrolments']}"
    )
    return outcome


def run_rushes(app: Flask, conf: dict[str, Any], env: dict[str, str]) -> dict[str, Any]:
    """The rush under each server setting of ``BENCH_RUSH_SERVERS``, in turn."""
    return {
        "learners": conf["rush_learners"],
        "seconds": conf["rush_seconds"],
        "runs": [run_one_rush(app, spec, conf, env) for spec in conf["rush_servers"]],
    }


def load_test(
    app: Flask, plan: Plan, conf: dict[str, Any], env: dict[str, str], *, burst: bool = True
) -> dict[str, Any]:
    # The server's log stays out of the results folder; errors name it.
    log_dir = server_log_dir()
    outcome: dict[str, Any] = {}
    # Results kept from an earlier data set (the ids start again at every seeding) must go.
    forget_kept(conf["cache_url"])
    settings = load.ServerSettings.parse(conf["server"])
    with load.serve(env, settings=settings, log_dir=log_dir) as server:
        cookies: dict[str, str | None] = {"anonymous": None}
        for key, actor in plan.actors.items():
            if actor.email:
                cookies[key] = load.login_cookie(server.base_url, actor.email, BENCH_PASSWORD)
        check_scenarios(server, plan, cookies)
        outcome["rss_start_mb"] = [round(r / 2**20, 1) for r in server.worker_rss()]
        outcome["pages"] = run_pages(server, plan, cookies, conf)
        outcome["exports"] = run_exports(server, plan, cookies, conf)
        if burst:
            outcome["burst"] = run_burst(app, server, conf)
        outcome["rss_end_mb"] = [round(r / 2**20, 1) for r in server.worker_rss()]
    return outcome


# ---------------------------------------------------------------------------------------------
# The machine


def machine() -> dict[str, Any]:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    versions = {}
    for package in ("flask", "sqlalchemy", "psycopg", "gunicorn", "werkzeug", "jinja2",
                    "flask-sqlalchemy", "openpyxl", "httpx"):  # fmt: skip
        try:
            versions[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            versions[package] = "not installed"
    postgres = {
        name: db.session.execute(text(f"SHOW {name}")).scalar() for name in POSTGRES_SETTINGS
    }
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": f"{platform.system()} {platform.release()}",
        "python": platform.python_version(),
        "versions": versions,
        "postgres": postgres,
        "wrk": load.wrk_version(),
        "commit": report.git_commit(ROOT),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


# ---------------------------------------------------------------------------------------------


def main() -> int:
    conf = settings()
    load_scales = conf["scales"]
    baseline = baseline_run(conf["baseline"], max(load_scales))
    url = conf["database_url"]
    ensure_database(url)
    secret_key = secrets.token_hex(32)
    app = make_app(url, secret_key)
    env = server_environment(url, secret_key, conf["cache_url"])
    started = time.perf_counter()
    results: dict[str, Any] = {
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "settings": {k: (str(v) if isinstance(v, Path) else v) for k, v in conf.items()},
        "scales": {},
    }
    results["settings"]["server_label"] = load.ServerSettings.parse(conf["server"]).label
    output: Path = conf["output"]
    output.parent.mkdir(parents=True, exist_ok=True)
    if baseline is not None:
        results["settings"]["baseline"] = shown_path(conf["baseline"])
        results["baseline"] = {
            "path": shown_path(conf["baseline"]),
            "started_at": baseline["started_at"],
            "commit": baseline.get("machine", {}).get("commit"),
            "load_average": baseline.get("machine", {}).get("load_average"),
        }
    all_scales = sorted({QUERY_SCALE, *load_scales})
    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        results["machine"] = machine()
        db.session.commit()
        for scale in all_scales:
            outcome: dict[str, Any] = {"seed": seed(scale, conf["reseed"])}
            plan = make_plan()
            outcome["notes"] = plan.notes
            outcome["scenarios"] = {s.key: {"title": s.title, "path": s.path, "kind": s.kind}
                                    for s in plan.scenarios}  # fmt: skip
            outcome["queries"] = {k: asdict(v) for k, v in count_queries(app, plan).items()}
            outcome["rows"] = {
                table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
                for table in db.metadata.sorted_tables
            }
            # No transaction left open while the server works (PostgreSQL would end it).
            db.session.commit()
            if scale in load_scales:
                outcome["load"] = load_test(app, plan, conf, env)
                if scale == max(load_scales) and conf["rush_learners"] and conf["rush_servers"]:
                    outcome["rush"] = run_rushes(app, conf, env)
                if conf["try_indexes"] and scale == max(load_scales):
                    outcome.update(index_pass(app, plan, conf, env))
            results["scales"][f"{scale:g}"] = outcome
            # Kept as it goes, so that a failure later loses nothing measured so far.
            output.with_suffix(".json").write_text(
                json.dumps(results, indent=2, default=str) + "\n"
            )
        results["machine"]["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    results["seconds"] = round(time.perf_counter() - started)
    output.with_suffix(".json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    output.write_text(report.render(results, baseline))
    log(f"report written to {output} ({results['seconds']} s in all)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
