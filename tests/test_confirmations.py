"""The confirmation steps of destructive actions: GET says what will happen and changes
nothing, POST does it, and the objects of others are not there (404)."""

from __future__ import annotations

import html
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    Role,
    User,
)
from skillsup.models.outbox import OutboxMessage

from .test_certificates import close, finished_class


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def status_of(enrolment: Enrolment) -> EnrolmentStatus:
    db.session.expire_all()
    return db.session.get(Enrolment, enrolment.id).status


def queued_mail() -> int:
    return db.session.scalar(select(func.count()).select_from(OutboxMessage)) or 0


def full_class(make: Any, company: Any, *, waiting: int = 2, **fields: Any) -> Any:
    course_class = make.course_class(capacity=1, sessions=2, **fields)
    held = make.enrolment(course_class, make.user(company=company, name="Ann Lee"))
    line = [
        make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
        for _ in range(waiting)
    ]
    return course_class, held, line


# A learner's own withdrawal ------------------------------------------------------------------


def test_a_learner_sees_what_withdrawing_does_before_doing_it(client, make, company, login_as):
    course_class, held, line = full_class(make, company)
    login_as(held.learner)
    url = f"/my-learning/enrolments/{held.id}/withdraw"

    page = text(client.get(url))
    assert f"Withdraw from {course_class.code}" in page
    assert f"You give up your place in {course_class.code}." in page
    assert "the first of the 2 learners on the waitlist" in page
    assert "You are told by e-mail" in page
    assert f'<form method="post" action="{url}"' in page
    assert status_of(held) == EnrolmentStatus.CONFIRMED  # nothing changed on GET

    my_learning = text(client.get("/my-learning"))
    assert f'href="{url}"' in my_learning  # a link to the page, not a one-click button

    response = client.post(url)
    assert response.status_code == 302
    assert status_of(held) == EnrolmentStatus.WITHDRAWN
    assert status_of(line[0]) == EnrolmentStatus.CONFIRMED  # as the page said


def test_withdrawing_from_the_waitlist_or_with_nobody_waiting_says_so(
    client, make, company, login_as
):
    course_class, _held, line = full_class(make, company, waiting=1)
    login_as(line[0].learner)
    page = text(client.get(f"/my-learning/enrolments/{line[0].id}/withdraw"))
    assert f"You leave the waitlist of {course_class.code}." in page
    assert "seat" not in page.split("<main", 1)[1].split("</main>")[0]

    alone = make.course_class(capacity=3, sessions=1)
    mine = make.enrolment(alone, line[0].learner)
    page = text(client.get(f"/my-learning/enrolments/{mine.id}/withdraw"))
    assert "Nobody is on the waitlist" in page


def test_after_the_deadline_the_learner_sees_the_refusal_instead_of_a_button(
    client, make, company, login_as
):
    course_class = make.course_class(
        sessions=1, withdrawal_deadline_at=datetime.now(UTC) - timedelta(hours=1)
    )
    held = make.enrolment(course_class, make.user(company=company))
    login_as(held.learner)
    page = text(client.get(f"/my-learning/enrolments/{held.id}/withdraw"))
    assert "The withdrawal deadline has passed." in page
    assert "<button" not in page.split("<main", 1)[1]


def test_another_learners_withdrawal_page_is_not_there(client, make, company, login_as):
    _class, held, _line = full_class(make, company)
    login_as(make.user(company=company))
    assert client.get(f"/my-learning/enrolments/{held.id}/withdraw").status_code == 404
    assert client.get("/my-learning/enrolments/999999/withdraw").status_code == 404
    assert status_of(held) == EnrolmentStatus.CONFIRMED


# HR and admins withdrawing a learner ---------------------------------------------------------


def test_hr_confirms_a_withdrawal_with_a_reason(client, make, company, hr_officer, login_as):
    course_class, held, line = full_class(make, company)
    login_as(hr_officer)
    url = f"/hr/enrolments/{held.id}/withdraw"
    page = text(client.get(url, query_string={"next": "/hr/staff"}))
    assert f"Withdraw Ann Lee from {course_class.code}" in page
    assert "Ann Lee is told by e-mail, with your reason." in page
    assert 'name="reason"' in page
    assert '<input type="hidden" name="next" value="/hr/staff">' in page
    assert status_of(held) == EnrolmentStatus.CONFIRMED

    refused = client.post(url, data={"reason": " ", "next": "/hr/staff"})
    assert refused.status_code == 400
    assert status_of(held) == EnrolmentStatus.CONFIRMED

    done = client.post(url, data={"reason": "Reassigned", "next": "/hr/staff"})
    assert done.status_code == 302 and done.headers["Location"].endswith("/hr/staff")
    assert status_of(held) == EnrolmentStatus.WITHDRAWN
    assert status_of(line[0]) == EnrolmentStatus.CONFIRMED


def test_hr_cannot_see_another_companys_withdrawal(client, make, company, login_as):
    _class, held, _line = full_class(make, company)
    login_as(make.user(role=Role.HR, company=make.company()))
    assert client.get(f"/hr/enrolments/{held.id}/withdraw").status_code == 404
    assert client.get("/hr/enrolments/999999/withdraw").status_code == 404


def test_an_admin_confirms_a_withdrawal(client, make, company, admin, login_as):
    _course_class, held, line = full_class(make, company, waiting=1)
    login_as(admin)
    url = f"/admin/enrolments/{held.id}/withdraw"
    page = text(client.get(url))
    assert "The seat goes at once to the learner on the waitlist" in page
    assert status_of(held) == EnrolmentStatus.CONFIRMED
    assert client.post(url, data={"reason": "Duplicate"}).status_code == 302
    assert status_of(held) == EnrolmentStatus.WITHDRAWN
    assert status_of(line[0]) == EnrolmentStatus.CONFIRMED
    assert client.get("/admin/enrolments/999999/withdraw").status_code == 404


# Cancelling a class --------------------------------------------------------------------------


def test_cancelling_a_class_says_who_is_told(client, make, company, admin, login_as):
    course_class, held, _line = full_class(make, company)
    login_as(admin)
    url = f"/admin/classes/{course_class.id}/status/cancel"
    page = text(client.get(url))
    assert f"Cancel {course_class.code}" in page
    assert "1 confirmed learner loses their place and is told by e-mail" in page
    assert "2 learners on the waitlist are taken off it and told by e-mail" in page
    assert 'name="cancel-reason"' in page
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.OPEN

    assert client.post(url, data={"cancel-reason": "Too few"}).status_code == 302
    db.session.expire_all()
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.CANCELLED
    assert status_of(held) == EnrolmentStatus.CANCELLED

    again = text(client.get(url))
    assert "cannot be cancelled" in again
    assert client.get("/admin/classes/999999/status/cancel").status_code == 404
    assert client.get(f"/admin/classes/{course_class.id}/status/start").status_code == 405


# Removing a session --------------------------------------------------------------------------


def test_removing_a_session_says_who_is_told(client, make, company, admin, login_as):
    course_class, _held, _line = full_class(make, company)
    session_id = course_class.sessions[0].id
    login_as(admin)
    url = f"/admin/classes/{course_class.id}/sessions/{session_id}/delete"
    page = text(client.get(url))
    assert "1 confirmed learner is told of the change by e-mail." in page
    assert db.session.get(ClassSession, session_id) is not None
    other = make.course_class(sessions=1)
    wrong = f"/admin/classes/{other.id}/sessions/{session_id}/delete"
    assert client.get(wrong).status_code == 404
    assert client.post(url).status_code == 302
    db.session.expire_all()
    assert db.session.get(ClassSession, session_id) is None


# Revoking a certificate ----------------------------------------------------------------------


def test_revoking_asks_for_a_reason_and_says_the_learner_is_emailed_with_it(
    app, client, make, trainer, learner, admin, login_as
):
    close(app, trainer, finished_class(make, trainer, [learner]))
    certificate = db.session.scalars(select(Certificate)).one()
    login_as(admin)
    url = f"/certificates/{certificate.id}/revoke"
    page = text(client.get(url))
    assert f"Revoke certificate {certificate.serial_number}" in page
    assert "is no longer valid" in page
    assert f"{learner.name} is told by e-mail, with your reason" in page
    assert 'name="reason"' in page
    db.session.refresh(certificate)
    assert certificate.revoked_at is None

    assert client.post(url, data={"reason": "Issued in error"}).status_code == 302
    db.session.refresh(certificate)
    assert certificate.revoked_at is not None
    assert "already been revoked" in text(client.get(url))
    assert client.get("/certificates/999999/revoke").status_code == 404


def test_only_admins_see_the_revoking_page(app, client, make, trainer, learner, login_as):
    close(app, trainer, finished_class(make, trainer, [learner]))
    certificate = db.session.scalars(select(Certificate)).one()
    login_as(learner)
    assert client.get(f"/certificates/{certificate.id}/revoke").status_code == 403


# Deactivating a person -----------------------------------------------------------------------


def test_hr_deactivation_names_the_enrolments_it_withdraws(
    client, make, company, hr_officer, login_as
):
    course_class, held, line = full_class(make, company)
    started = make.course_class(sessions=2, first_session=datetime.now(UTC) - timedelta(days=2))
    kept = make.enrolment(started, held.learner)
    login_as(hr_officer)
    url = f"/hr/staff/{held.learner_id}/deactivate"
    page = text(client.get(url))
    assert "Ann Lee can no longer log in" in page
    assert f"1 enrolment in a class that has not started is withdrawn ({course_class.code})" in page
    assert f"1 enrolment in a class already under way is left as it is ({started.code})" in page
    assert db.session.get(User, held.learner_id).is_active

    assert client.post(url, data={"reason": "Left the company"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, held.learner_id).is_active
    assert status_of(held) == EnrolmentStatus.WITHDRAWN
    assert status_of(kept) == EnrolmentStatus.CONFIRMED
    assert status_of(line[0]) == EnrolmentStatus.CONFIRMED

    client.post("/logout")
    login_as(make.user(role=Role.HR, company=make.company()))
    assert client.get(url).status_code == 404


def test_an_admin_deactivation_says_enrolments_are_left(client, make, company, admin, login_as):
    _class, held, _line = full_class(make, company)
    login_as(admin)
    url = f"/admin/users/{held.learner_id}/deactivate"
    page = text(client.get(url))
    assert "Their 1 active enrolment is left as it is" in page
    assert db.session.get(User, held.learner_id).is_active
    assert client.post(url, data={"reason": "Left"}).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, held.learner_id).is_active
    assert status_of(held) == EnrolmentStatus.CONFIRMED
    assert client.get("/admin/users/999999/deactivate").status_code == 404
    assert "You cannot deactivate your own account." in text(
        client.get(f"/admin/users/{admin.id}/deactivate")
    )


def test_an_admin_confirms_deactivating_an_hr_officer(
    client, make, company, hr_officer, admin, login_as
):
    login_as(admin)
    url = f"/admin/companies/{company.id}/hr-officers/{hr_officer.id}/deactivate"
    page = text(client.get(url))
    assert f"Deactivate {hr_officer.name}" in page
    assert db.session.get(User, hr_officer.id).is_active
    assert client.post(url).status_code == 302
    db.session.expire_all()
    assert not db.session.get(User, hr_officer.id).is_active
    other = make.company()
    assert (
        client.get(f"/admin/companies/{other.id}/hr-officers/{hr_officer.id}/deactivate")
    ).status_code == 404


def test_no_confirmation_page_queues_mail(client, make, company, admin, login_as):
    course_class, held, _line = full_class(make, company)
    login_as(admin)
    before = queued_mail()
    for url in (
        f"/admin/enrolments/{held.id}/withdraw",
        f"/admin/classes/{course_class.id}/status/cancel",
        f"/admin/users/{held.learner_id}/deactivate",
    ):
        assert client.get(url).status_code == 200
    assert queued_mail() == before


def test_deactivating_the_last_hr_officer_says_requests_will_wait_unapproved(
    client, make, admin, login_as
):
    company = make.company(name="Harbour IT", requires_approval=True)
    officer = make.user(role=Role.HR, company=company, name="Helen Ho")
    elsewhere = make.company(requires_approval=True)
    course_class = make.course_class(capacity=5)
    for _ in range(2):
        make.enrolment(course_class, make.user(company=company), EnrolmentStatus.PENDING)
    # Another company's request, and one of Harbour IT's already decided, are not counted.
    make.enrolment(course_class, make.user(company=elsewhere), EnrolmentStatus.PENDING)
    make.enrolment(course_class, make.user(company=company), EnrolmentStatus.CONFIRMED)
    db.session.commit()
    login_as(admin)
    urls = (
        f"/admin/companies/{company.id}/hr-officers/{officer.id}/deactivate",
        f"/admin/users/{officer.id}/deactivate",
    )
    warning = (
        "Helen Ho is the last active HR officer of Harbour IT, whose enrolments need HR "
        "approval: the 2 requests waiting now, and every new one, will wait with nobody to "
        "approve them until another HR officer is active."
    )
    for url in urls:
        assert warning in text(client.get(url))

    # With another active officer, or without approval, nothing waits unapproved.
    colleague = make.user(role=Role.HR, company=company)
    db.session.commit()
    for url in urls:
        assert "last active HR officer" not in text(client.get(url))
    colleague.is_active = False
    company.requires_approval = False
    db.session.commit()
    for url in urls:
        assert "last active HR officer" not in text(client.get(url))

    # Nothing waiting now: the warning says so.
    company.requires_approval = True
    db.session.execute(
        db.update(Enrolment)
        .where(Enrolment.status == EnrolmentStatus.PENDING)
        .values(status=EnrolmentStatus.REJECTED)
    )
    db.session.commit()
    page = text(client.get(urls[0]))
    assert "no request is waiting now, but every new one will wait" in page
    # A learner, and an officer already deactivated, have no such line.
    assert "last active HR officer" not in text(
        client.get(f"/admin/users/{make.user(company=company).id}/deactivate")
    )
