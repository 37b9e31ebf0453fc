"""What a learner sees of their funding schemes: the status and money on My learning, and
the statement of attendance and result they download for a claim."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.i18n import fmt_date, fmt_time
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    Enrolment,
    EnrolmentStatus,
    utcnow,
)
from skillsup.services import funding_schemes
from skillsup.services.funding_figures import CEF, NITTP

from .queries import page_queries

P, A = AttendanceStatus.PRESENT, AttendanceStatus.ABSENT


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def plain(html: str) -> str:
    """The page's words, tags and runs of white space taken out."""
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def at_risk_class(make, schemes, learner, codes=(CEF,), *, fee="4800", trainers=None):
    """Ten weekly three-hour sessions, the first four past: the learner attended two of them,
    so under the CEF's 70 % only attending the next five reaches it."""
    first = (utcnow() - timedelta(days=7 * 4 - 1)).replace(minute=0, second=0, microsecond=0)
    course = make.course(
        funding_schemes=[schemes[code] for code in codes],
        fee=Decimal(fee),
        title_en="Cloud Foundations",
        title_zh="雲端基礎",
    )
    course_class = make.course_class(
        course=course,
        sessions=10,
        first_session=first,
        min_attendance_pct=60,
        assessment_required=True,
        status=ClassStatus.RUNNING,
        trainers=trainers,
    )
    enrolment = make.enrolment(course_class, learner)
    sessions = sorted(course_class.sessions, key=lambda s: s.starts_at)
    for session, status in zip(sessions, [P, P, A, A], strict=False):
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()
    return course_class, enrolment, sessions


# My learning -------------------------------------------------------------------------------


def test_my_learning_shows_an_at_risk_status_with_the_sessions_to_attend_and_the_cef_estimate(
    client, make, learner, schemes, login_as
):
    _class, _enrolment, sessions = at_risk_class(make, schemes, learner)
    login_as(learner)

    html = text(client.get("/my-learning"))
    page = plain(html)

    assert "Continuing Education Fund" in page
    assert "Conditions at risk" in page
    assert "To reach the 70% minimum, attend each of the next 5 sessions." in page
    assert "The sessions you must attend:" in page
    # Hong Kong's day and 24-hour time, in order: the next five, not the sixth.
    [must_attend] = re.findall(r'<ul class="must-attend">(.*?)</ul>', html, re.S)
    assert re.findall(r"<li>(.*?)</li>", must_attend) == [
        f"{fmt_date(session.starts_at, 'full', 'en')}, {fmt_time(session.starts_at)}"
        for session in sessions[4:9]
    ]
    # 80 % of HK$4,800 within the first tier.
    assert "Estimated subsidy: HK$3,840.00. Your co-payment: HK$960.00." in page
    assert "An estimate: it counts no subsidy you may have used elsewhere." in page
    assert 'href="/account#cef"' in text(client.get("/my-learning"))
    assert "Statement of attendance (PDF)" in page


def test_the_estimate_counts_what_the_learner_entered_as_used_elsewhere(
    client, make, learner, schemes, login_as
):
    learner.cef_subsidy_used_elsewhere = Decimal("9000")
    db.session.commit()
    at_risk_class(make, schemes, learner)
    login_as(learner)

    page = plain(text(client.get("/my-learning")))

    # HK$1,000 left in the first tier (80 %: HK$1,250 of the fee), then 60 % of HK$3,550.
    assert "Estimated subsidy: HK$3,130.00. Your co-payment: HK$1,670.00." in page
    assert "An estimate, counting the subsidy you have entered as used elsewhere." in page
    assert "Change what you have used elsewhere" in page


def test_a_company_paid_scheme_says_the_company_claims(client, make, learner, schemes, login_as):
    at_risk_class(make, schemes, learner, codes=(NITTP,))
    login_as(learner)

    page = plain(text(client.get("/my-learning")))

    assert "New Industrialisation and Technology Training Programme" in page
    assert "Your company claims this scheme's subsidy: there is nothing for you to claim." in page
    assert "Estimated subsidy" not in page


def test_a_lost_status_says_why_and_that_there_is_no_subsidy(
    client, make, learner, schemes, login_as
):
    _class, enrolment, sessions = at_risk_class(make, schemes, learner)
    # Two more missed: at most 18 of the 30 hours, below the 70 %.
    for session in sessions[4:6]:
        db.session.add(Attendance(enrolment=enrolment, session=session, status=A))
    db.session.commit()
    login_as(learner)

    page = plain(text(client.get("/my-learning")))

    assert "Conditions lost" in page
    assert "Even attending every remaining session, attendance can reach at most" in page
    assert "No subsidy: the scheme's conditions can no longer be met." in page


def test_a_class_under_no_scheme_shows_no_funding(client, make, learner, login_as):
    make.enrolment(make.course_class(sessions=2), learner)
    login_as(learner)
    page = text(client.get("/my-learning"))
    assert "funding-list" not in page
    assert "Statement of attendance (PDF)" in page


def test_my_learning_in_traditional_chinese(client, make, learner, schemes, login_as):
    learner.preferred_language = "zh_Hant_HK"
    db.session.commit()
    at_risk_class(make, schemes, learner)
    login_as(learner)

    page = plain(text(client.get("/my-learning")))

    assert "持續進修基金" in page
    assert "估計資助" in page
    assert "出席及評核結果證明（PDF）" in page


def test_my_learning_runs_the_same_queries_for_one_class_and_five(
    client, make, learner, schemes, login_as
):
    at_risk_class(make, schemes, learner)
    login_as(learner)
    client.get("/my-learning")  # warm up
    _response, one = page_queries(client, "/my-learning")
    for codes in [(CEF,), (NITTP,), (CEF, NITTP), (CEF,)]:
        at_risk_class(make, schemes, learner, codes=codes)
    response, five = page_queries(client, "/my-learning")
    assert response.status_code == 200
    assert len(five) == len(one), "\n".join(five)


def test_statuses_of_loaded_places_agree_with_those_read_by_id(make, learner, schemes):
    from skillsup.services import funding_status, progress, subsidy

    for codes in [(CEF,), (NITTP,), (CEF, NITTP)]:
        at_risk_class(make, schemes, learner, codes=codes)
    waiting = make.enrolment(make.course_class(sessions=2), learner, EnrolmentStatus.WAITLISTED)
    db.session.commit()
    enrolments = list(
        db.session.scalars(
            select(Enrolment).where(Enrolment.learner_id == learner.id).order_by(Enrolment.id)
        )
    )
    assert waiting in enrolments and len(enrolments) == 4

    loaded = funding_status.loaded_enrolment_statuses(
        enrolments, progress.loaded_standings(enrolments)
    )
    by_id = funding_status.enrolment_statuses(
        e.id for e in enrolments if e.status in funding_status.WITH_STATUS
    )
    assert loaded == by_id and waiting.id not in loaded
    assert [len(statuses) for statuses in loaded.values()] == [1, 1, 2]
    assert subsidy.learner_cef_estimates(
        learner, loaded, enrolments=enrolments
    ) == subsidy.learner_cef_estimates(learner)


def test_my_learning_reads_the_marks_and_the_places_once(client, make, learner, schemes, login_as):
    # The standings give both the attendance so far and the funding statuses, and the
    # places come with their classes and courses: nothing is read again by id.
    for codes in [(CEF,), (NITTP,), (CEF, NITTP)]:
        at_risk_class(make, schemes, learner, codes=codes)
    login_as(learner)
    client.get("/my-learning")  # warm up
    response, statements = page_queries(client, "/my-learning")
    assert response.status_code == 200
    reads = [" ".join(s.split()) for s in statements]
    assert len([s for s in reads if " FROM attendance" in s]) == 1, "\n".join(reads)
    assert not [s for s in reads if "WHERE enrolments.id IN" in s], "\n".join(reads)
    assert not [s for s in reads if "WHERE classes.id IN" in s], "\n".join(reads)
    # Two of the four past sessions attended, as the attendance so far counted them before.
    assert plain(text(response)).count("2 of 4 sessions, 50% of contact hours") == 3


# The statement ------------------------------------------------------------------------------


def pdf_text(pdf: bytes, tmp_path) -> str:
    pdftotext = shutil.which("pdftotext")
    if pdftotext is None:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    source = tmp_path / "statement.pdf"
    source.write_bytes(pdf)
    done = subprocess.run(  # noqa: S603
        [pdftotext, "-layout", str(source), "-"], capture_output=True, check=True, text=True
    )
    return re.sub(r"[ \t]+", " ", done.stdout)


def statement_url(enrolment) -> str:
    return f"/my-learning/enrolments/{enrolment.id}/statement.pdf"


def test_the_statement_states_sessions_attendance_result_and_status_in_both_languages(
    app, client, make, learner, schemes, login_as, tmp_path
):
    app.config.update(
        PROVIDER_NAME_EN="Harbourview Training Institute",
        PROVIDER_NAME_ZH="海景培訓學院",
        PROVIDER_ADDRESS_EN="8 Example Road, Kowloon",
        PROVIDER_ADDRESS_ZH="九龍示例道8號",
    )
    course_class, enrolment, sessions = at_risk_class(make, schemes, learner)
    sessions[9].is_cancelled = True
    db.session.commit()
    login_as(learner)

    response = client.get(statement_url(enrolment))

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f"{course_class.code}-statement.pdf" in response.headers["Content-Disposition"]
    words = pdf_text(response.get_data(), tmp_path)
    for expected in (
        "Statement of Attendance and Result",
        "出席及評核結果證明",
        "Harbourview Training Institute",
        "海景培訓學院",
        "8 Example Road, Kowloon",
        "九龍示例道8號",
        learner.name,
        course_class.code,
        "Cloud Foundations",
        "雲端基礎",
        "Continuing Education Fund",
        "持續進修基金",
        "Conditions at risk",
        "To reach the 70% minimum, attend each of the next 5 sessions.",
        "Present · 出席",
        "Absent · 缺席",
        "Not marked · 未記錄",
        "Cancelled · 已取消",
        # Two sessions of three hours attended of the nine not cancelled.
        "6 / 27",
        "22.2%",
        "No result recorded",
        "Issued on",
        "發出日期",
    ):
        assert expected in words, expected


def test_the_statement_of_a_finished_class_states_its_result(
    client, make, learner, schemes, login_as, tmp_path
):
    first = utcnow() - timedelta(days=30)
    course = make.course(funding_schemes=[schemes[CEF]])
    course_class = make.course_class(
        course=course,
        sessions=2,
        first_session=first,
        assessment_required=True,
        status=ClassStatus.COMPLETED,
    )
    enrolment = make.enrolment(
        course_class,
        learner,
        EnrolmentStatus.COMPLETED,
        result_score=Decimal("72.5"),
        result_passed=True,
    )
    for session in course_class.sessions:
        db.session.add(Attendance(enrolment=enrolment, session=session, status=P))
    db.session.commit()
    login_as(learner)

    words = pdf_text(client.get(statement_url(enrolment)).get_data(), tmp_path)

    assert "100.0%" in words
    assert "72.5" in words
    assert "Pass · 合格" in words
    assert "Conditions met" in words


def test_the_statement_names_the_company_the_place_was_made_under(
    client, make, learner, company, schemes, login_as, tmp_path
):
    course = make.course(funding_schemes=[schemes[CEF]])
    course_class = make.course_class(course=course, sessions=2, status=ClassStatus.RUNNING)
    enrolment = make.enrolment(course_class, learner)
    assert enrolment.company_id == company.id
    learner.company = make.company(name="Later Employer Ltd")  # the learner has moved on
    db.session.commit()
    login_as(learner)

    words = pdf_text(client.get(statement_url(enrolment)).get_data(), tmp_path)

    assert company.name in words
    assert "Later Employer Ltd" not in words


@pytest.mark.parametrize(
    "status", [EnrolmentStatus.PENDING, EnrolmentStatus.WAITLISTED, EnrolmentStatus.WITHDRAWN]
)
def test_an_enrolment_without_a_place_has_no_statement(client, make, learner, login_as, status):
    enrolment = make.enrolment(make.course_class(sessions=1), learner, status)
    login_as(learner)
    assert client.get(statement_url(enrolment)).status_code == 404


def test_another_learners_statement_is_not_found(client, make, learner, company, login_as):
    other = make.enrolment(make.course_class(sessions=1), make.user(company=company))
    login_as(learner)
    assert client.get(statement_url(other)).status_code == 404
    assert client.get("/my-learning/enrolments/999999/statement.pdf").status_code == 404


# The CEF subsidy used elsewhere, on the account page -----------------------------------------


def audit_entries(action: str) -> list[Any]:
    from sqlalchemy import select

    from skillsup.models import AuditEntry

    return list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == action)))


def test_a_learner_enters_and_clears_the_cef_subsidy_used_elsewhere(
    client, learner, schemes, login_as
):
    login_as(learner)
    page = text(client.get("/account"))
    assert 'id="cef"' in page
    assert "HK$25,000.00" in page

    response = client.post("/account/cef", data={"cef_subsidy_used_elsewhere": "2500.50"})

    assert response.status_code == 302
    assert response.headers["Location"].endswith("/account#cef")
    db.session.refresh(learner)
    assert learner.cef_subsidy_used_elsewhere == Decimal("2500.50")
    [entry] = audit_entries("account.cef_subsidy_entered")
    assert entry.actor_id == learner.id
    page = text(client.get("/account"))
    assert 'value="2500.50"' in page
    assert "The CEF subsidy you used elsewhere has been saved." in page

    client.post("/account/cef", data={"cef_subsidy_used_elsewhere": "oops", "clear": "1"})

    db.session.refresh(learner)
    assert learner.cef_subsidy_used_elsewhere is None
    assert len(audit_entries("account.cef_subsidy_entered")) == 2


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("-1", "digits only"),
        ("1e9", "digits only"),
        ("1e3", "digits only"),
        ("2,500", "digits only"),
        ("12.345", "digits only"),
        ("NaN", "digits only"),
        ("9" * 40, "digits only"),
        ("25000.01", "The fund pays at most HK$25,000.00 per person"),
        ("99999999", "The fund pays at most HK$25,000.00 per person"),
        ("1\x002", "a character that is not allowed"),
    ],
)
def test_a_hostile_amount_is_a_form_error(client, learner, schemes, login_as, amount, message):
    login_as(learner)

    response = client.post("/account/cef", data={"cef_subsidy_used_elsewhere": amount})

    assert response.status_code == 400
    assert message in text(response)
    db.session.refresh(learner)
    assert learner.cef_subsidy_used_elsewhere is None
    assert audit_entries("account.cef_subsidy_entered") == []


def test_the_amount_errors_in_traditional_chinese(client, learner, schemes, login_as):
    learner.preferred_language = "zh_Hant_HK"
    db.session.commit()
    login_as(learner)
    page = text(client.post("/account/cef", data={"cef_subsidy_used_elsewhere": "30000"}))
    assert "持續進修基金" in page
    assert "每人最多" in page


def test_only_learners_enter_the_cef_subsidy(client, hr_officer, login_as):
    login_as(hr_officer)
    assert 'id="cef"' not in text(client.get("/account"))
    assert client.post("/account/cef", data={"cef_subsidy_used_elsewhere": "1"}).status_code == 403


# The trainer's roster -----------------------------------------------------------------------


def test_the_roster_marks_the_learners_whose_scheme_conditions_are_at_risk_or_lost(
    client, make, company, learner, trainer, schemes, login_as
):
    course_class, _enrolment, sessions = at_risk_class(
        make, schemes, learner, codes=(CEF, NITTP), trainers=[trainer]
    )
    steady = make.enrolment(course_class, make.user(company=company, name="Ben Steady"))
    lost = make.enrolment(course_class, make.user(company=company, name="Cat Lost"))
    for session in sessions[:4]:
        db.session.add(Attendance(enrolment=steady, session=session, status=P))
        db.session.add(Attendance(enrolment=lost, session=session, status=A))
    db.session.commit()
    login_as(trainer)

    html = text(client.get(f"/trainer/classes/{course_class.code}"))
    page = plain(html)

    assert "2 learners have a funding scheme's conditions at risk or lost" in page
    rows = {
        name: plain(row)
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", html, re.S)
        for name in (learner.name, "Ben Steady", "Cat Lost")
        if f'<th scope="row">{name}</th>' in row
    }
    # CEF's 70 % is at risk; NITTP takes the class's own 60 %, with room to spare.
    assert "Conditions at risk CEF" in rows[learner.name]
    assert "NITTP" not in rows[learner.name]
    first = fmt_date(sessions[4].starts_at, "short", "en")
    assert f"Must attend: {first} {fmt_time(sessions[4].starts_at)}," in rows[learner.name]
    assert "Conditions" not in rows["Ben Steady"]
    # Out of reach of the CEF's 70 %; the class's 60 % only by attending all six left.
    assert "Conditions lost CEF" in rows["Cat Lost"]
    assert "Conditions at risk NITTP" in rows["Cat Lost"]


def test_the_roster_runs_the_same_queries_for_one_learner_under_schemes_and_ten(
    client, make, company, learner, trainer, schemes, login_as
):
    course_class, _enrolment, _sessions = at_risk_class(
        make, schemes, learner, codes=(CEF, NITTP), trainers=[trainer]
    )
    login_as(trainer)
    url = f"/trainer/classes/{course_class.code}"
    client.get(url)  # warm up
    _response, one = page_queries(client, url)
    for _ in range(9):
        make.enrolment(course_class, make.user(company=company))
    response, ten = page_queries(client, url)
    assert response.status_code == 200
    assert len(ten) == len(one), "\n".join(ten)
    assert "1 learner has a funding scheme" in plain(text(response))
