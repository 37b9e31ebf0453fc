"""The attendance rate's one rule, at its boundaries, and its Python and SQL forms agreeing."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import Attendance, AttendanceStatus, ClassSession
from skillsup.services.attendance_rate import (
    attendance_rate,
    attendance_so_far,
    attended_hours_sum,
    counted_hours_sum,
    is_attended,
    is_counted,
    session_counts_sql,
    session_hours_sql,
)
from skillsup.services.progress import standings

PRESENT, LATE, ABSENT, EXCUSED = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)
START = datetime(2030, 1, 7, 11, 0, tzinfo=UTC)


def _mark(enrolment, sessions, statuses) -> None:
    for session, status in zip(sessions, statuses, strict=False):
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()


def _class_with(make, hours: list[float], **fields):
    """A class whose sessions last ``hours``, a week apart."""
    course_class = make.course_class(sessions=len(hours), first_session=START, **fields)
    for session, length in zip(course_class.sessions, hours, strict=True):
        session.ends_at = session.starts_at + timedelta(hours=length)
    db.session.commit()
    return course_class


def test_one_statement_of_session_hours_is_written_for_each_database():
    """The hours are subtracted when the statement is compiled, not when it is built: a
    statement built once serves SQLite and PostgreSQL alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    statement = select(session_hours_sql())
    on_sqlite = str(statement.compile(dialect=sqlite.dialect()))
    on_postgresql = str(statement.compile(dialect=postgresql.dialect()))
    assert "julianday(class_sessions.ends_at) - julianday(class_sessions.starts_at)" in on_sqlite
    assert "EXTRACT(epoch FROM class_sessions.ends_at - class_sessions.starts_at)" in on_postgresql
    assert "FROM class_sessions" in on_sqlite and "FROM class_sessions" in on_postgresql


def test_a_sessions_hours_are_the_same_in_python_and_in_the_database(make):
    course_class = _class_with(make, [2.5, 0.75])
    hours = db.session.scalars(
        select(session_hours_sql())
        .where(ClassSession.class_id == course_class.id)
        .order_by(ClassSession.starts_at)
    ).all()
    assert [float(h) for h in hours] == pytest.approx([2.5, 0.75])


def test_what_counts_as_attended_and_as_counted():
    assert [is_attended(status) for status in (PRESENT, LATE, ABSENT, EXCUSED)] == [
        True,
        True,
        False,
        False,
    ]
    assert [is_counted(status) for status in (PRESENT, LATE, ABSENT, EXCUSED)] == [
        True,
        True,
        True,
        False,
    ]
    assert attendance_rate(3, 4) == 0.75
    assert attendance_rate(0, 4) == 0.0
    assert attendance_rate(0, 0) is None


def test_late_counts_as_attended(make, learner):
    course_class = _class_with(make, [3, 3])
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions, [LATE, PRESENT])

    so_far = attendance_so_far([enrolment.id])[enrolment.id]
    assert (so_far.attended_sessions, so_far.marked_sessions, so_far.rate) == (2, 2, 1.0)
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.rate == standing.rate_so_far == 1.0
    assert standing.meets_minimum


def test_an_excused_session_is_left_out_not_counted_against(make, learner):
    course_class = _class_with(make, [3, 3, 3])
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions, [PRESENT, EXCUSED, ABSENT])

    so_far = attendance_so_far([enrolment.id])[enrolment.id]
    assert so_far.marked_sessions == 3  # an excused session is marked ...
    assert so_far.counted_hours == 6  # ... but not counted
    assert so_far.rate == 0.5
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.excused_hours == 3
    assert standing.rate == standing.rate_so_far == 0.5


def test_every_session_excused_gives_no_rate(make, learner):
    course_class = _class_with(make, [3, 3])
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions, [EXCUSED, EXCUSED])

    assert attendance_so_far([enrolment.id])[enrolment.id].rate is None
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.rate is None
    assert standing.rate_so_far is None
    assert not standing.meets_minimum
    assert not standing.at_risk


def test_no_marks_yet_give_no_rate_so_far_while_completion_counts_them_as_missed(make, learner):
    course_class = _class_with(make, [3, 3])
    enrolment = make.enrolment(course_class, learner)

    assert attendance_so_far([enrolment.id]).get(enrolment.id) is None
    assert attendance_so_far([]) == {}
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.rate_so_far is None  # what pages show while marks come in
    assert standing.rate == 0.0  # what closing the class would decide with
    assert standing.best_possible_rate == 1.0
    assert not standing.at_risk


def test_hours_weigh_not_sessions_and_cancelled_sessions_are_left_out(make, learner):
    course_class = _class_with(make, [1, 3, 2])
    course_class.sessions[2].is_cancelled = True
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions, [PRESENT, ABSENT, PRESENT])

    so_far = attendance_so_far([enrolment.id])[enrolment.id]
    assert so_far.rate == 0.25  # one hour of four, not one session of two
    assert so_far.attended_sessions == 1
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.total_sessions == 2
    assert standing.rate == standing.rate_so_far == 0.25


def _sql_hours(enrolment_ids: list[int]) -> dict[int, tuple[float, float]]:
    rows = db.session.execute(
        select(Attendance.enrolment_id, attended_hours_sum(), counted_hours_sum())
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .where(Attendance.enrolment_id.in_(enrolment_ids), session_counts_sql())
        .group_by(Attendance.enrolment_id)
    )
    return {
        enrolment_id: (float(attended), float(counted)) for enrolment_id, attended, counted in rows
    }


def test_python_and_sql_agree_on_the_same_marks(make, company):
    """The same data through the Python rule and the SQL one, on each database."""
    course_class = _class_with(make, [1.5, 2.75, 3, 0.5, 2, 3])
    course_class.sessions[4].is_cancelled = True
    patterns = [
        [PRESENT, LATE, ABSENT, EXCUSED, PRESENT, ABSENT],
        [LATE, LATE, LATE],
        [EXCUSED, EXCUSED],
        [ABSENT, PRESENT, EXCUSED, ABSENT, ABSENT, LATE],
        [],
    ]
    enrolments = []
    for statuses in patterns:
        enrolment = make.enrolment(course_class, make.user(company=company))
        _mark(enrolment, course_class.sessions, statuses)
        enrolments.append(enrolment)
    ids = [e.id for e in enrolments]

    python = attendance_so_far(ids)
    sql = _sql_hours(ids)
    standing = standings(ids)
    for enrolment_id in ids:
        so_far = python.get(enrolment_id)
        attended, counted = sql.get(enrolment_id, (0.0, 0.0))
        assert attended == pytest.approx(so_far.attended_hours if so_far else 0.0)
        assert counted == pytest.approx(so_far.counted_hours if so_far else 0.0)
        expected = so_far.rate if so_far else None
        assert attendance_rate(attended, counted) == pytest.approx(expected)
        assert standing[enrolment_id].rate_so_far == pytest.approx(expected)
    assert attendance_rate(*sql[ids[0]]) == pytest.approx(4.25 / 10.25)
    assert attendance_rate(*sql[ids[2]]) is None
