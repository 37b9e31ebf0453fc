"""Certificates: issuing with serial numbers, the public check, the PDF, revocation."""

from __future__ import annotations

import html
import io
import re
import secrets
import shutil
import subprocess
import threading
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask import url_for
from pypdf import PdfReader
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    OutboxMessage,
    User,
    utcnow,
)
from skillsup.services import certificates, class_closing, mail
from skillsup.services.errors import PermissionDenied, ValidationFailed
from skillsup.timeutil import hk_date, today_hk

# Scenes ------------------------------------------------------------------------------------


def finished_class(
    make: Any, trainer: User, learners: list[User], *, code: str | None = None
) -> CourseClass:
    """A running class whose four sessions are over, every learner present at each."""
    course = make.course(
        title_en="Cloud Security Essentials",
        title_zh="雲端保安基礎",
        qf_level=4,
        qf_credits=3,
    )
    start = (utcnow() - timedelta(days=27)).replace(microsecond=0)
    course_class = make.course_class(
        course=course,
        code=code,
        trainers=[trainer],
        sessions=4,
        first_session=start,
        status=ClassStatus.RUNNING,
    )
    for person in learners:
        enrolment = make.enrolment(course_class, person)
        for session in course_class.sessions:
            db.session.add(
                Attendance(
                    enrolment_id=enrolment.id,
                    session_id=session.id,
                    status=AttendanceStatus.PRESENT,
                )
            )
    db.session.commit()
    return course_class


def close(app: Any, trainer: User, course_class: CourseClass, **kwargs: Any) -> Any:
    with app.test_request_context("/"):
        result = class_closing.close_class(trainer, course_class, **kwargs)
        db.session.commit()
    return result


@pytest.fixture
def certificate(app, make, trainer, learner) -> Certificate:
    course_class = finished_class(make, trainer, [learner])
    close(app, trainer, course_class)
    return db.session.scalars(select(Certificate)).one()


def text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def verify_url(certificate: Certificate) -> str:
    return f"/verify/{certificate.verification_code}"


# Issuing -----------------------------------------------------------------------------------


def test_closing_issues_a_serial_number_and_an_unguessable_code(app, certificate, learner):
    assert certificate.serial_number == f"SU-{today_hk().year}-000001"
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", certificate.verification_code)
    assert certificate.enrolment.learner_id == learner.id
    assert certificate.is_valid
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.issued")
    ).one()
    assert entry.object_id == certificate.id
    assert entry.details["serial_number"] == certificate.serial_number


def test_serial_numbers_follow_the_highest_of_the_year_and_restart_each_year(
    app, make, trainer, company
):
    people = [make.user(company=company) for _ in range(3)]
    course_class = finished_class(make, trainer, people)
    enrolments = list(
        db.session.scalars(
            select(Enrolment).where(Enrolment.class_id == course_class.id).order_by(Enrolment.id)
        )
    )
    # An older certificate of this year and one of last year, issued before this system.
    earlier = finished_class(make, trainer, [make.user(company=company)])
    earlier_enrolment = db.session.scalars(
        select(Enrolment).where(Enrolment.class_id == earlier.id)
    ).one()
    db.session.add(
        Certificate(
            enrolment_id=earlier_enrolment.id,
            serial_number="SU-2026-000041",
            verification_code=secrets.token_urlsafe(24),
        )
    )
    db.session.commit()
    with app.test_request_context("/"):
        in_2026 = datetime(2026, 6, 1, 4, 0, tzinfo=UTC)
        first = certificates.issue_certificates(trainer, course_class, enrolments[:2], now=in_2026)
        # 20:00 UTC on 31 December is already 1 January in Hong Kong.
        new_year = datetime(2026, 12, 31, 20, 0, tzinfo=UTC)
        second = certificates.issue_certificates(trainer, course_class, enrolments, now=new_year)
        db.session.commit()
    assert [c.serial_number for c in first] == ["SU-2026-000042", "SU-2026-000043"]
    # The enrolments that already have one are left alone.
    assert [c.serial_number for c in second] == ["SU-2027-000001"]
    assert second[0].enrolment_id == enrolments[2].id


def test_an_enrolment_that_already_has_a_certificate_gets_no_second(
    app, make, trainer, certificate
):
    with app.test_request_context("/"):
        again = certificates.issue_certificates(
            trainer, certificate.enrolment.course_class, [certificate.enrolment]
        )
    assert again == []
    assert db.session.scalar(select(func.count(Certificate.id))) == 1


@pytest.mark.slow
def test_classes_closed_at_the_same_moment_get_distinct_serial_numbers(app, make, trainer, company):
    class_ids = []
    for _ in range(4):
        people = [make.user(company=company) for _ in range(3)]
        class_ids.append(finished_class(make, trainer, people).id)
    trainer_id = trainer.id
    db.session.commit()
    barrier = threading.Barrier(len(class_ids))
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(class_id: int) -> None:
        with app.test_request_context("/"):
            try:
                actor = db.session.get(User, trainer_id)
                course_class = db.session.get(CourseClass, class_id)
                _ = course_class.trainers
                # End the read transaction: on SQLite it holds the write lock.
                db.session.commit()
                barrier.wait(timeout=30)
                class_closing.close_class(actor, course_class)
                db.session.commit()
            except BaseException as error:
                db.session.rollback()
                with lock:
                    errors.append(error)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(i,)) for i in class_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert errors == []
    db.session.expire_all()
    serials = sorted(db.session.scalars(select(Certificate.serial_number)))
    assert len(serials) == 12
    assert [int(s.rsplit("-", 1)[1]) for s in serials] == list(range(1, 13))


# The public check --------------------------------------------------------------------------


def test_the_public_page_shows_a_valid_certificate_and_only_what_is_needed(
    client, certificate, learner
):
    response = client.get(verify_url(certificate))
    body = text(response)
    assert response.status_code == 200
    assert "Valid" in body
    assert learner.name in body
    assert "Cloud Security Essentials" in body
    assert "雲端保安基礎" in body
    assert certificate.serial_number in body
    completed = hk_date(certificate.enrolment.ended_at)
    assert f"{completed.day} {completed:%B} {completed.year}" in body
    # Nothing that is not needed to check it.
    assert learner.email not in body
    assert "Harbour IT Services" not in body
    assert "Revoke" not in body
    assert "noindex" in body


def test_a_revoked_certificate_says_so_with_the_date(app, client, certificate, admin):
    revoked_at = datetime(2026, 3, 4, 2, 0, tzinfo=UTC)
    with app.test_request_context("/"):
        certificates.revoke(admin, certificate, "Issued in error", now=revoked_at)
        db.session.commit()
    body = text(client.get(verify_url(certificate)))
    assert "Certificate withdrawn" in body
    assert "was withdrawn on 4 March 2026" in body
    assert "Issued in error" not in body  # the reason is for admins
    assert ">Valid<" not in body


@pytest.mark.parametrize(
    "code",
    [
        "A" * 32,  # well formed, unknown
        "x" * 500,
        "short",
        "abc$%^&*()abc$%^&*()abc$%",
        "abcdefghijklmnopqrstuvwxyz/0123456",
        "證書證書證書證書證書證書證書證書",
        "<script>alert(1)</script>aaaaaaaaaaaa",
        "' OR 1=1 --aaaaaaaaaaaaaaaaaaaaa",
    ],
)
def test_unknown_or_malformed_codes_get_a_friendly_404(client, certificate, code):
    response = client.get(f"/verify/{code}")
    assert response.status_code == 404
    body = text(response)
    assert "Certificate not found" in body
    assert "No certificate has this verification code" in body
    assert "<script>alert" not in response.get_data(as_text=True)


def test_a_code_with_nul_bytes_is_refused_before_any_lookup(client, certificate):
    # Control characters in an address are refused for every page, with the reason.
    response = client.get("/verify/" + "%00" * 12)
    assert response.status_code == 400
    assert "control character" in text(response)


def test_the_code_is_matched_exactly(client, certificate):
    code = certificate.verification_code
    assert client.get(f"/verify/{code.swapcase()}").status_code == 404
    assert client.get(f"/verify/{code[:-1]}").status_code == 404
    assert client.get(f"/verify/{code}").status_code == 200


def test_malformed_codes_are_not_looked_up(app):
    with app.test_request_context("/"):
        assert certificates.find_by_code("x" * 65) is None
        assert certificates.find_by_code("a b c d e f g h i j k l m n") is None
        assert certificates.find_by_code(None) is None
        assert not certificates.is_well_formed_code("")
        assert certificates.is_well_formed_code(secrets.token_urlsafe(24))


# Downloading the PDF -----------------------------------------------------------------------


def pdf_url(certificate: Certificate) -> str:
    return f"/certificates/{certificate.id}.pdf"


def test_who_may_download_a_certificate(
    client, make, login_as, certificate, learner, hr_officer, trainer, admin
):
    other_company = make.company()
    allowed = [learner, hr_officer, trainer, admin]  # the trainer of the learner's class
    refused = [
        make.user(company=learner.company),  # a colleague
        make.user(role="hr", company=other_company),
    ]
    for person in allowed:
        login_as(person)
        response = client.get(pdf_url(certificate))
        assert response.status_code == 200, person.email
        assert response.mimetype == "application/pdf"
        assert f"{certificate.serial_number}.pdf" in response.headers["Content-Disposition"]
        client.post("/logout")
    for person in refused:
        login_as(person)
        assert client.get(pdf_url(certificate)).status_code == 404, person.email
        client.post("/logout")
    login_as(admin)
    assert client.get("/certificates/999999.pdf").status_code == 404


def test_anonymous_visitors_are_sent_to_log_in_for_the_pdf(client, certificate):
    response = client.get(pdf_url(certificate))
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_the_pdf_is_bilingual_with_embedded_fonts_and_a_qr_code_of_the_check(
    app, client, login_as, certificate, learner, tmp_path
):
    login_as(learner)
    response = client.get(pdf_url(certificate))
    pdf = response.get_data()
    assert pdf.startswith(b"%PDF")
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    content = "\n".join(page.extract_text() for page in reader.pages)
    assert learner.name in content
    assert "雲端保安基礎" in content
    assert "Cloud Security Essentials" in content
    assert "結業證書" in content
    assert certificate.serial_number in content
    assert "100%" in content  # attendance
    # Dates as read in Hong Kong, in each language: "7 December 2026", "2026年12月7日".
    issued = hk_date(certificate.issued_at)
    assert f"{issued.day} {issued:%B} {issued.year}" in content
    assert f"{issued.year}年{issued.month}月{issued.day}日" in content
    # Every font is embedded; Noto Sans CJK among them.
    names = []
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            names.append(str(font["/BaseFont"]))
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            ).get_object()
            assert any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3"))
    assert any("Noto-Sans-CJK" in name or "NotoSansCJK" in name for name in names), names

    with app.test_request_context("/"):
        expected = url_for(
            "certificates.verify", code=certificate.verification_code, _external=True
        )
    assert expected.startswith("http://skillsup.test/verify/")
    assert decode_qr_codes(pdf, tmp_path) == [expected]


def decode_qr_codes(pdf: bytes, workdir: Any) -> list[str]:
    """The QR codes on the first page, rendered with poppler's pdftoppm, read by zxing-cpp."""
    zxingcpp = pytest.importorskip("zxingcpp")
    from PIL import Image

    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm (poppler-utils) is not installed")
    source = workdir / "certificate.pdf"
    source.write_bytes(pdf)
    subprocess.run(  # noqa: S603
        [pdftoppm, "-png", "-r", "150", "-singlefile", str(source), str(workdir / "page")],
        check=True,
        timeout=60,
    )
    with Image.open(workdir / "page.png") as image:
        return [result.text for result in zxingcpp.read_barcodes(image)]


def test_a_revoked_certificates_pdf_says_it_is_revoked(app, client, login_as, certificate, admin):
    with app.test_request_context("/"):
        certificates.revoke(admin, certificate, "Issued in error")
        db.session.commit()
    login_as(admin)
    content = PdfReader(io.BytesIO(client.get(pdf_url(certificate)).get_data())).pages[0]
    assert "REVOKED" in content.extract_text()


def test_the_learners_certificates_for_my_learning(app, make, trainer, certificate, learner):
    with app.test_request_context("/"):
        found = certificates.for_learner(learner.id)
        other = certificates.for_learner(make.user(company=learner.company).id)
    assert [c.id for c in found] == [certificate.id]
    assert other == []


# Revoking ----------------------------------------------------------------------------------


def revoke_url(certificate: Certificate) -> str:
    return f"/certificates/{certificate.id}/revoke"


def test_an_admin_revokes_with_a_reason(client, login_as, certificate, admin):
    login_as(admin)
    page = text(client.get(verify_url(certificate)))
    assert "Revoke the certificate" in page
    response = client.post(revoke_url(certificate), data={"reason": "Issued in error"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(verify_url(certificate))
    db.session.refresh(certificate)
    assert certificate.revoked_at is not None
    assert certificate.revoked_reasons == [
        {"code": "free_text", "args": {"text": "Issued in error"}}
    ]
    assert certificate.revoked_by_id == admin.id
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "certificate.revoked")
    ).one()
    assert entry.actor_id == admin.id
    assert entry.details["reason"] == "Issued in error"
    body = text(client.get(verify_url(certificate)))
    assert "has been revoked" in body
    assert "Revoked by" in body and "Issued in error" in body  # admins see the reason


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_a_revocation_needs_a_sensible_reason(client, login_as, certificate, admin, reason):
    login_as(admin)
    response = client.post(revoke_url(certificate), data={"reason": reason}, follow_redirects=True)
    assert response.status_code == 400  # the confirmation page again, asking why
    body = text(response)
    assert "Say why the certificate is revoked." in body or "Keep the reason under" in body
    db.session.refresh(certificate)
    assert certificate.revoked_at is None


def test_revoking_twice_is_refused(client, login_as, certificate, admin):
    login_as(admin)
    client.post(revoke_url(certificate), data={"reason": "Issued in error"})
    db.session.refresh(certificate)
    first = certificate.revoked_at
    response = client.post(revoke_url(certificate), data={"reason": "Again"}, follow_redirects=True)
    assert "This certificate has already been revoked." in text(response)
    db.session.refresh(certificate)
    assert certificate.revoked_at == first
    assert certificate.revoked_reasons == [
        {"code": "free_text", "args": {"text": "Issued in error"}}
    ]


def test_only_admins_may_revoke(client, make, login_as, certificate, learner, hr_officer, trainer):
    for person in (learner, hr_officer, trainer):
        login_as(person)
        response = client.post(revoke_url(certificate), data={"reason": "Mine now"})
        assert response.status_code == 403, person.email
        assert client.post("/certificates/999999/revoke", data={"reason": "x"}).status_code == 403
        client.post("/logout")
    response = client.post(revoke_url(certificate), data={"reason": "Anonymous"})
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]
    db.session.refresh(certificate)
    assert certificate.revoked_at is None


def test_revoking_an_unknown_certificate_is_404(client, login_as, admin):
    login_as(admin)
    assert client.post("/certificates/999999/revoke", data={"reason": "x"}).status_code == 404


def test_the_revoke_service_checks_the_actor_and_reason(app, certificate, trainer, admin):
    with app.test_request_context("/"):
        with pytest.raises(PermissionDenied):
            certificates.revoke(trainer, certificate, "No")
        with pytest.raises(ValidationFailed) as caught:
            certificates.revoke(admin, certificate, "  ")
        assert caught.value.field == "reason"
        certificates.revoke(admin, certificate, "Issued in error")
        with pytest.raises(certificates.AlreadyRevoked):
            certificates.revoke(admin, certificate, "Again")
        db.session.rollback()


def test_closing_a_class_with_nobody_completing_issues_no_certificate(app, make, trainer, company):
    course_class = finished_class(make, trainer, [])
    person = make.user(company=company)
    make.enrolment(course_class, person, EnrolmentStatus.CONFIRMED)  # never attended
    result = close(app, trainer, course_class)
    assert result.certificates == []
    assert db.session.scalar(select(func.count(Certificate.id))) == 0


def test_closing_in_a_dry_run_outside_a_request_issues_certificates_and_queues_no_mail(
    app, make, trainer, learner, monkeypatch
):
    class_id, trainer_id = finished_class(make, trainer, [learner]).id, trainer.id
    db.session.commit()  # holds no lock while the command's context works
    # As a command runs: in an app context of its own, with no request and no SERVER_NAME
    # to build links with.
    monkeypatch.setitem(app.config, "SERVER_NAME", None)
    with app.app_context():
        with mail.dry_run(db.session()):
            result = class_closing.close_class(
                db.session.get(User, trainer_id), db.session.get(CourseClass, class_id)
            )
        db.session.commit()
        assert len(result.certificates) == 1
        assert db.session.scalar(select(func.count(OutboxMessage.id))) == 0


@pytest.mark.parametrize(
    ("name", "title_en", "title_zh"), [(41, 71, 31), (101, 141, 61), (200, 200, 200)]
)
def test_long_names_and_titles_keep_the_certificate_on_one_page(app, name, title_en, title_zh):
    facts = certificates.CertificateFacts(
        serial_number="SU-2026-000123",
        learner_name=("Chan Tai Man Christopher Montgomery 陳大文 " * 10)[:name],
        course_code="SU-CLD-301",
        title_en=("Operating Highly Available Multi-Region Cloud Architectures " * 5)[:title_en],
        title_zh=("為受規管行業設計及營運高可用性多區域雲端架構" * 10)[:title_zh],
        qf_level=5,
        qf_credits=12,
        hours_run=Decimal("36.0"),
        attendance_rate=0.875,
        completed_on=date(2026, 3, 5),
        issued_on=date(2026, 3, 5),
        revoked_on=None,
    )
    with app.test_request_context("/"):
        pdf = certificates.render_pdf(facts, "https://skillsup.example/verify/" + "A" * 32)
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    content = reader.pages[0].extract_text()
    assert "36" in content
    assert "88%" in content


# Trainers, the hours the class ran, the public page's QF facts -----------------------------


def test_the_trainer_of_the_class_downloads_its_certificates_from_the_roster(
    client, make, login_as, certificate, trainer
):
    course_class = certificate.enrolment.course_class
    login_as(trainer)
    roster = text(client.get(f"/trainer/classes/{course_class.code}"))
    assert f'href="{pdf_url(certificate)}"' in roster
    response = client.get(pdf_url(certificate))
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    client.post("/logout")

    # Another trainer is refused outright; the roster of their own class has no such link.
    other = make.user(role="trainer")
    login_as(other)
    assert client.get(pdf_url(certificate)).status_code == 403


def test_the_certificate_states_the_hours_the_class_ran_not_the_course_nominal_hours(
    app, make, client, login_as, trainer, learner
):
    # Four 3-hour sessions are held and one is cancelled: 12 hours, against 36 nominal.
    course_class = finished_class(make, trainer, [learner])
    course_class.course.contact_hours = Decimal("36")
    held_before = utcnow().replace(microsecond=0) - timedelta(days=2)
    course_class.sessions.append(
        ClassSession(
            starts_at=held_before - timedelta(hours=3), ends_at=held_before, is_cancelled=True
        )
    )
    db.session.commit()
    close(app, trainer, course_class)
    issued = db.session.scalars(select(Certificate)).one()
    with app.test_request_context("/"):
        facts = certificates.facts(issued)
    assert facts.hours_run == Decimal("12.0")
    assert facts.hours_run_text == "12"
    login_as(learner)
    content = PdfReader(io.BytesIO(client.get(pdf_url(issued)).get_data())).pages[0].extract_text()
    assert re.search(r"Contact hours.*\b12\b", content), content
    # Not the course's nominal hours (the serial number or a code may hold the digits 36).
    assert not re.search(r"Contact hours\W*36\b", content), content


def test_hours_run_leaves_out_sessions_not_over_when_the_class_closed(app, make, trainer):
    from skillsup.services.class_sessions import hours_run

    start = (utcnow() - timedelta(days=10)).replace(microsecond=0)
    course_class = make.course_class(trainers=[trainer], sessions=3, first_session=start)
    sessions = sorted(course_class.sessions, key=lambda s: s.starts_at)
    with app.test_request_context("/"):
        everything = hours_run(course_class.id, until=sessions[-1].ends_at)
        two = hours_run(course_class.id, until=sessions[1].ends_at)
        none = hours_run(course_class.id, until=sessions[0].starts_at)
    one_session = Decimal(
        str(round((sessions[0].ends_at - sessions[0].starts_at).seconds / 3600, 1))
    )
    assert everything == one_session * 3
    assert two == one_session * 2
    assert none == Decimal("0.0")


def test_the_public_page_shows_the_qf_level_and_credits_the_certificate_prints(
    client, login_as, certificate, learner
):
    body = " ".join(text(client.get(verify_url(certificate))).split())
    assert "<dt>QF level</dt> <dd>4</dd>" in body
    assert "<dt>QF credits</dt> <dd>3</dd>" in body
    login_as(learner)
    content = PdfReader(io.BytesIO(client.get(pdf_url(certificate)).get_data())).pages[0]
    printed = content.extract_text()
    assert re.search(r"QF level.*\b4\b", printed), printed
    assert re.search(r"QF credits.*\b3\b", printed), printed
