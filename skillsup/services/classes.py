"""Programme administration of classes and their sessions.

The rules for creating and changing a class, its timetable and its status. Every function
takes the acting admin, flushes but never commits, records what it changed in the audit
log, and refuses with a :class:`DomainError` whose ``field`` names the form field to blame.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from .. import permissions
from ..extensions import db
from ..labels import label
from ..models import (
    Attendance,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    Role,
    SkillArea,
    User,
)
from ..timeutil import (
    hk_date,
    hk_to_utc,
    hong_kong_public_holidays,
    now_utc,
    start_of_hk_day_utc,
    to_hk,
)
from . import audit
from .enrolment import lock_class
from .errors import DomainError, PermissionDenied, ValidationFailed
from .search import contains_pattern

MAX_SERIES_WEEKS = 52


class InvalidTransition(DomainError):
    """The class's status does not allow the requested status change."""


class ClassNotReady(DomainError):
    """The class lacks something the requested status needs (sessions, a trainer, dates)."""


class ClassLocked(DomainError):
    """The class is completed or cancelled and can no longer be changed."""

    default_message = _l("This class is completed or cancelled: it can no longer be changed.")


class SessionHasAttendance(DomainError):
    """The session already has attendance records, so removing it would lose them."""

    default_message = _l(
        "Attendance has already been taken for this session, so it cannot be removed. "
        "Edit its date or time instead."
    )


# Inputs ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassData:
    """What an admin enters for a class. Datetimes are aware (the form's Hong Kong time
    converted to UTC); dates are Hong Kong calendar days."""

    course_id: int
    code: str
    capacity: int
    starts_on: date
    ends_on: date
    enrolment_opens_at: datetime
    enrolment_closes_at: datetime
    withdrawal_deadline_at: datetime
    trainer_ids: Sequence[int] = ()
    venue: str | None = None
    online_url: str | None = None
    min_attendance_pct: int = 80
    assessment_required: bool = False


@dataclass(frozen=True)
class SessionData:
    """One session as entered: a Hong Kong day, start and end wall-clock times, a room."""

    day: date
    start_time: time
    end_time: time
    room: str | None = None


@dataclass(frozen=True)
class SeriesSpec:
    """A weekly series of sessions: on ``weekdays`` (0 = Monday) for ``weeks`` weeks from
    ``first_date``, leaving out ``skip_dates`` and, if asked, Hong Kong public holidays."""

    weekdays: frozenset[int]
    start_time: time
    end_time: time
    first_date: date
    weeks: int
    skip_dates: frozenset[date] = frozenset()
    skip_public_holidays: bool = True
    room: str | None = None


@dataclass(frozen=True)
class ClassFilters:
    """The admin's class list filters; ``start_month`` is the first day of a month."""

    query: str | None = None
    status: ClassStatus | None = None
    skill_area: SkillArea | None = None
    start_month: date | None = None


# Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClassUpdate:
    """What :func:`update_class` changed: ``changes`` maps a field to ``(old, new)``."""

    course_class: CourseClass
    changes: dict[str, tuple[Any, Any]]
    promoted: list[Enrolment] = field(default_factory=list)


@dataclass(frozen=True)
class SessionTimes:
    """A session's place in the timetable, as it was or became."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    room: str | None

    @classmethod
    def of(cls, session: ClassSession) -> SessionTimes:
        return cls(session.id, session.starts_at, session.ends_at, session.room)

    def describe(self) -> str:
        start, end = to_hk(self.starts_at), to_hk(self.ends_at)
        room = f" in {self.room}" if self.room else ""
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}{room}"


@dataclass(frozen=True)
class ScheduleChange:
    """A change to a class's timetable; its confirmed learners are told by e-mail."""

    action: str
    course_class: CourseClass
    before: tuple[SessionTimes, ...]
    after: tuple[SessionTimes, ...]
    confirmed_learners: int

    @property
    def needs_announcement(self) -> bool:
        return self.confirmed_learners > 0 and self.before != self.after


def _announced_change(*args: Any) -> ScheduleChange:
    """The change, after telling the class's confirmed learners about it by e-mail (written to
    the outbox in the same transaction)."""
    change = ScheduleChange(*args)
    if change.needs_announcement:
        from . import notify

        notify.schedule_changed(change)
    return change


class StatusAction(enum.StrEnum):
    OPEN_ENROLMENT = "open-enrolment"
    CLOSE_ENROLMENT = "close-enrolment"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"


#: For each action: the statuses it may start from and the status it leads to.
TRANSITIONS: dict[StatusAction, tuple[frozenset[ClassStatus], ClassStatus]] = {
    StatusAction.OPEN_ENROLMENT: (
        frozenset({ClassStatus.DRAFT, ClassStatus.CLOSED}),
        ClassStatus.OPEN,
    ),
    StatusAction.CLOSE_ENROLMENT: (frozenset({ClassStatus.OPEN}), ClassStatus.CLOSED),
    StatusAction.START: (
        frozenset({ClassStatus.OPEN, ClassStatus.CLOSED}),
        ClassStatus.RUNNING,
    ),
    StatusAction.COMPLETE: (frozenset({ClassStatus.RUNNING}), ClassStatus.COMPLETED),
    StatusAction.CANCEL: (
        frozenset(ClassStatus) - {ClassStatus.COMPLETED, ClassStatus.CANCELLED},
        ClassStatus.CANCELLED,
    ),
}

_TRANSITION_REFUSALS = {
    StatusAction.OPEN_ENROLMENT: _l(
        "Enrolment can be opened only for a draft class or one whose enrolment is closed; "
        "this class is “%(status)s”."
    ),
    StatusAction.CLOSE_ENROLMENT: _l(
        "Enrolment can be closed only while it is open; this class is “%(status)s”."
    ),
    StatusAction.START: _l(
        "Only a class whose enrolment is open or closed can start; this class is “%(status)s”."
    ),
    StatusAction.COMPLETE: _l("Only a running class can be completed; this class is “%(status)s”."),
    StatusAction.CANCEL: _l("A class that is “%(status)s” cannot be cancelled."),
}


@dataclass(frozen=True)
class StatusChange:
    """A status change and, for a cancellation, the enrolments it cancelled."""

    course_class: CourseClass
    old: ClassStatus
    new: ClassStatus
    cancelled_enrolments: list[Enrolment] = field(default_factory=list)


@dataclass(frozen=True)
class ClassListRow:
    course_class: CourseClass
    confirmed: int
    waitlisted: int
    pending: int


# Queries -----------------------------------------------------------------------------------


def _count_of(status: EnrolmentStatus) -> Any:
    return (
        select(func.count(Enrolment.id))
        .where(Enrolment.class_id == CourseClass.id, Enrolment.status == status)
        .correlate(CourseClass)
        .scalar_subquery()
    )


def class_list(filters: ClassFilters) -> Select[tuple[CourseClass, int, int, int]]:
    """Classes matching the filters with their confirmed, waitlisted and pending counts, in
    one query (the counts are scalar subqueries); newest start first."""
    statement = (
        select(
            CourseClass,
            _count_of(EnrolmentStatus.CONFIRMED).label("confirmed"),
            _count_of(EnrolmentStatus.WAITLISTED).label("waitlisted"),
            _count_of(EnrolmentStatus.PENDING).label("pending"),
        )
        .join(Course, CourseClass.course_id == Course.id)
        .options(contains_eager(CourseClass.course), selectinload(CourseClass.trainers))
        .order_by(CourseClass.starts_on.desc(), CourseClass.code)
    )
    if filters.query and filters.query.strip():
        pattern = contains_pattern(filters.query.strip())
        statement = statement.where(
            or_(
                CourseClass.code.ilike(pattern, escape="\\"),
                Course.code.ilike(pattern, escape="\\"),
                Course.title_en.ilike(pattern, escape="\\"),
                Course.title_zh.ilike(pattern, escape="\\"),
            )
        )
    if filters.status is not None:
        statement = statement.where(CourseClass.status == filters.status)
    if filters.skill_area is not None:
        statement = statement.where(Course.skill_area == filters.skill_area)
    if filters.start_month is not None:
        first = filters.start_month.replace(day=1)
        following = (first + timedelta(days=32)).replace(day=1)
        statement = statement.where(
            CourseClass.starts_on >= first, CourseClass.starts_on < following
        )
    return statement


def enrolment_counts(course_class: CourseClass) -> dict[EnrolmentStatus, int]:
    """The class's enrolments by status (every status present, zero when none)."""
    counts = dict(
        db.session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.class_id == course_class.id)
            .group_by(Enrolment.status)
        ).all()
    )
    return {status: counts.get(status, 0) for status in EnrolmentStatus}


def course_choices(include_id: int | None = None) -> Select[tuple[int, str, str, str | None]]:
    """Courses a class may be of: all but archived ones (and the class's own course)."""
    condition: Any = Course.status != CourseStatus.ARCHIVED
    if include_id is not None:
        condition = or_(condition, Course.id == include_id)
    return (
        select(Course.id, Course.code, Course.title_en, Course.title_zh)
        .where(condition)
        .order_by(Course.code)
    )


def trainer_choices(include_ids: Iterable[int] = ()) -> Select[tuple[int, str, str, bool]]:
    """Active trainers (and any already assigned, even if no longer active), by name."""
    include = list(include_ids)
    condition: Any = User.is_active.is_(True)
    if include:
        condition = or_(condition, User.id.in_(include))
    return (
        select(User.id, User.name, User.email, User.is_active)
        .where(User.role == Role.TRAINER, condition)
        .order_by(User.name, User.id)
    )


def allowed_actions(course_class: CourseClass) -> list[StatusAction]:
    """The status actions the class's current status allows, in the order of its life."""
    return [
        action for action, (sources, _) in TRANSITIONS.items() if course_class.status in sources
    ]


# Classes -----------------------------------------------------------------------------------


def create_class(actor: User, data: ClassData) -> CourseClass:
    """Create a draft class of a course.

    The code is stored upper-case and must be unique; trainers must be active users with the
    trainer role; the class needs a venue or an online link (an http(s) address); capacity
    is at least 0; the minimum attendance is 0-100 %; enrolment closes after it opens; the
    withdrawal deadline is no later than the start of the class's first day; the class ends
    on or after the day it starts.

    Raises :class:`PermissionDenied` for anyone but an admin and :class:`ValidationFailed`
    (with ``field`` naming the offending input) for each broken rule.
    """
    _require_admin(actor)
    course = _course(data.course_id)
    code = _clean_code(data.code)
    _check_code_free(code, exclude_id=None)
    trainers = _trainers(data.trainer_ids, already=())
    venue, online_url = _check_place(data.venue, data.online_url)
    _check_numbers(data, seats_taken=0)
    _check_dates(data)
    course_class = CourseClass(
        course=course,
        code=code,
        venue=venue,
        online_url=online_url,
        capacity=data.capacity,
        seats_taken=0,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        enrolment_opens_at=data.enrolment_opens_at,
        enrolment_closes_at=data.enrolment_closes_at,
        withdrawal_deadline_at=data.withdrawal_deadline_at,
        min_attendance_pct=data.min_attendance_pct,
        assessment_required=data.assessment_required,
        status=ClassStatus.DRAFT,
    )
    course_class.trainers = trainers
    db.session.add(course_class)
    _flush_checking_code(code, exclude_id=None)
    audit.record(
        actor,
        "class.created",
        course_class,
        f"created class {code} of {course.code}",
        {field_name: value for field_name, (_, value) in _snapshot(course_class).items()},
    )
    return course_class


def update_class(actor: User, course_class: CourseClass, data: ClassData) -> ClassUpdate:
    """Change a class's details.

    The rules of :func:`create_class` apply, and also: the capacity is never below the
    number of confirmed learners; the course cannot change once anyone has enrolled; the
    class's dates must still hold all its sessions; a completed or cancelled class cannot be
    changed. Raising the capacity fills the new seats from the waitlist, first come first
    served, in the same transaction.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and :class:`ValidationFailed`.
    """
    _require_admin(actor)
    _lock(course_class)
    _check_not_frozen(course_class)
    course = _course(data.course_id)
    if course.id != course_class.course_id and _has_enrolments(course_class):
        raise ValidationFailed(
            _l("Learners have enrolled in this class, so its course cannot change."),
            field="course_id",
        )
    code = _clean_code(data.code)
    if code != course_class.code:
        _check_code_free(code, exclude_id=course_class.id)
    trainers = _trainers(data.trainer_ids, already=[t.id for t in course_class.trainers])
    venue, online_url = _check_place(data.venue, data.online_url)
    _check_numbers(data, seats_taken=course_class.seats_taken)
    _check_dates(data)
    _check_sessions_within(course_class, data.starts_on, data.ends_on)

    before = _snapshot(course_class)
    old_capacity = course_class.capacity
    course_class.course = course
    course_class.code = code
    course_class.venue = venue
    course_class.online_url = online_url
    course_class.capacity = data.capacity
    course_class.starts_on = data.starts_on
    course_class.ends_on = data.ends_on
    course_class.enrolment_opens_at = data.enrolment_opens_at
    course_class.enrolment_closes_at = data.enrolment_closes_at
    course_class.withdrawal_deadline_at = data.withdrawal_deadline_at
    course_class.min_attendance_pct = data.min_attendance_pct
    course_class.assessment_required = data.assessment_required
    if {t.id for t in course_class.trainers} != {t.id for t in trainers}:
        course_class.trainers = trainers
    after = _snapshot(course_class)
    changes = {
        name: (before[name][1], after[name][1]) for name in after if before[name] != after[name]
    }
    if not changes:
        return ClassUpdate(course_class, {})
    _flush_checking_code(code, exclude_id=course_class.id)
    audit.record(
        actor,
        "class.updated",
        course_class,
        f"changed {', '.join(changes)} of class {course_class.code}",
        {name: {"old": old, "new": new} for name, (old, new) in changes.items()},
    )
    promoted: list[Enrolment] = []
    if course_class.capacity > old_capacity:
        from . import enrolment

        promoted = list(enrolment.promote_waitlist(course_class, actor))
    return ClassUpdate(course_class, changes, promoted)


def _snapshot(course_class: CourseClass) -> dict[str, tuple[Any, Any]]:
    """Each audited field as (comparison value, value to record)."""

    def hk(value: datetime) -> str:
        return to_hk(value).isoformat(timespec="minutes")

    return {
        "course": (course_class.course.id, course_class.course.code),
        "code": (course_class.code, course_class.code),
        "trainers": (
            frozenset(t.id for t in course_class.trainers),
            [t.name for t in course_class.trainers],
        ),
        "venue": (course_class.venue, course_class.venue),
        "online_url": (course_class.online_url, course_class.online_url),
        "capacity": (course_class.capacity, course_class.capacity),
        "starts_on": (course_class.starts_on, course_class.starts_on.isoformat()),
        "ends_on": (course_class.ends_on, course_class.ends_on.isoformat()),
        "enrolment_opens_at": (
            course_class.enrolment_opens_at,
            hk(course_class.enrolment_opens_at),
        ),
        "enrolment_closes_at": (
            course_class.enrolment_closes_at,
            hk(course_class.enrolment_closes_at),
        ),
        "withdrawal_deadline_at": (
            course_class.withdrawal_deadline_at,
            hk(course_class.withdrawal_deadline_at),
        ),
        "min_attendance_pct": (course_class.min_attendance_pct, course_class.min_attendance_pct),
        "assessment_required": (
            course_class.assessment_required,
            course_class.assessment_required,
        ),
    }


def _require_admin(actor: User | None) -> None:
    if not permissions.can_manage_catalogue(actor):
        raise PermissionDenied()


def _lock(course_class: CourseClass) -> None:
    """Lock the class row for the rest of the transaction and re-read it: enrolments change
    ``seats_taken`` concurrently, and checks against it must see the latest value and keep it
    until the commit. A class not saved yet has nothing to lock."""
    if course_class.id is not None:
        lock_class(course_class.id)


def _check_not_frozen(course_class: CourseClass) -> None:
    if course_class.is_finished:
        raise ClassLocked()


def _course(course_id: int | None) -> Course:
    course = db.session.get(Course, course_id) if course_id else None
    if course is None:
        raise ValidationFailed(
            _l("Choose the course this class is an intake of."), field="course_id"
        )
    return course


CLASS_CODE = re.compile(r"[A-Z0-9][A-Z0-9-]*")


def _clean_code(code: str | None) -> str:
    cleaned = (code or "").strip().upper()
    if not cleaned:
        raise ValidationFailed(_l("Enter a class code."), field="code")
    if len(cleaned) > 40:
        raise ValidationFailed(_l("A class code has at most 40 characters."), field="code")
    if not CLASS_CODE.fullmatch(cleaned):
        # The code is part of the class's addresses: no slashes, spaces or other oddities.
        raise ValidationFailed(
            _l("Use only letters, digits and hyphens in a class code, e.g. SU-CLD-101-2701."),
            field="code",
        )
    return cleaned


def _check_code_free(code: str, exclude_id: int | None) -> None:
    statement = select(CourseClass.id).where(CourseClass.code == code)
    if exclude_id is not None:
        statement = statement.where(CourseClass.id != exclude_id)
    if db.session.scalar(statement) is not None:
        raise ValidationFailed(
            _l("Another class already has the code %(code)s.", code=code), field="code"
        )


def _flush_checking_code(code: str, exclude_id: int | None) -> None:
    """Flush; a class saved with the same code at the same moment is a duplicate code."""
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        statement = select(CourseClass.id).where(CourseClass.code == code)
        if exclude_id is not None:
            statement = statement.where(CourseClass.id != exclude_id)
        with db.session.no_autoflush:
            taken = db.session.scalar(statement)
        if taken is None:
            raise
        raise ValidationFailed(
            _l("Another class already has the code %(code)s.", code=code), field="code"
        ) from error


def _trainers(trainer_ids: Iterable[int], already: Sequence[int]) -> list[User]:
    """The users for ``trainer_ids``: each an active trainer, or one already assigned."""
    ids = list(dict.fromkeys(trainer_ids))
    if not ids:
        return []
    found = {user.id: user for user in db.session.scalars(select(User).where(User.id.in_(ids)))}
    for trainer_id in ids:
        user = found.get(trainer_id)
        if user is None:
            raise ValidationFailed(
                _l("There is no user #%(id)s to assign as a trainer.", id=trainer_id),
                field="trainer_ids",
            )
        if user.role != Role.TRAINER:
            raise ValidationFailed(
                _l("%(name)s is not a trainer.", name=user.name), field="trainer_ids"
            )
        if not user.is_active and user.id not in already:
            raise ValidationFailed(
                _l("%(name)s's account is deactivated.", name=user.name), field="trainer_ids"
            )
    return sorted((found[i] for i in ids), key=lambda user: (user.name, user.id))


def _check_place(venue: str | None, online_url: str | None) -> tuple[str | None, str | None]:
    venue = (venue or "").strip() or None
    online_url = (online_url or "").strip() or None
    if venue is None and online_url is None:
        raise ValidationFailed(_l("Give a venue, an online link, or both."), field="venue")
    if venue is not None and len(venue) > 200:
        raise ValidationFailed(_l("A venue has at most 200 characters."), field="venue")
    if online_url is not None:
        parts = urlsplit(online_url)
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
            raise ValidationFailed(
                _l("The online link must be a web address starting with https:// or http://."),
                field="online_url",
            )
        if len(online_url) > 500:
            raise ValidationFailed(
                _l("An online link has at most 500 characters."), field="online_url"
            )
    return venue, online_url


def _check_numbers(data: ClassData, seats_taken: int) -> None:
    if data.capacity < 0:
        raise ValidationFailed(_l("The capacity cannot be negative."), field="capacity")
    if data.capacity < seats_taken:
        raise ValidationFailed(
            _nl(
                "%(num)d learner is already confirmed: the capacity cannot be less than that.",
                "%(num)d learners are already confirmed: the capacity cannot be less than that.",
                seats_taken,
            ),
            field="capacity",
        )
    if not 0 <= data.min_attendance_pct <= 100:
        raise ValidationFailed(
            _l("The minimum attendance is a percentage from 0 to 100."),
            field="min_attendance_pct",
        )


def _check_dates(data: ClassData) -> None:
    for value in (data.enrolment_opens_at, data.enrolment_closes_at, data.withdrawal_deadline_at):
        if value.tzinfo is None:
            raise ValueError("class times must be aware datetimes")
    if data.enrolment_closes_at <= data.enrolment_opens_at:
        raise ValidationFailed(
            _l("Enrolment must close after it opens."), field="enrolment_closes_at"
        )
    if data.ends_on < data.starts_on:
        raise ValidationFailed(_l("The class cannot end before it starts."), field="ends_on")
    if data.withdrawal_deadline_at > start_of_hk_day_utc(data.starts_on):
        raise ValidationFailed(
            _l(
                "The withdrawal deadline must be no later than the start of the class's "
                "first day (%(day)s).",
                day=data.starts_on.isoformat(),
            ),
            field="withdrawal_deadline_at",
        )


def _check_sessions_within(course_class: CourseClass, starts_on: date, ends_on: date) -> None:
    days = [hk_date(s.starts_at) for s in course_class.sessions if not s.is_cancelled]
    if days and min(days) < starts_on:
        raise ValidationFailed(
            _l(
                "There is a session on %(day)s, before this start date: move or remove it first.",
                day=min(days).isoformat(),
            ),
            field="starts_on",
        )
    if days and max(days) > ends_on:
        raise ValidationFailed(
            _l(
                "There is a session on %(day)s, after this end date: move or remove it first.",
                day=max(days).isoformat(),
            ),
            field="ends_on",
        )


def _has_enrolments(course_class: CourseClass) -> bool:
    return bool(db.session.scalar(select(exists().where(Enrolment.class_id == course_class.id))))


# Status ------------------------------------------------------------------------------------


def change_status(
    actor: User,
    course_class: CourseClass,
    action: StatusAction,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> StatusChange:
    """Move a class along its life: open enrolment (from draft or closed), close enrolment
    (from open), start (from open or closed), complete (from running, by
    :func:`skillsup.services.rosters.close_class`, which records every learner's outcome) or
    cancel (from anything but completed or cancelled).

    Opening enrolment needs at least one session, a trainer and an enrolment closing time
    still ahead. Cancelling needs a reason, which is kept on the class; every active
    enrolment in the class is cancelled and its learner told.

    Raises :class:`PermissionDenied`, :class:`InvalidTransition` for a status the action
    cannot start from, :class:`ClassNotReady` when opening is premature, and
    :class:`ValidationFailed` (field ``reason``) for a cancellation without a reason.
    """
    _require_admin(actor)
    _lock(course_class)
    sources, target = TRANSITIONS[action]
    old = course_class.status
    if old not in sources:
        raise InvalidTransition(str(_TRANSITION_REFUSALS[action]) % {"status": label(old)})
    reason = (reason or "").strip() or None
    if action is StatusAction.OPEN_ENROLMENT:
        _check_ready_to_open(course_class, now or now_utc())
    if action is StatusAction.CANCEL and reason is None:
        raise ValidationFailed(
            _l("Say why the class is cancelled: the learners will be told."), field="reason"
        )
    if action is StatusAction.COMPLETE:
        # Completing is closing: outcomes, the waitlist let go, certificates, as a trainer's
        # closing does it, never the status alone.
        from . import rosters

        rosters.close_class(actor, course_class, now=now)
        return StatusChange(course_class, old, target)
    course_class.status = target
    if action is StatusAction.CANCEL:
        course_class.status_reason = reason
    db.session.flush()
    audit.record(
        actor,
        "class.status_changed",
        course_class,
        f"{action.value}: class {course_class.code} {old.value} -> {target.value}",
        {"from": old.value, "to": target.value, **({"reason": reason} if reason else {})},
    )
    cancelled: list[Enrolment] = []
    if action is StatusAction.CANCEL:
        from . import enrolment

        cancelled = list(
            enrolment.cancel_class_enrolments(course_class, actor, reason or "", now=now)
        )
    return StatusChange(course_class, old, target, cancelled)


def _check_ready_to_open(course_class: CourseClass, now: datetime) -> None:
    if not any(not s.is_cancelled for s in course_class.sessions):
        raise ClassNotReady(_l("Add at least one session before opening enrolment."))
    if not course_class.trainers:
        raise ClassNotReady(_l("Assign a trainer before opening enrolment."))
    if course_class.enrolment_closes_at <= now:
        raise ClassNotReady(
            _l("The enrolment closing time has passed: change it before opening enrolment.")
        )


# Sessions ----------------------------------------------------------------------------------


def _confirmed(course_class: CourseClass) -> int:
    return course_class.seats_taken


def add_session(actor: User, course_class: CourseClass, data: SessionData) -> ScheduleChange:
    """Add one session to a class.

    It ends after it starts, falls on a day within the class's dates, and overlaps no other
    session of the class. The change is audited with its times; the returned change tells
    whether confirmed learners need to hear about it.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and :class:`ValidationFailed`
    (fields ``end_time``, ``day``, ``start_time``).
    """
    _require_admin(actor)
    _lock(course_class)
    _check_not_frozen(course_class)
    starts_at, ends_at = _session_times(course_class, data, exclude=None)
    session = ClassSession(starts_at=starts_at, ends_at=ends_at, room=_clean_room(data.room))
    course_class.sessions.append(session)
    db.session.flush()
    after = SessionTimes.of(session)
    audit.record(
        actor,
        "session.added",
        course_class,
        f"added session {after.describe()}",
        {
            "session_id": session.id,
            "new": _times_detail(after),
            "confirmed_learners": _confirmed(course_class),
        },
    )
    return _announced_change("session.added", course_class, (), (after,), _confirmed(course_class))


def update_session(actor: User, session: ClassSession, data: SessionData) -> ScheduleChange:
    """Move a session or change its room; the rules of :func:`add_session` apply.

    A real change bumps the session's ``sequence`` (so calendar entries update in place)
    and is audited with the old and new times; no change records nothing.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and :class:`ValidationFailed`.
    """
    _require_admin(actor)
    course_class = session.course_class
    _lock(course_class)
    _check_not_frozen(course_class)
    starts_at, ends_at = _session_times(course_class, data, exclude=session)
    before = SessionTimes.of(session)
    room = _clean_room(data.room)
    if (starts_at, ends_at, room) == (session.starts_at, session.ends_at, session.room):
        return _announced_change(
            "session.updated", course_class, (before,), (before,), _confirmed(course_class)
        )
    session.starts_at, session.ends_at, session.room = starts_at, ends_at, room
    session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    after = SessionTimes.of(session)
    audit.record(
        actor,
        "session.updated",
        course_class,
        f"moved session {before.describe()} to {after.describe()}",
        {
            "session_id": session.id,
            "old": _times_detail(before),
            "new": _times_detail(after),
            "confirmed_learners": _confirmed(course_class),
        },
    )
    return _announced_change(
        "session.updated", course_class, (before,), (after,), _confirmed(course_class)
    )


def remove_session(actor: User, session: ClassSession) -> ScheduleChange:
    """Remove a session that has no attendance records yet.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and
    :class:`SessionHasAttendance` (edit the session instead).
    """
    _require_admin(actor)
    course_class = session.course_class
    _lock(course_class)
    _check_not_frozen(course_class)
    if db.session.scalar(select(exists().where(Attendance.session_id == session.id))):
        raise SessionHasAttendance()
    before = SessionTimes.of(session)
    course_class.sessions.remove(session)
    db.session.flush()
    audit.record(
        actor,
        "session.removed",
        course_class,
        f"removed session {before.describe()}",
        {
            "session_id": before.session_id,
            "old": _times_detail(before),
            "confirmed_learners": _confirmed(course_class),
        },
    )
    return _announced_change(
        "session.removed", course_class, (before,), (), _confirmed(course_class)
    )


def series_dates(
    first_date: date,
    weekdays: Iterable[int],
    weeks: int,
    skip: set[date] | frozenset[date] = frozenset(),
    skip_public_holidays: bool = False,
) -> list[date]:
    """The days of a weekly series: each day from ``first_date`` for ``weeks`` weeks (that
    is, up to ``first_date + 7 * weeks - 1``) whose weekday (0 = Monday) is in ``weekdays``,
    leaving out the days in ``skip`` and, if asked, Hong Kong public holidays. Skipped days
    are left out, not made up at the end."""
    wanted = set(weekdays)
    days = [first_date + timedelta(days=offset) for offset in range(7 * max(weeks, 0))]
    days = [day for day in days if day.weekday() in wanted and day not in skip]
    if skip_public_holidays and days:
        public_holidays = hong_kong_public_holidays(days[0].year, days[-1].year)
        days = [day for day in days if day not in public_holidays]
    return days


def generate_sessions(actor: User, course_class: CourseClass, spec: SeriesSpec) -> ScheduleChange:
    """Add a weekly series of sessions (see :func:`series_dates`).

    At least one weekday; 1 to 52 weeks; each session ends after it starts, falls within
    the class's dates and overlaps no existing session. Either every session of the series
    is added or none.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and :class:`ValidationFailed`
    (fields ``weekdays``, ``weeks``, ``end_time``, ``first_date``, ``start_time``).
    """
    _require_admin(actor)
    _lock(course_class)
    _check_not_frozen(course_class)
    weekdays = set(spec.weekdays)
    if not weekdays:
        raise ValidationFailed(_l("Choose at least one day of the week."), field="weekdays")
    if not weekdays <= set(range(7)):
        raise ValidationFailed(_l("Choose days of the week from the list."), field="weekdays")
    if not 1 <= spec.weeks <= MAX_SERIES_WEEKS:
        raise ValidationFailed(
            _l("The number of weeks is from 1 to %(max)s.", max=MAX_SERIES_WEEKS), field="weeks"
        )
    if spec.end_time <= spec.start_time:
        raise ValidationFailed(_l("The sessions must end after they start."), field="end_time")
    days = series_dates(
        spec.first_date, weekdays, spec.weeks, set(spec.skip_dates), spec.skip_public_holidays
    )
    if not days:
        raise ValidationFailed(
            _l("No day is left in this series once the skipped days are left out."),
            field="first_date",
        )
    if days[0] < course_class.starts_on:
        raise ValidationFailed(
            _l(
                "The class starts on %(day)s: the series cannot begin before that.",
                day=course_class.starts_on.isoformat(),
            ),
            field="first_date",
        )
    if days[-1] > course_class.ends_on:
        raise ValidationFailed(
            _l(
                "The series would run to %(last)s, after the class ends on %(end)s: "
                "use fewer weeks or change the class's end date.",
                last=days[-1].isoformat(),
                end=course_class.ends_on.isoformat(),
            ),
            field="weeks",
        )
    room = _clean_room(spec.room)
    new_sessions = []
    for day in days:
        starts_at, ends_at = _session_times(
            course_class, SessionData(day, spec.start_time, spec.end_time), exclude=None
        )
        new_sessions.append(ClassSession(starts_at=starts_at, ends_at=ends_at, room=room))
    course_class.sessions.extend(new_sessions)
    db.session.flush()
    after = tuple(SessionTimes.of(s) for s in new_sessions)
    audit.record(
        actor,
        "sessions.generated",
        course_class,
        f"added {len(after)} sessions from {days[0].isoformat()} to {days[-1].isoformat()}",
        {
            "session_ids": [t.session_id for t in after],
            "new": [_times_detail(t) for t in after],
            "weekdays": sorted(weekdays),
            "weeks": spec.weeks,
            "skipped": sorted(d.isoformat() for d in spec.skip_dates),
            "skip_public_holidays": spec.skip_public_holidays,
            "confirmed_learners": _confirmed(course_class),
        },
    )
    return _announced_change(
        "sessions.generated", course_class, (), after, _confirmed(course_class)
    )


def _clean_room(room: str | None) -> str | None:
    cleaned = (room or "").strip() or None
    if cleaned is not None and len(cleaned) > 120:
        raise ValidationFailed(_l("A room has at most 120 characters."), field="room")
    return cleaned


def _session_times(
    course_class: CourseClass, data: SessionData, exclude: ClassSession | None
) -> tuple[datetime, datetime]:
    """The UTC start and end of a session as entered, checked against the class."""
    if data.end_time <= data.start_time:
        raise ValidationFailed(_l("The session must end after it starts."), field="end_time")
    if not course_class.starts_on <= data.day <= course_class.ends_on:
        raise ValidationFailed(
            _l(
                "The class runs from %(start)s to %(end)s: choose a day in that range.",
                start=course_class.starts_on.isoformat(),
                end=course_class.ends_on.isoformat(),
            ),
            field="day",
        )
    starts_at = hk_to_utc(data.day, data.start_time)
    ends_at = hk_to_utc(data.day, data.end_time)
    for other in course_class.sessions:
        if other is exclude or other.is_cancelled:
            continue
        if starts_at < other.ends_at and other.starts_at < ends_at:
            other_start, other_end = to_hk(other.starts_at), to_hk(other.ends_at)
            raise ValidationFailed(
                _l(
                    "This overlaps the session on %(day)s from %(start)s to %(end)s.",
                    day=f"{other_start:%Y-%m-%d}",
                    start=f"{other_start:%H:%M}",
                    end=f"{other_end:%H:%M}",
                ),
                field="start_time",
            )
    return starts_at, ends_at


def _times_detail(times: SessionTimes) -> dict[str, Any]:
    return {
        "starts_at": to_hk(times.starts_at).isoformat(timespec="minutes"),
        "ends_at": to_hk(times.ends_at).isoformat(timespec="minutes"),
        "room": times.room,
    }
