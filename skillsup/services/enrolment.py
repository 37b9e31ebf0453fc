"""Enrolment: the life cycle of a learner's place in a class.

Every path that changes an enrolment (a learner's button, an HR nomination, a CSV import, an
admin action, a CLI command) goes through these functions, so the rules hold whatever the path:

- a class never has more confirmed learners than its capacity: seats are taken only by one
  conditional ``UPDATE ... WHERE seats_taken < capacity``, backed by a CHECK constraint;
- a learner has at most one active (pending, confirmed, waitlisted) enrolment per class,
  backed by a partial unique index;
- the waitlist is first come, first served, and a freed seat goes to the first eligible
  waitlisted learner in the same transaction that frees it;
- a company never uses more seats than its quota (confirmed and pending enrolments count);
- nothing is deleted: every transition is recorded with who, when, from, to and why.

Functions flush but never commit; e-mail they cause is queued and leaves after the commit.
Lock order, to stay free of deadlocks: the class row first, then the company's quota rows. A
new request that takes no seat holds the class row in shared mode, beside others like it;
everything else holds it alone (:func:`lock_class`).
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    ColumnElement,
    CompoundSelect,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    literal,
    select,
    true,
    union_all,
    update,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import SessionTransaction, aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    SeatQuota,
    User,
    course_prerequisites,
    utcnow,
)
from . import audit, notify
from .errors import DomainError, NotFound, PermissionDenied


class EnrolmentRefused(DomainError):
    """The request breaks an enrolment rule; the message says which."""


class ClassNotOpen(EnrolmentRefused):
    pass


class EnrolmentClosed(EnrolmentRefused):
    pass


class AccountInactive(EnrolmentRefused):
    pass


class PrerequisitesMissing(EnrolmentRefused):
    """``codes``: the courses the learner has still to complete."""

    def __init__(self, message: Any = None, *, codes: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.codes = list(codes)


class AlreadyEnrolled(EnrolmentRefused):
    pass


class TimetableClash(EnrolmentRefused):
    """``code``: the learner's class whose sessions clash with this one."""

    def __init__(self, message: Any = None, *, code: str = "") -> None:
        super().__init__(message)
        self.code = code


class QuotaExceeded(EnrolmentRefused):
    pass


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
    other request is *confirmed* when a seat is free and *waitlisted* when the class is full.

    Raises :class:`PermissionDenied` when the actor may not act for the learner,
    :class:`ClassNotOpen`, :class:`EnrolmentClosed`, :class:`AccountInactive`,
    :class:`AlreadyEnrolled`, :class:`PrerequisitesMissing`, :class:`TimetableClash` or
    :class:`QuotaExceeded` when a rule refuses the request.
    """
    now = now or utcnow()
    _check_actor(actor, learner, source)
    # Everything that can be checked without the class lock is checked before taking it:
    # concurrent requests for the class wait on that lock, so the shorter it is held the
    # faster a rush of requests goes through. The learner's own records change only by their
    # own requests (a duplicate that slips through is caught by the unique index below);
    # the class and the quota are checked again under their locks.
    _check_class_open(course_class, now)
    _check_learner(learner, course_class, for_self=actor.id == learner.id)
    needs_approval = (
        source == EnrolmentSource.SELF
        and learner.company is not None
        and learner.company.requires_approval
    )
    # In a savepoint, so that a refusal or a duplicate caught by the unique index gives back
    # the seat and the locks.
    savepoint, locked = _lock_for_request(course_class, takes_no_seat=needs_approval)
    try:
        _check_class_open(locked, now)
        _check_quota(learner, locked)
        seats_taken = None if needs_approval or locked.seats_left == 0 else _take_seat(locked.id)
        if needs_approval:
            status = EnrolmentStatus.PENDING
        elif seats_taken is not None:
            status = EnrolmentStatus.CONFIRMED
        else:
            status = EnrolmentStatus.WAITLISTED
        enrolment = Enrolment(
            class_id=locked.id,
            learner_id=learner.id,
            company_id=learner.company_id,
            status=status,
            source=source,
            requested_by_id=actor.id,
            acted_by_id=actor.id,
            requested_at=now,
            confirmed_at=now if status == EnrolmentStatus.CONFIRMED else None,
            waitlisted_at=now if status == EnrolmentStatus.WAITLISTED else None,
        )
        db.session.add(enrolment)
        db.session.flush()
    except IntegrityError as error:
        savepoint.rollback()
        raise _already_enrolled(learner, for_self=actor.id == learner.id) from error
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()

    _record(enrolment, None, status, actor, reason, now)
    if seats_taken is not None:
        # The row is locked, so the count the UPDATE returned is current: no need to reload.
        set_committed_value(locked, "seats_taken", seats_taken)
    notify.enrolment_changed(enrolment, None)
    position = waitlist_position(enrolment) if status == EnrolmentStatus.WAITLISTED else None
    return EnrolmentOutcome(enrolment, position)


def check_eligibility(learner: User, course_class: CourseClass, *, now: datetime) -> None:
    """Raise the first rule a request by ``learner`` for ``course_class`` would break."""
    _check_class_open(course_class, now)
    _check_learner(learner, course_class)
    _check_quota(learner, course_class)


def taking_enrolments(now: datetime) -> list[ColumnElement[bool]]:
    """The conditions, in SQL, for a class that takes enrolments at ``now``: open, and its
    enrolment window current. Its course's status is the caller's to join and check."""
    return [
        CourseClass.status == ClassStatus.OPEN,
        CourseClass.enrolment_opens_at <= now,
        CourseClass.enrolment_closes_at >= now,
    ]


def is_taking_enrolments(course_class: CourseClass, now: datetime) -> bool:
    """Whether a request for the class would pass the class's own rules at ``now``: the class
    open, its course published and its enrolment window current."""
    try:
        _check_class_open(course_class, now)
    except (ClassNotOpen, EnrolmentClosed):
        return False
    return True


def _check_class_open(course_class: CourseClass, now: datetime) -> None:
    if course_class.status != ClassStatus.OPEN or course_class.course.status != (
        CourseStatus.PUBLISHED
    ):
        raise ClassNotOpen(_l("This class is not open for enrolment."))
    if now < course_class.enrolment_opens_at:
        raise EnrolmentClosed(_l("Enrolment for this class has not opened yet."))
    if now > course_class.enrolment_closes_at:
        raise EnrolmentClosed(_l("Enrolment for this class has closed."))


def _can_hold_a_place(learner: User) -> bool:
    """A learner holds a place only while their account and their company are active."""
    return learner.is_active and learner.company is not None and learner.company.is_active


def _check_learner(learner: User, course_class: CourseClass, *, for_self: bool = True) -> None:
    """The learner's own rules, worded for the learner (``for_self``) or for whoever acts for
    them (an HR officer, an admin)."""
    if not _can_hold_a_place(learner):
        raise AccountInactive(_l("This account cannot enrol: it or its company is inactive."))
    obstacles = learner_obstacles(learner.id, course_class)
    if obstacles.enrolled:
        raise _already_enrolled(learner, for_self=for_self)
    missing = obstacles.missing_prerequisites
    if missing:
        codes = ", ".join(missing)
        raise PrerequisitesMissing(
            _l("Complete these courses first: %(codes)s.", codes=codes)
            if for_self
            else _l(
                "%(name)s has first to complete these courses: %(codes)s.",
                name=learner.name,
                codes=codes,
            ),
            codes=missing,
        )
    clash = obstacles.clash
    if clash is not None:
        raise TimetableClash(
            _l("Its sessions clash with your class %(code)s.", code=clash)
            if for_self
            else _l(
                "Its sessions clash with %(name)s's class %(code)s.", name=learner.name, code=clash
            ),
            code=clash,
        )


def _already_enrolled(learner: User, *, for_self: bool) -> AlreadyEnrolled:
    return AlreadyEnrolled(
        _l("You already have a place or a request in this class.")
        if for_self
        else _l("%(name)s already has a place or a request in this class.", name=learner.name)
    )


def _check_actor(actor: User, learner: User, source: EnrolmentSource) -> None:
    if source == EnrolmentSource.SELF:
        allowed = permissions.is_learner(actor) and actor.id == learner.id
    elif source in (EnrolmentSource.NOMINATED, EnrolmentSource.CSV):
        allowed = permissions.is_hr(actor) and actor.company_id == learner.company_id
    else:
        allowed = permissions.is_admin(actor)
    if not allowed or not permissions.is_learner(learner):
        raise PermissionDenied()


def lock_class(class_id: int, course: Course | None = None, *, shared: bool = False) -> CourseClass:
    """The class, reloaded under a row lock held until the transaction ends.

    Every change to a class's seats, enrolments, roster or timetable takes this lock first,
    so that they are serialised per class and always locked in the same order (the class,
    then its enrolments). SQLite ignores FOR UPDATE, but there every write transaction holds
    the database's write lock from its start. Raises :class:`NotFound` if there is no such
    class.

    Pass its ``course`` when it is loaded already, so that reading ``locked.course`` needs no
    query: reloading the class forgets the course it had loaded. A ``shared`` lock (FOR SHARE)
    is held beside other shared ones, never beside the sole one: it is for work that reads the
    class's seats but leaves them as they are (see :func:`_lock_for_request`).
    """
    course_class = db.session.scalar(
        select(CourseClass)
        .where(CourseClass.id == class_id)
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )
    if course_class is None:
        raise NotFound()
    if course is not None and course.id == course_class.course_id:
        set_committed_value(course_class, "course", course)
    return course_class


def _lock_for_request(
    course_class: CourseClass, *, takes_no_seat: bool
) -> tuple[SessionTransaction, CourseClass]:
    """A savepoint begun for a new request, and the class locked in it.

    A request that can take no seat (one waiting for approval, or one for a class that is
    full, which joins its waitlist) takes the class's lock in shared mode, beside others like
    it: a rush for a full class then goes through side by side rather than one at a time.
    Any change to the seats takes the sole lock, and so waits for them and they for it. A
    shared holder that finds that a seat came free meanwhile rolls back its savepoint, which
    gives the shared lock back (two shared holders both asking for the sole lock would
    deadlock), and queues for the sole lock in a new one.
    """
    if takes_no_seat or course_class.seats_left == 0:
        savepoint = db.session.begin_nested()
        try:
            locked = lock_class(course_class.id, course_class.course, shared=True)
        except BaseException:
            savepoint.rollback()
            raise
        if takes_no_seat or locked.seats_left == 0:
            return savepoint, locked
        savepoint.rollback()
    savepoint = db.session.begin_nested()
    try:
        return savepoint, lock_class(course_class.id, course_class.course)
    except BaseException:
        savepoint.rollback()
        raise


def _take_seat(class_id: int) -> int | None:
    """Take one seat if one is free: the only way ``seats_taken`` grows. Returns the seats
    now taken, or ``None`` when the class is full."""
    taken = db.session.execute(
        update(CourseClass)
        .where(CourseClass.id == class_id, CourseClass.seats_taken < CourseClass.capacity)
        .values(seats_taken=CourseClass.seats_taken + 1)
        .returning(CourseClass.seats_taken)
        .execution_options(synchronize_session=False)
    ).first()
    return None if taken is None else int(taken[0])


def _give_back_seat(class_id: int) -> None:
    db.session.execute(
        update(CourseClass)
        .where(CourseClass.id == class_id, CourseClass.seats_taken > 0)
        .values(seats_taken=CourseClass.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def active_enrolment(learner_id: int, class_id: int) -> Enrolment | None:
    return db.session.scalar(_active_enrolments(learner_id, class_id))


# The builders below take values or bound parameters (for statements built once).


def _active_enrolments(learner_id: Any, class_id: Any) -> Select[tuple[Enrolment]]:
    return select(Enrolment).where(
        Enrolment.learner_id == learner_id,
        Enrolment.class_id == class_id,
        Enrolment.status.in_(ACTIVE_STATUSES),
    )


def missing_prerequisites(learner_id: int, course_id: int) -> list[str]:
    """Codes of the course's prerequisites the learner has not completed."""
    return list(
        db.session.scalars(_missing_prerequisites(learner_id, course_id).order_by(Course.code))
    )


def _missing_prerequisites(learner_id: Any, course_id: Any) -> Select[tuple[str]]:
    completed = (
        select(CourseClass.course_id)
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .where(Enrolment.learner_id == learner_id, Enrolment.status == EnrolmentStatus.COMPLETED)
    )
    return (
        select(Course.code)
        .join(course_prerequisites, course_prerequisites.c.prerequisite_id == Course.id)
        .where(course_prerequisites.c.course_id == course_id, Course.id.not_in(completed))
    )


# Named once, so that the statement below has the same cache key on every call and is
# compiled only once (anonymous aliases made per call would be compiled again every time).
_THEIR_SESSIONS = aliased(ClassSession, name="their_sessions")
_OUR_SESSIONS = aliased(ClassSession, name="our_sessions")


def clashing_class(learner_id: int, class_id: int) -> str | None:
    """The code of a class the learner is confirmed in whose sessions overlap this class's."""
    return db.session.scalar(_clashing_classes(learner_id, class_id).limit(1))


def _clashing_classes(learner_id: Any, class_id: Any) -> Select[tuple[str]]:
    theirs, ours = _THEIR_SESSIONS, _OUR_SESSIONS
    return (
        select(CourseClass.code)
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .join(theirs, theirs.class_id == CourseClass.id)
        .join(
            ours,
            and_(
                ours.class_id == class_id,
                ours.starts_at < theirs.ends_at,
                theirs.starts_at < ours.ends_at,
                ours.is_cancelled.is_(False),
            ),
        )
        .where(
            Enrolment.learner_id == learner_id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            Enrolment.class_id != class_id,
            theirs.is_cancelled.is_(False),
        )
    )


@functools.cache
def _learner_obstacles_statement() -> CompoundSelect:
    # Built once: making the statement anew costs more than running it.
    learner_id, class_id = bindparam("learner_id"), bindparam("class_id")
    return union_all(
        select(literal("enrolled"), literal("")).where(
            _active_enrolments(learner_id, class_id).exists()
        ),
        _missing_prerequisites(learner_id, bindparam("course_id")).with_only_columns(
            literal("prerequisite"), Course.code
        ),
        _clashing_classes(learner_id, class_id).with_only_columns(
            literal("clash"), CourseClass.code
        ),
    )


@dataclass(frozen=True)
class LearnerObstacles:
    """What stands between a learner and a class, on the learner's side."""

    enrolled: bool
    missing_prerequisites: list[str]
    clash: str | None


def learner_obstacles(learner_id: int, course_class: CourseClass) -> LearnerObstacles:
    """An active enrolment of the learner's in the class, the course's prerequisites they have
    not completed (by code), and (the first code of) a class they are confirmed in whose
    sessions overlap the class's: the three checks of :func:`active_enrolment`,
    :func:`missing_prerequisites` and :func:`clashing_class` in one query, since every
    request to enrol asks all three."""
    rows = db.session.execute(
        _learner_obstacles_statement(),
        {
            "learner_id": learner_id,
            "class_id": course_class.id,
            "course_id": course_class.course_id,
        },
    ).all()
    codes: dict[str, list[str]] = {"enrolled": [], "prerequisite": [], "clash": []}
    for kind, code in rows:
        codes[kind].append(code)
    return LearnerObstacles(
        enrolled=bool(codes["enrolled"]),
        missing_prerequisites=sorted(codes["prerequisite"]),
        clash=min(codes["clash"], default=None),
    )


# ---------------------------------------------------------------------------------------------
# Quotas


@dataclass(frozen=True)
class QuotaUse:
    quota: SeatQuota
    used: int

    @property
    def left(self) -> int:
        return max(self.quota.seats - self.used, 0)


def quota_uses(company_id: int, course_class: CourseClass, *, lock: bool = False) -> list[QuotaUse]:
    """The company's quotas that cover the class, with the seats each has used, in one query."""
    rows = db.session.execute(
        _quota_uses_statement(lock),
        {
            "company_id": company_id,
            "starts_on": course_class.starts_on,
            "course_id": course_class.course_id,
        },
    )
    return [QuotaUse(quota, int(used or 0)) for quota, used in rows]


@functools.cache
def _quota_uses_statement(lock: bool) -> Select[tuple[SeatQuota, int]]:
    # Built once per kind: making the statement anew costs more than running it.
    starts_on = bindparam("starts_on")
    statement = (
        select(SeatQuota, seats_used_by_quota())
        .where(
            SeatQuota.company_id == bindparam("company_id"),
            SeatQuota.starts_on <= starts_on,
            SeatQuota.ends_on >= starts_on,
            (SeatQuota.course_id.is_(None)) | (SeatQuota.course_id == bindparam("course_id")),
        )
        .order_by(SeatQuota.id)
    )
    if lock:
        statement = statement.with_for_update(of=SeatQuota).execution_options(
            populate_existing=True
        )
    return statement


# A seat counts against the quota from the request (pending) to the end of the class: a
# completed class does not give its seats back.
QUOTA_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


def _seats_counted(
    company_id: Any, starts_on: Any, ends_on: Any, course: ColumnElement[bool]
) -> Select[tuple[int]]:
    """The one count of seats a quota has used, for quota columns or values: pending,
    confirmed and finished enrolments of the company's staff in classes that start within the
    quota's period and match ``course``. Waitlist places, withdrawals, rejections and
    cancellations take no seat."""
    return (
        select(func.count(Enrolment.id))
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(
            Enrolment.company_id == company_id,
            Enrolment.status.in_(QUOTA_STATUSES),
            CourseClass.starts_on >= starts_on,
            CourseClass.starts_on <= ends_on,
            course,
        )
    )


def seats_used_by_quota() -> ScalarSelect[int]:
    """The seats a quota has used, as a subquery to select beside ``SeatQuota`` (of the
    quota's course, if it has one)."""
    return (
        _seats_counted(
            SeatQuota.company_id,
            SeatQuota.starts_on,
            SeatQuota.ends_on,
            SeatQuota.course_id.is_(None) | (CourseClass.course_id == SeatQuota.course_id),
        )
        .correlate(SeatQuota)
        .scalar_subquery()
    )


def seats_used(quota: SeatQuota) -> int:
    """The seats ``quota`` has used, counted as :func:`seats_used_by_quota` counts them, for a
    quota that may not be saved yet (a proposed change)."""
    course = true() if quota.course_id is None else CourseClass.course_id == quota.course_id
    statement = _seats_counted(quota.company_id, quota.starts_on, quota.ends_on, course)
    return int(db.session.scalar(statement) or 0)


def _check_quota(learner: User, course_class: CourseClass) -> None:
    assert learner.company_id is not None
    for use in quota_uses(learner.company_id, course_class, lock=True):
        if use.left < 1:
            raise QuotaExceeded(
                _l(
                    "Your company has used all %(seats)d seats of its quota for %(period)s "
                    "(%(left)d left).",
                    seats=use.quota.seats,
                    period=use.quota.label,
                    left=use.left,
                )
            )


def _quota_allows(learner: User, course_class: CourseClass) -> bool:
    if learner.company_id is None:
        return False
    return all(use.left >= 1 for use in quota_uses(learner.company_id, course_class, lock=True))


# ---------------------------------------------------------------------------------------------
# Decisions and changes


def approve(actor: User, enrolment: Enrolment, *, now: datetime | None = None) -> EnrolmentOutcome:
    """Approve a pending request: it takes a free seat, or a waitlist place when full.

    HR officers approve their own company's staff; admins anyone. The learner's account and
    company must still be active, and a seat is never given across a timetable clash with a
    class the learner has been confirmed in since asking. Raises :class:`PermissionDenied`,
    :class:`InvalidTransition` when it is not pending, :class:`AccountInactive` or
    :class:`TimetableClash`.
    """
    now = now or utcnow()
    _check_decider(actor, enrolment)
    locked = lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status != EnrolmentStatus.PENDING:
        raise InvalidTransition(_l("Only a request waiting for approval can be approved."))
    learner = enrolment.learner
    if not _can_hold_a_place(learner):
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
    if _take_seat(locked.id):
        to = EnrolmentStatus.CONFIRMED
        enrolment.confirmed_at = now
    else:
        to = EnrolmentStatus.WAITLISTED
        enrolment.waitlisted_at = now
    _transition(enrolment, to, actor, None, now)
    db.session.refresh(locked)
    position = waitlist_position(enrolment) if to == EnrolmentStatus.WAITLISTED else None
    return EnrolmentOutcome(enrolment, position)


def reject(actor: User, enrolment: Enrolment, reason: str, *, now: datetime | None = None) -> None:
    """Reject a request, with a reason. A rejected confirmed place frees its seat for the
    waitlist. Raises :class:`PermissionDenied`, :class:`InvalidTransition`, or
    :class:`EnrolmentRefused` without a reason."""
    now = now or utcnow()
    _check_decider(actor, enrolment)
    if not reason.strip():
        raise EnrolmentRefused(_l("Give a reason for the rejection."), field="reason")
    lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_l("This enrolment is no longer active."))
    _end(enrolment, EnrolmentStatus.REJECTED, actor, reason.strip(), now)


def withdraw(
    actor: User, enrolment: Enrolment, reason: str = "", *, now: datetime | None = None
) -> None:
    """Withdraw an active enrolment; a freed seat goes to the waitlist at once.

    A learner withdraws themself up to the class's withdrawal deadline. After it, only an
    HR officer of the learner's company or an admin can, and they must give a reason.
    Raises :class:`PermissionDenied`, :class:`WithdrawalClosed` or :class:`InvalidTransition`.
    """
    now = now or utcnow()
    is_self = actor.id == enrolment.learner_id
    if not is_self:
        _check_decider(actor, enrolment)
    locked = lock_class(enrolment.class_id)
    db.session.refresh(enrolment, with_for_update=True)
    if enrolment.status not in ACTIVE_STATUSES:
        raise InvalidTransition(_l("This enrolment is no longer active."))
    if is_self and not permissions.is_admin(actor):
        if now > locked.withdrawal_deadline_at:
            raise WithdrawalClosed(
                _l("The withdrawal deadline has passed. Ask your HR officer to withdraw you.")
            )
    elif not reason.strip():
        raise EnrolmentRefused(_l("Give a reason for the withdrawal."), field="reason")
    _end(enrolment, EnrolmentStatus.WITHDRAWN, actor, reason.strip() or None, now)


def _end(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User | None,
    reason: str | None,
    now: datetime,
) -> None:
    held_seat = enrolment.status == EnrolmentStatus.CONFIRMED
    enrolment.ended_at = now
    _transition(enrolment, to, actor, reason, now)
    if held_seat:
        _give_back_seat(enrolment.class_id)
        promote_waitlist(db.session.get(CourseClass, enrolment.class_id), actor, now=now)


def promote_waitlist(
    course_class: CourseClass, actor: User | None, *, now: datetime | None = None
) -> list[Enrolment]:
    """Fill the class's free seats from its waitlist, first come, first served.

    A waitlisted learner whose account or company is inactive, whose company has no quota
    left, or whose timetable would clash is passed over and keeps their place. Returns the
    promoted enrolments, each told by e-mail.
    """
    now = now or utcnow()
    locked = lock_class(course_class.id)
    if locked.is_finished:
        return []
    promoted: list[Enrolment] = []
    free = locked.capacity - locked.seats_taken
    if free <= 0:
        return promoted
    for candidate in db.session.scalars(
        select(Enrolment)
        .where(Enrolment.class_id == locked.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.waitlisted_at, Enrolment.id)
        .with_for_update()
    ).all():
        if len(promoted) >= free:
            break
        learner = candidate.learner
        if not _can_hold_a_place(learner) or not _quota_allows(learner, locked):
            continue
        if clashing_class(learner.id, locked.id) is not None:
            continue
        if not _take_seat(locked.id):
            break
        candidate.confirmed_at = now
        _transition(candidate, EnrolmentStatus.CONFIRMED, actor, "promoted from the waitlist", now)
        promoted.append(candidate)
    db.session.refresh(locked)
    return promoted


def cancel_class_enrolments(
    course_class: CourseClass, actor: User | None, reason: str, *, now: datetime | None = None
) -> list[Enrolment]:
    """Cancel every active enrolment of a class being cancelled, freeing all its seats.

    Each learner is told, with the reason. Returns the cancelled enrolments.
    """
    now = now or utcnow()
    locked = lock_class(course_class.id)
    cancelled = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.class_id == locked.id, Enrolment.status.in_(ACTIVE_STATUSES))
            .order_by(Enrolment.id)
            .with_for_update()
        )
    )
    for enrolment in cancelled:
        enrolment.ended_at = now
        _transition(enrolment, EnrolmentStatus.CANCELLED, actor, reason, now)
    db.session.execute(
        update(CourseClass)
        .where(CourseClass.id == locked.id)
        .values(seats_taken=0)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(locked)
    return cancelled


def _check_decider(actor: User, enrolment: Enrolment) -> None:
    learner = enrolment.learner
    if permissions.is_admin(actor):
        return
    if permissions.is_hr(actor) and actor.company_id == learner.company_id:
        return
    # Another company's enrolment is not theirs to know about.
    raise NotFound()


def _transition(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User | None,
    reason: str | None,
    now: datetime,
) -> None:
    record_transition(enrolment, to, actor, reason, now)


def record_transition(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User | None,
    reason: str | None,
    now: datetime,
    *,
    tell_learner: bool = True,
) -> None:
    """Move an enrolment to ``to`` and record it: in its history, in the audit log and,
    unless ``tell_learner`` is false, by e-mail to the learner.

    This records; it checks no rule. Callers hold the class row lock and have decided that
    the transition is allowed.
    """
    previous = enrolment.status
    enrolment.status = to
    enrolment.status_reason = reason
    enrolment.acted_by_id = actor.id if actor is not None else None
    enrolment.decided_at = now
    if to == EnrolmentStatus.WAITLISTED and enrolment.waitlisted_at is None:
        enrolment.waitlisted_at = now
    db.session.flush()
    _record(enrolment, previous, to, actor, reason, now)
    if tell_learner:
        notify.enrolment_changed(enrolment, previous)


def _record(
    enrolment: Enrolment,
    previous: EnrolmentStatus | None,
    to: EnrolmentStatus,
    actor: User | None,
    reason: str | None,
    now: datetime,
) -> None:
    db.session.add(
        EnrolmentStatusChange(
            enrolment_id=enrolment.id,
            from_status=previous,
            to_status=to,
            actor_id=actor.id if actor is not None else None,
            reason=reason,
            changed_at=now,
        )
    )
    audit.record(
        actor,
        "enrolment.created" if previous is None else "enrolment.status_changed",
        enrolment,
        f"{previous.value if previous else 'new'} -> {to.value}",
        {
            "class_id": enrolment.class_id,
            "learner_id": enrolment.learner_id,
            "from": previous.value if previous else None,
            "to": to.value,
            "reason": reason,
        },
    )


# ---------------------------------------------------------------------------------------------
# Reading


def waitlist_position(enrolment: Enrolment) -> int | None:
    """1 for the first in line, or ``None`` when the enrolment is not waitlisted."""
    if enrolment.status != EnrolmentStatus.WAITLISTED:
        return None
    if enrolment.waitlisted_at is None:
        return waitlist_positions([enrolment.id]).get(enrolment.id)
    # A count of those ahead in line rather than a ranking of the whole waitlist.
    ahead = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.class_id == enrolment.class_id,
            Enrolment.status == EnrolmentStatus.WAITLISTED,
            (Enrolment.waitlisted_at < enrolment.waitlisted_at)
            | and_(
                Enrolment.waitlisted_at == enrolment.waitlisted_at,
                Enrolment.id < enrolment.id,
            ),
        )
    )
    return int(ahead or 0) + 1


def waitlist_positions(enrolment_ids: list[int]) -> dict[int, int]:
    """Waitlist positions of the given enrolments, in one query."""
    if not enrolment_ids:
        return {}
    ranked = (
        select(
            Enrolment.id.label("enrolment_id"),
            func.row_number()
            .over(partition_by=Enrolment.class_id, order_by=(Enrolment.waitlisted_at, Enrolment.id))
            .label("position"),
        )
        .where(
            Enrolment.status == EnrolmentStatus.WAITLISTED,
            Enrolment.class_id.in_(
                select(Enrolment.class_id).where(Enrolment.id.in_(enrolment_ids))
            ),
        )
        .subquery()
    )
    rows = db.session.execute(
        select(ranked.c.enrolment_id, ranked.c.position).where(
            ranked.c.enrolment_id.in_(enrolment_ids)
        )
    ).all()
    return {row.enrolment_id: int(row.position) for row in rows}


# Built once: every request about a class by its code (enrol, its pages) runs it.
_CLASS_BY_CODE = (
    select(CourseClass)
    .where(CourseClass.code == bindparam("code"))
    .options(joinedload(CourseClass.course))
)


def find_class_by_code(code: str) -> CourseClass | None:
    """The class with this code (in any case), its course loaded with it."""
    return db.session.scalar(_CLASS_BY_CODE, {"code": code.strip().upper()})


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


def class_enrolments(class_id: int) -> list[Enrolment]:
    """Every enrolment of a class, active ones first in waitlist order, with learners loaded."""
    order = {
        status: rank
        for rank, status in enumerate(
            (EnrolmentStatus.CONFIRMED, EnrolmentStatus.PENDING, EnrolmentStatus.WAITLISTED)
        )
    }
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.class_id == class_id)
            .options(joinedload(Enrolment.learner).joinedload(User.company))
            .order_by(Enrolment.waitlisted_at, Enrolment.requested_at, Enrolment.id)
        )
    )
    return sorted(enrolments, key=lambda e: order.get(e.status, len(order)))
