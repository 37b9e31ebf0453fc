"""Fixtures: an application per database backend, a client, logged-in users, factories.

Every test that asks for ``app`` (or anything built on it) runs on SQLite and, when
``SKILLSUP_TEST_DATABASE_URL`` names a PostgreSQL database, on PostgreSQL as well. With
``SKILLSUP_REQUIRE_POSTGRES=1`` a missing or unreachable PostgreSQL fails the run.
"""

from __future__ import annotations

import contextvars
import os
import shutil
from collections.abc import Iterator
from datetime import datetime, time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from flask import Flask, has_app_context
from flask.testing import FlaskClient

from skillsup import create_app
from skillsup.extensions import cache, db, limiter
from skillsup.services import mail
from skillsup.timeutil import HONG_KONG, today_hk

from . import factories
from .pg import drop_postgres_database, postgres_database_url

POSTGRES_URL = os.environ.get("SKILLSUP_TEST_DATABASE_URL", "")
REQUIRE_POSTGRES = os.environ.get("SKILLSUP_REQUIRE_POSTGRES") == "1"

BASE_TEST_CONFIG: dict[str, Any] = {
    "SKILLSUP_ENV": "testing",
    "SECRET_KEY": "test-secret-key-that-is-long-enough",
    "WTF_CSRF_ENABLED": False,
    "SERVER_NAME": "skillsup.test",
    "MAIL_SERVER": None,
}


#: Hong Kong wall-clock times at which the tests marked ``hong_kong_day`` run again, besides
#: the real time: just after Hong Kong's midnight (still yesterday in UTC), just after UTC's
#: midnight (08:00 in Hong Kong), and just before Hong Kong's midnight. Code that takes the
#: UTC date for Hong Kong's, or the other way round, fails at one of them.
HONG_KONG_CLOCKS = {"hk-0030": time(0, 30), "hk-0830": time(8, 30), "hk-2330": time(23, 30)}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "hong_kong_day: run the test again at several times of the Hong Kong day "
        "(HONG_KONG_CLOCKS), on SQLite",
    )
    config.addinivalue_line(
        "markers",
        "own_app: the test changes the application itself (adds a route): it gets one of its "
        "own rather than one kept for other tests",
    )
    if REQUIRE_POSTGRES and not POSTGRES_URL:
        raise pytest.UsageError(
            "SKILLSUP_REQUIRE_POSTGRES=1 but SKILLSUP_TEST_DATABASE_URL is not set: name a "
            "PostgreSQL database, for example "
            "postgresql+psycopg://postgres@127.0.0.1:5432/test"
        )


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if metafunc.definition.get_closest_marker("hong_kong_day"):
        metafunc.parametrize(
            "hong_kong_clock", ["now", *HONG_KONG_CLOCKS], indirect=True, scope="function"
        )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # The clock is the code's, not the database's: the other times run on SQLite alone.
    kept = []
    deselected = []
    for item in items:
        params = getattr(item, "callspec", None)
        params = params.params if params is not None else {}
        if params.get("hong_kong_clock", "now") != "now" and params.get("database_url") == (
            "postgresql"
        ):
            deselected.append(item)
        else:
            kept.append(item)
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    # The longest files first, so that the test processes share them out as they ask for work
    # (`make test` hands out whole files, in this order): left to the end, one of them keeps a
    # process busy for minutes after the other has finished.
    items.sort(key=lambda item: _LONGEST_FILES.get(item.path.name, len(_LONGEST_FILES)))


#: The test files that take longest, longest first (from ``--durations``): the walk of every
#: page in Chinese, the 5,000-row import, the browser's accessibility checks of every page,
#: the demo data's checks, the hostile-input fuzz, Schemathesis and the authorization matrix.
_LONGEST_FILES = {
    name: rank
    for rank, name in enumerate(
        [
            "test_hr_imports.py",
            "test_hong_kong_chinese.py",
            "test_accessibility.py",
            "test_demo.py",
            "test_fuzz.py",
            "test_schemathesis.py",
            "test_authorization_matrix.py",
            "test_api_authorization_matrix.py",
            "test_small_screens.py",
            "test_hr_reports.py",
        ]
    )
}


@pytest.fixture(autouse=True)
def hong_kong_clock(request: pytest.FixtureRequest) -> Iterator[str]:
    """For a test marked ``hong_kong_day``: the clock moved to today's Hong Kong date at one
    of :data:`HONG_KONG_CLOCKS`, ticking on from there. Autouse, so that it is set before
    any fixture reads the time."""
    which = getattr(request, "param", "now")
    if which == "now":
        yield which
        return
    moment = datetime.combine(today_hk(), HONG_KONG_CLOCKS[which], tzinfo=HONG_KONG)
    with time_machine.travel(moment, tick=True):
        yield which


@pytest.fixture(scope="session", autouse=True)
def compiled_translations() -> None:
    """Compile the .po catalogues when their .mo is missing or older, as `make` does."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    for po_path in (
        Path(__file__)
        .resolve()
        .parent.parent.glob("skillsup/translations/*/LC_MESSAGES/messages.po")
    ):
        mo_path = po_path.with_suffix(".mo")
        if mo_path.exists() and mo_path.stat().st_mtime >= po_path.stat().st_mtime:
            continue
        with open(po_path, "rb") as po:
            catalog = read_po(po)
        # Written aside and moved into place: parallel test workers may do this at once.
        partial = mo_path.with_suffix(f".mo.{os.getpid()}")
        with open(partial, "wb") as mo:
            write_mo(mo, catalog)
        os.replace(partial, mo_path)


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A database of this test process's own on the PostgreSQL server, with the schema in it.

    Named after the process, so that test runs side by side never share one; dropped at the end.
    """
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set SKILLSUP_TEST_DATABASE_URL to run on it")
    name = f"skillsup_test_{_worker()}_{os.getpid()}"
    try:
        url = postgres_database_url(POSTGRES_URL, name, fresh=True)
    except Exception as error:
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL at SKILLSUP_TEST_DATABASE_URL is unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")
    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    yield url
    drop_postgres_database(POSTGRES_URL, name)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """The test process's database on each backend, emptied before every test (see ``app``)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.getbasetemp()}/skillsup-test.sqlite3"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Settings a test module may override for its ``app``."""
    return {}


class IsolatedClient(FlaskClient):
    """A test client whose requests run as they would in a server: in their own app context.

    The test itself keeps an app context (and a database session) of its own for setting up
    data and checking results. Before each request that session commits, so that the
    request sees the test's data and no lock is held; afterwards it forgets what it had
    loaded, so that the test sees what the request changed.
    """

    def open(self, *args: Any, **kwargs: Any) -> Any:
        if not has_app_context():  # a redirect followed from inside a request's context
            return super().open(*args, **kwargs)
        db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        db.session.expire_all()
        return response


class _Portal:
    """An application kept for the tests that share its settings, with the settings it was
    made with."""

    def __init__(self, application: Flask) -> None:
        self.application = application
        self.config = dict(application.config)


#: The applications of this test process, by database and settings. Making one costs far more
#: than most tests (its URL map and API document are built, its templates compiled as pages
#: are first drawn), so each test gets a kept one, put back as it was made: its settings
#: restored, its cache and the rate limits' counters emptied, its database emptied.
_PORTALS: dict[str, _Portal] = {}
_KEPT_PORTALS = 8


def _portal(database_url: str, app_config: dict[str, Any]) -> Flask:
    key = f"{database_url} {sorted(app_config.items())!r}"
    portal = _PORTALS.pop(key, None)
    if portal is None:
        application = create_app(
            {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **app_config}
        )
        application.test_client_class = IsolatedClient
        portal = _Portal(application)
        while len(_PORTALS) >= _KEPT_PORTALS:
            oldest = _PORTALS.pop(next(iter(_PORTALS)))
            with oldest.application.app_context():
                db.engine.dispose()
    _PORTALS[key] = portal  # the most recently used last
    application = portal.application
    application.config.clear()
    application.config.update(portal.config)
    return application


@pytest.fixture
def app(
    request: pytest.FixtureRequest, database_url: str, app_config: dict[str, Any]
) -> Iterator[Flask]:
    if request.node.get_closest_marker("own_app"):
        application = create_app(
            {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": database_url, **app_config}
        )
        application.test_client_class = IsolatedClient
    else:
        application = _portal(database_url, app_config)
    with application.app_context():
        db.session.remove()
        db.engine.dispose()
        if database_url.startswith("sqlite"):
            _fresh_sqlite(database_url)
        else:
            _truncate_all()
        if not application.config.get("CACHE_URL"):
            # The process's own cache, which a new application would have started empty (a
            # Redis one is the server's, shared as before).
            cache.clear()
        limiter.reset()
    with application.app_context():
        yield application
        db.session.remove()
        db.engine.dispose()


def _fresh_sqlite(database_url: str) -> None:
    """An empty database with the schema in place of the last test's: a copy of one made
    once, put in as a new file, so that a connection a test left open keeps the old one."""
    path = Path(database_url.removeprefix("sqlite:///"))
    schema = path.with_name(path.name + ".schema")
    for leftover in (
        path,
        *(path.with_name(path.name + end) for end in ("-wal", "-shm", "-journal")),
    ):
        leftover.unlink(missing_ok=True)
    if not schema.exists():
        db.create_all()
        db.engine.dispose()
        shutil.copyfile(path, schema)
        return
    partial = path.with_name(f"{path.name}.{os.getpid()}")
    shutil.copyfile(schema, partial)
    os.replace(partial, path)


def _truncate_all() -> None:
    # DELETE is much quicker than TRUNCATE for the few rows a test leaves behind.
    for table in reversed(db.metadata.sorted_tables):
        db.session.execute(table.delete())
    db.session.commit()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def outbox(app: Flask) -> Iterator[list[mail.Message]]:
    """Messages delivered during the test (to the log, since no SMTP server is set)."""
    sent: list[mail.Message] = []

    def record(_sender: Any, message: mail.Message, **_kwargs: Any) -> None:
        sent.append(message)

    mail.message_sent.connect(record)
    yield sent
    mail.message_sent.disconnect(record)


# Factories and ready-made people -----------------------------------------------------------


@pytest.fixture
def make(app: Flask) -> factories.Factory:
    return factories.Factory()


@pytest.fixture
def company(make: factories.Factory) -> Any:
    return make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])


@pytest.fixture
def learner(make: factories.Factory, company: Any) -> Any:
    return make.user(role="learner", company=company, email="amy.chan@harbour-it.test")


@pytest.fixture
def hr_officer(make: factories.Factory, company: Any) -> Any:
    return make.user(role="hr", company=company, email="hr@harbour-it.test")


@pytest.fixture
def trainer(make: factories.Factory) -> Any:
    return make.user(role="trainer", email="trainer@skillsup.test")


@pytest.fixture
def admin(make: factories.Factory) -> Any:
    return make.user(role="admin", email="admin@skillsup.test")


def login(client: FlaskClient, user: Any, password: str = factories.PASSWORD) -> Any:
    return client.post("/login", data={"email": user.email, "password": password})


@pytest.fixture
def login_as(client: FlaskClient) -> Any:
    def _login(user: Any, password: str = factories.PASSWORD) -> FlaskClient:
        response = login(client, user, password)
        assert response.status_code == 302, response.get_data(as_text=True)
        return client

    return _login
