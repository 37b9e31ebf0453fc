"""A request for a place in a class, and what becomes of it: approval, rejection, withdrawal.

A learner asks for themself; an HR officer nominates their own company's staff (one by one or
from a CSV file); an admin enrols anyone. A learner's own request at a company that needs HR
approval waits (*pending*) and takes no seat until an HR officer or an admin approves it;
every other request, and an approved one, is *confirmed* when a seat is free and
*waitlisted* when the class is full. A learner withdraws themself up to the class's
withdrawal deadline; after it, their HR officer or an admin does, with a reason. A seat that
a rejection or a withdrawal frees goes to the waitlist at once (:mod:`.waitlist`).

Every change takes its locks in the lock order of :mod:`skillsup.services.enrolment` (the
learner's row for a request or an approval, then the class's, then the quotas'), checks the
rules of :mod:`.eligibility` and :mod:`.seat_quotas`, and is recorded with who, when and why.
Functions flush but never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    CourseClass,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    User,
    utcnow,
)
from ..reasons import PLACED_WITHOUT_APPROVAL, Reason, enrolled_after_end, free_text, or_none
from ..reasons import reason as reason_of
from . import webhook_events
from .eligibility import (
    AccountInactive,
    TimetableClash,
    already_enrolled,
    can_hold_a_place,
    check_class_open,
    check_learner,
    check_not_over,
    check_not_over_at,
    clashing_class,
)
from .enrolment import (
    EnrolmentRefused,
    give_back_seat,
    lock_class,
    lock_for_request,
    lock_learner,
    lock_learners_and_classes,
    record_request,
    record_transition,
    take_seat,
)
from .errors import NotFound, PermissionDenied
from .seat_quotas import check_quota, lock_quotas_of_waitlists
from .waitlist import line_of, place_in_line, promote_waitlist, promotes_now, waitlist_length


class WithdrawalClosed(EnrolmentRefused):
    pass


class InvalidTransition(EnrolmentRefused):
    pass


@dataclass(frozen=True)
class EnrolmentOutcome:
    enrolment: Enrolment
    waitlist_position: int | None = None

    @property
    def status(self) -> EnrolmentStatus:
        return self.enrolment.status


# ---------------------------------------------------------------------------------------------
# Requests


def request_enrolment(
    actor: User,
    learner: User,
    course_class: CourseClass,
    source: EnrolmentSource = EnrolmentSource.SELF,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> EnrolmentOutcome:
    """Enrol ``learner`` in ``course_class`` on behalf of ``actor``.

    The learner asks for themself (source ``self``); an HR officer nominates staff of their
    own company (``nominated`` or ``csv``); an admin enrols anyone (``admin``). A learner's own
    request at a company that needs HR approval becomes *pending* and takes no seat; every
    other request is *confirmed* when a seat is free and *waitlisted* when the class is full,
    at the end of the line, told its position there. The learner's rules are checked under
    the learner's row lock, the seats and quotas under the class's and the quotas' (in the
    lock order of :mod:`skillsup.services.enrolment`), so they hold for requests at once.

    After the class's last session has ended only an admin may enrol anyone, and must give a
    ``reason`` (:func:`.eligibility.check_not_over`). An admin who enrols a learner of a
    company that needs HR approval places them without that approval: the enrolment goes
    straight in (confirmed or waitlisted, not pending), the admin must give a ``reason``, and
    the enrolment's history (which the company's HR officers see) and the audit log say that
    an admin placed them without the company's approval, and why. The ``reason`` of any
    request is kept in its history.

    Raises :class:`PermissionDenied` when the actor may not act for the learner,
    :class:`ClassNotOpen`, :class:`EnrolmentClosed` (:class:`ClassOver` after the last
    session), :class:`AccountInactive`, :class:`AlreadyEnrolled`,
    :class:`PrerequisitesMissing`, :class:`TimetableClash` or :class:`QuotaExceeded` when a
    rule refuses the request, and :class:`EnrolmentRefused` (field ``reason``) for an admin's
    enrolment that needs a reason and has none.
    """
    now = now or utcnow()
    _check_actor(actor, learner, source)
    by_admin = source == EnrolmentSource.ADMIN
    without_approval = _check_admin_placement(learner, source, reason)
    check_class_open(course_class, now)
    # The learner first (the lock order of skillsup.services.enrolment): the learner's own
    # rules (a duplicate, prerequisites, a timetable clash) are checked under it, so that two
    # requests of one learner at once cannot both pass them. It serialises only that
    # learner's requests; a rush for a class waits on the class lock alone.
    lock_learner(learner.id)
    check_learner(learner, course_class, for_self=actor.id == learner.id)
    needs_approval = (
        source == EnrolmentSource.SELF
        and learner.company is not None
        and learner.company.requires_approval
    )
    # What the change will write to partner companies' webhooks depends on their endpoints,
    # which no lock here guards: read them now, so that the class lock (which a rush queues
    # for) is held for no query of theirs.
    webhook_events.read_endpoints(learner.company_id)
    # In a savepoint, so that a refusal or a duplicate caught by the unique index gives back
    # the seat and the class and quota locks (the learner's stays until the commit).
    savepoint, locked = lock_for_request(course_class, takes_no_seat=needs_approval)
    try:
        check_class_open(locked, now)
        # A request that finds the class full reads the line and the class's last session in
        # one statement: most of a rush does, one after another under the lock.
        line = line_of(locked.id) if not needs_approval and locked.seats_left == 0 else None
        late_after = (
            check_not_over(locked, now, by_admin=by_admin, reason=reason)
            if line is None
            else check_not_over_at(line.last_session_end, now, by_admin=by_admin, reason=reason)
        )
        check_quota(learner, locked)
        seats_taken = None if needs_approval or line is not None else take_seat(locked.id)
        position = None
        waitlisted_at = None
        if needs_approval:
            status = EnrolmentStatus.PENDING
        elif seats_taken is not None:
            status = EnrolmentStatus.CONFIRMED
        else:
            status = EnrolmentStatus.WAITLISTED
            waitlisted_at, position = (
                place_in_line(locked.id, now) if line is None else line.place(now)
            )
        history_reasons = _history_reasons(reason, without_approval, late_after)
        enrolment = Enrolment(
            class_id=locked.id,
            learner_id=learner.id,
            company_id=learner.company_id,
            status=status,
            source=source,
            requested_by_id=actor.id,
            acted_by_id=actor.id,
            requested_at=now,
            status_reasons=or_none(history_reasons),
            confirmed_at=now if status == EnrolmentStatus.CONFIRMED else None,
            waitlisted_at=waitlisted_at,
        )
        db.session.add(enrolment)
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        raise already_enrolled(learner, for_self=actor.id == learner.id) from error
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()

    if seats_taken is not None:
        # The row is locked, so the count the UPDATE returned is current: no need to reload.
        set_committed_value(locked, "seats_taken", seats_taken)
    record_request(enrolment, actor, history_reasons, now)
    return EnrolmentOutcome(enrolment, position)


def _check_admin_placement(learner: User, source: EnrolmentSource, reason: str | None) -> bool:
    """Whether an admin is placing a learner of a company that needs HR approval without it;
    :class:`EnrolmentRefused` (field ``reason``) when they do and give no reason."""
    company = learner.company
    if source != EnrolmentSource.ADMIN or company is None or not company.requires_approval:
        return False
    if not (reason or "").strip():
        raise EnrolmentRefused(
            _l(
                "%(company)s approves its staff's enrolments. Give a reason to place %(name)s "
                "without its HR approval; its HR officers will see it in the history.",
                company=company.name,
                name=learner.name,
            ),
            field="reason",
        )
    return True


def _history_reasons(
    reason: str | None, without_approval: bool, late_after: datetime | None
) -> list[Reason]:
    """The reasons kept in a new enrolment's history: what an admin's enrolment went past
    (coded, with the time the last session ended), then the reason they typed."""
    reasons = []
    if without_approval:
        reasons.append(reason_of(PLACED_WITHOUT_APPROVAL))
    if late_after is not None:
        reasons.append(enrolled_after_end(late_after))
    return reasons + free_text(reason)


def _check_actor(actor: User, learner: User, source: EnrolmentSource) -> None:
    if not permissions.can_request_enrolment(actor, learner, source):
        raise PermissionDenied()


def describe(outcome: EnrolmentOutcome, *, for_self: bool = True) -> Any:
    """What to tell the person who made the request, in their language."""
    from .. import i18n

    code = outcome.enrolment.course_class.code
    if outcome.status == EnrolmentStatus.CONFIRMED:
        return (
            _l("You are confirmed in %(code)s.", code=code)
            if for_self
            else _l("Confirmed in %(code)s.", code=code)
        )
    if outcome.status == EnrolmentStatus.WAITLISTED:
        position = i18n.ordinal(outcome.waitlist_position or 0)
        return (
            _l("The class is full: you are %(position)s on the waitlist.", position=position)
            if for_self
            else _l("The class is full: %(position)s on the waitlist.", position=position)
        )
    return (
        _l("Your request is waiting for HR approval.")
        if for_self
        else _l("The request is waiting for HR approval.")
    )


# ---------------------------------------------------------------------------------------------
# Decisions and withdrawals


def approve(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> EnrolmentOutcome:
    """Approve a pending request: it takes a free seat, or a waitlist place when full.

    HR officers approve their own company's staff; admins anyone. The learner's account and
    company must still be active, a seat is never given across a timetable clash with a
    class the learner has been confirmed in since asking, and a request still waiting when the
    class's last session has ended can only be rejected. Raises :class:`PermissionDenied`,
    :class:`InvalidTransition` when it is not pending, :class:`AccountInactive`,
    :class:`TimetableClash` or :class:`ClassOver`.
    """
    now = now or utcnow()
    _check_decider(actor, enrolment)
    # The learner, then the class (the lock order of skillsup.services.enrolment): the clash
    # is checked under the learner's lock, so no request of theirs confirms them meanwhile.
    lock_learner(enrolment.learner_id)
    locked = lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status != EnrolmentStatus.PENDING:
        raise InvalidTransition(_l("Only a request waiting for approval can be approved."))
    check_not_over(locked, now, by_admin=False)
    learner = enrolment.learner
    if not can_hold_a_place(learner):
        raise AccountInactive(_l("This account cannot enrol: it or its company is inactive."))
    clash = clashing_class(learner.id, locked.id)
    if clash is not None:
        raise TimetableClash(
            _l(
                "%(name)s is confirmed in %(code)s, whose sessions clash with this class.",
                name=learner.name,
                code=clash,
            )
        )
    position = None
    if take_seat(locked.id):
        to = EnrolmentStatus.CONFIRMED
        enrolment.confirmed_at = now
    else:
        to = EnrolmentStatus.WAITLISTED
        enrolment.waitlisted_at, position = place_in_line(locked.id, now)
    record_transition(enrolment, to, actor, None, now)
    db.session.refresh(locked)
    return EnrolmentOutcome(enrolment, position)


def lock_for_several(learner_ids: Iterable[int], class_ids: Iterable[int]) -> None:
    """Take the locks of a transaction that changes enrolments of several learners or classes
    before its first change: the learners, then the classes, each in id order, then the
    quotas that promotions from those classes' waitlists could count against. Taken one
    change at a time, a learner or a class would be locked after another class or its
    quotas, against the lock order of :mod:`skillsup.services.enrolment`."""
    classes = set(class_ids)
    lock_learners_and_classes(learner_ids, classes)
    lock_quotas_of_waitlists(classes)


def lock_for_decisions(enrolments: Sequence[Enrolment]) -> None:
    """Take the locks of several decisions made in one transaction (an HR officer approving or
    rejecting a batch of requests) before the first, as :func:`lock_for_several`."""
    lock_for_several(
        [enrolment.learner_id for enrolment in enrolments],
        [enrolment.class_id for enrolment in enrolments],
    )


def reject(actor: User, enrolment: Enrolment, reason: str, *, now: datetime | None = None) -> None:
    """Reject a request, with a reason. A rejected confirmed place frees its seat for the
    waitlist. Raises :class:`PermissionDenied`, :class:`InvalidTransition`, or
    :class:`EnrolmentRefused` without a reason."""
    now = now or utcnow()
    _check_decider(actor, enrolment)
    if not reason.strip():
        raise EnrolmentRefused(_l("Give a reason for the rejection."), field="reason")
    locked = lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_l("This enrolment is no longer active."))
    _end(locked, enrolment, EnrolmentStatus.REJECTED, actor, free_text(reason), now)


def withdrawal_refusal(
    actor: User, enrolment: Enrolment, *, now: datetime | None = None
) -> EnrolmentRefused | None:
    """Why ``actor`` may not withdraw ``enrolment`` now, or ``None`` if they may (a reason
    aside: see :func:`withdrawal_needs_reason`). The enrolment must be active; a learner
    withdraws themself only up to the class's withdrawal deadline. Who may act at all is the
    caller's to check (:func:`skillsup.permissions.can_decide_enrolment`)."""
    now = now or utcnow()
    if enrolment.status not in ACTIVE_STATUSES:
        return InvalidTransition(_l("This enrolment is no longer active."))
    # HR officers and admins withdraw after the deadline too (with a reason).
    after_deadline = now > enrolment.course_class.withdrawal_deadline_at
    if after_deadline and not withdrawal_needs_reason(actor, enrolment):
        return WithdrawalClosed(
            _l("The withdrawal deadline has passed. Ask your HR officer to withdraw you.")
        )
    return None


def withdrawal_needs_reason(actor: User, enrolment: Enrolment) -> bool:
    """Whether ``actor`` must say why they withdraw ``enrolment``: anyone but the learner
    themself (an HR officer, an admin) must."""
    return actor.id != enrolment.learner_id or permissions.is_admin(actor)


@dataclass
class WithdrawalPreview:
    """What withdrawing an enrolment now would do (:func:`withdrawal_preview`)."""

    enrolment: Enrolment
    #: Why it cannot be withdrawn now, if it cannot.
    refusal: EnrolmentRefused | None
    #: Whether the actor must give a reason.
    needs_reason: bool
    #: Whether the enrolment holds a seat that the withdrawal gives back.
    frees_seat: bool
    #: How many learners wait on the class's waitlist.
    waiting: int
    #: Whether a freed seat goes to the waitlist at once (not once the class is over).
    seat_goes_to_waitlist: bool

    @property
    def can_withdraw(self) -> bool:
        return self.refusal is None


def withdrawal_preview(
    actor: User, enrolment: Enrolment, *, now: datetime | None = None
) -> WithdrawalPreview:
    """What :func:`withdraw` would do now, for its confirmation page: whether it may be done,
    whether it frees a seat and whether that seat goes at once to the first of the learners
    waiting who may take it (each told by e-mail, as the learner withdrawn is). Changes
    nothing and takes no lock."""
    now = now or utcnow()
    course_class = enrolment.course_class
    frees_seat = enrolment.status == EnrolmentStatus.CONFIRMED
    return WithdrawalPreview(
        enrolment=enrolment,
        refusal=withdrawal_refusal(actor, enrolment, now=now),
        needs_reason=withdrawal_needs_reason(actor, enrolment),
        frees_seat=frees_seat,
        waiting=waitlist_length(course_class.id),
        seat_goes_to_waitlist=frees_seat and promotes_now(course_class, now),
    )


def withdraw(
    actor: User, enrolment: Enrolment, reason: str = "", *, now: datetime | None = None
) -> None:
    """Withdraw an active enrolment; a freed seat goes to the waitlist at once.

    A learner withdraws themself up to the class's withdrawal deadline. After it, only an
    HR officer of the learner's company or an admin can, and they must give a reason
    (:func:`withdrawal_refusal`, :func:`withdrawal_needs_reason`). The learner is told by
    e-mail, as is anyone the freed seat goes to. Raises :class:`PermissionDenied`,
    :class:`WithdrawalClosed` or :class:`InvalidTransition`.
    """
    now = now or utcnow()
    if actor.id != enrolment.learner_id:
        _check_decider(actor, enrolment)
    locked = lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    refusal = withdrawal_refusal(actor, enrolment, now=now)
    if refusal is not None:
        raise refusal
    if withdrawal_needs_reason(actor, enrolment) and not reason.strip():
        raise EnrolmentRefused(_l("Give a reason for the withdrawal."), field="reason")
    _end(locked, enrolment, EnrolmentStatus.WITHDRAWN, actor, free_text(reason), now)


def _end(
    locked: CourseClass,
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User | None,
    reasons: list[Reason],
    now: datetime,
) -> None:
    held_seat = enrolment.status == EnrolmentStatus.CONFIRMED
    enrolment.ended_at = now
    record_transition(enrolment, to, actor, reasons, now)
    if held_seat:
        give_back_seat(enrolment.class_id)
        promote_waitlist(locked, actor, now=now)


def _check_decider(actor: User, enrolment: Enrolment) -> None:
    if not permissions.can_decide_enrolment(actor, enrolment):
        # Another company's enrolment is not theirs to know about.
        raise NotFound()
