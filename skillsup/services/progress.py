"""Attendance standing: an enrolment's attendance against its class's minimum.

The rate is :mod:`.attendance_rate`'s rule: contact hours, present and late attended, excused
and cancelled sessions left out. A standing gives both of its rates: the rate so far (over the
hours marked) and the rate for completion (over all the class's hours, a session never marked
counting as missed). A session not yet marked (a future one, or a past one the trainer has not
marked yet) still counts as possible when asking whether the minimum can be reached.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, select

from ..extensions import db
from ..models import Attendance, AttendanceStatus, ClassSession, CourseClass, Enrolment
from .attendance_rate import (
    LEFT_OUT,
    AttendanceSoFar,
    attendance_rate,
    attended_sql,
    counted_sql,
    is_attended,
    is_counted,
    session_counts,
    session_counts_sql,
    session_hours,
    session_hours_sql,
)


class UnmarkedSession(NamedTuple):
    """A session of the class not cancelled that the enrolment has no mark for yet."""

    id: int
    starts_at: datetime
    hours: float


@dataclass
class AttendanceStanding:
    """One enrolment's attendance in contact hours, by kind, against its class's minimum."""

    minimum_pct: int = 80
    total_hours: float = 0.0
    attended_hours: float = 0.0
    absent_hours: float = 0.0
    excused_hours: float = 0.0
    unmarked_hours: float = 0.0
    #: Sessions marked present or late (both count as attended).
    attended_sessions: int = 0
    #: Of the attended sessions, those marked late.
    late_sessions: int = 0
    absent_sessions: int = 0
    excused_sessions: int = 0
    marked_sessions: int = 0
    total_sessions: int = 0
    #: The sessions not marked yet (future ones, or past ones not yet marked), by start.
    unmarked: list[UnmarkedSession] = field(default_factory=list)

    def unmarked_held(self, now: datetime) -> int:
        """Sessions that have begun by ``now`` without a mark yet (the trainer has not marked
        them); the rest of :attr:`unmarked` are still ahead."""
        return sum(1 for session in self.unmarked if session.starts_at <= now)

    def held_sessions(self, now: datetime) -> int:
        """Sessions held by ``now``: those marked (attendance is taken only once a session has
        begun) and those begun without a mark yet."""
        return self.marked_sessions + self.unmarked_held(now)

    @property
    def counted_hours(self) -> float:
        """Hours that count towards the rate: everything but excused sessions."""
        return self.total_hours - self.excused_hours

    @property
    def rate_so_far(self) -> float | None:
        """The rate so far: share of the marked, non-excused hours attended; ``None`` before
        any is marked."""
        return attendance_rate(self.attended_hours, self.attended_hours + self.absent_hours)

    @property
    def rate(self) -> float | None:
        """The rate for completion: share of all the class's countable hours attended, a
        session never marked counting as missed."""
        return attendance_rate(self.attended_hours, self.counted_hours)

    @property
    def best_possible_rate(self) -> float | None:
        """The rate for completion if every session not yet marked is attended."""
        return attendance_rate(self.attended_hours + self.unmarked_hours, self.counted_hours)

    @property
    def meets_minimum(self) -> bool:
        rate = self.rate
        return rate is not None and rate * 100 + 1e-9 >= self.minimum_pct

    @property
    def at_risk(self) -> bool:
        """The minimum can no longer be reached, whatever happens in the sessions left."""
        best = self.best_possible_rate
        return best is not None and best * 100 + 1e-9 < self.minimum_pct

    @property
    def falling_behind(self) -> bool:
        """Below the minimum so far, though it can still be reached."""
        rate = self.rate_so_far
        return not self.at_risk and rate is not None and rate * 100 + 1e-9 < self.minimum_pct


def at_risk_sql(*where: ColumnElement[bool]) -> Select[int, int]:
    """SQL: the enrolments matching ``where`` whose standing is :attr:`~AttendanceStanding.at_risk`
    (the minimum can no longer be reached), as ``(enrolment id, learner id)`` rows, worked out
    in the database for lists too long to load every mark of (the HR officer's glance over a
    whole company). The same rule as the standing's, hour for hour: the counted hours are the
    class's sessions not cancelled less those excused, the hours still possible are the counted
    ones less those marked absent; the two agree on SQLite and PostgreSQL
    (``tests/test_progress.py``)."""
    hours = session_hours_sql()
    total = func.sum(hours)
    excused = func.sum(case((Attendance.status == LEFT_OUT, hours), else_=0))
    absent = func.sum(case((and_(counted_sql(), ~attended_sql()), hours), else_=0))
    counted = total - excused
    possible = counted - absent
    return (
        select(Enrolment.id, Enrolment.learner_id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(
            ClassSession,
            and_(ClassSession.class_id == Enrolment.class_id, session_counts_sql()),
        )
        .outerjoin(
            Attendance,
            and_(Attendance.enrolment_id == Enrolment.id, Attendance.session_id == ClassSession.id),
        )
        .where(*where)
        .group_by(Enrolment.id, Enrolment.learner_id, CourseClass.min_attendance_pct)
        # best possible rate × 100 + 1e-9 < minimum, multiplied out by the counted hours (> 0).
        .having(
            counted > 0,
            possible * 100 + counted * 1e-9 < CourseClass.min_attendance_pct * counted,
        )
    )


def standings(enrolment_ids: list[int]) -> dict[int, AttendanceStanding]:
    """The attendance standing of each enrolment, in three queries whatever their number."""
    if not enrolment_ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.class_id, CourseClass.min_attendance_pct)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(Enrolment.id.in_(enrolment_ids))
    ).all()
    return _standings({enrolment_id: (class_id, int(pct)) for enrolment_id, class_id, pct in rows})


def loaded_standings(enrolments: Sequence[Enrolment]) -> dict[int, AttendanceStanding]:
    """As :func:`standings`, for enrolments loaded with their classes: two queries."""
    return _standings(
        {e.id: (e.class_id, int(e.course_class.min_attendance_pct)) for e in enrolments}
    )


def _standings(classes: dict[int, tuple[int, int]]) -> dict[int, AttendanceStanding]:
    """The standings of the enrolments ``classes`` maps to their class and its minimum."""
    result: dict[int, AttendanceStanding] = {}
    if not classes:
        return result
    sessions_by_class: dict[int, list[tuple[int, datetime, float]]] = defaultdict(list)
    for session_id, class_id, starts_at, ends_at in db.session.execute(
        _sessions_held_statement(),
        {"class_ids": sorted({class_id for class_id, _ in classes.values()})},
    ):
        sessions_by_class[class_id].append(
            (session_id, starts_at, session_hours(starts_at, ends_at))
        )

    marks = _marks(list(classes))
    for enrolment_id, (class_id, minimum) in classes.items():
        result[enrolment_id] = _standing(
            minimum, sessions_by_class.get(class_id, []), marks.get(enrolment_id, {})
        )
    return result


def so_far(standing: AttendanceStanding) -> AttendanceSoFar:
    """The marks of a standing added up as the rate so far counts them
    (:func:`.attendance_rate.attendance_so_far` reads the same from the marks alone)."""
    return AttendanceSoFar(
        attended_sessions=standing.attended_sessions,
        marked_sessions=standing.marked_sessions,
        attended_hours=standing.attended_hours,
        counted_hours=standing.attended_hours + standing.absent_hours,
    )


def class_standings(
    course_class: CourseClass, enrolment_ids: list[int], sessions: Sequence[ClassSession]
) -> tuple[dict[int, AttendanceStanding], Counter[int]]:
    """The standing of each of ``enrolment_ids``, all of ``course_class`` whose ``sessions``
    (every one, cancelled included) the caller has loaded already, and how many of those
    enrolments each session has marked: one query, where :func:`standings` needs three."""
    marks = _marks(enrolment_ids)
    marked = Counter(session_id for mine in marks.values() for session_id in mine)
    held = [
        (session.id, session.starts_at, session_hours(session.starts_at, session.ends_at))
        for session in sorted(sessions, key=lambda s: (s.starts_at, s.id))
        if session_counts(session)
    ]
    minimum = int(course_class.min_attendance_pct)
    result = {
        enrolment_id: _standing(minimum, held, marks.get(enrolment_id, {}))
        for enrolment_id in enrolment_ids
    }
    return result, marked


def _marks(enrolment_ids: list[int]) -> dict[int, dict[int, AttendanceStatus]]:
    """Each enrolment's attendance marks by session."""
    marks: dict[int, dict[int, AttendanceStatus]] = defaultdict(dict)
    if not enrolment_ids:
        return marks
    for enrolment_id, session_id, status in db.session.execute(
        _marks_statement(), {"enrolment_ids": list(enrolment_ids)}
    ):
        marks[enrolment_id][session_id] = status
    return marks


@functools.cache
def _sessions_held_statement() -> Select[int, int, datetime, datetime]:
    # Built once: making a statement anew costs more of the processor than running it.
    return (
        select(ClassSession.id, ClassSession.class_id, ClassSession.starts_at, ClassSession.ends_at)
        .where(
            ClassSession.class_id.in_(bindparam("class_ids", expanding=True)),
            session_counts_sql(),
        )
        .order_by(ClassSession.starts_at, ClassSession.id)
    )


@functools.cache
def _marks_statement() -> Select[int, int, AttendanceStatus]:
    return select(Attendance.enrolment_id, Attendance.session_id, Attendance.status).where(
        Attendance.enrolment_id.in_(bindparam("enrolment_ids", expanding=True))
    )


def _standing(
    minimum_pct: int,
    sessions: list[tuple[int, datetime, float]],
    marks: dict[int, AttendanceStatus],
) -> AttendanceStanding:
    """One enrolment's standing from its class's sessions held (id, start, hours), in order
    of start, and its marks."""
    standing = AttendanceStanding(minimum_pct=minimum_pct)
    for session_id, starts_at, hours in sessions:
        standing.total_hours += hours
        standing.total_sessions += 1
        status = marks.get(session_id)
        if status is None:
            standing.unmarked_hours += hours
            standing.unmarked.append(UnmarkedSession(session_id, starts_at, hours))
            continue
        standing.marked_sessions += 1
        if is_attended(status):
            standing.attended_hours += hours
            standing.attended_sessions += 1
            if status == AttendanceStatus.LATE:
                standing.late_sessions += 1
        elif not is_counted(status):
            standing.excused_hours += hours
            standing.excused_sessions += 1
        else:
            standing.absent_hours += hours
            standing.absent_sessions += 1
    return standing
