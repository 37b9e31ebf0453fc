"""flask send-reminders: each reminder once, on time, to the right people."""

from __future__ import annotations

import threading
from datetime import UTC, date, datetime, timedelta

import time_machine
from flask import current_app
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    EnrolmentStatus,
    OutboxMessage,
    SentReminder,
)
from skillsup.services import reminders

# Tuesday 3 March 2031, 19:00 in Hong Kong.
SESSION_START = datetime(2031, 3, 4, 11, 0, tzinfo=UTC)
DAY_BEFORE = datetime(2031, 3, 3, 2, 0, tzinfo=UTC)  # Monday 10:00 in Hong Kong


def _run(now: datetime) -> reminders.ReminderReport:
    """What ``flask send-reminders`` does at ``now``."""
    report = reminders.ReminderReport()
    for reminder in reminders.due_reminders(now, links=PortalLinks.for_server(current_app)):
        if reminders.claim_and_send(reminder):
            report.sent[reminder.kind] += 1
        else:
            report.skipped += 1
        db.session.commit()
    return report


def _mail_to(address: str) -> list[str]:
    return list(
        db.session.scalars(select(OutboxMessage.subject).where(OutboxMessage.recipient == address))
    )


def test_session_reminder_the_day_before_once(make, company, outbox):
    course_class = make.course_class(sessions=2, first_session=SESSION_START)
    going = make.user(company=company)
    waiting = make.user(company=company)
    opted_out = make.user(company=company, wants_reminders=False)
    make.enrolment(course_class, going)
    make.enrolment(course_class, waiting, EnrolmentStatus.WAITLISTED)
    make.enrolment(course_class, opted_out)

    assert _run(DAY_BEFORE - timedelta(days=1)).sent == {}  # two days before: nothing
    report = _run(DAY_BEFORE)
    assert report.sent == {"session": 1}
    assert _mail_to(going.email) == [f"Reminder: {course_class.code} tomorrow"]
    assert "19:00" in outbox[-1].text
    assert _mail_to(waiting.email) == [] and _mail_to(opted_out.email) == []
    assert _run(DAY_BEFORE + timedelta(hours=3)).sent == {}


def test_working_days_skip_weekends_and_hong_kong_holidays():
    assert reminders.working_days_between(date(2031, 3, 7), date(2031, 3, 10)) == 1  # Fri->Mon
    assert reminders.working_days_between(date(2030, 12, 31), date(2031, 1, 2)) == 1  # 1 Jan off
    assert reminders.working_days_between(date(2031, 3, 10), date(2031, 3, 10)) == 0


def test_hr_is_reminded_of_requests_waiting_two_working_days(make):
    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    course_class = make.course_class(sessions=1, first_session=SESSION_START + timedelta(days=30))
    friday = datetime(2031, 3, 7, 2, 0, tzinfo=UTC)
    make.enrolment(
        course_class, make.user(company=company), EnrolmentStatus.PENDING, requested_at=friday
    )
    monday, tuesday = friday + timedelta(days=3), friday + timedelta(days=4)
    assert _run(monday).sent == {}
    assert _run(tuesday).sent == {"approval": 1}
    [subject] = _mail_to(officer.email)
    assert "1 requests are waiting" in subject or "waiting for your approval" in subject
    assert _run(tuesday + timedelta(days=1)).sent == {}


def test_attendance_warnings_go_to_the_learner_and_hr_once_per_level(
    make, company, learner, hr_officer
):
    start = datetime.now(UTC) - timedelta(days=60)
    course_class = make.course_class(sessions=10, first_session=start, status=ClassStatus.RUNNING)
    enrolment = make.enrolment(course_class, learner)
    sessions = course_class.sessions
    for session in sessions[:2]:
        db.session.add(
            Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.ABSENT)
        )
    db.session.commit()
    now = datetime.now(UTC)
    assert _run(now).sent == {"attendance": 2}  # below the minimum, still reachable
    db.session.add(
        Attendance(enrolment=enrolment, session=sessions[2], status=AttendanceStatus.ABSENT)
    )
    db.session.commit()
    assert _run(now).sent == {"attendance": 2}  # now it can no longer be reached
    assert _run(now).sent == {}
    subjects = _mail_to(learner.email)
    assert any("can no longer complete" in s for s in subjects)
    assert len(_mail_to(hr_officer.email)) == 2


def test_two_runs_at_once_send_each_reminder_once(app, make, company):
    course_class = make.course_class(sessions=1, first_session=SESSION_START)
    for _ in range(15):
        make.enrolment(course_class, make.user(company=company))
    db.session.commit()

    outputs: list[str] = []

    def run() -> None:
        with app.app_context(), time_machine.travel(DAY_BEFORE, tick=True):
            result = app.test_cli_runner().invoke(args=["send-reminders"])
            outputs.append(f"{result.exit_code}: {result.output}")

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert [o.split(":")[0] for o in outputs] == ["0", "0"], outputs
    db.session.expire_all()
    assert db.session.scalar(select(func.count(SentReminder.id))) == 15
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 15


def test_the_holiday_calendar_is_worked_out_once_for_many_requests(monkeypatch):
    import holidays

    from skillsup import timeutil

    built: list[object] = []
    original = holidays.HK

    def counting(*args, **kwargs):
        built.append(kwargs.get("years"))
        return original(*args, **kwargs)

    monkeypatch.setattr(holidays, "HK", counting)
    timeutil.hong_kong_public_holidays.cache_clear()
    try:
        for day in range(1, 28):
            reminders.working_days_between(date(2032, 2, day), date(2032, 3, 1))
        assert len(built) == 1
        assert reminders.working_days_between(date(2032, 9, 30), date(2032, 10, 4)) == 1
    finally:
        timeutil.hong_kong_public_holidays.cache_clear()
