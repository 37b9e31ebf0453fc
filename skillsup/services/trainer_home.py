"""The trainer's home page: their classes grouped running, upcoming and past, and their next
sessions.

A trainer sees the classes they are assigned to; an admin sees every class not yet completed or
cancelled. A class over but not closed yet says so, by the rule of :mod:`.class_closing`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    FINISHED_STATUSES,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
    class_trainers,
    utcnow,
)
from ..timeutil import hk_date
from .class_closing import closing_refusal


@dataclass(frozen=True)
class HomeClass:
    """A class on the trainer's home page, with its counts and the span of its sessions."""

    course_class: CourseClass
    confirmed: int
    waitlisted: int
    first_start: datetime | None
    last_end: datetime | None
    next_session: datetime | None
    now: datetime

    @property
    def is_finished(self) -> bool:
        return self.course_class.is_finished

    @property
    def has_ended(self) -> bool:
        """Its last session is over (or, without sessions, its last day has passed)."""
        if self.last_end is not None:
            return self.last_end <= self.now
        return self.course_class.ends_on < hk_date(self.now)

    @property
    def has_started(self) -> bool:
        if self.first_start is not None:
            return self.first_start <= self.now
        return self.course_class.starts_on <= hk_date(self.now)

    @property
    def needs_closing(self) -> bool:
        """Over, but the outcomes are not recorded yet."""
        return closing_refusal(self.course_class, self.last_end, self.now) is None and (
            self.has_ended
        )

    @property
    def group(self) -> str:
        if self.is_finished or self.has_ended:
            return "past"
        if self.course_class.status == ClassStatus.RUNNING or self.has_started:
            return "running"
        return "upcoming"


@dataclass(frozen=True)
class NextSession:
    session: ClassSession
    course_class: CourseClass
    course: Course
    #: Under way: its attendance can be taken.
    started: bool


@dataclass
class TrainerHome:
    running: list[HomeClass] = field(default_factory=list)
    upcoming: list[HomeClass] = field(default_factory=list)
    past: list[HomeClass] = field(default_factory=list)
    next_sessions: list[NextSession] = field(default_factory=list)
    sees_all: bool = False


def _aware(value: datetime | str | None) -> datetime | None:
    # SQLite returns an aggregate over a UTC column as text without the column's type.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def trainer_home(
    actor: User, *, now: datetime | None = None, session_limit: int = 10
) -> TrainerHome:
    """A trainer's classes grouped running, upcoming and past, and their next sessions.

    A trainer sees the classes they are assigned to; an admin sees every class that is not
    yet completed or cancelled (running, upcoming, and over but not closed). Two queries.
    """
    now = now or utcnow()
    sees_all = permissions.is_admin(actor)

    def _session_bound(aggregate: Any, *conditions: Any) -> Any:
        return (
            select(aggregate)
            .where(
                ClassSession.class_id == CourseClass.id,
                ClassSession.is_cancelled.is_(False),
                *conditions,
            )
            .scalar_subquery()
        )

    def _count(status: EnrolmentStatus) -> Any:
        return (
            select(func.count(Enrolment.id))
            .where(Enrolment.class_id == CourseClass.id, Enrolment.status == status)
            .scalar_subquery()
        )

    statement = select(
        CourseClass,
        _count(EnrolmentStatus.CONFIRMED),
        _count(EnrolmentStatus.WAITLISTED),
        _session_bound(func.min(ClassSession.starts_at)),
        _session_bound(func.max(ClassSession.ends_at)),
        _session_bound(func.min(ClassSession.starts_at), ClassSession.starts_at >= now),
    ).options(joinedload(CourseClass.course))
    if sees_all:
        statement = statement.where(CourseClass.status.not_in(FINISHED_STATUSES))
    else:
        statement = statement.where(
            CourseClass.id.in_(
                select(class_trainers.c.class_id).where(class_trainers.c.trainer_id == actor.id)
            )
        )
    home = TrainerHome(sees_all=sees_all)
    rows = db.session.execute(statement.order_by(CourseClass.starts_on, CourseClass.code))
    for course_class, confirmed, waitlisted, first, last, upcoming in rows:
        item = HomeClass(
            course_class,
            int(confirmed or 0),
            int(waitlisted or 0),
            _aware(first),
            _aware(last),
            _aware(upcoming),
            now,
        )
        getattr(home, item.group).append(item)
    home.past.sort(key=lambda item: (item.course_class.ends_on, item.course_class.code))
    home.past.reverse()

    sessions = (
        select(ClassSession, CourseClass, Course)
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .where(
            ClassSession.ends_at >= now,
            ClassSession.is_cancelled.is_(False),
            CourseClass.status.not_in(FINISHED_STATUSES),
        )
        .order_by(ClassSession.starts_at, ClassSession.id)
        .limit(session_limit)
    )
    if not sees_all:
        sessions = sessions.join(
            class_trainers,
            and_(
                class_trainers.c.class_id == CourseClass.id,
                class_trainers.c.trainer_id == actor.id,
            ),
        )
    home.next_sessions = [
        NextSession(s, c, course, s.starts_at <= now)
        for s, c, course in db.session.execute(sessions)
    ]
    return home
