"""The attendance rate: the one rule behind every figure of attendance the portal shows or uses.

The rule, wherever the rate is shown or decides something (My learning, the trainer's roster
and closing, the HR officer's dashboard, staff progress, staff records and exports,
certificates, attendance warnings):

- attendance is counted in **contact hours** (each session weighs its length), not in sessions;
- **present** and **late** count as attended, **absent** counts against;
- **excused** sessions are left out: neither attended nor counted;
- **cancelled** sessions are left out;
- the rate is the attended hours over the counted hours; with no counted hours there is no
  rate (``None``), never 0 %.

Which hours are counted depends on the question, and each caller says which it asks:

- the rate **so far** counts the hours marked present, late or absent: a session without a
  mark yet, future or past, is left out. My learning, the roster, the HR dashboard, staff
  progress and the exports show it while marks come in.
- the rate **for completion** counts every hour of the class's sessions that is not excused:
  a session never marked counts as missed. Closing a class decides with it, and a finished
  enrolment's staff record and its certificate show it (see :mod:`.progress`).

In Python: :func:`is_attended`, :func:`is_counted`, :func:`session_counts`,
:func:`session_hours`, :func:`attendance_rate`, and :func:`attendance_so_far` over the marks
of some enrolments. For queries that add the hours up in the database, the same rule as SQL
expressions: :func:`attended_sql`, :func:`counted_sql`, :func:`session_counts_sql`,
:func:`session_hours_sql`, :func:`attended_hours_sum` and :func:`counted_hours_sum`. Both agree
on SQLite and PostgreSQL (``tests/test_attendance_rate.py``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Double, case, extract, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from ..extensions import db
from ..models import Attendance, AttendanceStatus, ClassSession

#: The marks that count as attended.
ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
#: The mark that leaves a session out of the rate altogether.
LEFT_OUT = AttendanceStatus.EXCUSED


def is_attended(status: AttendanceStatus) -> bool:
    """Whether a mark counts as attended: present or late."""
    return status in ATTENDED


def is_counted(status: AttendanceStatus) -> bool:
    """Whether a mark counts towards the rate at all: every mark but excused."""
    return status != LEFT_OUT


def session_counts(session: ClassSession) -> bool:
    """Whether a session counts towards the rate at all: every session but a cancelled one."""
    return not session.is_cancelled


def session_hours(starts_at: datetime, ends_at: datetime) -> float:
    """A session's contact hours: what each of its marks weighs."""
    return (ends_at - starts_at).total_seconds() / 3600


def attendance_rate(attended_hours: float, counted_hours: float) -> float | None:
    """The share of the counted hours attended, from 0 to 1; ``None`` when no hour is counted.

    ``counted_hours`` are the marked hours not excused for the rate so far, and all the
    class's hours not excused for the rate for completion (see the module's description).
    """
    return attended_hours / counted_hours if counted_hours > 0 else None


@dataclass
class AttendanceSoFar:
    """One enrolment's marks added up as the rate so far counts them."""

    attended_sessions: int = 0
    #: Every marked session, excused ones included.
    marked_sessions: int = 0
    attended_hours: float = 0.0
    #: The marked hours that count: present, late and absent.
    counted_hours: float = 0.0

    def add(self, status: AttendanceStatus, hours: float, sessions: int = 1) -> None:
        """Add ``sessions`` marks of ``status`` weighing ``hours`` together."""
        self.marked_sessions += sessions
        if not is_counted(status):
            return
        self.counted_hours += hours
        if is_attended(status):
            self.attended_sessions += sessions
            self.attended_hours += hours

    @property
    def rate(self) -> float | None:
        """The rate so far: the share of the marked hours attended, excused ones left out."""
        return attendance_rate(self.attended_hours, self.counted_hours)


def attendance_so_far(enrolment_ids: list[int]) -> dict[int, AttendanceSoFar]:
    """Each enrolment's attendance so far, from its marks at sessions not cancelled; an
    enrolment without marks gets an empty one (no rate). One query whatever their number."""
    so_far: dict[int, AttendanceSoFar] = defaultdict(AttendanceSoFar)
    if not enrolment_ids:
        return so_far
    for enrolment_id, status, starts_at, ends_at in db.session.execute(
        select(
            Attendance.enrolment_id, Attendance.status, ClassSession.starts_at, ClassSession.ends_at
        )
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .where(Attendance.enrolment_id.in_(enrolment_ids), session_counts_sql())
    ):
        so_far[enrolment_id].add(status, session_hours(starts_at, ends_at))
    return so_far


# The same rule in SQL ------------------------------------------------------------------------


def attended_sql() -> ColumnElement[bool]:
    """SQL: the attendance row's mark counts as attended (:func:`is_attended`)."""
    return Attendance.status.in_(ATTENDED)


def counted_sql() -> ColumnElement[bool]:
    """SQL: the attendance row's mark counts towards the rate (:func:`is_counted`)."""
    return Attendance.status != LEFT_OUT


def session_counts_sql() -> ColumnElement[bool]:
    """SQL: the session counts towards the rate (:func:`session_counts`)."""
    return ClassSession.is_cancelled.is_(False)


class _SessionHours(FunctionElement[float]):
    """A session's contact hours from its start and end columns, written for the database it
    is compiled for: the statement stays one statement (it can be built once), and each
    database subtracts times its own way."""

    name = "session_hours"
    type = Double()
    inherit_cache = True


@compiles(_SessionHours)
def _session_hours_by_epoch(element: _SessionHours, compiler: Any, **kw: Any) -> str:
    starts, ends = element.clauses
    return str(compiler.process(extract("epoch", ends - starts) / 3600.0, **kw))


@compiles(_SessionHours, "sqlite")
def _session_hours_by_julian_day(element: _SessionHours, compiler: Any, **kw: Any) -> str:
    starts, ends = element.clauses
    return str(compiler.process((func.julianday(ends) - func.julianday(starts)) * 24.0, **kw))


def session_hours_sql() -> ColumnElement[float]:
    """SQL: a session's contact hours (:func:`session_hours`), on every database."""
    return _SessionHours(ClassSession.starts_at, ClassSession.ends_at)


def attended_hours_sum() -> ColumnElement[Any]:
    """SQL aggregate: the attended hours of the attendance rows grouped (joined to their
    sessions); the numerator of :func:`attendance_rate`."""
    return func.sum(case((attended_sql(), session_hours_sql()), else_=0))


def counted_hours_sum() -> ColumnElement[Any]:
    """SQL aggregate: the counted hours of the attendance rows grouped (joined to their
    sessions); the denominator of :func:`attendance_rate` for the rate so far."""
    return func.sum(case((counted_sql(), session_hours_sql()), else_=0))
