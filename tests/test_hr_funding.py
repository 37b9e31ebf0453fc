"""HR funding pages: learners at risk and lost, claim amounts, cap use, claims exports, money
received and the value of training; the company's own data only."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    ClaimReceipt,
    ClassStatus,
    EnrolmentStatus,
    FundingState,
)
from skillsup.services import funding_schemes, hr_funding, staff_progress, training_value
from skillsup.services.errors import NotFound, PermissionDenied, ValidationFailed
from skillsup.services.funding_figures import CEF, NITTP

from .factories import hk_datetime
from .queries import page_queries, recorded_statements

YEAR = (date(2025, 1, 1), date(2025, 12, 31))


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


def _attend(enrolment, sessions, status=AttendanceStatus.PRESENT):
    for session in sessions:
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))


def _completed(make, learner, course, closed_at, *, attended=True, **fields):
    course_class = make.course_class(
        course=course,
        sessions=2,
        first_session=closed_at - timedelta(days=14),
        status=ClassStatus.COMPLETED,
        completed_at=closed_at,
        **fields,
    )
    enrolment = make.enrolment(
        course_class,
        learner,
        status=EnrolmentStatus.COMPLETED if attended else EnrolmentStatus.NOT_COMPLETED,
    )
    _attend(
        enrolment,
        course_class.sessions,
        AttendanceStatus.PRESENT if attended else AttendanceStatus.ABSENT,
    )
    db.session.commit()
    return enrolment


@pytest.fixture
def scene(make, company, hr_officer, schemes):
    """In 2025: two completed NITTP places (one of Wong's with a result), one not completed,
    and a running class where one learner is at risk and one has lost the funding; a CEF
    place; another company's NITTP place."""
    nittp = make.course(fee=Decimal("9000"), qf_credits=6, funding_schemes=[schemes[NITTP]])
    cef = make.course(fee=Decimal("5000"), funding_schemes=[schemes[CEF]])
    wong = make.user(company=company, name="Wong Ka Ming", staff_number="=cmd|' /C calc'!A0")
    chan = make.user(company=company, name="Chan Siu Fan")
    lee = make.user(company=company, name="Lee Tsz Yan")
    met = _completed(make, wong, nittp, hk_datetime(2025, 6, 20, 18))
    met.result_passed = True
    second = _completed(make, chan, nittp, hk_datetime(2025, 9, 20, 18))
    failed = _completed(make, lee, nittp, hk_datetime(2025, 10, 20, 18), attended=False)
    running = make.course_class(
        course=nittp,
        sessions=10,
        status=ClassStatus.RUNNING,
        first_session=datetime(2025, 11, 3, 3, tzinfo=UTC),
        min_attendance_pct=80,
    )
    at_risk = make.enrolment(running, wong)
    lost = make.enrolment(running, chan)
    _attend(at_risk, running.sessions[:1], AttendanceStatus.ABSENT)
    _attend(lost, running.sessions[:3], AttendanceStatus.ABSENT)
    cef_place = _completed(make, lee, cef, hk_datetime(2025, 7, 1, 18))
    other = _completed(make, make.user(), nittp, hk_datetime(2025, 6, 20, 18))
    db.session.commit()
    return {
        "met": met,
        "second": second,
        "failed": failed,
        "at_risk": at_risk,
        "lost": lost,
        "running": running,
        "cef": cef_place,
        "other": other,
        "wong": wong,
        "chan": chan,
    }


def test_the_overview_lists_at_risk_then_lost_with_amounts_and_the_cap(hr_officer, scene):
    # The day after the running class's first session: nine sessions are still to begin.
    with time_machine.travel(datetime(2025, 11, 4, 3, tzinfo=UTC), tick=False):
        overview = hr_funding.funding_overview(hr_officer, *YEAR)

    assert [(c.line.enrolment_id, c.status.state) for c in overview.concerns] == [
        (scene["at_risk"].id, FundingState.AT_RISK),
        # By class start; the CEF needs an assessment its class does not have.
        (scene["cef"].id, FundingState.LOST),
        (scene["failed"].id, FundingState.LOST),
        (scene["lost"].id, FundingState.LOST),
    ]
    [at_risk] = overview.at_risk
    assert at_risk.status.must_attend  # the sessions to attend are named
    amounts = overview.amounts
    assert amounts.met == Decimal("12000.00")  # two thirds of HK$9,000, twice
    assert amounts.lost == Decimal("6000.00")  # the one not completed in October
    assert scene["other"].id not in {c.enrolment_id for c in amounts.claims}
    # Calendar 2025 touches two financial years: 2024/25 and 2025/26.
    years = [(use.scheme.code, use.year_start) for use in overview.cap_uses]
    assert years == [(NITTP, date(2024, 4, 1)), (NITTP, date(2025, 4, 1))]
    use = overview.cap_uses[1]
    assert use.cap == Decimal("500000.00")
    assert use.used == Decimal("12000.00")
    assert use.expected == Decimal("6000.00")  # the place at risk, still on its way
    assert use.left == Decimal("482000.00")


def test_the_overview_runs_a_fixed_number_of_queries(make, company, hr_officer, scene, schemes):
    with recorded_statements() as before:
        hr_funding.funding_overview(hr_officer, *YEAR)
    nittp = scene["met"].course_class.course
    for month in range(1, 6):
        _completed(make, make.user(company=company), nittp, hk_datetime(2025, month, 10, 18))
    with recorded_statements() as after:
        hr_funding.funding_overview(hr_officer, *YEAR)
    assert len(after) == len(before)


def test_claims_of_years_far_from_the_period_are_not_read(make, company, hr_officer, scene):
    nittp = scene["met"].course_class.course
    old = _completed(make, make.user(company=company), nittp, hk_datetime(2019, 6, 1, 18))
    with recorded_statements() as statements:
        overview = hr_funding.funding_overview(hr_officer, *YEAR)
    assert old.id not in {c.enrolment_id for c in overview.amounts.claims}
    assert all(str(old.id) not in s for s in statements)


def test_claim_lines_hold_every_scheme_and_the_claims_of_the_company(hr_officer, scene):
    lines = hr_funding.claim_lines(hr_officer, *YEAR)
    by_enrolment = {(line.line.enrolment_id, line.status.scheme.code): line for line in lines}
    assert (scene["cef"].id, CEF) in by_enrolment
    assert by_enrolment[(scene["cef"].id, CEF)].claim is None
    assert by_enrolment[(scene["met"].id, NITTP)].claim.amount == Decimal("6000.00")
    assert scene["other"].id not in {line.line.enrolment_id for line in lines}
    # The running class finishes in 2026: not a claim of 2025.
    assert scene["at_risk"].id not in {line.line.enrolment_id for line in lines}


def test_only_the_claims_company_may_record_money_received(make, hr_officer, scene):
    claim = hr_funding.claim_for_receipt(hr_officer, scene["met"].id, NITTP)
    stranger = make.user(role="hr", company=make.company())
    with pytest.raises(PermissionDenied):
        hr_funding.record_claim_received(stranger, claim, "100", date(2025, 8, 1))
    assert db.session.scalars(select(ClaimReceipt)).all() == []


def test_recording_money_received_is_checked_and_audited(hr_officer, scene):
    claim = hr_funding.claim_for_receipt(hr_officer, scene["met"].id, NITTP)
    with pytest.raises(ValidationFailed) as refused:
        hr_funding.record_claim_received(hr_officer, claim, "1.001", date(2025, 8, 1))
    assert refused.value.field == "amount"
    for bad in ("-1", "abc", "NaN", "1e400", ""):
        with pytest.raises(ValidationFailed):
            hr_funding.record_claim_received(hr_officer, claim, bad, date(2025, 8, 1))
    with pytest.raises(ValidationFailed) as refused:
        hr_funding.record_claim_received(
            hr_officer, claim, "10", date(2025, 8, 1), today=date(2025, 7, 1)
        )
    assert refused.value.field == "received_on"
    with pytest.raises(ValidationFailed):
        hr_funding.record_claim_received(hr_officer, claim, "10", date(2020, 1, 1))

    hr_funding.record_claim_received(hr_officer, claim, "6,000", date(2025, 8, 1))
    db.session.commit()
    claim = hr_funding.claim_for_receipt(hr_officer, scene["met"].id, NITTP)
    hr_funding.record_claim_received(hr_officer, claim, "5800", date(2025, 8, 2))
    db.session.commit()
    [receipt] = db.session.scalars(select(ClaimReceipt))
    assert (receipt.amount, receipt.received_on) == (Decimal("5800.00"), date(2025, 8, 2))
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "funding.claim_received")
    ).all()
    assert len(entries) == 2
    assert entries[1].object_type == "enrolments" and entries[1].object_id == scene["met"].id


def test_a_claim_of_another_company_or_scheme_is_not_found(make, hr_officer, scene):
    with pytest.raises(NotFound):
        hr_funding.claim_for_receipt(hr_officer, scene["other"].id, NITTP)
    with pytest.raises(NotFound):
        hr_funding.claim_for_receipt(hr_officer, scene["cef"].id, CEF)  # pays the learner
    with pytest.raises(NotFound):
        hr_funding.claim_for_receipt(hr_officer, scene["met"].id, "NOPE")
    with pytest.raises(PermissionDenied):
        hr_funding.funding_overview(scene["wong"], *YEAR)


def test_the_value_of_training_agrees_with_staff_progress(hr_officer, scene):
    claim = hr_funding.claim_for_receipt(hr_officer, scene["met"].id, NITTP)
    hr_funding.record_claim_received(hr_officer, claim, "6000", date(2025, 8, 1))
    db.session.commit()

    value = training_value.training_value(hr_officer, *YEAR)

    by_person = {row.user_id: row for row in value.employees}
    progress = {
        row.user_id: row
        for row in staff_progress.staff_progress(hr_officer, starts_on=YEAR[0], ends_on=YEAR[1])
    }
    for user_id, row in by_person.items():
        assert row.qf_credits == progress[user_id].qf_credits
        assert row.contact_hours == pytest.approx(progress[user_id].attended_hours)
    wong = by_person[scene["wong"].id]
    assert wong.fees == Decimal("18000.00")  # the completed place and the running one
    assert wong.claimable == Decimal("6000.00")
    assert wong.still_possible == Decimal("6000.00")
    assert wong.received == Decimal("6000.00")
    assert (wong.completed, wong.finished, wong.completion_rate) == (1, 1, 1.0)
    assert value.total.completion_rate == pytest.approx(3 / 4)
    assert value.total.fees == Decimal("50000.00")
    assert sum(m.fees for m in value.months) == value.total.fees
    assert len(value.months) == 12


def test_exports_escape_formulas_with_iso_dates_in_csv_and_real_dates_in_xlsx(
    hr_officer, scene, login_as
):
    client = login_as(hr_officer)
    response = client.get("/hr/funding/claims.csv?period=y2025", buffered=True)
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    header, data = rows[0], rows[1:]
    assert "Amount within the cap (HK$)" in header
    wong = next(row for row in data if row[1] == "Wong Ka Ming")
    assert wong[0].startswith("'=")  # the staff number cannot run as a formula
    assert wong[header.index("Completion date")] == "2025-06-20"
    assert wong[header.index("Amount within the cap (HK$)")] == "6000.00"

    response = client.get("/hr/funding/claims.xlsx?period=y2025")
    assert response.status_code == 200
    sheet = openpyxl.load_workbook(io.BytesIO(response.data)).active
    values = list(sheet.iter_rows(values_only=True))
    header = list(values[0])
    wong = next(row for row in values[1:] if row[1] == "Wong Ka Ming")
    assert isinstance(wong[header.index("Completion date")], datetime)
    assert wong[0].startswith("'=")

    response = client.get("/hr/value.csv?starts_on=2025-01-01&ends_on=2025-12-31", buffered=True)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[-1][1] == "Total"
    response = client.get("/hr/value.xlsx?period=y2025")
    assert response.status_code == 200
    entries = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "report_exported")
    ).all()
    assert {e.details["report"] for e in entries} == {"claims", "value"}


@pytest.mark.parametrize(
    "query",
    [
        "period=nope",
        "period=q999999",
        "starts_on=2025-02-30&ends_on=2025-03-01",
        "starts_on=99999-01-01&ends_on=2025-03-01",
        "starts_on=2025-01-01",
        "starts_on=2025-03-01&ends_on=2025-01-01",
        "starts_on=2000-01-01&ends_on=2025-01-01",
        "starts_on=" + "9" * 5000 + "&ends_on=2025-01-01",
    ],
)
@pytest.mark.parametrize(
    "page", ["/hr/funding", "/hr/funding/claims", "/hr/funding/claims.csv", "/hr/value.xlsx"]
)
def test_a_period_that_cannot_be_read_is_refused_with_a_reason(hr_officer, login_as, page, query):
    client = login_as(hr_officer)
    response = client.get(f"{page}?{query}")
    assert response.status_code == 400
    assert 'class="error' in response.get_data(as_text=True)


def test_a_nul_in_the_period_is_refused(hr_officer, login_as):
    response = login_as(hr_officer).get("/hr/funding?starts_on=2025-01-01%00&ends_on=2025-02-01")
    assert response.status_code == 400


@pytest.mark.parametrize("language", ["en", "zh-HK"])
def test_the_pages_show_the_period_in_both_languages(hr_officer, scene, login_as, language):
    client = login_as(hr_officer)
    headers = {"Accept-Language": language}
    page = client.get("/hr/funding?period=y2025", headers=headers).get_data(as_text=True)
    assert "Wong Ka Ming" in page and "Chan Siu Fan" in page
    assert "HK$12,000.00" in page
    assert "<meter" in page
    claims = client.get("/hr/funding/claims?period=y2025", headers=headers).get_data(as_text=True)
    assert f"/hr/funding/claims/{scene['met'].id}/NITTP/received" in claims
    value = client.get("/hr/value?period=y2025", headers=headers)
    assert value.status_code == 200
    assert 'class="bar-chart"' in value.get_data(as_text=True)


def test_the_pages_run_a_fixed_number_of_queries(make, company, hr_officer, scene, login_as):
    client = login_as(hr_officer)
    counts = {}
    for url in (
        "/hr/funding?period=y2025",
        "/hr/funding/claims?period=y2025",
        "/hr/value?period=y2025",
    ):
        counts[url] = len(page_queries(client, url)[1])
    nittp = scene["met"].course_class.course
    for month in range(1, 5):
        _completed(make, make.user(company=company), nittp, hk_datetime(2025, month, 10, 18))
    for url, count in counts.items():
        assert len(page_queries(client, url)[1]) == count, url


def test_recording_money_received_through_the_page(hr_officer, scene, login_as):
    client = login_as(hr_officer)
    url = f"/hr/funding/claims/{scene['met'].id}/NITTP/received"
    page = client.get(url)
    assert page.status_code == 200
    assert 'value="6000.00"' in page.get_data(as_text=True)
    refused = client.post(url, data={"amount": "lots", "received_on": "2025-08-01"})
    assert refused.status_code == 400
    assert "at most two decimals" in refused.get_data(as_text=True)
    done = client.post(
        url + "?back=/hr/funding/claims?period%3Dy2025",
        data={"amount": "6000", "received_on": "2025-08-01"},
    )
    assert done.status_code == 302
    assert done.headers["Location"].endswith("/hr/funding/claims?period=y2025")
    assert db.session.scalar(select(ClaimReceipt.amount)) == Decimal("6000.00")
    elsewhere = client.post(
        url + "?back=https://evil.example/", data={"amount": "6000", "received_on": "2025-08-01"}
    )
    assert elsewhere.headers["Location"].endswith("/hr/funding/claims")
    assert client.get(f"/hr/funding/claims/{scene['other'].id}/NITTP/received").status_code == 404
