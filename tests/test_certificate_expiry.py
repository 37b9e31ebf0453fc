"""Certificates that expire: the date, the reminders, the pages that say so, enrolling again."""

from __future__ import annotations

import html
import secrets
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.links import PortalLinks
from skillsup.models import (
    AuditEntry,
    Certificate,
    ClassStatus,
    Course,
    EnrolmentStatus,
    OutboxMessage,
    SentReminder,
    User,
)
from skillsup.services import certificate_expiry, courses, enrolment_requests, reminders
from skillsup.services.certificate_expiry import CertificateState
from skillsup.services.errors import ValidationFailed

from .factories import hk_datetime
from .test_admin_courses import course_data, edit_form_data, form_data
from .test_certificates import close, finished_class

# The certificate of these tests expires on Thursday 1 May 2031 (Hong Kong).
EXPIRES_ON = date(2031, 5, 1)


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def certificate_of(
    make: Any,
    learner: User,
    *,
    expires_on: date | None = EXPIRES_ON,
    course: Course | None = None,
    issued_at: datetime | None = None,
) -> Certificate:
    """A completed enrolment of ``learner`` with a certificate expiring on ``expires_on``."""
    course = course or make.course(title_en="Data Privacy Compliance", certificate_valid_months=12)
    course_class = make.course_class(course=course, status=ClassStatus.COMPLETED)
    enrolment = make.enrolment(course_class, learner, EnrolmentStatus.COMPLETED)
    certificate = Certificate(
        enrolment_id=enrolment.id,
        serial_number=f"SU-2030-{secrets.randbelow(10**6):06d}",
        verification_code=secrets.token_urlsafe(24),
        issued_at=issued_at or datetime(2030, 5, 1, 2, 0, tzinfo=UTC),
        expires_on=expires_on,
    )
    db.session.add(certificate)
    db.session.commit()
    return certificate


def run_reminders(now: datetime) -> dict[str, int]:
    """What ``flask send-reminders`` does at ``now``: the reminders it sends, by kind."""
    report = reminders.ReminderReport()
    for reminder in reminders.due_reminders(now, links=PortalLinks.for_server(current_app)):
        if reminders.claim_and_send(reminder):
            report.sent[reminder.kind] += 1
        db.session.commit()
    return dict(report.sent)


def mail_to(address: str) -> list[str]:
    return list(
        db.session.scalars(
            select(OutboxMessage.subject)
            .where(OutboxMessage.recipient == address)
            .order_by(OutboxMessage.id)
        )
    )


def days_before(days: int, hour: int = 9, minute: int = 0) -> datetime:
    """``days`` days before the expiry date, at this Hong Kong time."""
    day = EXPIRES_ON - timedelta(days=days)
    return hk_datetime(day.year, day.month, day.day, hour, minute)


# The date ----------------------------------------------------------------------------------


def test_the_expiry_date_is_the_hong_kong_date_of_issue_plus_the_months():
    # 00:30 on 12 March in Hong Kong is still 11 March in UTC.
    assert certificate_expiry.expiry_date(hk_datetime(2026, 3, 12, 0, 30), 12) == date(2027, 3, 12)
    # A shorter month ends the count on its last day.
    assert certificate_expiry.expiry_date(hk_datetime(2026, 8, 31, 10), 6) == date(2027, 2, 28)
    assert certificate_expiry.expiry_date(hk_datetime(2027, 8, 31, 10), 6) == date(2028, 2, 29)
    assert certificate_expiry.expiry_date(hk_datetime(2026, 8, 31, 10), None) is None


def test_valid_until_the_day_before_and_expired_on_the_expiry_date(make, learner):
    certificate = certificate_of(make, learner)
    day_before = certificate_expiry.validity(certificate, EXPIRES_ON - timedelta(days=1))
    assert day_before.state == CertificateState.EXPIRING
    assert day_before.is_valid
    assert day_before.valid_until == date(2031, 4, 30)
    assert day_before.offers_enrolling_again
    on_the_day = certificate_expiry.validity(certificate, EXPIRES_ON)
    assert on_the_day.state == CertificateState.EXPIRED
    assert not on_the_day.is_valid
    assert certificate_expiry.validity(certificate, EXPIRES_ON - timedelta(days=91)).state == (
        CertificateState.VALID
    )
    assert certificate_expiry.validity(certificate, EXPIRES_ON - timedelta(days=90)).state == (
        CertificateState.EXPIRING
    )


def test_closing_a_class_fixes_the_expiry_from_the_courses_validity(app, make, trainer, learner):
    course_class = finished_class(make, trainer, [learner])
    course_class.course.certificate_valid_months = 24
    db.session.commit()
    close(app, trainer, course_class)
    certificate = db.session.scalars(select(Certificate)).one()
    assert certificate.expires_on == certificate_expiry.add_months(
        certificate_expiry.hk_date(certificate.issued_at), 24
    )
    # A later change of the course leaves the certificate as issued.
    course_class.course.certificate_valid_months = 1
    db.session.commit()
    assert db.session.get(Certificate, certificate.id).expires_on == certificate.expires_on


def test_a_certificate_of_a_course_without_validity_never_expires(app, make, trainer, learner):
    course_class = finished_class(make, trainer, [learner])
    close(app, trainer, course_class)
    certificate = db.session.scalars(select(Certificate)).one()
    assert certificate.expires_on is None
    assert certificate_expiry.validity(certificate, date(2099, 1, 1)).state == "valid"


# The course's validity ---------------------------------------------------------------------


@pytest.mark.parametrize("months", [0, 121, -3, True, "12"])
def test_the_validity_is_a_whole_number_of_months_from_1_to_120(admin, months):
    with pytest.raises(ValidationFailed) as refused:
        courses.create_course(admin, course_data(certificate_valid_months=months))
    assert refused.value.field == "certificate_valid_months"


def test_an_admin_sets_the_validity_on_the_form_and_the_change_is_audited(make, admin, login_as):
    course = make.course(code="SU-PRV-101")
    db.session.commit()
    client = login_as(admin)
    refused = client.post(
        f"/admin/courses/{course.id}/edit",
        data=edit_form_data(course, certificate_valid_months="200"),
    )
    assert refused.status_code != 302
    assert "a whole number from 1 to 120" in text(refused)
    saved = client.post(
        f"/admin/courses/{course.id}/edit",
        data=edit_form_data(course, certificate_valid_months="12"),
    )
    assert saved.status_code == 302
    db.session.expire_all()
    assert db.session.get(Course, course.id).certificate_valid_months == 12
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "course.updated")
    ).one()
    assert entry.details["certificate_valid_months"] == "— → 12"
    page = text(client.get(f"/admin/courses/{course.id}"))
    assert "12 months" in page
    new = client.post("/admin/courses/new", data=form_data(certificate_valid_months=""))
    assert new.status_code == 302
    assert (
        db.session.scalar(
            select(Course).where(Course.code == "SU-CLD-201")
        ).certificate_valid_months
        is None
    )


# Reminders ---------------------------------------------------------------------------------


def test_reminders_60_and_14_days_before_once_each_to_the_learner_and_hr(
    make, company, learner, hr_officer, outbox
):
    certificate_of(make, learner)
    other_company = make.company(code="OTHR")
    outsider = make.user(role="hr", company=other_company)
    db.session.commit()

    assert run_reminders(days_before(61)) == {}
    # Midnight in Hong Kong starts the 60th day before.
    assert run_reminders(days_before(61, 23, 59)) == {}
    assert run_reminders(days_before(60, 0, 0)) == {"certificate_expiry": 2}
    code = db.session.scalars(select(Course)).one().code
    assert mail_to(learner.email) == [f"Your certificate for {code} expires in 60 days"]
    assert mail_to(hr_officer.email) == ["1 staff certificate expires soon"]
    assert mail_to(outsider.email) == []
    # Rerun, and the days after: nothing more until 14 days before.
    assert run_reminders(days_before(60, 12)) == {}
    assert run_reminders(days_before(59)) == {}
    assert run_reminders(days_before(15, 23, 59)) == {}
    assert run_reminders(days_before(14, 0, 0)) == {"certificate_expiry": 2}
    assert run_reminders(days_before(14, 8)) == {}
    assert run_reminders(days_before(1)) == {}
    # On the expiry day itself it has expired: no reminder.
    assert run_reminders(days_before(0, 0, 0)) == {}
    assert len(mail_to(learner.email)) == 2
    assert len(mail_to(hr_officer.email)) == 2
    assert "valid until 30 April 2031" in outbox[-1].text or any(
        "30 April 2031" in m.text for m in outbox
    )


def test_a_run_that_missed_the_60_day_reminder_sends_it_and_one_at_13_days_only_the_14(
    make, company, learner
):
    certificate_of(make, learner)
    assert run_reminders(days_before(59)) == {"certificate_expiry": 1}
    late = make.user(company=company)
    certificate_of(make, late)
    assert run_reminders(days_before(13)) == {"certificate_expiry": 2}  # each one's 14-day
    assert len(mail_to(late.email)) == 1
    assert "expires in 13 days" in mail_to(late.email)[0]
    assert db.session.scalars(select(SentReminder.subject_key)).all()[-1].endswith(":14")


def test_no_reminder_to_those_who_do_not_want_them_nor_for_a_renewed_or_revoked_one(
    make, company, learner, hr_officer
):
    hr_officer.wants_reminders = False
    quiet = make.user(company=company, wants_reminders=False)
    certificate_of(make, quiet)
    renewed = certificate_of(make, learner)
    certificate_of(
        make,
        learner,
        course=renewed.enrolment.course_class.course,
        issued_at=datetime(2031, 3, 1, 2, 0, tzinfo=UTC),
        expires_on=date(2032, 3, 1),
    )
    revoked = certificate_of(make, make.user(company=company))
    revoked.revoked_at = datetime(2031, 1, 1, tzinfo=UTC)
    db.session.commit()
    assert run_reminders(days_before(30)) == {}


def test_the_reminder_is_in_the_learners_language(make, company, outbox):
    learner = make.user(company=company, preferred_language="zh_Hant_HK")
    certificate_of(make, learner)
    run_reminders(days_before(20))
    (subject,) = mail_to(learner.email)
    assert "證書將於20日後到期" in subject
    assert "有效期至2031年4月30日" in outbox[-1].text


# The pages ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "valid_until", "expired_on"),
    [
        ("en", "Valid until", "This certificate expired on 1 May 2031 and is no longer valid."),
        ("zh_Hant_HK", "有效期至", "此證書已於2031年5月1日失效，不再有效。"),
    ],
)
def test_the_verification_page_says_valid_until_then_expired_on(
    make, learner, client, time_machine, language, valid_until, expired_on
):
    certificate = certificate_of(make, learner)
    headers = {"Accept-Language": language.replace("_", "-")}
    time_machine.move_to(days_before(1, 23, 59), tick=False)
    page = text(client.get(f"/verify/{certificate.verification_code}", headers=headers))
    assert valid_until in page
    assert expired_on not in page
    time_machine.move_to(days_before(0, 0, 0), tick=False)
    page = text(client.get(f"/verify/{certificate.verification_code}", headers=headers))
    assert expired_on in page
    assert "certificate-valid" not in page


def test_my_learning_shows_the_expiry_and_offers_to_enrol_again(
    make, learner, login_as, time_machine
):
    certificate = certificate_of(make, learner)
    course = certificate.enrolment.course_class.course
    time_machine.move_to(days_before(-3), tick=False)
    page = text(login_as(learner).get("/my-learning"))
    assert "Expired" in page
    assert "on 1 May 2031" in page
    assert "Enrol again to renew it" in page
    assert f'href="/courses/{course.code}"' in page


def test_a_holder_of_a_certificate_may_enrol_in_the_same_course_again(make, learner):
    certificate = certificate_of(make, learner)
    course = certificate.enrolment.course_class.course
    next_class = make.course_class(course=course, sessions=2)
    db.session.commit()
    outcome = enrolment_requests.request_enrolment(learner, learner, next_class)
    db.session.commit()
    assert outcome.status == EnrolmentStatus.CONFIRMED


def test_hr_sees_its_staffs_expiring_and_expired_certificates_only(
    make, company, learner, hr_officer, login_as, time_machine
):
    expiring = certificate_of(make, learner)
    gone = make.user(company=company, name="Bo Lam")
    certificate_of(make, gone, expires_on=EXPIRES_ON - timedelta(days=200))
    far = make.user(company=company, name="Cy Ho")
    certificate_of(make, far, expires_on=EXPIRES_ON + timedelta(days=300))
    other = make.company(code="OTHR")
    stranger = make.user(company=other, name="Di Yu")
    certificate_of(make, stranger)
    db.session.commit()
    time_machine.move_to(days_before(30), tick=False)
    rows = certificate_expiry.certificates_to_renew(hr_officer)
    expiring_rows, expired_rows = certificate_expiry.split_by_state(rows)
    assert [r.certificate.id for r in expiring_rows] == [expiring.id]
    assert [r.learner.name for r in expired_rows] == ["Bo Lam"]
    page = text(login_as(hr_officer).get("/hr/certificates"))
    assert learner.name in page and "Bo Lam" in page
    assert "Cy Ho" not in page and "Di Yu" not in page
    assert "until 30 Apr 2031" in page
    staff_page = text(login_as(hr_officer).get(f"/hr/staff/{learner.id}"))
    assert "until 30 Apr 2031" in staff_page


def test_the_pdf_says_valid_until_then_expired_on(make, learner, login_as, time_machine):
    import io

    from pypdf import PdfReader

    certificate = certificate_of(make, learner)
    time_machine.move_to(days_before(10), tick=False)
    client = login_as(learner)
    reader = PdfReader(io.BytesIO(client.get(f"/certificates/{certificate.id}.pdf").get_data()))
    assert len(reader.pages) == 1
    content = reader.pages[0].extract_text()
    assert "Valid until" in content and "30 April 2031" in content
    assert "2031年4月30日" in content
    time_machine.move_to(days_before(0, 0, 0), tick=False)
    client = login_as(learner)
    reader = PdfReader(io.BytesIO(client.get(f"/certificates/{certificate.id}.pdf").get_data()))
    assert len(reader.pages) == 1
    content = reader.pages[0].extract_text()
    assert "Expired on" in content and "EXPIRED" in content and "1 May 2031" in content


def test_the_states_in_sql_are_those_of_validity(make, learner):
    """Lists that filter by state in the database (the API's) find each certificate in the
    state :func:`certificate_expiry.validity` gives it, at every boundary."""
    today = date(2031, 1, 10)
    within = certificate_expiry.EXPIRING_WITHIN_DAYS
    expiries: list[date | None] = [
        None,
        today - timedelta(days=1),
        today,
        today + timedelta(days=1),
        today + timedelta(days=within - 1),
        today + timedelta(days=within),
        today + timedelta(days=within + 1),
    ]
    made = [certificate_of(make, learner, expires_on=expires_on) for expires_on in expiries]
    revoked = certificate_of(make, learner, expires_on=today + timedelta(days=5))
    revoked.revoked_at = datetime(2030, 12, 1, tzinfo=UTC)
    db.session.commit()
    every = [*made, revoked]
    for state in CertificateState:
        found = set(
            db.session.scalars(
                select(Certificate.id).where(certificate_expiry.state_sql(state, today))
            )
        )
        expected = {c.id for c in every if certificate_expiry.validity(c, today).state == state}
        assert found == expected, state
    assert certificate_expiry.validity(revoked, today).state == CertificateState.REVOKED
