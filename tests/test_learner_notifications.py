"""Every change to a learner's enrolment or certificate tells them, once, by e-mail after the
commit, in their language: the outcomes of closing a class, the end of a waitlist place or a
request with the class, a revoked certificate, and each step of the enrolment life cycle."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassStatus,
    CourseClass,
    EnrolmentStatus,
    User,
)
from skillsup.services import (
    certificates,
    class_closing,
    class_reopening,
    class_status,
    enrolment_requests,
    notify,
)
from skillsup.services.class_status import StatusAction
from skillsup.services.errors import ValidationFailed

WINDOW = timedelta(days=30)


def finished_class(make: Any, trainer: User, **fields: Any) -> CourseClass:
    """A running class whose two 3-hour sessions are over."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=14)
    course = make.course(title_en="Cloud Foundations", title_zh="雲端基礎")
    return make.course_class(
        course=course,
        sessions=2,
        first_session=start,
        trainers=[trainer],
        status=ClassStatus.RUNNING,
        **fields,
    )


def attend(make: Any, course_class: CourseClass, learner: User, status: AttendanceStatus) -> Any:
    enrolment = make.enrolment(course_class, learner)
    for session in course_class.sessions:
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()
    return enrolment


def to(outbox: list[Any], person: User) -> list[Any]:
    return [message for message in outbox if message.to == person.email]


# Closing a class ---------------------------------------------------------------------------


def test_a_learner_who_does_not_complete_is_told_why_once(make, trainer, company, outbox):
    course_class = finished_class(make, trainer)
    missed = make.user(company=company, preferred_language="en")
    attend(make, course_class, missed, AttendanceStatus.ABSENT)
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    [message] = to(outbox, missed)
    assert message.subject == f"Your result for {course_class.code}: not completed"
    for body in (message.text, message.html):
        assert "you did not complete it, so no certificate is issued" in body
        assert "Attendance 0% is below the 80% minimum." in body
    assert "class completed" not in message.text


def test_the_reasons_are_in_the_learners_language(make, trainer, company, outbox):
    course_class = finished_class(make, trainer, assessment_required=True)
    missed = make.user(company=company, preferred_language="zh_Hant_HK")
    attend(make, course_class, missed, AttendanceStatus.ABSENT)
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    [message] = to(outbox, missed)
    assert course_class.code in message.subject
    assert "Attendance" not in message.text
    assert "雲端基礎" in message.text
    # Both reasons, worded by the closing's own reasons in Chinese.
    assert "0%" in message.text and "80%" in message.text
    assert "Why:" not in message.text
    assert message.text.count("\n- ") == 2


def test_a_learner_who_completes_gets_the_certificate_message_only(make, trainer, company, outbox):
    course_class = finished_class(make, trainer)
    passed = make.user(company=company)
    attend(make, course_class, passed, AttendanceStatus.PRESENT)
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    [message] = to(outbox, passed)
    assert message.subject.startswith("Your certificate")


@pytest.mark.parametrize(
    ("status", "subject", "says"),
    [
        (
            EnrolmentStatus.WAITLISTED,
            "has ended: your place on its waitlist has ended too",
            "your place on its waitlist has ended too: no seat became free for you",
        ),
        (
            EnrolmentStatus.PENDING,
            "has ended: your request for it has ended too",
            "before your request to join it was decided, so the request has ended too",
        ),
    ],
)
def test_a_waitlist_place_or_request_ended_by_closing_is_told_once(
    make, trainer, company, outbox, status, subject, says
):
    course_class = finished_class(make, trainer)
    waiting = make.user(company=company)
    make.enrolment(course_class, waiting, status)
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    [message] = to(outbox, waiting)
    assert message.subject == f"{course_class.code} {subject}"
    assert says in message.text and says in message.html
    assert "has been cancelled" not in message.text  # the class was not cancelled
    assert "class completed" not in message.text


# Certificates ------------------------------------------------------------------------------


def closed_with_certificate(make: Any, trainer: User, learner: User) -> Certificate:
    course_class = finished_class(make, trainer)
    enrolment = attend(make, course_class, learner, AttendanceStatus.PRESENT)
    class_closing.close_class(trainer, course_class)
    db.session.commit()
    return db.session.scalars(
        select(Certificate).where(Certificate.enrolment_id == enrolment.id)
    ).one()


def test_a_revoked_certificate_is_told_with_the_reason(make, trainer, admin, company, outbox):
    learner = make.user(company=company)
    certificate = closed_with_certificate(make, trainer, learner)
    outbox.clear()
    certificates.revoke(admin, certificate, "Issued to the wrong person")
    db.session.commit()
    [message] = to(outbox, learner)
    assert message.subject == f"Your certificate {certificate.serial_number} has been revoked"
    for body in (message.text, message.html):
        assert "Reason: Issued to the wrong person" in body
        assert f"/verify/{certificate.verification_code}" in body


def test_a_revocation_refused_tells_nobody(make, trainer, admin, company, outbox):
    learner = make.user(company=company)
    certificate = closed_with_certificate(make, trainer, learner)
    outbox.clear()
    with pytest.raises(ValidationFailed):
        certificates.revoke(admin, certificate, "   ")
    db.session.rollback()
    assert outbox == []


def test_reopening_tells_each_learner_once_of_the_reopening_and_the_withdrawn_certificate(
    make, trainer, admin, company, outbox
):
    learner = make.user(company=company)
    certificate = closed_with_certificate(make, trainer, learner)
    outbox.clear()
    class_reopening.reopen_class(admin, certificate.enrolment.course_class, "Mis-keyed", WINDOW)
    db.session.commit()
    [message] = to(outbox, learner)
    assert "has been reopened" in message.subject
    assert "any certificate you were given for it has been withdrawn" in message.text


# No change is silent -----------------------------------------------------------------------


def test_every_status_a_learner_can_reach_has_its_message():
    for status in EnrolmentStatus:
        told = status in notify._SUBJECTS or status in notify.TOLD_BY_CERTIFICATE
        assert told, f"an enrolment that becomes {status.value} tells nobody"


def test_walking_the_enrolment_life_cycle_tells_the_learner_at_every_step(
    make, trainer, admin, hr_officer, company, outbox
):
    company.requires_approval = True
    db.session.commit()
    steps: list[tuple[str, User, str]] = []

    def step(name: str, person: User, expected: str, change: Any) -> None:
        before = len(to(outbox, person))
        change()
        db.session.commit()
        told = to(outbox, person)[before:]
        assert len(told) == 1, f"{name}: {[m.subject for m in told]}"
        assert expected in told[0].subject, f"{name}: {told[0].subject}"
        steps.append((name, person, told[0].subject))

    open_class = make.course_class(capacity=1, trainers=[trainer])
    first, second, third = (make.user(company=company) for _ in range(3))

    def request(person: User) -> Any:
        return enrolment_requests.request_enrolment(person, person, open_class).enrolment

    held: dict[str, Any] = {}
    step(
        "request (pending)", first, "waiting for HR approval", lambda: held.update(a=request(first))
    )
    step(
        "approve (confirmed)",
        first,
        "confirmed",
        lambda: enrolment_requests.approve(hr_officer, held["a"]),
    )
    step("request (pending)", second, "waiting", lambda: held.update(b=request(second)))
    step(
        "approve (waitlisted)",
        second,
        "waitlist",
        lambda: enrolment_requests.approve(hr_officer, held["b"]),
    )
    step("request (pending)", third, "waiting", lambda: held.update(c=request(third)))
    step(
        "reject",
        third,
        "not approved",
        lambda: enrolment_requests.reject(hr_officer, held["c"], "No budget"),
    )
    # Withdrawing the confirmed learner promotes the waitlisted one: each hears once.
    step("withdraw", first, "withdrawn", lambda: enrolment_requests.withdraw(first, held["a"]))
    assert "confirmed" in to(outbox, second)[-1].subject  # promoted
    step(
        "class cancelled",
        second,
        "cancelled",
        lambda: class_status.change_status(admin, open_class, StatusAction.CANCEL, "No trainer"),
    )

    # Closing: completed (certificate), not completed, waitlist and request ended.
    running = finished_class(make, trainer, capacity=2)
    done, missed, waiting, asking = (make.user(company=company) for _ in range(4))
    attend(make, running, done, AttendanceStatus.PRESENT)
    attend(make, running, missed, AttendanceStatus.ABSENT)
    make.enrolment(running, waiting, EnrolmentStatus.WAITLISTED)
    make.enrolment(running, asking, EnrolmentStatus.PENDING)
    db.session.commit()
    counts = {p.id: len(to(outbox, p)) for p in (done, missed, waiting, asking)}
    class_closing.close_class(trainer, running)
    db.session.commit()
    for person, expected in (
        (done, "Your certificate"),
        (missed, "not completed"),
        (waiting, "waitlist"),
        (asking, "request"),
    ):
        told = to(outbox, person)[counts[person.id] :]
        assert len(told) == 1 and expected in told[0].subject, [m.subject for m in told]

    # Reopening moves completed and not-completed back to confirmed: each hears once.
    counts = {p.id: len(to(outbox, p)) for p in (done, missed)}
    class_reopening.reopen_class(admin, running, "Mis-keyed", WINDOW)
    db.session.commit()
    for person in (done, missed):
        told = to(outbox, person)[counts[person.id] :]
        assert len(told) == 1 and "reopened" in told[0].subject
