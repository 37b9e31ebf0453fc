"""Engine set-up that makes transactions behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from flask import Flask
from sqlalchemy import event, exc
from sqlalchemy.engine import Engine, make_url


def engine_options(app: Flask) -> dict[str, Any]:
    """Connection options per backend, merged under any set in the configuration."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    options: dict[str, Any] = {}
    if url.get_backend_name() == "postgresql":
        lock_timeout = app.config["POSTGRES_LOCK_TIMEOUT_MS"]
        idle_timeout = app.config["POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS"]
        options["connect_args"] = {
            "options": (
                f"-c lock_timeout={int(lock_timeout)}"
                f" -c idle_in_transaction_session_timeout={int(idle_timeout)}"
                " -c timezone=UTC"
            )
        }
    elif url.get_backend_name() == "sqlite":
        # Seconds the driver waits for a lock before raising "database is locked".
        options["connect_args"] = {
            "timeout": app.config["SQLITE_BUSY_TIMEOUT_MS"] / 1000,
            "check_same_thread": False,
        }
    options.update(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    return options


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    """Make SQLite transactions real: ``BEGIN IMMEDIATE``, WAL, foreign keys, a busy timeout.

    pysqlite on Python 3.11 opens no transaction before a SELECT and so a read-then-write
    check is not isolated; with ``isolation_level=None`` it leaves transactions to us, and
    ``BEGIN IMMEDIATE`` takes the write lock at the start so concurrent writers queue instead
    of failing or overselling.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def ping_after_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before it is used only when it has been idle ``idle_seconds``
    or more, and replace it if the server has gone away.

    A connection given back to the pool moments ago (as on a busy site, between one request
    and the next) is alive; one that sat idle may have been closed by a restart, a failover or
    an idle timeout on the way. Testing every connection on every checkout, as SQLAlchemy's
    ``pool_pre_ping`` does, costs each request a round trip to the server.
    """

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A connection just made has no entry: it needs no test.
        checked_in_at = record.info.get("checked_in_at")
        if checked_in_at is None or time.monotonic() - checked_in_at < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error as error:
            # The pool drops this connection and checks out another (a new one if need be).
            raise exc.DisconnectionError() from error


def configure_engines(app: Flask, engines: Mapping[str | None, Engine]) -> None:
    for engine in engines.values():
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, app.config["SQLITE_BUSY_TIMEOUT_MS"])
        elif engine.dialect.name == "postgresql":
            ping_after_idle(engine, app.config["POSTGRES_PING_AFTER_IDLE_SECONDS"])
