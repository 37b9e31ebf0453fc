"""HR officers' approvals queue: always scoped to one company, to the enrolments made under
it (:mod:`.hr_scope`).

The queue lists the company's requests waiting for approval with what an officer needs to
decide them (seats left in the class, the company's quota left, the fee), in a fixed number
of queries whatever its length. A batch of decisions is tried request by request: each one
that succeeds is kept, each one a rule refuses leaves no trace, and every request is told
its own outcome.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import CourseClass, Enrolment, EnrolmentStatus, Role, User
from . import enrolment_requests
from .enrolment import EnrolmentRefused
from .errors import NotFound, ValidationFailed
from .hr_scope import company_enrolments
from .seat_quotas import QuotaUse, quota_uses_by_class
from .staff import hr_company_id


class Decision(StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


@dataclass(frozen=True)
class QueueRow:
    """One request in the queue, with the figures shown beside it."""

    enrolment: Enrolment
    #: The quota of the company covering the class with the fewest seats left (the one that
    #: binds), or ``None`` when no quota covers the class. The request itself is already
    #: counted against it: a pending request holds its quota seat.
    quota: QuotaUse | None

    @property
    def seats_left(self) -> int:
        return self.enrolment.course_class.seats_left

    @property
    def fee(self) -> Decimal:
        return self.enrolment.course_class.course.fee


@dataclass(frozen=True)
class DecisionOutcome:
    """What became of one request of a batch: its new status (and waitlist position), or why
    it was refused and left as it was."""

    enrolment: Enrolment
    status: EnrolmentStatus | None = None
    waitlist_position: int | None = None
    refusal: Any = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None


def company_enrolment(company_id: int, enrolment_id: int) -> Enrolment | None:
    """The enrolment if it was made under the company, else ``None``: never one its learner
    made under another company, before or after moving here."""
    return db.session.scalar(
        select(Enrolment).where(Enrolment.id == enrolment_id, *company_enrolments(company_id))
    )


def _with_details(statement: Any) -> Any:
    return statement.options(
        joinedload(Enrolment.learner),
        joinedload(Enrolment.course_class).joinedload(CourseClass.course),
    ).order_by(Enrolment.requested_at, Enrolment.id)


def pending_requests(company_id: int) -> list[Enrolment]:
    """The company's requests waiting for approval, oldest first."""
    return list(
        db.session.scalars(
            _with_details(
                select(Enrolment).where(
                    *company_enrolments(company_id), Enrolment.status == EnrolmentStatus.PENDING
                )
            )
        )
    )


@dataclass(frozen=True)
class NoApproverLeft:
    """Deactivating the company's last active HR officer while its enrolments need HR
    approval: requests wait with nobody to approve them (:func:`left_without_approver`)."""

    company_name: str
    #: The requests made under the company waiting for approval now.
    pending: int


def left_without_approver(officer: User) -> NoApproverLeft | None:
    """What deactivating ``officer`` leaves unapproved, for its confirmation page: when they
    are an active HR officer of a company that needs HR approval for enrolments and no other
    HR officer of it is active, the company and how many of its requests are waiting now;
    else ``None``. Two queries at most; changes nothing."""
    company = officer.company
    if (
        officer.role != Role.HR
        or not officer.is_active
        or company is None
        or not company.requires_approval
    ):
        return None
    others = db.session.scalar(
        select(func.count(User.id)).where(
            User.company_id == company.id,
            User.role == Role.HR,
            User.is_active.is_(True),
            User.id != officer.id,
        )
    )
    if others:
        return None
    pending = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            *company_enrolments(company.id), Enrolment.status == EnrolmentStatus.PENDING
        )
    )
    return NoApproverLeft(company.name, pending or 0)


def approval_queue(actor: User) -> list[QueueRow]:
    """The HR officer's company's requests waiting for approval, oldest first, each with the
    quota that binds it (:func:`.seat_quotas.quota_uses_by_class`, the count every request is
    told). Two queries, however many rows. Raises :class:`PermissionDenied` for anyone who
    is not an HR officer of a company."""
    company_id = hr_company_id(actor)
    requests = pending_requests(company_id)
    classes = {enrolment.course_class.id: enrolment.course_class for enrolment in requests}
    uses = quota_uses_by_class(company_id, list(classes.values()))
    return [
        QueueRow(enrolment, _binding(uses.get(enrolment.class_id, []))) for enrolment in requests
    ]


def _binding(uses: list[QuotaUse]) -> QuotaUse | None:
    return min(uses, key=lambda use: (use.left, use.quota.id), default=None)


def choice_refusal(enrolment_ids: Iterable[int]) -> ValidationFailed | None:
    """Why a decision on ``enrolment_ids`` is refused before anything is read (no request
    chosen, field ``enrolment_ids``), or ``None``."""
    if not list(enrolment_ids):
        return ValidationFailed(_l("Choose at least one request."), field="enrolment_ids")
    return None


def chosen_requests(
    actor: User, enrolment_ids: Iterable[int], *, details: bool = True
) -> list[Enrolment]:
    """The HR officer's company's enrolments of these ids, oldest request first, in one query,
    with their learners, classes and courses (``details``, for a page) or without (for a
    batch of decisions: the decisions read an enrolment again ``FOR UPDATE``, which
    PostgreSQL refuses beside the outer joins of the details).

    Raises :class:`ValidationFailed` (field ``enrolment_ids``) without any id,
    :class:`NotFound` when an id is not an enrolment of a learner of the company, and
    :class:`PermissionDenied` for anyone who is not an HR officer of a company.
    """
    company_id = hr_company_id(actor)
    ids = sorted(set(enrolment_ids))
    refusal = choice_refusal(ids)
    if refusal is not None:
        raise refusal
    statement = select(Enrolment).where(Enrolment.id.in_(ids), *company_enrolments(company_id))
    statement = (
        _with_details(statement)
        if details
        else statement.order_by(Enrolment.requested_at, Enrolment.id)
    )
    chosen = list(db.session.scalars(statement.execution_options(populate_existing=True)))
    if len(chosen) != len(ids):
        # Another company's request is not theirs to know about.
        raise NotFound()
    return chosen


def decide_requests(
    actor: User,
    enrolment_ids: Iterable[int],
    decision: Decision,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> list[DecisionOutcome]:
    """Approve or reject several of the HR officer's company's requests, each on its own.

    Takes the locks of every decision first, in the lock order
    (:func:`.enrolment_requests.lock_for_decisions`), then decides the requests oldest first,
    so that the earliest request approved gets the first free seat. Each decision runs in a
    savepoint through :func:`.enrolment_requests.approve` or
    :func:`.enrolment_requests.reject`: one that succeeds is kept (confirmed, or waitlisted
    with its position when the class is full; rejected with ``reason``, which the learner is
    told by e-mail), one that a rule refuses leaves no trace and its outcome says why. Only a
    request still waiting for approval is decided here: one decided meanwhile (by another
    officer) is refused, never rejected from its seat.

    Raises :class:`ValidationFailed` without any id, :class:`EnrolmentRefused` naming the
    field when the input itself is refused (a rejection without a reason: nothing is
    decided), and :class:`NotFound` or :class:`PermissionDenied` as :func:`chosen_requests`.
    """
    chosen = chosen_requests(actor, enrolment_ids, details=False)
    enrolment_requests.lock_for_decisions(chosen)
    # Read again under the locks: another officer may have decided some meanwhile.
    chosen = chosen_requests(actor, [enrolment.id for enrolment in chosen], details=False)
    outcomes: list[DecisionOutcome] = []
    for enrolment in chosen:
        try:
            with db.session.begin_nested():
                outcomes.append(_decide(actor, enrolment, decision, reason, now))
        except EnrolmentRefused as error:
            if error.field is not None:
                raise
            outcomes.append(DecisionOutcome(enrolment, refusal=error.message))
    return outcomes


def decide_request(
    actor: User,
    enrolment: Enrolment,
    decision: Decision,
    reason: str = "",
    *,
    now: datetime | None = None,
) -> DecisionOutcome:
    """Approve or reject one request waiting for approval, as :func:`decide_requests` decides
    each of a batch, but raising the refusal instead of reporting it: an HR officer decides
    the requests made under their company, an admin any (as on the admin's class page).

    Takes the decision's locks first (:func:`.enrolment_requests.lock_for_decisions`) and
    reads the request again under them, so that one decided meanwhile (approved twice, say)
    is refused with :class:`.enrolment_requests.InvalidTransition` rather than rejected from
    its seat. A company that does not approve its staff's requests has none waiting: any of
    its enrolments is refused the same way.

    Raises :class:`NotFound` for an enrolment the actor may not decide (another company's),
    :class:`.enrolment_requests.InvalidTransition` for one not waiting for approval, and
    :func:`.enrolment_requests.approve`'s and :func:`.enrolment_requests.reject`'s refusals
    (a rejection without a reason, field ``reason``).
    """
    if not permissions.can_decide_enrolment(actor, enrolment):
        raise NotFound()
    enrolment_requests.lock_for_decisions([enrolment])
    db.session.refresh(enrolment)
    return _decide(actor, enrolment, decision, reason, now)


def _decide(
    actor: User,
    enrolment: Enrolment,
    decision: Decision,
    reason: str,
    now: datetime | None,
) -> DecisionOutcome:
    if enrolment.status != EnrolmentStatus.PENDING:
        raise enrolment_requests.InvalidTransition(
            _l("This request is no longer waiting for approval: it has been decided.")
        )
    if decision == Decision.APPROVE:
        outcome = enrolment_requests.approve(actor, enrolment, now=now)
        return DecisionOutcome(enrolment, outcome.status, outcome.waitlist_position)
    enrolment_requests.reject(actor, enrolment, reason, now=now)
    return DecisionOutcome(enrolment, enrolment.status)
