"""Warnings when an enrolment's status under a funding scheme falls to at risk or lost: sent
by ``flask send-reminders`` to the learner and their company's HR officers, once per fall,
again after a recovery, following each person's settings. Each test runs on SQLite and, where
configured, PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.i18n import fmt_money
from skillsup.links import PortalLinks
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    FundingState,
    FundingWarning,
    OutboxMessage,
    SentReminder,
)
from skillsup.services import funding_schemes, funding_warnings, reminders, subsidy
from skillsup.services.funding_figures import CEF, COMPANY, NITTP

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


def _class(make: Any, schemes: Any, codes: tuple[str, ...] = (CEF,), **fields: Any) -> Any:
    """A running class of ten sessions of three hours, the first two months ago, needing 70 %
    and a passed assessment: two sessions missed put the CEF at risk, four lose it."""
    course = make.course(funding_schemes=[schemes[code] for code in codes], fee=Decimal("8000"))
    fields.setdefault("min_attendance_pct", 70)
    fields.setdefault("first_session", datetime.now(UTC) - timedelta(days=60))
    return make.course_class(
        course=course,
        sessions=10,
        status=ClassStatus.RUNNING,
        assessment_required=True,
        **fields,
    )


def _two_held_then_daily() -> datetime:
    """A first session such that two of the class's weekly sessions have begun by now."""
    return datetime.now(UTC) - timedelta(days=8)


def _mark(enrolment: Any, *statuses: AttendanceStatus) -> None:
    """Mark the first sessions of the enrolment's class (a mark already there is changed)."""
    marks = {a.session_id: a for a in enrolment.attendance}
    for session, status in zip(enrolment.course_class.sessions, statuses, strict=False):
        if session.id in marks:
            marks[session.id].status = status
        else:
            db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()


def _run() -> reminders.ReminderReport:
    """What ``flask send-reminders`` does."""
    report = reminders.ReminderReport()
    report.recovered = funding_warnings.clear_recovered()
    db.session.commit()
    for reminder in reminders.due_reminders(links=PortalLinks.for_server(current_app)):
        if reminders.claim_and_send(reminder):
            report.sent[reminder.kind] += 1
        else:
            report.skipped += 1
        db.session.commit()
    return report


def _mail(address: str) -> list[OutboxMessage]:
    return list(
        db.session.scalars(
            select(OutboxMessage)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def _subjects(address: str) -> list[str]:
    return [message.subject for message in _mail(address)]


def test_a_fall_to_at_risk_then_to_lost_is_told_once_each(
    make, schemes, learner, hr_officer, company
):
    course_class = _class(make, schemes)
    enrolment = make.enrolment(course_class, learner)
    code = course_class.code

    _mark(enrolment, P, A)
    assert _run().sent == {}  # one session missed: two to spare

    _mark(enrolment, P, A, A)
    assert _run().sent == {"funding": 2}
    assert _subjects(learner.email) == [f"Subsidy at risk: {code}"]
    assert _subjects(hr_officer.email) == [f"Subsidy at risk: {learner.name} in {code}"]
    assert _run().sent == {}

    _mark(enrolment, P, A, A, A)  # still within reach: no new fall
    assert _run().sent == {}

    _mark(enrolment, P, A, A, A, A)
    assert _run().sent == {"funding": 2}
    assert _subjects(learner.email)[-1] == f"Subsidy lost: {code}"
    assert _subjects(hr_officer.email)[-1] == f"Subsidy lost: {learner.name} in {code}"
    assert _run().sent == {}
    # The scheme's warnings tell of the class's attendance too: no attendance warning besides.
    kinds = set(db.session.scalars(select(SentReminder.kind)))
    assert kinds == {"funding"}
    record = db.session.scalars(select(FundingWarning)).one()
    assert (record.state, record.warnings) == (FundingState.LOST, 2)


def test_the_warning_says_what_to_attend_and_what_is_at_stake(make, schemes, learner, hr_officer):
    # The two sessions missed are the only ones held: the next 7 are still to begin.
    course_class = _class(make, schemes, first_session=_two_held_then_daily())
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, A, A)
    _run()

    [to_learner] = _mail(learner.email)
    estimate = subsidy.learner_cef_estimates(learner)[enrolment.id]
    assert fmt_money(estimate.subsidy) in to_learner.text  # HK$6,400.00 of an HK$8,000 fee
    assert "Subsidy at stake (an estimate)" in to_learner.text
    assert "attend each of the next 7 sessions" in to_learner.text
    assert "Continuing Education Fund: Conditions at risk" in to_learner.text
    assert "/my-learning" in to_learner.text
    [to_hr] = _mail(hr_officer.email)
    # What the learner has had from the fund is theirs: HR is not shown the estimate.
    assert "HK$" not in to_hr.text
    assert f"/hr/staff/{learner.id}" in to_hr.text


def test_a_lost_subsidy_says_what_would_have_been_repaid(make, schemes, learner):
    course_class = _class(make, schemes)
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, A, A, A, A)
    _run()
    [message] = _mail(learner.email)
    assert message.subject == f"Subsidy lost: {course_class.code}"
    assert fmt_money(Decimal("6400.00")) in message.text
    assert "can reach at most 60%" in message.text


def test_two_schemes_falling_at_once_make_one_email_with_the_companys_claim(
    make, schemes, learner, hr_officer
):
    course_class = _class(make, schemes, (CEF, NITTP))
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, A, A)

    assert _run().sent == {"funding": 2}
    [to_hr] = _mail(hr_officer.email)
    assert "Continuing Education Fund" in to_hr.text
    assert "New Industrialisation and Technology Training Programme" in to_hr.text
    # Two thirds of the HK$8,000 fee, the company's claim.
    assert f"The company's claim at stake: {fmt_money(Decimal('5333.33'))}" in to_hr.text
    assert db.session.scalar(select(func.count(FundingWarning.id))) == 2


def test_a_recovery_then_a_new_fall_is_told_again(make, schemes, learner, hr_officer):
    course_class = _class(make, schemes)
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, A, A)
    assert _run().sent == {"funding": 2}

    _mark(enrolment, A, P)  # the trainer corrects a mark
    report = _run()
    assert (report.sent, report.recovered) == ({}, 1)
    assert _run().recovered == 0

    _mark(enrolment, A, P, A)
    assert _run().sent == {"funding": 2}
    assert _subjects(learner.email) == [f"Subsidy at risk: {course_class.code}"] * 2
    assert len(_mail(hr_officer.email)) == 2
    assert db.session.scalars(select(FundingWarning.warnings)).one() == 2


def test_lost_back_to_at_risk_is_a_fall_of_its_own(make, schemes, learner):
    course_class = _class(make, schemes)
    enrolment = make.enrolment(course_class, learner, result_passed=False)
    _mark(enrolment, A, A)
    _run()
    assert _subjects(learner.email) == [f"Subsidy lost: {course_class.code}"]

    enrolment.result_passed = None  # the failed result was recorded by mistake
    db.session.commit()
    _run()
    assert _subjects(learner.email)[-1] == f"Subsidy at risk: {course_class.code}"


def test_at_risk_follows_the_setting_and_lost_is_always_sent(make, schemes, company):
    learner = make.user(company=company, wants_attendance_warnings=False)
    quiet_hr = make.user(role="hr", company=company, wants_attendance_warnings=False)
    keen_hr = make.user(role="hr", company=company)
    enrolment = make.enrolment(_class(make, schemes), learner)

    _mark(enrolment, A, A)
    assert _run().sent == {"funding": 1}
    assert _mail(learner.email) == [] and _mail(quiet_hr.email) == []
    assert len(_mail(keen_hr.email)) == 1

    _mark(enrolment, A, A, A, A)
    assert _run().sent == {"funding": 3}
    for person in (learner, quiet_hr, keen_hr):
        assert _subjects(person.email)[-1].startswith("Subsidy lost: ")


def test_no_other_companys_hr_nor_a_deactivated_officer_is_told(make, schemes, learner):
    other_hr = make.user(role="hr", company=make.company())
    gone_hr = make.user(role="hr", company=learner.company, is_active=False)
    enrolment = make.enrolment(_class(make, schemes), learner)
    _mark(enrolment, A, A, A, A)
    assert _run().sent == {"funding": 1}  # the learner only
    assert _mail(other_hr.email) == [] and _mail(gone_hr.email) == []


def test_a_learner_who_missed_nothing_is_not_warned_of_a_short_class(make, schemes, learner):
    course = make.course(funding_schemes=[schemes[CEF]])
    # Five sessions at 70 %: missing any one of them leaves no session to spare.
    course_class = make.course_class(
        course=course,
        sessions=5,
        first_session=datetime.now(UTC) - timedelta(days=60),
        status=ClassStatus.RUNNING,
        assessment_required=True,
        min_attendance_pct=70,
    )
    enrolment = make.enrolment(course_class, learner)
    _mark(enrolment, P)
    assert _run().sent == {}
    _mark(enrolment, P, A)
    assert _run().sent == {"funding": 1}


def test_classes_without_a_paying_scheme_keep_the_attendance_warnings(
    make, schemes, learner, hr_officer
):
    enrolment = make.enrolment(_class(make, schemes, (COMPANY,)), learner)
    _mark(enrolment, A, A, A, A)
    assert _run().sent == {"attendance": 2}
    assert db.session.scalar(select(func.count(FundingWarning.id))) == 0


def test_two_runs_at_once_send_each_warning_once(make, schemes, learner, hr_officer):
    enrolment = make.enrolment(_class(make, schemes), learner)
    _mark(enrolment, A, A)
    links = PortalLinks.for_server(current_app)
    first = list(reminders.due_reminders(links=links))
    second = list(reminders.due_reminders(links=links))
    assert len(first) == len(second) == 2
    for reminder in second + first:
        reminders.claim_and_send(reminder)
        db.session.commit()
    assert db.session.scalar(select(func.count(OutboxMessage.id))) == 2
    assert db.session.scalars(select(FundingWarning.warnings)).one() == 1


def test_the_warning_is_written_in_each_recipients_language(make, schemes, company):
    learner = make.user(company=company, name="陳大文", preferred_language="zh_Hant_HK")
    officer = make.user(role="hr", company=company, preferred_language="en")
    course_class = _class(make, schemes)
    _mark(make.enrolment(course_class, learner), A, A)
    _run()
    [message] = _mail(learner.email)
    assert message.subject == f"資助有風險：{course_class.code}"
    assert "持續進修基金" in message.text and "港幣" not in message.subject
    assert _subjects(officer.email) == [f"Subsidy at risk: 陳大文 in {course_class.code}"]


def test_the_command_reports_the_warnings_and_the_recoveries(app, make, schemes, learner):
    enrolment = make.enrolment(_class(make, schemes), learner)
    _mark(enrolment, A, A)
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    assert "1 funding sent" in result.output
    _mark(enrolment, A, P)
    result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert "1 subsidies no longer at risk" in result.output
