"""Counting the SQL statements a piece of code or a page runs."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event

from skillsup.extensions import db

TRANSACTION_CONTROL = ("BEGIN", "SAVEPOINT", "RELEASE")


@contextmanager
def recorded_statements() -> Iterator[list[str]]:
    """The SQL statements run inside the block, in order, without transaction control (which
    differs between SQLite and PostgreSQL)."""
    statements: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.lstrip().upper().startswith(TRANSACTION_CONTROL):
            statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def page_queries(client: Any, url: str) -> tuple[Any, list[str]]:
    """The response to GET ``url`` and the statements it ran."""
    with recorded_statements() as statements:
        response = client.get(url, buffered=True)
    return response, statements
