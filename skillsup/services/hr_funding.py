"""Funding for a partner company's HR officers: the learners whose funding is at risk or lost,
the amounts the company's claims are worth in a period, its use of each scheme's yearly cap,
the claims themselves (to export for the schemes), and the money received on them.

Every function takes the acting HR officer and reads the enrolments made under their company
only (:mod:`.hr_scope`). The rules are other modules': each enrolment's state under a scheme is
:mod:`.funding_status`'s, the claims, their completion dates and the caps are
:mod:`.subsidy`'s. A period is read first and only its enrolments (and, for the caps, those of
the financial years around it) are worked out, in a fixed number of queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..labels import label
from ..models import (
    ClaimReceipt,
    Course,
    CourseClass,
    Enrolment,
    FundingPayee,
    FundingScheme,
    FundingState,
    User,
)
from ..reasons import render as render_reasons
from ..timeutil import today_hk
from . import audit
from .errors import NotFound, PermissionDenied, ValidationFailed
from .exports import Export, ExportCriteria, company_code
from .funding_status import WITH_STATUS, SchemeStatus, enrolment_statuses
from .hr_scope import company_enrolments, while_at_company
from .staff import hr_company_id
from .subsidy import (
    MAX_USED_ELSEWHERE,
    CapUse,
    CompanyAmounts,
    CompanyClaim,
    claims_window,
    company_amounts,
    company_cap_use,
    company_claims,
    completion_date,
    financial_year_end,
    may_complete_between,
    money,
)

#: The states that need the HR officer's attention, in the order the page lists them.
NEEDS_ATTENTION = (FundingState.AT_RISK, FundingState.LOST)


@dataclass(frozen=True)
class EnrolmentLine:
    """One enrolment made under the company, with what a funding page shows of it."""

    enrolment_id: int
    learner_id: int
    name: str
    email: str
    staff_number: str | None
    course_code: str
    course_title: str
    contact_hours: Decimal
    class_code: str
    starts_on: date
    ends_on: date
    completion_date: date
    fee: Decimal


@dataclass(frozen=True)
class FundingConcern:
    """A learner whose funding under a scheme is at risk or lost, and why."""

    line: EnrolmentLine
    status: SchemeStatus


@dataclass(frozen=True)
class FundingOverview:
    """The company's funding in a period (classes running in it for the concerns; claims
    completing in it for the amounts; every financial year it touches for the caps)."""

    starts_on: date
    ends_on: date
    concerns: list[FundingConcern]
    amounts: CompanyAmounts
    cap_uses: list[CapUse]

    @property
    def at_risk(self) -> list[FundingConcern]:
        return [c for c in self.concerns if c.status.state is FundingState.AT_RISK]

    @property
    def lost(self) -> list[FundingConcern]:
        return [c for c in self.concerns if c.status.state is FundingState.LOST]


def _lines(company_id: int, *conditions: Any) -> list[EnrolmentLine]:
    """The enrolments made under the company that have a funding status and meet the
    ``conditions`` (on the enrolment, its class and course), by class start, class and name."""
    chinese = str(get_locale() or "en").startswith("zh")
    rows = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.learner_id,
            User.name,
            User.email,
            while_at_company(company_id, User.staff_number).label("staff_number"),
            Course.code.label("course_code"),
            Course.title_en,
            Course.title_zh,
            Course.contact_hours,
            Course.fee,
            CourseClass.code.label("class_code"),
            CourseClass.starts_on,
            CourseClass.ends_on,
            CourseClass.status.label("class_status"),
            CourseClass.completed_at,
        )
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(*company_enrolments(company_id), Enrolment.status.in_(WITH_STATUS), *conditions)
        .order_by(CourseClass.starts_on, CourseClass.code, User.name, Enrolment.id)
    ).all()
    return [
        EnrolmentLine(
            enrolment_id=row.id,
            learner_id=row.learner_id,
            name=row.name,
            email=row.email,
            staff_number=row.staff_number,
            course_code=row.course_code,
            course_title=row.title_zh if chinese and row.title_zh else row.title_en,
            contact_hours=Decimal(row.contact_hours or 0),
            class_code=row.class_code,
            starts_on=row.starts_on,
            ends_on=row.ends_on,
            completion_date=completion_date(row.class_status, row.completed_at, row.ends_on),
            fee=money(Decimal(row.fee or 0)),
        )
        for row in rows
    ]


def company_paid_schemes() -> list[FundingScheme]:
    """The schemes that pay the company, by code, with their versions: two queries."""
    return list(
        db.session.scalars(
            select(FundingScheme)
            .where(FundingScheme.paid_to == FundingPayee.COMPANY)
            .options(selectinload(FundingScheme.versions))
            .order_by(FundingScheme.code)
        )
    )


def funding_overview(actor: User, starts_on: date, ends_on: date) -> FundingOverview:
    """The actor's company's funding from ``starts_on`` to ``ends_on``:

    - *concerns*: the enrolments in classes running in the period whose state under a scheme
      is at risk (first: something can still be done) or lost, with the sessions to attend;
    - *amounts*: the claims completing in the period, added up by state
      (:func:`.subsidy.company_amounts`);
    - *cap uses*: for each scheme that pays the company, its cap in each financial year the
      period touches (:func:`.subsidy.company_cap_use`).

    Raises :class:`PermissionDenied` unless the actor is an HR officer. About twenty queries
    whatever the number of enrolments.
    """
    company_id = hr_company_id(actor)
    running = and_(CourseClass.starts_on <= ends_on, CourseClass.ends_on >= starts_on)
    lines = _lines(company_id, running)
    statuses = enrolment_statuses(line.enrolment_id for line in lines)
    concerns = [
        FundingConcern(line, status)
        for line in lines
        for status in statuses.get(line.enrolment_id, [])
        if status.state in NEEDS_ATTENTION
    ]
    concerns.sort(key=lambda c: NEEDS_ATTENTION.index(c.status.state))  # stable: keeps order
    claims = company_claims(company_id, window=claims_window(starts_on, ends_on))
    cap_uses = []
    for scheme in company_paid_schemes():
        day = starts_on
        while day <= ends_on:
            use = company_cap_use(company_id, scheme, day, claims=claims)
            cap_uses.append(use)
            day = use.year_end + timedelta(days=1)
    return FundingOverview(
        starts_on=starts_on,
        ends_on=ends_on,
        concerns=concerns,
        amounts=company_amounts(company_id, starts_on, ends_on, claims=claims),
        cap_uses=cap_uses,
    )


# Claims ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClaimLine:
    """One enrolment under one scheme, completing in a period: what a claim needs."""

    line: EnrolmentLine
    status: SchemeStatus
    #: The company's claim, for a scheme that pays the company a share of the fee.
    claim: CompanyClaim | None
    receipt: ClaimReceipt | None


def claim_lines(actor: User, starts_on: date, ends_on: date) -> list[ClaimLine]:
    """Every enrolment made under the actor's company, under each scheme its class runs
    under, whose class completes (:func:`.subsidy.completion_date`) from ``starts_on`` to
    ``ends_on``: its status, the company's claim if the scheme pays the company, and the
    money recorded as received. By completion date, class and name. Raises
    :class:`PermissionDenied` unless the actor is an HR officer. A fixed number of queries."""
    company_id = hr_company_id(actor)
    lines = [
        line
        for line in _lines(company_id, may_complete_between(starts_on, ends_on))
        if starts_on <= line.completion_date <= ends_on
    ]
    lines.sort(key=lambda line: (line.completion_date, line.class_code, line.name))
    statuses = enrolment_statuses(line.enrolment_id for line in lines)
    claims = {
        (claim.enrolment_id, claim.scheme.id): claim
        for claim in company_claims(company_id, window=claims_window(starts_on, ends_on))
    }
    receipts = receipts_for([line.enrolment_id for line in lines])
    return [
        ClaimLine(
            line,
            status,
            claims.get((line.enrolment_id, status.scheme.id)),
            receipts.get((line.enrolment_id, status.scheme.id)),
        )
        for line in lines
        for status in statuses.get(line.enrolment_id, [])
    ]


def receipts_for(enrolment_ids: list[int]) -> dict[tuple[int, int], ClaimReceipt]:
    """The receipts recorded for these enrolments, by enrolment and scheme id: one query."""
    if not enrolment_ids:
        return {}
    receipts = db.session.scalars(
        select(ClaimReceipt).where(ClaimReceipt.enrolment_id.in_(enrolment_ids))
    )
    return {(r.enrolment_id, r.scheme_id): r for r in receipts}


def claims_export(actor: User, criteria: ExportCriteria) -> Export:
    """The claims of :func:`claim_lines` for the range as an export: one row per enrolment
    and scheme, with the learner, the class, the fee, the scheme and its figures' version,
    the hours, attendance and result, the state and its reasons, the amount claimable and
    the amount within the cap, and what was received. Amounts are blank for a scheme that
    does not pay the company."""
    company_id = hr_company_id(actor)
    lines = claim_lines(actor, criteria.starts_on, criteria.ends_on)
    locale = str(get_locale() or "en")
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Course code"),
        _l("Course title"),
        _l("Class code"),
        _l("Class starts"),
        _l("Class ends"),
        _l("Completion date"),
        _l("Fee (HK$)"),
        _l("Scheme"),
        _l("Scheme figures from"),
        _l("Paid to"),
        _l("Contact hours"),
        _l("Hours attended"),
        _l("Attendance (%)"),
        _l("Minimum attendance (%)"),
        _l("Result"),
        _l("Passed"),
        _l("Funding status"),
        _l("Reason"),
        _l("Financial year from"),
        _l("Amount claimable (HK$)"),
        _l("Amount within the cap (HK$)"),
        _l("Capped"),
        _l("Received (HK$)"),
        _l("Received on"),
    ]
    results = _results([line.line.enrolment_id for line in lines])

    def rows() -> Iterator[list[Any]]:
        # Read now, while the rows' objects are loaded: the download is recorded (and the
        # transaction committed) before the file is written.
        for item in lines:
            line, status, claim, receipt = item.line, item.status, item.claim, item.receipt
            rate = status.standing.rate
            score, passed = results.get(line.enrolment_id, (None, None))
            yield [
                line.staff_number,
                line.name,
                line.email,
                line.course_code,
                line.course_title,
                line.class_code,
                line.starts_on,
                line.ends_on,
                line.completion_date,
                line.fee,
                status.scheme.name(locale),
                status.version.effective_from,
                label(status.scheme.paid_to),
                line.contact_hours,
                round(status.standing.attended_hours, 1),
                None if rate is None else round(rate * 100, 1),
                status.minimum_pct,
                score,
                passed,
                label(status.state),
                render_reasons(list(status.reasons)),
                claim.year_start if claim else None,
                claim.share if claim else None,
                claim.amount if claim else None,
                claim.capped if claim else None,
                receipt.amount if receipt else None,
                receipt.received_on if receipt else None,
            ]

    return Export(
        report="claims",
        sheet_title=str(_l("Funding claims")),
        header=[str(heading) for heading in header],
        rows=iter(list(rows())),
        company_code=company_code(company_id),
        criteria=criteria,
    )


def _results(enrolment_ids: list[int]) -> dict[int, tuple[Decimal | None, bool | None]]:
    if not enrolment_ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.id, Enrolment.result_score, Enrolment.result_passed).where(
            Enrolment.id.in_(enrolment_ids)
        )
    )
    return {row.id: (row.result_score, row.result_passed) for row in rows}


# Money received -------------------------------------------------------------------------------


def claim_for_receipt(actor: User, enrolment_id: int, scheme_code: str) -> ClaimLine:
    """The company's claim for one enrolment under one scheme that pays the company, to
    record money received on. Raises :class:`NotFound` for an enrolment not made under the
    actor's company, a scheme that does not pay the company or that the class does not run
    under, and :class:`PermissionDenied` unless the actor is an HR officer."""
    company_id = hr_company_id(actor)
    lines = _lines(company_id, Enrolment.id == enrolment_id)
    if not lines:
        raise NotFound()
    [line] = lines
    status = next(
        (
            s
            for s in enrolment_statuses([enrolment_id]).get(enrolment_id, [])
            if s.scheme.code == scheme_code and s.scheme.paid_to is FundingPayee.COMPANY
        ),
        None,
    )
    if status is None:
        raise NotFound()
    year = line.completion_date
    claims = company_claims(company_id, window=claims_window(year, year))
    claim = next(
        (c for c in claims if c.enrolment_id == enrolment_id and c.scheme.id == status.scheme.id),
        None,
    )
    receipt = receipts_for([enrolment_id]).get((enrolment_id, status.scheme.id))
    return ClaimLine(line, status, claim, receipt)


def record_claim_received(
    actor: User,
    claim: ClaimLine,
    amount: str | Decimal | None,
    received_on: date | None,
    *,
    today: date | None = None,
) -> ClaimReceipt:
    """Record that the company received ``amount`` on ``claim`` on ``received_on``, or
    correct what was recorded; audited on the enrolment. The amount is zero or more, with at
    most two decimals; the day is not in the future nor before the class started.

    Raises :class:`ValidationFailed` naming the field (``amount`` or ``received_on``) and
    :class:`PermissionDenied` unless the actor is an HR officer of the claim's company.
    """
    company_id = hr_company_id(actor)
    made_under = db.session.scalar(
        select(Enrolment.company_id).where(Enrolment.id == claim.line.enrolment_id)
    )
    if made_under != company_id:
        raise PermissionDenied(_l("This claim is not one of your company's."))
    value = _received_amount(amount)
    today = today or today_hk()
    if received_on is None:
        raise ValidationFailed(_l("Enter the day the money arrived."), field="received_on")
    if received_on > today:
        raise ValidationFailed(
            _l("The day the money arrived cannot be in the future."), field="received_on"
        )
    if received_on < claim.line.starts_on:
        raise ValidationFailed(
            _l("The day the money arrived cannot be before the class started."),
            field="received_on",
        )
    receipt = claim.receipt
    before = None if receipt is None else f"{receipt.amount} ({receipt.received_on.isoformat()})"
    if receipt is None:
        receipt = ClaimReceipt(
            enrolment_id=claim.line.enrolment_id,
            scheme_id=claim.status.scheme.id,
            amount=value,
            received_on=received_on,
        )
        db.session.add(receipt)
    elif receipt.amount == value and receipt.received_on == received_on:
        return receipt
    receipt.amount = value
    receipt.received_on = received_on
    receipt.recorded_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "funding.claim_received",
        object_type="enrolments",
        object_id=claim.line.enrolment_id,
        summary=f"recorded {value} received on the {claim.status.scheme.code} claim",
        details={
            "scheme": claim.status.scheme.code,
            "amount": f"{before or '—'} → {value} ({received_on.isoformat()})",
        },
        company=actor.company,
    )
    return receipt


def _received_amount(amount: str | Decimal | None) -> Decimal:
    try:
        value = Decimal(str(amount if amount is not None else "").strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 <= value <= MAX_USED_ELSEWHERE or value != money(value):
        raise ValidationFailed(
            _l("Enter an amount in Hong Kong dollars: zero or more, with at most two decimals."),
            field="amount",
        )
    return money(value)


def year_label(start: date) -> str:
    """A financial year as ``2025/26``."""
    end = financial_year_end(start)
    return f"{start.year}/{end.year % 100:02d}" if end.year != start.year else str(start.year)
