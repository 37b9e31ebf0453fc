"""E-mail that timetable changes and certificates cause."""

from __future__ import annotations

from datetime import date, time

from skillsup.extensions import db
from skillsup.models import EnrolmentStatus
from skillsup.services import class_sessions
from skillsup.services.class_sessions import SessionData

from .factories import hk_datetime


def test_confirmed_learners_are_told_of_a_timetable_change_with_the_new_times(
    make, admin, company, outbox
):
    course_class = make.course_class(
        sessions=1,
        first_session=hk_datetime(2031, 3, 4, 19),
        starts_on=date(2031, 3, 1),
        ends_on=date(2031, 3, 31),
    )
    going = make.user(company=company, preferred_language="en")
    waiting = make.user(company=company)
    make.enrolment(course_class, going)
    make.enrolment(course_class, waiting, EnrolmentStatus.WAITLISTED)
    session = course_class.sessions[0]
    class_sessions.update_session(
        admin, session, SessionData(date(2031, 3, 5), time(18, 30), time(21, 30))
    )
    db.session.commit()
    [message] = outbox
    assert message.to == going.email
    assert f"Timetable change: {course_class.code}" == message.subject
    assert "19:00–22:00" in message.text and "18:30–21:30" in message.text
    assert message.attachments[0].filename == f"{course_class.code}.ics"


def test_no_mail_when_nobody_is_confirmed(make, admin, outbox):
    course_class = make.course_class(
        sessions=1,
        first_session=hk_datetime(2031, 3, 4, 19),
        starts_on=date(2031, 3, 1),
        ends_on=date(2031, 3, 31),
    )
    class_sessions.add_session(
        admin, course_class, SessionData(date(2031, 3, 11), time(19), time(22))
    )
    db.session.commit()
    assert outbox == []


def test_closing_a_class_mails_each_new_certificate(make, trainer, company, outbox):
    from datetime import UTC, datetime, timedelta

    from skillsup.models import Attendance, AttendanceStatus, ClassStatus
    from skillsup.services import class_closing

    start = datetime.now(UTC) - timedelta(days=21)
    course_class = make.course_class(
        sessions=2, first_session=start, trainers=[trainer], status=ClassStatus.RUNNING
    )
    passed, missed = make.user(company=company), make.user(company=company)
    for learner, status in ((passed, AttendanceStatus.PRESENT), (missed, AttendanceStatus.ABSENT)):
        enrolment = make.enrolment(course_class, learner)
        for session in course_class.sessions:
            db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    certificate_mail = [m for m in outbox if m.subject.startswith("Your certificate")]
    assert [m.to for m in certificate_mail] == [passed.email]
    assert "/verify/" in certificate_mail[0].text
    assert "/certificates/" in certificate_mail[0].text
