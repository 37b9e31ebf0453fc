"""Money from funding schemes: estimates of what the Continuing Education Fund repays a learner,
and what a company may claim under a scheme that pays it a share of the fee (NITTP), against
its cap per financial year.

Amounts are :class:`~decimal.Decimal` Hong Kong dollars, rounded to the cent half up, once, at
the end of each sum. The figures are each class's scheme version's
(:mod:`.funding_schemes`); whether a condition is met is :mod:`.funding_status`'s.

**The CEF estimate** (a co-payment in tiers, :func:`cef_estimate`): the fund repays the fee
less the learner's co-payment, which is the first tier's share of the fee (20 %) while the
learner's subsidy stays within the first tier (the first HK$10,000), and the later share
(40 %) beyond it; a course that crosses the line is split where it crosses. Every course's
subsidy together never passes the cap per person (HK$25,000). The subsidy the learner has had
elsewhere is theirs to enter (:func:`set_cef_used_elsewhere`), so the portal can only
estimate, and says so (:attr:`CefEstimate.is_estimate`; ``used_elsewhere_known``).
:func:`learner_cef_estimates` estimates each of a learner's classes under the fund, in order
of start, counting as used the amount entered plus the estimates of their earlier classes
that are met or may still be (not lost).

**Company claims** (a share of the fee paid to the company, :func:`company_claims`): for each
of the company's enrolments under such a scheme, the share of the fee (two thirds), allocated
against the company's cap for the financial year (April to March, Hong Kong dates) in which
the class ends (the day it was closed, once it has been; its last day until then), in order
of completion: the met claims first, then those on track or at risk, each by its completion
date. So the cap can be reached in the middle of a year, and a new year starts afresh. A lost
claim is shown with what it would have been given, and takes nothing from the cap.

A year's claims depend on each other (the cap), but not on other years': asked about a period,
the claims are worked out for the financial years around it only (:func:`claims_window`), not
for every enrolment the company ever had.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, or_, select

from ..extensions import db
from ..i18n import fmt_money
from ..models import (
    ClassStatus,
    Course,
    CourseClass,
    Enrolment,
    FundingPayee,
    FundingScheme,
    FundingSchemeVersion,
    FundingState,
    SubsidyKind,
    User,
)
from ..timeutil import hk_date, start_of_hk_day_utc, today_hk
from . import audit
from .errors import PermissionDenied, ValidationFailed
from .funding_figures import CEF
from .funding_schemes import scheme_by_code, version_in_force
from .funding_status import WITH_STATUS, SchemeStatus, enrolment_statuses

CENTS = Decimal("0.01")
ZERO = Decimal("0.00")
_HUNDRED = Decimal(100)
#: The largest amount ``users.cef_subsidy_used_elsewhere`` holds.
MAX_USED_ELSEWHERE = Decimal("99999999.99")
#: Claims that still count against a cap: met, or may still be.
_CLAIMING = (FundingState.MET, FundingState.ON_TRACK, FundingState.AT_RISK)


def money(value: Decimal) -> Decimal:
    """An amount rounded to the cent, half up."""
    return value.quantize(CENTS, rounding=ROUND_HALF_UP)


# The Continuing Education Fund --------------------------------------------------------------


@dataclass(frozen=True)
class CefEstimate:
    """What the fund may repay for one course: always an estimate, since the subsidy used
    elsewhere is the learner's to enter (``used_elsewhere_known`` says whether they did)."""

    fee: Decimal
    used_before: Decimal
    subsidy: Decimal
    co_payment: Decimal
    #: What is left of the cap per person after this course (``None``: no cap).
    left_after: Decimal | None
    #: Nothing is left of the cap per person after this course.
    cap_reached: bool
    used_elsewhere_known: bool = True
    is_estimate: bool = True


def cef_estimate(
    fee: Decimal,
    used_before: Decimal,
    version: FundingSchemeVersion,
    *,
    used_elsewhere_known: bool = True,
) -> CefEstimate:
    """The subsidy for a course of ``fee`` when the learner's subsidy so far is
    ``used_before``, under ``version``'s co-payment tiers (the module's rule). A version of
    another kind repays nothing."""
    fee = max(Decimal(fee), ZERO)
    used = max(Decimal(used_before), ZERO)
    cap = version.person_lifetime_cap
    subsidy = ZERO
    if version.subsidy_kind is SubsidyKind.CO_PAYMENT_TIERS:
        first_rate = 1 - Decimal(version.first_tier_co_payment_pct or 0) / _HUNDRED
        later_rate = 1 - Decimal(version.later_co_payment_pct or 0) / _HUNDRED
        room = max(Decimal(version.first_tier_limit or 0) - used, ZERO)
        # The part of the fee whose subsidy fills what is left of the first tier.
        in_first = min(fee, room / first_rate) if first_rate > 0 else fee
        subsidy = in_first * first_rate + (fee - in_first) * later_rate
    if cap is not None:
        subsidy = min(subsidy, max(cap - used, ZERO))
    subsidy = money(subsidy)
    left = money(max(cap - used - subsidy, ZERO)) if cap is not None else None
    return CefEstimate(
        fee=money(fee),
        used_before=money(used),
        subsidy=subsidy,
        co_payment=money(fee) - subsidy,
        left_after=left,
        cap_reached=left == ZERO,
        used_elsewhere_known=used_elsewhere_known,
    )


def learner_cef_estimates(
    learner: User,
    statuses: Mapping[int, list[SchemeStatus]] | None = None,
    *,
    lost_too: Collection[int] = (),
    enrolments: Sequence[Enrolment] | None = None,
) -> dict[int, CefEstimate]:
    """An estimate for each of ``learner``'s enrolments under a scheme that repays the learner
    a fee less a co-payment, by enrolment id, except those lost; in order of class start,
    each counting as used the amount the learner entered and the estimates before it. A
    fixed number of queries; one only when the caller has worked out ``statuses`` (by
    :func:`.funding_status.enrolment_statuses`, for every enrolment of the learner's that has
    one) already.

    The lost enrolments among ``lost_too`` are estimated as well, at what they would have been
    (what the learner stands to lose), without counting as used for the ones after them.
    A caller that has every enrolment of the learner's loaded with its class and course
    passes them as ``enrolments``, and with ``statuses`` this needs no query at all."""
    rows: Sequence[Any]
    if enrolments is None:
        rows = db.session.execute(
            select(Enrolment.id, Course.fee, CourseClass.starts_on)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .where(Enrolment.learner_id == learner.id, Enrolment.status.in_(WITH_STATUS))
            .order_by(CourseClass.starts_on, Enrolment.id)
        ).all()
    else:
        rows = sorted(
            (
                _Priced(e.id, e.course_class.course.fee, e.course_class.starts_on)
                for e in enrolments
                if e.status in WITH_STATUS
            ),
            key=lambda row: (row.starts_on, row.id),
        )
    if statuses is None:
        statuses = enrolment_statuses(row.id for row in rows)
    known = learner.cef_subsidy_used_elsewhere is not None
    used = Decimal(learner.cef_subsidy_used_elsewhere or 0)
    estimates: dict[int, CefEstimate] = {}
    for row in rows:
        for status in statuses.get(row.id, []):
            lost = status.state is FundingState.LOST
            if not _repays_learner(status) or (lost and row.id not in lost_too):
                continue
            estimate = cef_estimate(row.fee, used, status.version, used_elsewhere_known=known)
            estimates[row.id] = estimate
            if not lost:
                used += estimate.subsidy
            break
    return estimates


@dataclass(frozen=True)
class _Priced:
    id: int
    fee: Decimal
    starts_on: date


def _repays_learner(status: SchemeStatus) -> bool:
    return (
        status.scheme.paid_to is FundingPayee.LEARNER
        and status.version.subsidy_kind is SubsidyKind.CO_PAYMENT_TIERS
    )


def cef_lifetime_cap(day: date | None = None) -> Decimal | None:
    """The Continuing Education Fund's subsidy cap per person in the version in force on
    ``day`` (today in Hong Kong unless given); ``None`` without the scheme or a cap."""
    scheme = scheme_by_code(CEF)
    if scheme is None:
        return None
    version = version_in_force(scheme.versions, day or today_hk())
    return version.person_lifetime_cap if version is not None else None


def set_cef_used_elsewhere(actor: User, learner: User, amount: str | Decimal | None) -> User:
    """Record the Continuing Education Fund subsidy ``learner`` has had elsewhere (``None`` or
    an empty text: not known). Only the learner enters it, and no more than the fund's cap per
    person (:func:`cef_lifetime_cap`).

    Raises :class:`PermissionDenied` for anyone else and :class:`ValidationFailed` (field
    ``cef_subsidy_used_elsewhere``) for an amount that is not zero or more with at most two
    decimals, or that is above the cap.
    """
    if actor is None or actor.id != learner.id:
        raise PermissionDenied()
    value = _amount(amount)
    cap = cef_lifetime_cap()
    if value is not None and cap is not None and value > cap:
        raise ValidationFailed(
            _l(
                "The fund pays at most %(cap)s per person: enter an amount up to that.",
                cap=fmt_money(cap),
            ),
            field="cef_subsidy_used_elsewhere",
        )
    if value == learner.cef_subsidy_used_elsewhere:
        return learner
    before = learner.cef_subsidy_used_elsewhere
    learner.cef_subsidy_used_elsewhere = value
    db.session.flush()
    audit.record(
        actor,
        "account.cef_subsidy_entered",
        learner,
        "entered the CEF subsidy used elsewhere",
        {"amount": f"{before if before is not None else '—'} → {value if value else '—'}"},
    )
    return learner


def _amount(amount: str | Decimal | None) -> Decimal | None:
    if amount is None or str(amount).strip() == "":
        return None
    try:
        value = Decimal(str(amount).strip().replace(",", ""))
    except InvalidOperation:
        value = Decimal("NaN")
    if not value.is_finite() or not 0 <= value <= MAX_USED_ELSEWHERE or value != money(value):
        raise ValidationFailed(
            _l("Enter an amount in Hong Kong dollars: zero or more, with at most two decimals."),
            field="cef_subsidy_used_elsewhere",
        )
    return money(value)


# Company claims -----------------------------------------------------------------------------


def financial_year_start(day: date, first_month: int = 4) -> date:
    """The first day of the financial year ``day`` falls in, for years starting on the first
    of ``first_month`` (4: April to March)."""
    year = day.year if day.month >= first_month else day.year - 1
    return date(year, first_month, 1)


def financial_year_end(start: date) -> date:
    """The last day of the financial year starting on ``start``."""
    following = date(start.year + 1, start.month, 1)
    return date.fromordinal(following.toordinal() - 1)


@dataclass(frozen=True)
class CompanyClaim:
    """One enrolment's claim under a scheme that pays the company a share of the fee."""

    enrolment_id: int
    learner_id: int
    class_id: int
    scheme: FundingScheme
    state: FundingState
    #: The day the class closed, or its last day while it has not.
    completion_date: date
    year_start: date
    fee: Decimal
    #: The share of the fee, before the cap.
    share: Decimal
    #: What the claim gets within the company's cap for the year (for a lost claim: would have).
    amount: Decimal

    @property
    def capped(self) -> bool:
        return self.amount < self.share


def completion_date(status: ClassStatus, completed_at: datetime | None, ends_on: date) -> date:
    """The day a class completes, for its claims: the Hong Kong day it was closed, once it
    has been, else its last day."""
    if status is ClassStatus.COMPLETED and completed_at is not None:
        return hk_date(completed_at)
    return ends_on


def may_complete_between(first: date, last: date) -> ColumnElement[bool]:
    """SQL: the class (``CourseClass``) may have its :func:`completion_date` from ``first``
    to ``last``: its last day or the time it was closed falls in them. A few more classes
    than those that do; the caller keeps those whose completion date falls in the dates."""
    return or_(
        CourseClass.ends_on.between(first, last),
        CourseClass.completed_at.between(
            start_of_hk_day_utc(first), start_of_hk_day_utc(last + timedelta(days=1))
        ),
    )


def claims_window(starts_on: date, ends_on: date) -> tuple[date, date]:
    """Dates that hold every financial year (whatever month it starts in) that a day from
    ``starts_on`` to ``ends_on`` falls in: from the first of January of the year before the
    first day to the last of December of the year after the last."""
    return date(starts_on.year - 1, 1, 1), date(ends_on.year + 1, 12, 31)


def company_claims(
    company_id: int, *, window: tuple[date, date] | None = None
) -> list[CompanyClaim]:
    """Every claim of the company's enrolments (those made under it) under a scheme that pays
    the company a share of the fee, allocated against its caps (the module's rule), in order
    of scheme, year and allocation. With ``window`` (first and last day), only the claims of
    the financial years that lie wholly within it, each year with all its claims: the query
    keeps to the classes that end or were closed in the window. A fixed number of queries."""
    in_window = [] if window is None else [may_complete_between(*window)]
    rows = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.learner_id,
            Enrolment.class_id,
            Course.fee,
            CourseClass.status,
            CourseClass.completed_at,
            CourseClass.ends_on,
        )
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .where(
            Enrolment.made_under_sql(company_id),
            Enrolment.status.in_(WITH_STATUS),
            *in_window,
        )
    ).all()
    statuses = enrolment_statuses(row.id for row in rows)
    pending: dict[tuple[int, date], list[tuple[SchemeStatus, date, Decimal, Decimal, int]]] = (
        defaultdict(list)
    )
    learner_of: dict[int, tuple[int, int]] = {}
    for row in rows:
        learner_of[row.id] = (row.learner_id, row.class_id)
        completed = completion_date(row.status, row.completed_at, row.ends_on)
        for status in statuses.get(row.id, []):
            version = status.version
            if (
                status.scheme.paid_to is not FundingPayee.COMPANY
                or version.subsidy_kind is not SubsidyKind.SHARE_OF_FEE
            ):
                continue
            share = money(
                Decimal(row.fee)
                * Decimal(version.fee_share_numerator or 0)
                / Decimal(version.fee_share_denominator or 1)
            )
            year = financial_year_start(completed, version.year_starts_month)
            if window is not None and not (
                window[0] <= year and financial_year_end(year) <= window[1]
            ):
                continue  # a year only partly in the window: some of its claims are not read
            pending[(status.scheme.id, year)].append(
                (status, completed, Decimal(row.fee), share, row.id)
            )
    claims: list[CompanyClaim] = []
    for (_scheme_id, year), items in sorted(
        pending.items(), key=lambda item: (item[1][0][0].scheme.code, item[0][1])
    ):
        items.sort(key=lambda i: (i[0].state is not FundingState.MET, i[1], i[4]))
        allocated = ZERO
        for status, completed, fee, share, enrolment_id in items:
            cap = status.version.company_cap_per_year
            room = share if cap is None else max(cap - allocated, ZERO)
            amount = min(share, room)
            if status.state in _CLAIMING:
                allocated += amount
            learner_id, class_id = learner_of[enrolment_id]
            claims.append(
                CompanyClaim(
                    enrolment_id,
                    learner_id,
                    class_id,
                    status.scheme,
                    status.state,
                    completed,
                    year,
                    money(fee),
                    share,
                    amount,
                )
            )
    return claims


@dataclass(frozen=True)
class CapUse:
    """A company's use of a scheme's cap in one financial year: ``used`` by met claims,
    ``expected`` by claims on track or at risk, ``left`` of the cap after both (``None`` with
    no cap)."""

    scheme: FundingScheme
    year_start: date
    year_end: date
    cap: Decimal | None
    used: Decimal
    expected: Decimal
    left: Decimal | None


def company_cap_use(
    company_id: int,
    scheme: FundingScheme,
    day: date,
    *,
    claims: Sequence[CompanyClaim] | None = None,
) -> CapUse:
    """The company's use of ``scheme``'s cap in the financial year ``day`` falls in; the cap
    is that of the version in force on the year's first day (or the scheme's first version).
    ``claims`` are the company's claims of that year at least (:func:`company_claims`), when
    the caller has them already."""
    version = version_in_force(scheme.versions, day) or (
        scheme.versions[0] if scheme.versions else None
    )
    first_month = version.year_starts_month if version is not None else 4
    start = financial_year_start(day, first_month)
    in_force = version_in_force(scheme.versions, start) or version
    cap = in_force.company_cap_per_year if in_force is not None else None
    used = expected = ZERO
    if claims is None:
        claims = company_claims(company_id, window=claims_window(day, day))
    for claim in claims:
        if claim.scheme.id != scheme.id or claim.year_start != start:
            continue
        if claim.state is FundingState.MET:
            used += claim.amount
        elif claim.state in _CLAIMING:
            expected += claim.amount
    left = max(cap - used - expected, ZERO) if cap is not None else None
    return CapUse(scheme, start, financial_year_end(start), cap, used, expected, left)


@dataclass(frozen=True)
class CompanyAmounts:
    """The company's claims completing in a period, added up by state."""

    met: Decimal
    on_track: Decimal
    at_risk: Decimal
    lost: Decimal
    claims: tuple[CompanyClaim, ...]


def company_amounts(
    company_id: int,
    starts_on: date,
    ends_on: date,
    *,
    claims: Sequence[CompanyClaim] | None = None,
) -> CompanyAmounts:
    """The amounts of the company's claims (:func:`company_claims`) whose completion date is
    from ``starts_on`` to ``ends_on``, both included: met, on track, at risk and lost.
    ``claims`` are the company's claims of the period at least, when the caller has them."""
    totals = dict.fromkeys(FundingState, ZERO)
    if claims is None:
        claims = company_claims(company_id, window=claims_window(starts_on, ends_on))
    chosen = [claim for claim in claims if starts_on <= claim.completion_date <= ends_on]
    for claim in chosen:
        totals[claim.state] += claim.amount
    return CompanyAmounts(
        met=totals[FundingState.MET],
        on_track=totals[FundingState.ON_TRACK],
        at_risk=totals[FundingState.AT_RISK],
        lost=totals[FundingState.LOST],
        claims=tuple(chosen),
    )
