"""The waitlist of a full class: first come, first served.

A learner joins the waitlist when a request finds the class full. A seat that comes free (a
withdrawal, a rejection, a larger capacity) goes to the first waitlisted learner who may
still hold it, in the same transaction that frees it, under the class lock (see the lock
order in :mod:`skillsup.services.enrolment`). A learner passed over keeps their place in line.

A learner joining the waitlist is placed and told their position under the class's sole lock
(:func:`place_in_line`), so that a burst of joiners is told distinct positions, each the one
the line shows; joiners queue for that lock a moment each, one statement and an insert.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import BindParameter, Select, and_, bindparam, func, select

from ..extensions import db
from ..models import ClassSession, CourseClass, Enrolment, EnrolmentStatus, User, utcnow
from ..reasons import PROMOTED_FROM_WAITLIST, reason
from .eligibility import can_hold_a_place, clashing_class, has_ended, last_session_end
from .enrolment import lock_class, record_transition, take_seat, try_lock_learner
from .seat_quotas import lock_quotas_of_waitlists, quota_allows


def promotes_now(course_class: CourseClass, now: datetime) -> bool:
    """Whether a seat of the class freed now goes to its waitlist: not once the class is
    finished or its last session has ended (there are no sessions left to attend)."""
    return not course_class.is_finished and not has_ended(last_session_end(course_class.id), now)


def waitlist_length(class_id: int) -> int:
    """How many learners wait on the class's waitlist."""
    return int(
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED
            )
        )
        or 0
    )


def promote_waitlist(
    course_class: CourseClass, actor: User | None, *, now: datetime | None = None
) -> list[Enrolment]:
    """Fill the class's free seats from its waitlist, first come, first served.

    A waitlisted learner whose account or company is inactive, whose company has no quota
    left, or whose timetable would clash is passed over and keeps their place. So is one whose
    row another transaction holds (a request of theirs on its way, or a change to their
    account such as signing in, for the moment it takes): the promotion holds the
    class, and waiting for a learner would break the lock order of
    :mod:`skillsup.services.enrolment` (that request may be waiting for this class), so it
    takes each learner's lock only if it is free (their place waits for the next freed
    seat, a rare and short miss, against a deadlock). The quota rows of every company
    in line are locked at once, in id order, before the first promotion. Once the class's
    last session has ended nobody is promoted: a seat freed then has no sessions left to
    attend. Returns the
    promoted enrolments, each told by e-mail.
    """
    now = now or utcnow()
    locked = lock_class(course_class.id)
    if not promotes_now(locked, now):
        return []
    promoted: list[Enrolment] = []
    free = locked.capacity - locked.seats_taken
    if free <= 0:
        return promoted
    candidates = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.class_id == locked.id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.waitlisted_at, Enrolment.id)
        .with_for_update()
    ).all()
    if not candidates:
        return promoted
    lock_quotas_of_waitlists([locked.id])
    for candidate in candidates:
        if len(promoted) >= free:
            break
        if not try_lock_learner(candidate.learner_id):
            continue
        learner = candidate.learner
        if not can_hold_a_place(learner) or not quota_allows(learner, locked):
            continue
        if clashing_class(learner.id, locked.id) is not None:
            continue
        if not take_seat(locked.id):
            break
        candidate.confirmed_at = now
        record_transition(
            candidate, EnrolmentStatus.CONFIRMED, actor, [reason(PROMOTED_FROM_WAITLIST)], now
        )
        promoted.append(candidate)
    db.session.refresh(locked)
    return promoted


@dataclass(frozen=True)
class Line:
    """A class's waitlist as a newcomer finds it (:func:`line_of`)."""

    #: How many wait in it.
    length: int
    #: When the last of them joined; ``None`` for an empty line.
    last_joined_at: datetime | None
    #: When the class's last session ends (:func:`.eligibility.last_session_end`).
    last_session_end: datetime | None

    def place(self, now: datetime) -> tuple[datetime, int]:
        """When a newcomer joining now joins the line, and their position: at the end, never
        before someone already in it, even if their request was read a moment earlier."""
        last = self.last_joined_at
        return (now if last is None or last < now else last), self.length + 1


def line_of(class_id: int) -> Line:
    """The class's waitlist and when its last session ends, in one statement: for a request
    that finds the class full, under the class's sole lock (as :func:`place_in_line`), which
    needs both and is one statement shorter under the lock this way."""
    count, last, ended_at = db.session.execute(_line_statement(), {"class_id": class_id}).one()
    return Line(int(count or 0), last, ended_at)


@functools.cache
def _line_statement() -> Select[int, datetime | None, datetime | None]:
    # Built once: most of a rush for a full class runs it, one request after another.
    class_id: BindParameter[int] = bindparam("class_id")
    return select(
        func.count(Enrolment.id),
        func.max(Enrolment.waitlisted_at),
        select(func.max(ClassSession.ends_at))
        .where(ClassSession.class_id == class_id, ClassSession.is_cancelled.is_(False))
        .scalar_subquery(),
    ).where(Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED)


def place_in_line(class_id: int, now: datetime) -> tuple[datetime, int]:
    """When a learner joining the class's waitlist now joins it, and their position.

    The caller holds the class's sole lock, so every earlier joiner has committed and the
    count is final: the newcomer goes to the end of the line (never before someone already
    in it, even if their request was read a moment earlier), and the position told is the
    one the line will show.
    """
    count, last = db.session.execute(
        select(func.count(Enrolment.id), func.max(Enrolment.waitlisted_at)).where(
            Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED
        )
    ).one()
    joined_at = now if last is None or last < now else last
    return joined_at, int(count or 0) + 1


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
