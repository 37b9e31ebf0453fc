"""HR mail follows the company an enrolment was made under, not the learner's company today.

An enrolment belongs to the company it was made under (``skillsup.services.hr_scope``): its
approval request, the reminder that it is waiting and the warnings about its attendance go to
that company's HR officers. Here the learner's company is changed under the enrolment directly
in the database (the people service refuses such a move while an enrolment is active; the mail
must follow the enrolment whatever the path). Each test runs on SQLite and, where configured,
PostgreSQL.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    EnrolmentStatus,
    OutboxMessage,
    User,
)
from skillsup.services import notify

from .test_reminders import SESSION_START, _mail_to, _run


def companies(make: Any) -> tuple[Any, Any, User, User]:
    company_a = make.company(requires_approval=True)
    company_b = make.company(requires_approval=True)
    hr_a = make.user(role="hr", company=company_a)
    hr_b = make.user(role="hr", company=company_b)
    return company_a, company_b, hr_a, hr_b


def move_under(learner: User, company: Any) -> None:
    """Put the learner at another company, leaving their enrolments where they were made."""
    db.session.execute(update(User).where(User.id == learner.id).values(company_id=company.id))
    db.session.commit()
    db.session.expire_all()


def test_an_approval_request_goes_to_the_hr_of_the_company_it_was_made_under(make):
    company_a, company_b, hr_a, _hr_b = companies(make)
    learner = make.user(company=company_a)
    course_class = make.course_class(capacity=5)
    enrolment = make.enrolment(course_class, learner, EnrolmentStatus.PENDING)
    assert enrolment.company_id == company_a.id
    move_under(learner, company_b)
    db.session.execute(db.delete(OutboxMessage))
    notify.enrolment_changed(enrolment, None)
    db.session.commit()
    recipients = set(
        db.session.scalars(
            select(OutboxMessage.recipient).where(
                OutboxMessage.renderer == notify.APPROVAL_REQUESTED
            )
        )
    )
    assert recipients == {hr_a.email}


def test_the_waiting_reminder_goes_to_the_hr_of_the_company_it_was_made_under(make):
    company_a, company_b, hr_a, hr_b = companies(make)
    learner = make.user(company=company_a)
    course_class = make.course_class(sessions=1, first_session=SESSION_START + timedelta(days=30))
    friday = datetime(2031, 3, 7, 2, 0, tzinfo=UTC)
    make.enrolment(course_class, learner, EnrolmentStatus.PENDING, requested_at=friday)
    move_under(learner, company_b)
    assert _run(friday + timedelta(days=4)).sent == {"approval": 1}
    assert len(_mail_to(hr_a.email)) == 1
    assert _mail_to(hr_b.email) == []


def test_attendance_warnings_go_to_the_hr_of_the_company_it_was_made_under(make):
    company_a, company_b, hr_a, hr_b = companies(make)
    learner = make.user(company=company_a)
    start = datetime.now(UTC) - timedelta(days=60)
    course_class = make.course_class(sessions=10, first_session=start, status=ClassStatus.RUNNING)
    enrolment = make.enrolment(course_class, learner)
    for session in course_class.sessions[:2]:
        db.session.add(
            Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.ABSENT)
        )
    db.session.commit()
    move_under(learner, company_b)
    assert _run(datetime.now(UTC)).sent == {"attendance": 2}  # the learner and A's HR
    assert len(_mail_to(hr_a.email)) == 1
    assert _mail_to(hr_b.email) == []
    assert len(_mail_to(learner.email)) == 1
