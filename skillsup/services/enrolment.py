"""Enrolment: the life cycle of a learner's place in a class.

Every path that changes an enrolment (a learner's button, an HR nomination, a CSV import, an
admin action, a CLI command, a trainer closing a class) goes through the functions of this
module and of :mod:`.enrolment_requests`, :mod:`.waitlist`, :mod:`.eligibility` and
:mod:`.seat_quotas`, so the rules hold whatever the path:

- a class never has more confirmed learners than its capacity: seats are taken only by one
  conditional ``UPDATE ... WHERE seats_taken < capacity`` (:func:`take_seat`), backed by a
  CHECK constraint;
- a learner has at most one active (pending, confirmed, waitlisted) enrolment per class,
  backed by a partial unique index;
- the waitlist is first come, first served, and a freed seat goes to the first eligible
  waitlisted learner in the same transaction that frees it;
- a company never uses more seats than its quota (the statuses in :data:`QUOTA_STATUSES`
  count);
- nothing is deleted: every transition is recorded with who, when, from, to and why
  (:func:`record_transition`).

This module holds what every change shares: the class lock, the seat count, the record of
each transition. Functions flush but never commit; e-mail they cause is queued and leaves
after the commit.

Lock order, to stay free of deadlocks. Every path takes its row locks in this one order, and
never waits for a lock of an earlier kind once it holds one of a later kind:

1. the learner's row (``users``, :func:`lock_learner`): a learner's own requests, nominations,
   imports, admin enrolments and approvals are serialised per learner, so that the rules
   about the learner's other classes (a timetable clash, a duplicate) are checked
   under it and two requests at once cannot both pass them;
2. the class's row (:func:`lock_class`): every change to its seats, enrolments, roster or
   timetable;
3. the company's seat quota rows, in id order (:mod:`.seat_quotas`).

A transaction that works on several learners or classes (a CSV import, an HR officer's
decisions on several requests, a deactivation) takes them all first, learners then classes,
each kind in id order (:func:`lock_learners_and_classes`), and then, in one statement in id
order, the quotas it may count against: the company's for an import, those of the learners
waiting in its classes where a seat may come free (``enrolment_requests.lock_for_several``).
A promotion, which may count against several companies' quotas, locks them all at once too.

A waitlist promotion holds the class and then needs the learners it promotes: it does not wait
for them. It locks each learner with ``SKIP LOCKED`` (:func:`try_lock_learner`); a learner
whose row is held elsewhere (a request of their own is on its way, which may be waiting for
this very class) is passed over this time and keeps their place in line, as one whose
quota is used up is. Waiting instead could deadlock: that request holds the learner and waits
for the class. The learner's row is taken ``FOR NO KEY UPDATE``: it excludes the learner's
other enrolment changes but not the foreign-key checks of rows that merely refer to the
learner (an e-mail in the outbox, an audit entry), so those never wait for it.

A request that waits for approval takes no seat and holds the class row in shared mode,
beside others like it (:func:`lock_for_request`); everything else, joining the waitlist
included, holds it alone (so waitlist positions are told one after another and are right).

SQLite has no row locks and drops ``FOR UPDATE``: there every write transaction holds the
database's write lock from its start (``BEGIN IMMEDIATE``), which serialises all of the above.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select, update
from sqlalchemy.orm import SessionTransaction, joinedload
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.dml import ReturningUpdate

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
    utcnow,
)
from ..reasons import Reason, or_none
from . import audit, notify, webhook_events
from .errors import DomainError, NotFound


class EnrolmentRefused(DomainError):
    """The request breaks an enrolment rule; the message says which."""


# A seat counts against the quota from the request (pending) to the end of the class: a
# completed class does not give its seats back.
QUOTA_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


# ---------------------------------------------------------------------------------------------
# The class lock and its seats


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
    class's seats but leaves them as they are (see :func:`lock_for_request`).
    """
    course_class = db.session.scalar(_lock_class_statement(shared), {"class_id": class_id})
    if course_class is None:
        raise NotFound()
    if course is not None and course.id == course_class.course_id:
        set_committed_value(course_class, "course", course)
    return course_class


# The statements of an enrolment request, built once: a rush runs them hundreds of times a
# second, and making a statement anew costs more of the processor than running it.


@functools.cache
def _lock_class_statement(shared: bool) -> Select[CourseClass]:
    return (
        select(CourseClass)
        .where(CourseClass.id == bindparam("class_id"))
        .with_for_update(read=shared)
        .execution_options(populate_existing=True)
    )


@functools.cache
def _lock_learner_statement() -> Select[int]:
    return select(User.id).where(User.id == bindparam("learner_id")).with_for_update(key_share=True)


@functools.cache
def _take_seat_statement() -> ReturningUpdate[int]:
    return (
        update(CourseClass)
        .where(
            CourseClass.id == bindparam("class_id"),
            CourseClass.seats_taken < CourseClass.capacity,
        )
        .values(seats_taken=CourseClass.seats_taken + 1)
        .returning(CourseClass.seats_taken)
        .execution_options(synchronize_session=False)
    )


def lock_for_request(
    course_class: CourseClass, *, takes_no_seat: bool
) -> tuple[SessionTransaction, CourseClass]:
    """A savepoint begun for a new request, and the class locked in it.

    A request that waits for approval takes no seat and reads nothing that another request
    changes: it takes the class's lock in shared mode, beside others like it. Every other
    request takes the sole lock, also one that finds the class full and joins its waitlist:
    its place in line, and the position it is told, are worked out under the lock, after
    every earlier joiner has committed, so that a burst tells distinct positions that match
    the final order. Joining costs one short statement and an insert under the lock (held to
    the commit, which follows at once), so a rush for a full class queues briefly on it.
    """
    savepoint = db.session.begin_nested()
    try:
        if takes_no_seat:
            return savepoint, lock_class(course_class.id, course_class.course, shared=True)
        return savepoint, lock_class(course_class.id, course_class.course)
    except BaseException:
        savepoint.rollback()
        raise


def lock_learner(learner_id: int) -> None:
    """Lock the learner's row until the transaction ends (first in the lock order).

    Taken ``FOR NO KEY UPDATE``: it serialises the learner's enrolment changes without making
    rows that merely refer to the learner (their foreign-key checks) wait.
    """
    db.session.execute(_lock_learner_statement(), {"learner_id": learner_id}).first()


def try_lock_learner(learner_id: int) -> bool:
    """Lock the learner's row unless another transaction holds it; whether it is now held.

    For a waitlist promotion, which holds the class already and so must not wait for a
    learner (see the lock order above).
    """
    return (
        db.session.execute(
            select(User.id)
            .where(User.id == learner_id)
            .with_for_update(key_share=True, skip_locked=True)
        ).first()
        is not None
    )


def lock_learners_and_classes(learner_ids: Iterable[int], class_ids: Iterable[int]) -> None:
    """Lock several learners and then several classes, each in id order, for a transaction
    that changes enrolments of several learners or classes: taken one by one as the work
    goes, a learner locked after a class would break the lock order."""
    learners = sorted(set(learner_ids))
    if learners:
        db.session.execute(
            select(User.id)
            .where(User.id.in_(learners))
            .order_by(User.id)
            .with_for_update(key_share=True)
        ).all()
    classes = sorted(set(class_ids))
    if classes:
        db.session.execute(
            select(CourseClass.id)
            .where(CourseClass.id.in_(classes))
            .order_by(CourseClass.id)
            .with_for_update()
        ).all()


def take_seat(class_id: int) -> int | None:
    """Take one seat if one is free: the only way ``seats_taken`` grows. Returns the seats
    now taken, or ``None`` when the class is full. The caller holds the class's sole lock."""
    taken = db.session.execute(_take_seat_statement(), {"class_id": class_id}).first()
    return None if taken is None else int(taken[0])


def give_back_seat(class_id: int) -> None:
    """Give back one seat of the class (never below none). The caller holds its sole lock."""
    db.session.execute(
        update(CourseClass)
        .where(CourseClass.id == class_id, CourseClass.seats_taken > 0)
        .values(seats_taken=CourseClass.seats_taken - 1)
        .execution_options(synchronize_session=False)
    )


def active_enrolment_counts(class_id: int) -> dict[EnrolmentStatus, int]:
    """How many active enrolments of each status the class has: those that cancelling it
    cancels (:func:`cancel_class_enrolments`)."""
    return {
        status: int(count)
        for status, count in db.session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.class_id == class_id, Enrolment.status.in_(ACTIVE_STATUSES))
            .group_by(Enrolment.status)
        )
    }


def cancel_class_enrolments(
    course_class: CourseClass,
    actor: User | None,
    reasons: Sequence[Reason] | None,
    *,
    now: datetime | None = None,
) -> list[Enrolment]:
    """Cancel every active enrolment of a class being cancelled, freeing all its seats.

    Each learner is told, with the ``reasons``. Returns the cancelled enrolments.
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
        record_transition(enrolment, EnrolmentStatus.CANCELLED, actor, reasons, now)
    db.session.execute(
        update(CourseClass)
        .where(CourseClass.id == locked.id)
        .values(seats_taken=0)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(locked)
    return cancelled


# ---------------------------------------------------------------------------------------------
# The record of every change


def record_request(
    enrolment: Enrolment, actor: User, reasons: Sequence[Reason] | None, now: datetime
) -> None:
    """Record a new enrolment (just flushed) in its history and in the audit log, and tell
    the learner (and the HR officers, for a request that waits for them) by e-mail."""
    _record(enrolment, None, enrolment.status, actor, reasons, now)
    notify.enrolment_changed(enrolment, None)


def record_transition(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User | None,
    reasons: Sequence[Reason] | None,
    now: datetime,
    *,
    tell_learner: bool = True,
) -> None:
    """Move an enrolment to ``to`` and record it, with its ``reasons`` (codes with their
    figures, :mod:`skillsup.reasons`): in its history, in the audit log and, unless
    ``tell_learner`` is false, by e-mail to the learner.

    This records; it checks no rule. Callers hold the class row lock and have decided that
    the transition is allowed.
    """
    previous = enrolment.status
    enrolment.status = to
    enrolment.status_reasons = or_none(reasons or ())
    enrolment.acted_by_id = actor.id if actor is not None else None
    enrolment.decided_at = now
    if to == EnrolmentStatus.WAITLISTED and enrolment.waitlisted_at is None:
        enrolment.waitlisted_at = now
    db.session.flush()
    _record(enrolment, previous, to, actor, reasons, now)
    if tell_learner:
        notify.enrolment_changed(enrolment, previous)


def _record(
    enrolment: Enrolment,
    previous: EnrolmentStatus | None,
    to: EnrolmentStatus,
    actor: User | None,
    reasons: Sequence[Reason] | None,
    now: datetime,
) -> None:
    kept = or_none(reasons or ())
    db.session.add(
        EnrolmentStatusChange(
            enrolment_id=enrolment.id,
            from_status=previous,
            to_status=to,
            actor_id=actor.id if actor is not None else None,
            reasons=kept,
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
            "reasons": kept,
        },
    )
    # Partner companies' HR systems hear of it in the same transaction (their outbox).
    webhook_events.enrolment_changed(enrolment, previous, kept, now)


# ---------------------------------------------------------------------------------------------
# Reading


# Built once: every request about a class by its code (enrol, its pages) runs it.
_CLASS_BY_CODE = (
    select(CourseClass)
    .where(CourseClass.code == bindparam("code"))
    .options(joinedload(CourseClass.course))
)


def find_class_by_code(code: str) -> CourseClass | None:
    """The class with this code (in any case), its course loaded with it."""
    return db.session.scalar(_CLASS_BY_CODE, {"code": code.strip().upper()})


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
