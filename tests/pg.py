"""Test databases on a PostgreSQL server."""

from __future__ import annotations

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url


def _connect(server_url: str) -> psycopg.Connection:
    url = make_url(server_url)
    params: dict[str, object] = {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "dbname": url.database or "postgres",
        "autocommit": True,
        "connect_timeout": 5,
    }
    if url.password:
        params["password"] = url.password
    return psycopg.connect(**params)  # type: ignore[arg-type]


def drop_postgres_database(server_url: str, database: str) -> None:
    with _connect(server_url) as connection:
        connection.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(database))
        )


def postgres_database_url(server_url: str, database: str, *, fresh: bool = False) -> str:
    """Create ``database`` on the server of ``server_url`` if needed and return its URL."""
    url = make_url(server_url).set(drivername="postgresql+psycopg")
    with _connect(server_url) as connection:
        exists = connection.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if exists and fresh:
            connection.execute(
                sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(database))
            )
            exists = None
        if not exists:
            connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    return url.set(database=database).render_as_string(hide_password=False)
