"""Money from funding schemes: the CEF estimate and company claims against a yearly cap."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    ClassStatus,
    EnrolmentStatus,
    FundingState,
)
from skillsup.services import funding_schemes, subsidy
from skillsup.services.errors import PermissionDenied, ValidationFailed
from skillsup.services.funding_figures import CEF, NITTP

from .factories import hk_datetime


@pytest.fixture
def schemes(app):
    schemes = funding_schemes.ensure_published_schemes()
    db.session.commit()
    return schemes


def _cef_version(schemes):
    [version] = schemes[CEF].versions
    return version


@pytest.mark.parametrize(
    ("fee", "used", "expected", "left", "cap_reached"),
    [
        # 20 % co-payment within the first HK$10,000 of subsidy.
        ("10000", "0", "8000.00", "17000.00", False),
        # The first tier fills at HK$12,500 of fee; the rest is repaid at 60 %.
        ("20000", "0", "14500.00", "10500.00", False),
        # Crossing the line: HK$1,000 left in the first tier (HK$1,250 of fee), then 60 %.
        ("5000", "9000", "3250.00", "12750.00", False),
        # Beyond the first tier: 40 % co-payment.
        ("5000", "10000", "3000.00", "12000.00", False),
        # The cap per person: HK$1,000 left of HK$25,000.
        ("5000", "24000", "1000.00", "0.00", True),
        ("5000", "25000", "0.00", "0.00", True),
        # Cents rounded half up: 80 % of 0.01 is 0.008.
        ("0.01", "0", "0.01", "24999.99", False),
        ("333.33", "0", "266.66", "24733.34", False),
    ],
)
def test_cef_estimate(schemes, fee, used, expected, left, cap_reached):
    estimate = subsidy.cef_estimate(Decimal(fee), Decimal(used), _cef_version(schemes))
    assert estimate.subsidy == Decimal(expected)
    assert estimate.co_payment == Decimal(fee) - Decimal(expected)
    assert estimate.left_after == Decimal(left)
    assert estimate.cap_reached is cap_reached
    assert estimate.is_estimate is True


def _attend_all(enrolment, course_class) -> None:
    for session in course_class.sessions:
        db.session.add(
            Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.PRESENT)
        )
    db.session.commit()


def test_a_learners_estimates_count_what_they_entered_and_their_earlier_classes(
    make, learner, schemes
):
    course = make.course(fee=Decimal("10000"), funding_schemes=[schemes[CEF]])
    first = make.course_class(course=course, sessions=2, assessment_required=True)
    second = make.course_class(
        course=course,
        sessions=2,
        assessment_required=True,
        first_session=datetime(2031, 3, 3, 2, tzinfo=UTC),
    )
    lost = make.course_class(
        course=course,
        sessions=2,
        assessment_required=True,
        first_session=datetime(2030, 3, 3, 2, tzinfo=UTC),
    )
    made = [make.enrolment(c, learner) for c in (first, second, lost)]
    made[2].result_passed = False  # lost: claims nothing
    db.session.commit()

    estimates = subsidy.learner_cef_estimates(learner)

    assert set(estimates) == {made[0].id, made[1].id}
    assert estimates[made[0].id].subsidy == Decimal("8000.00")
    assert estimates[made[0].id].used_elsewhere_known is False
    # 2,000 left in the first tier (2,500 of fee at 80 %), then 7,500 at 60 %.
    assert estimates[made[1].id].subsidy == Decimal("6500.00")

    learner.cef_subsidy_used_elsewhere = Decimal("20000")
    db.session.commit()
    estimates = subsidy.learner_cef_estimates(learner)
    assert estimates[made[0].id].subsidy == Decimal("5000.00")
    assert estimates[made[0].id].used_elsewhere_known is True
    assert estimates[made[1].id].subsidy == Decimal("0.00")


def test_only_the_learner_enters_the_subsidy_used_elsewhere(make, learner, admin, app):
    with pytest.raises(PermissionDenied):
        subsidy.set_cef_used_elsewhere(admin, learner, "100")
    for bad in ("-1", "abc", "1.005", "NaN", "100000000"):
        with pytest.raises(ValidationFailed) as caught:
            subsidy.set_cef_used_elsewhere(learner, learner, bad)
        assert caught.value.field == "cef_subsidy_used_elsewhere"

    subsidy.set_cef_used_elsewhere(learner, learner, " 12,500.5 ")
    db.session.commit()
    assert learner.cef_subsidy_used_elsewhere == Decimal("12500.50")
    [entry] = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "account.cef_subsidy_entered")
    )
    assert entry.object_id == learner.id
    subsidy.set_cef_used_elsewhere(learner, learner, "")
    assert learner.cef_subsidy_used_elsewhere is None


@pytest.mark.parametrize(
    ("day", "start", "end"),
    [
        (date(2026, 3, 31), date(2025, 4, 1), date(2026, 3, 31)),
        (date(2026, 4, 1), date(2026, 4, 1), date(2027, 3, 31)),
        (date(2026, 1, 1), date(2025, 4, 1), date(2026, 3, 31)),
    ],
)
def test_financial_year_april_to_march(day, start, end):
    assert subsidy.financial_year_start(day) == start
    assert subsidy.financial_year_end(start) == end


def _completed_nittp(make, learner, course, closed_at, *, attended=True):
    course_class = make.course_class(
        course=course,
        sessions=1,
        first_session=closed_at - timedelta(days=7),
        status=ClassStatus.COMPLETED,
        completed_at=closed_at,
    )
    enrolment = make.enrolment(
        course_class,
        learner,
        status=EnrolmentStatus.COMPLETED if attended else EnrolmentStatus.NOT_COMPLETED,
    )
    if attended:
        _attend_all(enrolment, course_class)
    return enrolment


def test_company_claims_reach_the_cap_mid_year_and_start_afresh_at_the_turn(make, company, schemes):
    # Two thirds of HK$300,000: HK$200,000 a completion; the cap is HK$500,000 a year.
    course = make.course(fee=Decimal("300000"), funding_schemes=[schemes[NITTP]])
    staff = [make.user(company=company) for _ in range(6)]
    in_year = [
        hk_datetime(2025, 5, 10, 18),
        hk_datetime(2025, 8, 10, 18),
        hk_datetime(2025, 11, 10, 18),
        hk_datetime(2026, 3, 31, 23, 30),  # still 2025-26 in Hong Kong
    ]
    made = [
        _completed_nittp(make, person, course, at)
        for person, at in zip(staff, in_year, strict=False)
    ]
    lost = _completed_nittp(make, staff[4], course, hk_datetime(2025, 6, 1, 18), attended=False)
    next_year = _completed_nittp(make, staff[5], course, hk_datetime(2026, 4, 1, 0, 30))

    claims = {claim.enrolment_id: claim for claim in subsidy.company_claims(company.id)}

    assert [claims[e.id].amount for e in made] == [
        Decimal("200000.00"),
        Decimal("200000.00"),
        Decimal("100000.00"),  # the cap reached in November
        Decimal("0.00"),
    ]
    assert claims[made[2].id].capped and not claims[made[1].id].capped
    assert claims[lost.id].state is FundingState.LOST
    assert claims[next_year.id].year_start == date(2026, 4, 1)
    assert claims[next_year.id].amount == Decimal("200000.00")

    use = subsidy.company_cap_use(company.id, schemes[NITTP], date(2025, 12, 1))
    assert (use.year_start, use.year_end) == (date(2025, 4, 1), date(2026, 3, 31))
    assert (use.cap, use.used, use.expected, use.left) == (
        Decimal("500000.00"),
        Decimal("500000.00"),
        Decimal("0.00"),
        Decimal("0.00"),
    )
    fresh = subsidy.company_cap_use(company.id, schemes[NITTP], date(2026, 4, 1))
    assert (fresh.used, fresh.left) == (Decimal("200000.00"), Decimal("300000.00"))

    amounts = subsidy.company_amounts(company.id, date(2025, 4, 1), date(2026, 3, 31))
    assert amounts.met == Decimal("500000.00")
    assert amounts.lost == Decimal("0.00")  # nothing was left of the cap when it completed
    assert len(amounts.claims) == 5


def test_company_amounts_on_track_at_risk_and_lost(make, company, schemes):
    course = make.course(fee=Decimal("3000"), funding_schemes=[schemes[NITTP]])
    running = make.course_class(
        course=course,
        sessions=10,
        status=ClassStatus.RUNNING,
        first_session=datetime(2030, 1, 7, 11, tzinfo=UTC),
        min_attendance_pct=80,
    )
    on_track, at_risk, lost = (make.enrolment(running, make.user(company=company)) for _ in "abc")
    for enrolment, absences in ((at_risk, 1), (lost, 3)):
        for session in running.sessions[:absences]:
            db.session.add(
                Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.ABSENT)
            )
    # Another company's learner in the class is not this company's.
    make.enrolment(running, make.user())
    db.session.commit()

    amounts = subsidy.company_amounts(company.id, running.ends_on, running.ends_on)

    assert (amounts.met, amounts.on_track, amounts.at_risk, amounts.lost) == (
        Decimal("0.00"),
        Decimal("2000.00"),
        Decimal("2000.00"),
        Decimal("2000.00"),
    )
    assert {c.enrolment_id for c in amounts.claims} == {on_track.id, at_risk.id, lost.id}
    use = subsidy.company_cap_use(company.id, schemes[NITTP], running.ends_on)
    assert (use.used, use.expected) == (Decimal("0.00"), Decimal("4000.00"))
