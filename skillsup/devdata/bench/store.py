"""Writing the benchmark data in bulk, and emptying and tidying the database around it."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import sqlalchemy as sa
from sqlalchemy import func, insert, select, text

from ...extensions import db

COPY_BATCH = 50_000
INSERT_BATCH = 2_000

USER_COLUMNS = (
    "id", "email", "name", "role", "company_id", "staff_number", "department", "job_title",
    "is_active", "preferred_language", "password_hash", "session_version", "email_confirmed_at",
    "invited_at", "invited_by_id", "last_login_at", "deactivated_at", "calendar_token",
    "wants_reminders", "wants_attendance_warnings", "created_at",
)  # fmt: skip
CLASS_COLUMNS = (
    "id", "course_id", "code", "venue", "online_url", "capacity", "seats_taken", "starts_on",
    "ends_on", "enrolment_opens_at", "enrolment_closes_at", "withdrawal_deadline_at",
    "min_attendance_pct", "assessment_required", "status", "status_reasons", "created_at",
    "updated_at",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "class_id", "starts_at", "ends_at", "room", "is_cancelled", "sequence", "created_at",
    "updated_at",
)  # fmt: skip
ENROLMENT_COLUMNS = (
    "id", "class_id", "learner_id", "company_id", "status", "source", "requested_by_id",
    "acted_by_id", "status_reasons", "requested_at", "waitlisted_at", "confirmed_at",
    "decided_at", "ended_at", "result_score", "result_passed", "updated_at",
)  # fmt: skip
HISTORY_COLUMNS = (
    "id", "enrolment_id", "from_status", "to_status", "actor_id", "reasons", "changed_at",
)  # fmt: skip
ATTENDANCE_COLUMNS = ("id", "enrolment_id", "session_id", "status", "marked_by_id", "marked_at")
CERTIFICATE_COLUMNS = (
    "id", "enrolment_id", "serial_number", "verification_code", "issued_at", "revoked_at",
    "revoked_reasons", "revoked_by_id",
)  # fmt: skip


def empty_database() -> None:
    """Delete every row of every table (and restart the ids on PostgreSQL)."""
    tables = db.metadata.sorted_tables
    if dialect() == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())


def analyse() -> None:
    """After a bulk load, do what autovacuum would soon do on PostgreSQL: refresh the
    planner's statistics and the visibility map (which index-only scans rely on)."""
    if dialect() == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (ANALYZE)")
            )


def dialect() -> str:
    return db.session.get_bind().dialect.name


def reset_sequences() -> None:
    """Explicit ids were written: move each PostgreSQL id sequence past the highest."""
    if dialect() != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        db.session.execute(
            text(
                # Table names come from the models, not from input.
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )


# ---------------------------------------------------------------------------------------------
# Writing rows in bulk


class Writer:
    """Writes rows (tuples in a fixed column order) table by table: ``COPY`` on PostgreSQL,
    batched ``INSERT`` elsewhere. Rows wait in a buffer until :meth:`flush`."""

    def __init__(self, created: Counter[str]) -> None:
        self.postgres = dialect() == "postgresql"
        self.created = created
        self.buffers: dict[str, tuple[sa.Table, tuple[str, ...], list[tuple[Any, ...]]]] = {}

    def add(self, table: sa.Table, columns: tuple[str, ...], row: tuple[Any, ...]) -> None:
        entry = self.buffers.get(table.name)
        if entry is None:
            entry = self.buffers[table.name] = (table, columns, [])
        entry[2].append(row)

    def pending(self, table: sa.Table) -> int:
        entry = self.buffers.get(table.name)
        return len(entry[2]) if entry else 0

    def flush(self) -> None:
        """Write every buffered row, parents before children."""
        for table in db.metadata.sorted_tables:
            entry = self.buffers.get(table.name)
            if entry is None or not entry[2]:
                continue
            _table, columns, rows = entry
            self._write(table, columns, rows)
            self.created[table.name] += len(rows)
            rows.clear()

    def _write(
        self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        if self.postgres:
            driver_connection = db.session.connection().connection.driver_connection
            # None only for a connection that has been closed, not for the session's own.
            assert driver_connection is not None
            cursor = driver_connection.cursor()
            names = ", ".join(f'"{column}"' for column in columns)
            try:
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        # JSON columns (reasons) go as JSON text, not as arrays.
                        copy.write_row(
                            [json.dumps(v) if isinstance(v, list | dict) else v for v in row]
                        )
            finally:
                cursor.close()
            return
        statement = insert(table)
        for start in range(0, len(rows), INSERT_BATCH):
            db.session.execute(
                statement,
                [
                    dict(zip(columns, row, strict=True))
                    for row in rows[start : start + INSERT_BATCH]
                ],
            )


def next_id(table: sa.Table) -> int:
    return int(db.session.scalar(select(func.max(table.c.id))) or 0) + 1


# ---------------------------------------------------------------------------------------------
