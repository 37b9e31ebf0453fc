"""A learner's view of their own learning, in a fixed number of queries.

Each class shows its attendance rate so far (:mod:`.attendance_rate`), and its status under
each funding scheme it runs under (:mod:`.funding_status`) with what that means in money: the
Continuing Education Fund's estimate (:mod:`.subsidy`) for a scheme that repays the learner,
or that the company claims for one that pays the company.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Certificate,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    FundingPayee,
    SubsidyKind,
    User,
    utcnow,
)
from ..timeutil import hk_date
from . import certificates, dashboards
from .attendance_rate import AttendanceSoFar
from .certificate_expiry import Validity, validities
from .enrolment_requests import withdrawal_refusal
from .funding_status import WITH_STATUS, SchemeStatus, loaded_enrolment_statuses
from .progress import loaded_standings, so_far
from .subsidy import CefEstimate, learner_cef_estimates
from .waitlist import waitlist_positions


@dataclass(frozen=True)
class FundingLine:
    """One enrolment's status under one scheme, and what it means in money for the learner:
    ``cef`` the estimate of a scheme that repays the learner (none once lost),
    ``company_claims`` whether the company claims the scheme's subsidy."""

    status: SchemeStatus
    cef: CefEstimate | None = None

    @property
    def repays_learner(self) -> bool:
        """A scheme that repays the learner part of the fee (the CEF)."""
        return (
            self.status.scheme.paid_to is FundingPayee.LEARNER
            and self.status.version.subsidy_kind is SubsidyKind.CO_PAYMENT_TIERS
        )

    @property
    def company_claims(self) -> bool:
        return self.status.scheme.paid_to is FundingPayee.COMPANY


@dataclass
class EnrolmentRow:
    enrolment: Enrolment
    waitlist_position: int | None
    attendance: AttendanceSoFar
    can_withdraw: bool
    history: list[EnrolmentStatusChange] = field(default_factory=list)
    funding: list[FundingLine] = field(default_factory=list)

    @property
    def has_statement(self) -> bool:
        """A statement of attendance and result exists for a place held or finished."""
        return self.enrolment.status in WITH_STATUS

    @property
    def shows_attendance(self) -> bool:
        """Attendance so far is shown while the learner holds a place in a class under way."""
        return self.enrolment.status == EnrolmentStatus.CONFIRMED


@dataclass
class LearningOverview:
    upcoming: list[dashboards.UpcomingSession]
    current: list[EnrolmentRow]
    past: list[EnrolmentRow]
    requests: list[EnrolmentRow]
    certificates: list[Certificate] = field(default_factory=list)
    #: Where each certificate stands today (valid until, expired on, revoked), by id.
    certificate_validity: dict[int, Validity] = field(default_factory=dict)
    #: Whether the learner has entered the CEF subsidy they used elsewhere.
    cef_used_elsewhere_known: bool = False


PAST_STATUSES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)


@functools.cache
def _enrolments_statement() -> Select[Enrolment]:
    # Built once, as the page's other statements: making a statement anew costs more of the
    # processor than running it.
    return (
        select(Enrolment)
        .where(Enrolment.learner_id == bindparam("learner_id"))
        .options(joinedload(Enrolment.course_class).joinedload(CourseClass.course))
        .order_by(Enrolment.requested_at.desc(), Enrolment.id.desc())
    )


@functools.cache
def _history_statement() -> Select[EnrolmentStatusChange]:
    return (
        select(EnrolmentStatusChange)
        .where(EnrolmentStatusChange.enrolment_id.in_(bindparam("enrolment_ids", expanding=True)))
        .order_by(EnrolmentStatusChange.id)
    )


def overview(learner: User, *, now: datetime | None = None) -> LearningOverview:
    """What "My learning" shows ``learner``: their next sessions, their current classes (with
    the waitlist position and whether they may still withdraw: an active enrolment up to the
    class's withdrawal deadline), their past classes, every request with its history, and
    their certificates, each with where it stands today (an expired or expiring one, not
    renewed, offers to enrol in its course again), and each place's status under its funding
    schemes with the CEF estimates. Only the learner's own enrolments; a fixed number of queries
    whatever their number.
    """
    now = now or utcnow()
    enrolments = list(db.session.scalars(_enrolments_statement(), {"learner_id": learner.id}))
    ids = [e.id for e in enrolments]
    positions = waitlist_positions(
        [e.id for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    )
    # The standings give the attendance so far and the funding statuses alike.
    standing_of = loaded_standings(enrolments)
    history: dict[int, list[EnrolmentStatusChange]] = defaultdict(list)
    if ids:
        for change in db.session.scalars(_history_statement(), {"enrolment_ids": ids}):
            history[change.enrolment_id].append(change)
    statuses = loaded_enrolment_statuses(enrolments, standing_of)
    estimates = learner_cef_estimates(learner, statuses, enrolments=enrolments)

    rows = [
        EnrolmentRow(
            enrolment=e,
            waitlist_position=positions.get(e.id),
            attendance=so_far(standing_of[e.id]),
            can_withdraw=withdrawal_refusal(learner, e, now=now) is None,
            history=history.get(e.id, []),
            funding=[FundingLine(status, estimates.get(e.id)) for status in statuses.get(e.id, [])],
        )
        for e in enrolments
    ]
    current = sorted(
        (r for r in rows if r.enrolment.status in ACTIVE_STATUSES),
        key=lambda r: (r.enrolment.course_class.starts_on, r.enrolment.id),
    )
    past = sorted(
        (r for r in rows if r.enrolment.status in PAST_STATUSES),
        key=lambda r: r.enrolment.course_class.ends_on,
        reverse=True,
    )
    held = certificates.for_learner(learner.id)
    return LearningOverview(
        upcoming=dashboards.learner_upcoming_sessions(learner, now=now),
        current=current,
        past=past,
        requests=rows,
        certificates=held,
        certificate_validity=validities(held, hk_date(now)),
        cef_used_elsewhere_known=learner.cef_subsidy_used_elsewhere is not None,
    )
