"""Enrolling, withdrawing, My learning and HR approvals, through HTTP."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
)

from .queries import recorded_statements

# Dates and deadlines: run again at several times of the Hong Kong day.
pytestmark = pytest.mark.hong_kong_day


def _enrolments() -> int:
    return db.session.scalar(select(func.count(Enrolment.id))) or 0


def test_learner_enrols_from_the_course_page_and_is_told_exactly_what_happened(
    client, make, login_as, learner, outbox
):
    course = make.course(code="SU-WEB-101")
    course_class = make.course_class(course=course, capacity=1, sessions=2)
    login_as(learner)
    response = client.post(f"/classes/{course_class.code}/enrol", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert f"You are confirmed in {course_class.code}." in body
    assert "You: Confirmed" in body
    assert [m.to for m in outbox] == [learner.email]


def test_full_class_tells_the_waitlist_position(client, make, login_as, company):
    course_class = make.course_class(capacity=0, sessions=1)
    for _ in range(3):
        make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    learner = make.user(company=company)
    login_as(learner)
    body = client.post(f"/classes/{course_class.code}/enrol", follow_redirects=True).get_data(
        as_text=True
    )
    assert "The class is full: you are 4th on the waitlist." in body
    page = client.get("/my-learning").get_data(as_text=True)
    assert "You are 4th on the waitlist." in page


def test_approval_company_request_waits_for_hr(client, make, login_as):
    company = make.company(requires_approval=True)
    learner = make.user(company=company)
    course_class = make.course_class(sessions=1)
    login_as(learner)
    body = client.post(f"/classes/{course_class.code}/enrol", follow_redirects=True).get_data(
        as_text=True
    )
    assert "Your request is waiting for HR approval." in body


def test_double_click_gives_one_enrolment_and_a_clear_message(client, make, login_as, learner):
    course_class = make.course_class(sessions=1)
    login_as(learner)
    client.post(f"/classes/{course_class.code}/enrol")
    body = client.post(f"/classes/{course_class.code}/enrol", follow_redirects=True).get_data(
        as_text=True
    )
    assert "You already have a place or a request in this class." in body
    assert _enrolments() == 1


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"status": ClassStatus.CLOSED}, "This class is not open for enrolment."),
        ({"status": ClassStatus.DRAFT}, "This class is not open for enrolment."),
        (
            {
                "enrolment_closes_at": datetime(2020, 1, 1, tzinfo=UTC),
                "enrolment_opens_at": datetime(2019, 1, 1, tzinfo=UTC),
            },
            "Enrolment for this class has closed.",
        ),
    ],
)
def test_refusals_are_explained_and_change_nothing(client, make, login_as, learner, setup, message):
    course_class = make.course_class(sessions=1, **setup)
    login_as(learner)
    response = client.post(f"/classes/{course_class.code}/enrol")
    assert response.status_code == 302
    assert message in client.get("/my-learning").get_data(as_text=True) or _flashed(client, message)
    assert _enrolments() == 0


def _flashed(client, message: str) -> bool:
    with client.session_transaction() as session:
        return any(message in text for _category, text in session.get("_flashes", []))


def test_enrolling_in_an_unknown_class_is_404(client, login_as, learner):
    login_as(learner)
    assert client.post("/classes/NO-SUCH-CLASS/enrol").status_code == 404


@pytest.mark.parametrize("status", [CourseStatus.DRAFT, CourseStatus.ARCHIVED])
def test_enrolling_in_a_class_of_a_hidden_course_is_404(client, make, login_as, learner, status):
    course_class = make.course_class(course=make.course(status=status), sessions=1)
    login_as(learner)
    assert client.post(f"/classes/{course_class.code}/enrol").status_code == 404
    assert _enrolments() == 0


@pytest.mark.parametrize("who", ["hr_officer", "trainer", "admin"])
def test_only_learners_enrol_themselves(client, make, login_as, request, who):
    course_class = make.course_class(sessions=1)
    login_as(request.getfixturevalue(who))
    assert client.post(f"/classes/{course_class.code}/enrol").status_code == 403
    assert _enrolments() == 0


def test_anonymous_enrol_goes_to_login(client, make):
    course_class = make.course_class(sessions=1)
    response = client.post(f"/classes/{course_class.code}/enrol")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_learner_withdraws_before_the_deadline_and_the_waitlist_moves(
    client, make, login_as, learner, company
):
    course_class = make.course_class(capacity=1, sessions=1)
    mine = make.enrolment(course_class, learner)
    other = make.user(company=company)
    waiting = make.enrolment(course_class, other, EnrolmentStatus.WAITLISTED)
    login_as(learner)
    body = client.post(
        f"/my-learning/enrolments/{mine.id}/withdraw", follow_redirects=True
    ).get_data(as_text=True)
    assert f"You have withdrawn from {course_class.code}." in body
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.CONFIRMED


def test_withdrawal_after_the_deadline_is_refused(client, make, login_as, learner):
    past_deadline = datetime.now(UTC) - timedelta(hours=1)
    course_class = make.course_class(sessions=1, withdrawal_deadline_at=past_deadline)
    mine = make.enrolment(course_class, learner)
    login_as(learner)
    client.post(f"/my-learning/enrolments/{mine.id}/withdraw")
    assert _flashed(client, "The withdrawal deadline has passed.")
    assert db.session.get(Enrolment, mine.id).status == EnrolmentStatus.CONFIRMED


def test_nobody_withdraws_someone_else_by_url(client, make, login_as, learner, company):
    course_class = make.course_class(sessions=1)
    theirs = make.enrolment(course_class, make.user(company=company))
    login_as(learner)
    assert client.post(f"/my-learning/enrolments/{theirs.id}/withdraw").status_code == 404
    assert client.post("/my-learning/enrolments/999999/withdraw").status_code == 404
    assert db.session.get(Enrolment, theirs.id).status == EnrolmentStatus.CONFIRMED


def test_my_learning_shows_sessions_attendance_past_classes_and_history(
    client, make, login_as, learner
):
    start = datetime.now(UTC) - timedelta(days=7)
    running = make.course_class(sessions=3, first_session=start, venue="Room 5.01")
    enrolment = make.enrolment(running, learner)
    first, second, _third = running.sessions
    db.session.add_all(
        [
            Attendance(enrolment=enrolment, session=first, status=AttendanceStatus.PRESENT),
            Attendance(enrolment=enrolment, session=second, status=AttendanceStatus.ABSENT),
        ]
    )
    past = make.course_class(status=ClassStatus.COMPLETED)
    make.enrolment(past, learner, EnrolmentStatus.COMPLETED)
    db.session.commit()
    login_as(learner)
    body = client.get("/my-learning").get_data(as_text=True)
    assert "Room 5.01" in body
    assert "1 of 2 sessions, 50% of contact hours" in body
    assert past.code in body
    assert "Completed" in body


def test_my_learning_runs_a_fixed_number_of_queries(client, make, login_as, learner):
    login_as(learner)
    make.enrolment(make.course_class(sessions=2), learner)
    make.enrolment(make.course_class(sessions=2), learner, EnrolmentStatus.WAITLISTED)
    with recorded_statements() as few:
        client.get("/my-learning")
    for _ in range(8):
        make.enrolment(make.course_class(sessions=4), learner, EnrolmentStatus.WAITLISTED)
    with recorded_statements() as many:
        client.get("/my-learning")
    assert len(few) == len(many)


@pytest.mark.parametrize("capacity", [1, 0], ids=["confirmed", "waitlisted"])
def test_an_enrolment_request_reads_the_course_and_the_enrolment_no_more_than_once(
    app, client, make, login_as, learner, capacity
):
    # The request alone, as in production: the e-mail is written when `flask send-mail`
    # delivers it, not here.
    app.config["MAIL_DELIVER_IN_REQUEST"] = False
    course_class = make.course_class(capacity=capacity, sessions=2)
    login_as(learner)
    with recorded_statements() as statements:
        response = client.post(f"/classes/{course_class.code}/enrol")
    assert response.status_code == 302
    reads = [" ".join(s.split()) for s in statements if s.lstrip().upper().startswith("SELECT")]
    # The class comes with its course; its lock reloads the class alone.
    assert not [s for s in reads if re.match(r"SELECT courses\.id\b.* FROM courses\b", s)]
    assert len([s for s in reads if " FROM classes " in s and "JOIN courses" in s]) == 1
    # The learner's three checks (a duplicate, prerequisites, a clash) are one query; the
    # outcome is told before the commit, so the enrolment is never read back.
    assert len([s for s in reads if " UNION ALL " in s]) == 1
    assert not [s for s in reads if s.startswith("SELECT enrolments.id, enrolments.")]


# HR approvals -----------------------------------------------------------------------------


@pytest.fixture
def approval_company(make):
    return make.company(requires_approval=True, code="APPR", domains=["approve.test"])


def test_hr_approves_several_requests_at_once(client, make, login_as, approval_company, outbox):
    officer = make.user(role="hr", company=approval_company)
    course_class = make.course_class(capacity=1, sessions=1)
    a = make.enrolment(course_class, make.user(company=approval_company), EnrolmentStatus.PENDING)
    b = make.enrolment(course_class, make.user(company=approval_company), EnrolmentStatus.PENDING)
    login_as(officer)
    queue = client.get("/hr/approvals").get_data(as_text=True)
    assert a.learner.name in queue and b.learner.name in queue
    body = client.post(
        "/hr/approvals",
        data={"enrolment_ids": [a.id, b.id], "decision": "approve"},
    ).get_data(as_text=True)
    assert "1 request approved and confirmed" in body
    assert "1 request approved onto the waitlist (the class is full)" in body
    assert db.session.get(Enrolment, a.id).status == EnrolmentStatus.CONFIRMED
    assert db.session.get(Enrolment, b.id).status == EnrolmentStatus.WAITLISTED
    assert {m.to for m in outbox} == {a.learner.email, b.learner.email}


def test_hr_rejects_with_a_reason(client, make, login_as, approval_company):
    officer = make.user(role="hr", company=approval_company)
    pending = make.enrolment(
        make.course_class(sessions=1), make.user(company=approval_company), EnrolmentStatus.PENDING
    )
    login_as(officer)
    # Rejecting shows a confirmation page first; confirming needs a reason.
    client.post("/hr/approvals", data={"enrolment_ids": [pending.id], "decision": "reject"})
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.PENDING
    confirmed = {"enrolment_ids": [pending.id], "decision": "reject", "confirmed": "yes"}
    client.post("/hr/approvals", data=confirmed)
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.PENDING
    client.post("/hr/approvals", data={**confirmed, "reason": "Not this term"})
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.REJECTED


def test_hr_cannot_decide_for_another_company(client, make, login_as, approval_company, hr_officer):
    pending = make.enrolment(
        make.course_class(sessions=1), make.user(company=approval_company), EnrolmentStatus.PENDING
    )
    login_as(hr_officer)
    assert pending.learner.name not in client.get("/hr/approvals").get_data(as_text=True)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [pending.id], "decision": "approve"}
    )
    assert response.status_code == 404
    assert (
        client.post(f"/hr/enrolments/{pending.id}/withdraw", data={"reason": "x"}).status_code
        == 404
    )
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.PENDING


def test_hr_withdraws_own_staff_with_a_reason_after_the_deadline(
    client, make, login_as, hr_officer, learner
):
    past_deadline = datetime.now(UTC) - timedelta(hours=1)
    course_class = make.course_class(sessions=1, withdrawal_deadline_at=past_deadline)
    held = make.enrolment(course_class, learner)
    login_as(hr_officer)
    client.post(f"/hr/enrolments/{held.id}/withdraw", data={"reason": ""})
    assert db.session.get(Enrolment, held.id).status == EnrolmentStatus.CONFIRMED
    client.post(f"/hr/enrolments/{held.id}/withdraw", data={"reason": "Reassigned"})
    assert db.session.get(Enrolment, held.id).status == EnrolmentStatus.WITHDRAWN


def test_my_learning_lists_certificates_with_download_and_check_links(
    client, make, login_as, learner
):
    from skillsup.models import Certificate

    past = make.course_class(status=ClassStatus.COMPLETED)
    enrolment = make.enrolment(past, learner, EnrolmentStatus.COMPLETED)
    certificate = Certificate(
        enrolment=enrolment, serial_number="SU-2026-000777", verification_code="c" * 32
    )
    db.session.add(certificate)
    db.session.commit()
    login_as(learner)
    body = client.get("/my-learning").get_data(as_text=True)
    assert "SU-2026-000777" in body
    assert f"/certificates/{certificate.id}.pdf" in body
    assert "/verify/" + "c" * 32 in body


def test_approval_mail_says_hr_approved(make, outbox):
    from skillsup.services import enrolment_requests

    company = make.company(requires_approval=True)
    officer = make.user(role="hr", company=company)
    learner = make.user(company=company)
    pending = make.enrolment(make.course_class(sessions=1), learner, EnrolmentStatus.PENDING)
    enrolment_requests.approve(officer, pending)
    db.session.commit()
    [message] = [m for m in outbox if m.to == learner.email]
    assert "Your HR officer has approved your request." in message.text
