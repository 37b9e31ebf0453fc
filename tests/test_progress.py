"""Attendance standing in contact hours."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from skillsup.extensions import db
from skillsup.models import Attendance, AttendanceStatus, Enrolment
from skillsup.services.attendance_rate import attendance_so_far
from skillsup.services.progress import (
    at_risk_sql,
    class_standings,
    loaded_standings,
    so_far,
    standings,
)


def _mark(enrolment, sessions, statuses) -> None:
    for session, status in zip(sessions, statuses, strict=False):
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()


def test_present_and_late_count_absent_does_not_excused_is_left_out(make, learner):
    start = datetime(2030, 1, 7, 11, 0, tzinfo=UTC)
    course_class = make.course_class(sessions=5, first_session=start)
    enrolment = make.enrolment(course_class, learner)
    present, late, absent, excused = (
        AttendanceStatus.PRESENT,
        AttendanceStatus.LATE,
        AttendanceStatus.ABSENT,
        AttendanceStatus.EXCUSED,
    )
    _mark(enrolment, course_class.sessions, [present, late, absent, excused])
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.total_hours == 15
    assert standing.counted_hours == 12  # the excused session is left out
    assert standing.attended_hours == 6
    assert standing.rate_so_far == 6 / 9
    assert standing.rate == 0.5
    assert standing.best_possible_rate == 9 / 12  # if the last session is attended
    assert standing.at_risk  # 75 % < 80 %
    assert not standing.meets_minimum


def test_at_risk_only_when_the_minimum_is_out_of_reach(make, learner):
    course_class = make.course_class(
        sessions=10, first_session=datetime(2030, 1, 7, 11, tzinfo=UTC)
    )
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions, [AttendanceStatus.ABSENT] * 2)
    standing = standings([enrolment.id])[enrolment.id]
    assert not standing.at_risk  # 8 of 10 still possible: exactly 80 %
    assert standing.falling_behind
    db.session.add(
        Attendance(
            enrolment=enrolment, session=course_class.sessions[2], status=AttendanceStatus.ABSENT
        )
    )
    db.session.commit()
    assert standings([enrolment.id])[enrolment.id].at_risk


def test_cancelled_sessions_do_not_count(make, learner):
    course_class = make.course_class(
        sessions=2, first_session=datetime.now(UTC) - timedelta(days=14)
    )
    course_class.sessions[1].is_cancelled = True
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, course_class.sessions[:1], [AttendanceStatus.PRESENT])
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.total_sessions == 1
    assert standing.rate == 1.0
    assert standing.meets_minimum


def test_no_sessions_means_no_rate(make, learner):
    enrolment = make.enrolment(make.course_class(), learner)
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.rate is None
    assert not standing.at_risk
    assert standings([]) == {}


def test_a_class_standings_agree_with_standings_and_count_each_sessions_marks(make, company):
    start = datetime(2030, 1, 7, 11, 0, tzinfo=UTC)
    course_class = make.course_class(sessions=4, first_session=start, min_attendance_pct=70)
    course_class.sessions[3].is_cancelled = True
    present, absent, excused = (
        AttendanceStatus.PRESENT,
        AttendanceStatus.ABSENT,
        AttendanceStatus.EXCUSED,
    )
    learners = [make.user(company=company) for _ in range(3)]
    enrolments = [make.enrolment(course_class, learner) for learner in learners]
    _mark(enrolments[0], course_class.sessions, [present, absent, present, present])
    _mark(enrolments[1], course_class.sessions[:2], [excused, present])
    ids = [e.id for e in enrolments]

    by_class, marked = class_standings(course_class, ids, course_class.sessions)

    assert by_class == standings(ids)
    assert by_class[ids[0]].attended_sessions == 2  # the cancelled session is left out
    assert by_class[ids[0]].minimum_pct == 70
    assert by_class[ids[2]].marked_sessions == 0
    sessions = course_class.sessions
    assert marked == {sessions[0].id: 2, sessions[1].id: 2, sessions[2].id: 1, sessions[3].id: 1}
    assert class_standings(course_class, [], course_class.sessions) == ({}, {})


def test_loaded_standings_and_the_attendance_so_far_agree_with_the_marks_read_alone(make, company):
    start = datetime(2030, 1, 7, 11, 0, tzinfo=UTC)
    classes = [
        make.course_class(sessions=5, first_session=start + timedelta(days=day)) for day in (0, 1)
    ]
    classes[0].sessions[2].is_cancelled = True
    statuses = list(AttendanceStatus)
    rng = random.Random(7)
    enrolments = []
    for course_class in classes:
        for _ in range(4):
            enrolment = make.enrolment(course_class, make.user(company=company))
            marked = course_class.sessions[: rng.randint(0, 5)]
            _mark(enrolment, marked, [rng.choice(statuses) for _ in marked])
            enrolments.append(enrolment)
    ids = [e.id for e in enrolments]

    loaded = loaded_standings(enrolments)

    assert loaded == standings(ids)
    assert {i: so_far(standing) for i, standing in loaded.items()} == {
        i: attendance_so_far(ids)[i] for i in ids
    }


def test_a_standing_counts_sessions_by_mark_and_those_held_by_a_time(make, learner):
    start = datetime(2030, 1, 7, 11, 0, tzinfo=UTC)
    course_class = make.course_class(sessions=7, first_session=start)
    course_class.sessions[6].is_cancelled = True
    enrolment = make.enrolment(course_class, learner)
    present, late, absent, excused = (
        AttendanceStatus.PRESENT,
        AttendanceStatus.LATE,
        AttendanceStatus.ABSENT,
        AttendanceStatus.EXCUSED,
    )
    _mark(enrolment, course_class.sessions, [present, late, late, absent, excused])
    standing = standings([enrolment.id])[enrolment.id]
    assert standing.total_sessions == 6  # the cancelled one left out
    assert (standing.attended_sessions, standing.late_sessions) == (3, 2)
    assert (standing.absent_sessions, standing.excused_sessions) == (1, 1)
    assert standing.marked_sessions == 5
    # The sixth session (weekly, from 7 January) begins on 11 February.
    before_sixth = datetime(2030, 2, 11, 10, 59, tzinfo=UTC)
    assert (standing.held_sessions(before_sixth), standing.unmarked_held(before_sixth)) == (5, 0)
    at_sixth = datetime(2030, 2, 11, 11, 0, tzinfo=UTC)
    assert (standing.held_sessions(at_sixth), standing.unmarked_held(at_sixth)) == (6, 1)


def test_at_risk_in_sql_agrees_with_the_standing_hour_for_hour(make, company):
    # Sessions of different lengths, cancelled ones, every kind of mark and none, minimums
    # from 50 to 100 %, and cases exactly on the line (80 % still possible is not at risk).
    chance = random.Random(20261207)
    marks = [None, *AttendanceStatus]
    enrolment_ids = []
    for number, minimum in enumerate((50, 70, 80, 80, 100)):
        start = datetime(2030, 1, 7 + number, 11, 0, tzinfo=UTC)
        course_class = make.course_class(
            sessions=5 + number, first_session=start, min_attendance_pct=minimum
        )
        for index, session in enumerate(course_class.sessions):
            session.ends_at = session.starts_at + timedelta(minutes=90 + 30 * (index % 4))
            session.is_cancelled = index == 3 and number % 2 == 0
        for _ in range(12):
            enrolment = make.enrolment(course_class, make.user(company=company))
            for session in course_class.sessions:
                status = chance.choice(marks)
                if status is not None:
                    db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
            enrolment_ids.append(enrolment.id)
    # One on the line: two of ten equal sessions missed at 80 %.
    on_the_line = make.course_class(sessions=10, first_session=datetime(2030, 2, 4, tzinfo=UTC))
    line_enrolment = make.enrolment(on_the_line, make.user(company=company))
    _mark(line_enrolment, on_the_line.sessions, [AttendanceStatus.ABSENT] * 2)
    enrolment_ids.append(line_enrolment.id)
    # A class without sessions has no rate, so it is never at risk.
    enrolment_ids.append(make.enrolment(make.course_class(), make.user(company=company)).id)
    db.session.commit()

    expected = {key for key, standing in standings(enrolment_ids).items() if standing.at_risk}
    found = db.session.execute(at_risk_sql(Enrolment.id.in_(enrolment_ids))).all()

    assert {enrolment_id for enrolment_id, _ in found} == expected
    assert 10 < len(expected) < len(enrolment_ids) - 10  # both kinds, plenty of each
    assert line_enrolment.id not in expected
