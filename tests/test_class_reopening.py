"""Closing a class only once its last session has ended (an admin earlier, with a reason),
and reopening a closed class within the set time: certificates withdrawn, learners told."""

from __future__ import annotations

import html
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    OutboxMessage,
    User,
    utcnow,
)
from skillsup.services import class_closing, class_reopening
from skillsup.services.errors import PermissionDenied, ValidationFailed

WINDOW = timedelta(days=30)


@pytest.fixture
def in_request(app: Any) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def count(model: Any, *where: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


def a_class(
    make: Any, trainer: User, company: Any, *, past: int = 4, ahead: int = 0, learners: int = 2
) -> tuple[CourseClass, list[Enrolment]]:
    """A running class of ``trainer``: ``past`` weekly sessions over, ``ahead`` still to come;
    the first learner present at every past session, the others absent."""
    start = (utcnow() - timedelta(days=7 * past - 1)).replace(microsecond=0)
    course_class = make.course_class(
        trainers=[trainer],
        sessions=past + ahead,
        first_session=start,
        status=ClassStatus.RUNNING,
    )
    enrolments = [
        make.enrolment(course_class, make.user(company=company, name=f"Learner {n}"))
        for n in range(learners)
    ]
    for n, enrolment in enumerate(enrolments):
        for session in course_class.sessions[:past]:
            status = AttendanceStatus.PRESENT if n == 0 else AttendanceStatus.ABSENT
            db.session.add(
                Attendance(enrolment_id=enrolment.id, session_id=session.id, status=status)
            )
    db.session.commit()
    return course_class, enrolments


def statuses(enrolments: list[Enrolment]) -> list[EnrolmentStatus]:
    db.session.expire_all()
    return [db.session.get(Enrolment, e.id).status for e in enrolments]


def class_audit(course_class: CourseClass) -> list[AuditEntry]:
    return list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.action == "class.status_changed",
                AuditEntry.object_id == course_class.id,
            )
            .order_by(AuditEntry.id)
        )
    )


# Closing before the last session -----------------------------------------------------------


def test_a_trainer_cannot_close_a_running_class_with_sessions_to_come(
    in_request, make, trainer, company
):
    course_class, enrolments = a_class(make, trainer, company, past=2, ahead=3)
    preview = class_closing.closing_preview(course_class, actor=trainer)
    assert not preview.can_close
    assert preview.early and preview.sessions_ahead == 3
    with pytest.raises(class_closing.SessionsNotOver):
        class_closing.close_class(trainer, course_class, reason="going on holiday")
    db.session.rollback()
    assert statuses(enrolments) == [EnrolmentStatus.CONFIRMED] * 2
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.RUNNING
    assert count(Certificate) == 0
    assert count(OutboxMessage) == 0


def test_the_page_refuses_a_trainer_before_the_last_session_and_changes_nothing(
    client, make, trainer, company, login_as
):
    course_class, enrolments = a_class(make, trainer, company, past=2, ahead=3)
    login_as(trainer)
    page = text(client.get(f"/trainer/classes/{course_class.code}/close"))
    assert "can be closed only after its last session has ended" in page
    assert "Close the class and issue certificates" not in page
    response = client.post(f"/trainer/classes/{course_class.code}/close", follow_redirects=True)
    assert "can be closed only after its last session has ended" in text(response)
    assert statuses(enrolments) == [EnrolmentStatus.CONFIRMED] * 2
    assert count(EnrolmentStatusChange) == 0
    assert class_audit(course_class) == []


def test_an_admin_closes_early_only_with_a_reason_kept_in_the_history(
    client, make, trainer, admin, company, login_as
):
    course_class, enrolments = a_class(make, trainer, company, past=2, ahead=1)
    login_as(admin)
    url = f"/trainer/classes/{course_class.code}/close"
    page = text(client.get(url))
    assert "As an admin you may still close it" in page
    assert 'name="reason"' in page

    refused = client.post(url, data={"reason": "  "})
    assert refused.status_code == 422 or refused.status_code == 400
    assert "Say why the class is closed before its last session has ended." in text(refused)
    assert statuses(enrolments) == [EnrolmentStatus.CONFIRMED] * 2

    done = client.post(url, data={"reason": "The venue closed for renovation."})
    assert done.status_code == 302
    assert statuses(enrolments)[1] == EnrolmentStatus.NOT_COMPLETED
    closed = db.session.get(CourseClass, course_class.id)
    assert closed.status == ClassStatus.COMPLETED
    assert closed.status_reasons == [
        {"code": "free_text", "args": {"text": "The venue closed for renovation."}}
    ]
    assert closed.completed_at is not None
    entry = class_audit(course_class)[-1]
    assert entry.details["reason"] == "The venue closed for renovation."
    assert entry.details["early"] is True
    detail = text(client.get(f"/admin/classes/{course_class.id}"))
    assert "The venue closed for renovation." in detail


def test_an_early_reason_is_refused_as_a_service_too(in_request, make, trainer, admin, company):
    course_class, _enrolments = a_class(make, trainer, company, past=1, ahead=1)
    with pytest.raises(ValidationFailed) as caught:
        class_closing.close_class(admin, course_class)
    assert caught.value.field == "reason"
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        class_closing.close_class(admin, course_class, reason="x" * 501)


# Reopening ---------------------------------------------------------------------------------


def closed_class(app: Any, make: Any, trainer: User, company: Any) -> tuple[CourseClass, list]:
    course_class, enrolments = a_class(make, trainer, company)
    with app.test_request_context("/"):
        class_closing.close_class(trainer, course_class)
        db.session.commit()
    return course_class, enrolments


def test_reopening_withdraws_certificates_and_tells_the_learners(
    app, in_request, make, trainer, admin, company
):
    course_class, enrolments = closed_class(app, make, trainer, company)
    certificate = db.session.scalars(select(Certificate)).one()
    messages_before = count(OutboxMessage)

    preview = class_reopening.reopening_preview(course_class, WINDOW)
    assert preview.can_reopen
    assert [c.id for c in preview.certificates] == [certificate.id]
    assert len(preview.enrolments) == 2

    result = class_reopening.reopen_class(admin, course_class, "Attendance was mis-keyed.", WINDOW)
    db.session.commit()

    assert len(result.reopened) == 2 and len(result.withdrawn) == 1
    assert statuses(enrolments) == [EnrolmentStatus.CONFIRMED] * 2
    withdrawn = db.session.get(Certificate, certificate.id)
    assert not withdrawn.is_valid
    assert withdrawn.revoked_reasons == [
        {"code": "class_reopened", "args": {}},
        {"code": "free_text", "args": {"text": "Attendance was mis-keyed."}},
    ]
    reopened = db.session.get(CourseClass, course_class.id)
    assert reopened.status == ClassStatus.RUNNING
    assert reopened.completed_at is None
    # Each learner is told, with the reason, after the history of the change.
    told = db.session.scalars(
        select(OutboxMessage).order_by(OutboxMessage.id).offset(messages_before)
    ).all()
    assert sorted(m.recipient for m in told) == sorted(e.learner.email for e in enrolments)
    assert all("reopened" in m.subject for m in told)
    history = db.session.scalars(
        select(EnrolmentStatusChange)
        .where(EnrolmentStatusChange.enrolment_id == enrolments[0].id)
        .order_by(EnrolmentStatusChange.id)
    ).all()
    assert [(h.from_status, h.to_status) for h in history] == [
        (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED),
        (EnrolmentStatus.COMPLETED, EnrolmentStatus.CONFIRMED),
    ]
    assert history[-1].reasons == [
        {"code": "free_text", "args": {"text": "Attendance was mis-keyed."}}
    ]
    assert class_audit(course_class)[-1].details["certificates_withdrawn"] == [
        certificate.serial_number
    ]
    assert count(AuditEntry, AuditEntry.action == "certificate.revoked") == 1


def test_reopening_after_the_window_is_refused(app, in_request, make, trainer, admin, company):
    course_class, enrolments = closed_class(app, make, trainer, company)
    later = utcnow() + WINDOW + timedelta(hours=1)
    assert not class_reopening.reopening_preview(course_class, WINDOW, now=later).can_reopen
    with pytest.raises(class_reopening.ReopenWindowPassed):
        class_reopening.reopen_class(admin, course_class, "too late", WINDOW, now=later)
    db.session.rollback()
    assert statuses(enrolments) == [EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED]
    assert db.session.scalars(select(Certificate)).one().is_valid


def test_only_an_admin_reopens_with_a_reason_a_closed_class(
    app, in_request, make, trainer, admin, company
):
    running, _ = a_class(make, trainer, company)
    with pytest.raises(class_reopening.NotClosed):
        class_reopening.reopen_class(admin, running, "why not", WINDOW)
    db.session.rollback()
    course_class, _ = closed_class(app, make, trainer, company)
    with pytest.raises(PermissionDenied):
        class_reopening.reopen_class(trainer, course_class, "mine", WINDOW)
    db.session.rollback()
    with pytest.raises(ValidationFailed):
        class_reopening.reopen_class(admin, course_class, " ", WINDOW)
    db.session.rollback()
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.COMPLETED


def test_a_reopened_class_closes_again_with_new_certificates(
    app, client, make, trainer, admin, company, login_as
):
    course_class, enrolments = closed_class(app, make, trainer, company)
    first = db.session.scalars(select(Certificate)).one()
    login_as(admin)
    confirm = text(client.get(f"/admin/classes/{course_class.id}/reopen"))
    assert "1 certificate is withdrawn" in confirm
    assert first.serial_number in confirm
    assert "2 learners' outcomes go back to confirmed" in confirm
    assert client.post(f"/admin/classes/{course_class.id}/reopen").status_code == 400
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.COMPLETED

    response = client.post(
        f"/admin/classes/{course_class.id}/reopen", data={"reason": "Results entered late."}
    )
    assert response.status_code == 302
    assert statuses(enrolments) == [EnrolmentStatus.CONFIRMED] * 2
    verify = text(client.get(f"/verify/{first.verification_code}"))
    assert "Certificate withdrawn" in verify

    # Attendance corrected for the second learner; the class is closed again.
    db.session.execute(
        Attendance.__table__.update()
        .where(Attendance.enrolment_id == enrolments[1].id)
        .values(status=AttendanceStatus.PRESENT)
    )
    db.session.commit()
    closed = client.post(f"/trainer/classes/{course_class.code}/close")
    assert closed.status_code == 302
    assert statuses(enrolments) == [EnrolmentStatus.COMPLETED] * 2
    valid = db.session.scalars(select(Certificate).where(Certificate.revoked_at.is_(None))).all()
    assert len(valid) == 2
    assert first.id not in {c.id for c in valid}
    db.session.expire_all()
    assert db.session.get(Enrolment, enrolments[0].id).certificate.id != first.id
    assert len(db.session.get(Enrolment, enrolments[0].id).certificates) == 2


def test_the_reopen_page_says_when_the_window_has_passed(
    app, client, make, trainer, admin, company, login_as
):
    course_class, _ = closed_class(app, make, trainer, company)
    db.session.get(CourseClass, course_class.id).completed_at = utcnow() - timedelta(days=31)
    db.session.commit()
    login_as(admin)
    page = text(client.get(f"/admin/classes/{course_class.id}/reopen"))
    assert "can no longer be reopened" in page
    response = client.post(f"/admin/classes/{course_class.id}/reopen", data={"reason": "Please."})
    assert "can no longer be reopened" in text(response)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.COMPLETED
    assert "Reopen the class…" not in text(client.get(f"/admin/classes/{course_class.id}"))


def test_the_reopen_window_is_a_setting(app, client, make, trainer, admin, company, login_as):
    app.config["REOPEN_DAYS"] = 0
    course_class, _ = closed_class(app, make, trainer, company)
    db.session.get(CourseClass, course_class.id).completed_at = utcnow() - timedelta(hours=1)
    db.session.commit()
    login_as(admin)
    assert "can no longer be reopened" in text(
        client.get(f"/admin/classes/{course_class.id}/reopen")
    )
