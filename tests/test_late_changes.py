"""Late changes: sessions in the past, and enrolments after a class's last session, need an
admin's reason, which the history and the audit log keep."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassSession,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    utcnow,
)
from skillsup.services import class_sessions, enrolment_requests, nominations
from skillsup.services.class_sessions import SessionData
from skillsup.services.eligibility import ClassOver, last_session_end
from skillsup.services.enrolment import EnrolmentRefused
from skillsup.services.errors import ValidationFailed
from skillsup.timeutil import today_hk


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


# Sessions in the past -----------------------------------------------------------------------


def running_class(make: Any) -> Any:
    today = today_hk()
    return make.course_class(
        starts_on=today - timedelta(days=14), ends_on=today + timedelta(days=14)
    )


def test_a_session_in_the_past_needs_a_reason(admin, make):
    course_class = running_class(make)
    yesterday = today_hk() - timedelta(days=1)
    data = SessionData(yesterday, time(10), time(12), "Room 1")
    with pytest.raises(ValidationFailed) as refused:
        class_sessions.add_session(admin, course_class, data)
    assert refused.value.field == "late_reason"
    assert "would be in the past" in str(refused.value.message)
    db.session.rollback()

    class_sessions.add_session(admin, course_class, data, late_reason="Make-up session held")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.added"))
    assert entry.details["late_reason"] == "Make-up session held"
    assert "Make-up session held" in entry.summary


def test_a_session_moved_into_the_past_needs_a_reason(admin, make):
    course_class = running_class(make)
    tomorrow = today_hk() + timedelta(days=1)
    class_sessions.add_session(admin, course_class, SessionData(tomorrow, time(10), time(12)))
    db.session.commit()
    session = db.session.scalar(select(ClassSession))
    moved = SessionData(today_hk() - timedelta(days=2), time(10), time(12))
    with pytest.raises(ValidationFailed, match="in the past"):
        class_sessions.update_session(admin, session, moved)
    db.session.rollback()
    class_sessions.update_session(admin, session, moved, late_reason="Recorded as held")
    db.session.commit()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "session.updated"))
    assert entry.details["late_reason"] == "Recorded as held"


def test_the_session_form_asks_for_the_reason_when_needed(client, login_as, admin, make):
    course_class = running_class(make)
    login_as(admin)
    yesterday = (today_hk() - timedelta(days=1)).isoformat()
    form = {
        "session-day": yesterday,
        "session-start_time": "10:00",
        "session-end_time": "12:00",
    }
    page = client.get(f"/admin/classes/{course_class.id}").get_data(as_text=True)
    assert 'name="session-late_reason"' not in page
    response = client.post(f"/admin/classes/{course_class.id}/sessions", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert 'name="session-late_reason"' in page and "would be in the past" in page
    assert db.session.scalar(select(ClassSession)) is None
    client.post(
        f"/admin/classes/{course_class.id}/sessions",
        data={**form, "session-late_reason": "Make-up session"},
    )
    assert db.session.scalar(select(ClassSession)) is not None


# Enrolments after the last session ----------------------------------------------------------


def ended_class(make: Any) -> Any:
    """A class whose only session ended yesterday while its enrolment window is still open."""
    start = utcnow() - timedelta(days=1, hours=3)
    return make.course_class(
        sessions=1,
        first_session=start,
        enrolment_opens_at=start - timedelta(days=20),
        enrolment_closes_at=utcnow() + timedelta(days=5),
        withdrawal_deadline_at=start - timedelta(days=5),
    )


def test_learners_hr_and_imports_cannot_enrol_after_the_last_session(make, learner, hr_officer):
    course_class = ended_class(make)
    with pytest.raises(ClassOver, match="last session ended"):
        enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.rollback()
    with pytest.raises(ClassOver):
        nominations.nominate_employee(hr_officer, learner, course_class)
    db.session.rollback()
    with pytest.raises(ClassOver):
        enrolment_requests.request_enrolment(hr_officer, learner, course_class, EnrolmentSource.CSV)
    db.session.rollback()
    assert db.session.scalar(select(Enrolment)) is None


def test_the_nomination_import_explains_the_refusal(make, learner, hr_officer):
    from skillsup.services.imports import NominationRow
    from skillsup.services.nomination_import import preview_nominations

    course_class = ended_class(make)
    row = NominationRow(number=2, email=learner.email, class_code=course_class.code)
    preview = preview_nominations(hr_officer, [row])
    assert "last session ended" in " ".join(p for r in preview.results for p in r.problems)


# A request that finds the class full reads its last session with the waitlist: the rule is
# the same on that path.
@pytest.mark.parametrize(
    ("capacity", "status"),
    [(1, EnrolmentStatus.CONFIRMED), (0, EnrolmentStatus.WAITLISTED)],
    ids=["a-free-seat", "a-full-class"],
)
def test_after_the_last_session_only_an_admin_with_a_reason_enrols(
    admin, make, learner, capacity, status
):
    course_class = ended_class(make)
    course_class.capacity = capacity
    db.session.commit()
    with pytest.raises(ClassOver, match="last session ended"):
        enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.rollback()
    with pytest.raises(ClassOver) as refused:
        enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    assert refused.value.field == "reason"
    db.session.rollback()
    outcome = enrolment_requests.request_enrolment(
        admin, learner, course_class, EnrolmentSource.ADMIN, reason="Attended as a guest"
    )
    db.session.commit()
    assert outcome.status == status
    assert outcome.waitlist_position == (1 if status == EnrolmentStatus.WAITLISTED else None)
    change = db.session.scalar(select(EnrolmentStatusChange))
    assert [item["code"] for item in change.reasons] == ["enrolled_after_end", "free_text"]
    assert change.reasons[-1]["args"] == {"text": "Attended as a guest"}
    ended_at = datetime.fromisoformat(change.reasons[0]["args"]["ended_at"])
    assert ended_at == last_session_end(course_class.id)
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "enrolment.created"))
    assert audit.details["reasons"] == change.reasons


def test_the_admin_enrol_form_shows_the_reason_on_its_field(client, login_as, admin, make, learner):
    course_class = ended_class(make)
    login_as(admin)
    response = client.post(
        f"/admin/classes/{course_class.id}/enrolments", data={"email": learner.email}
    )
    assert response.status_code == 200
    assert "Give a reason to enrol a learner after it" in response.get_data(as_text=True)
    assert db.session.scalar(select(Enrolment)) is None
    client.post(
        f"/admin/classes/{course_class.id}/enrolments",
        data={"email": learner.email, "reason": "Late joiner agreed"},
    )
    assert db.session.scalar(select(Enrolment)).status == EnrolmentStatus.CONFIRMED


# An admin's enrolment at a company that approves its staff's --------------------------------


def test_an_admin_placement_without_hr_approval_is_recorded_for_hr(client, login_as, admin, make):
    company = make.company(requires_approval=True)
    learner = make.user(company=company)
    hr = make.user(role="hr", company=company)
    course_class = make.course_class(sessions=1)
    with pytest.raises(EnrolmentRefused) as refused:
        enrolment_requests.request_enrolment(admin, learner, course_class, EnrolmentSource.ADMIN)
    assert refused.value.field == "reason"
    assert company.name in str(refused.value.message)
    db.session.rollback()
    outcome = enrolment_requests.request_enrolment(
        admin, learner, course_class, EnrolmentSource.ADMIN, reason="Agreed by phone with HR"
    )
    db.session.commit()
    # It goes straight in: the admin decides in the company's stead, and says why.
    assert outcome.status == EnrolmentStatus.CONFIRMED
    reasons = db.session.scalar(select(EnrolmentStatusChange)).reasons
    assert reasons == [
        {"code": "placed_without_approval", "args": {}},
        {"code": "free_text", "args": {"text": "Agreed by phone with HR"}},
    ]
    login_as(hr)
    page = client.get(f"/hr/staff/{learner.id}").get_data(as_text=True)
    assert "without the company&#39;s HR approval. Agreed by phone with HR" in page


def test_a_request_still_waiting_after_the_last_session_cannot_be_approved(
    make, learner, hr_officer
):
    course_class = ended_class(make)
    pending = make.enrolment(course_class, learner, EnrolmentStatus.PENDING)
    with pytest.raises(ClassOver, match="last session ended"):
        enrolment_requests.approve(hr_officer, pending)
    db.session.rollback()
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.PENDING
    enrolment_requests.reject(hr_officer, db.session.get(Enrolment, pending.id), "Too late")
    db.session.commit()
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.REJECTED


def test_a_seat_freed_after_the_last_session_goes_to_nobody(admin, make, learner, company):
    course_class = ended_class(make)
    course_class.capacity = 1
    seated = make.enrolment(course_class, learner, EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(
        course_class, make.user(role="learner", company=company), EnrolmentStatus.WAITLISTED
    )
    enrolment_requests.withdraw(admin, seated, "Left the company")
    db.session.commit()
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.WAITLISTED


def test_a_cancelled_last_session_does_not_end_a_full_class(make, learner):
    course_class = ended_class(make)
    course_class.capacity = 0
    course_class.sessions[0].is_cancelled = True
    db.session.commit()
    outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
    assert outcome.status == EnrolmentStatus.WAITLISTED
