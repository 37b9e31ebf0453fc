"""Admins enrol, approve and withdraw learners under the same rules as everyone else."""

from __future__ import annotations

from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import Enrolment, EnrolmentSource, EnrolmentStatus


def test_admin_enrols_a_learner_by_email(client, make, login_as, admin, learner, outbox):
    course_class = make.course_class(capacity=1, sessions=1)
    login_as(admin)
    page = client.post(
        f"/admin/classes/{course_class.id}/enrolments",
        data={"email": learner.email.upper()},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"Confirmed in {course_class.code}." in page
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.source == EnrolmentSource.ADMIN
    assert enrolment.requested_by_id == admin.id
    assert learner.email in page  # listed in the class's enrolments
    assert [m.to for m in outbox] == [learner.email]


def test_admin_enrolment_obeys_the_rules(client, make, login_as, admin, learner):
    course_class = make.course_class(sessions=1)
    make.enrolment(course_class, learner)
    login_as(admin)
    page = client.post(
        f"/admin/classes/{course_class.id}/enrolments",
        data={"email": learner.email},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert f"{learner.name} already has a place or a request in this class." in page
    assert len(db.session.scalars(select(Enrolment)).all()) == 1


def test_unknown_email_or_class(client, make, login_as, admin):
    course_class = make.course_class(sessions=1)
    login_as(admin)
    page = client.post(
        f"/admin/classes/{course_class.id}/enrolments",
        data={"email": "nobody@nowhere.test"},
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "No one has the e-mail address nobody@nowhere.test." in page
    assert (
        client.post("/admin/classes/99999/enrolments", data={"email": "a@b.test"}).status_code
        == 404
    )


def test_admin_withdraws_with_a_reason_and_the_waitlist_moves(
    client, make, login_as, admin, learner, company
):
    course_class = make.course_class(capacity=1, sessions=1)
    held = make.enrolment(course_class, learner)
    waiting = make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    login_as(admin)
    client.post(f"/admin/enrolments/{held.id}/withdraw", data={"reason": ""})
    assert db.session.get(Enrolment, held.id).status == EnrolmentStatus.CONFIRMED
    client.post(f"/admin/enrolments/{held.id}/withdraw", data={"reason": "Duplicate booking"})
    assert db.session.get(Enrolment, held.id).status == EnrolmentStatus.WITHDRAWN
    assert db.session.get(Enrolment, held.id).status_reasons == [
        {"code": "free_text", "args": {"text": "Duplicate booking"}}
    ]
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.CONFIRMED


def test_admin_approves_a_pending_request(client, make, login_as, admin):
    company = make.company(requires_approval=True)
    learner = make.user(company=company)
    pending = make.enrolment(make.course_class(sessions=1), learner, EnrolmentStatus.PENDING)
    login_as(admin)
    client.post(f"/admin/enrolments/{pending.id}/approve")
    assert db.session.get(Enrolment, pending.id).status == EnrolmentStatus.CONFIRMED
    page = client.post(f"/admin/enrolments/{pending.id}/approve", follow_redirects=True)
    assert "Only a request waiting for approval can be approved." in page.get_data(as_text=True)
