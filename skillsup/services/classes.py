"""Programme administration of classes: creating a class and changing its details.

The rules for a class's code, course, trainers, place, capacity, minimum attendance and dates,
and the admin's list of classes. Its status has :mod:`.class_status` and its timetable
:mod:`.class_sessions`, which share the checks at the end of this module. Every function takes
the acting admin, flushes but never commits, records what it changed in the audit log, and
refuses with a :class:`DomainError` whose ``field`` names the form field to blame.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import contains_eager, selectinload

from .. import permissions
from ..extensions import db
from ..i18n import fmt_date
from ..models import (
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentStatus,
    Role,
    SkillArea,
    User,
)
from ..timeutil import hk_date, start_of_hk_day_utc, to_hk
from . import audit
from .enrolment import lock_class
from .errors import DomainError, PermissionDenied, ValidationFailed
from .schedule_conflicts import Booking, check_bookings
from .search import contains_pattern


class ClassLocked(DomainError):
    """The class is completed or cancelled and can no longer be changed."""

    default_message = _l("This class is completed or cancelled: it can no longer be changed.")


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


def class_list(filters: ClassFilters) -> Select[CourseClass, int, int, int]:
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


def course_choices(include_id: int | None = None) -> Select[int, str, str, str | None]:
    """Courses a class may be of: all but archived ones (and the class's own course)."""
    condition: Any = Course.status != CourseStatus.ARCHIVED
    if include_id is not None:
        condition = or_(condition, Course.id == include_id)
    return (
        select(Course.id, Course.code, Course.title_en, Course.title_zh)
        .where(condition)
        .order_by(Course.code)
    )


def trainer_choices(include_ids: Iterable[int] = ()) -> Select[int, str, str, bool]:
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
    require_admin(actor)
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
    class's dates must still hold all its sessions; a trainer assigned to it, and its rooms
    when its course changes from online live to one taught in a room, must not be double-booked
    by its sessions (:func:`.schedule_conflicts.check_bookings`); a completed or cancelled
    class cannot be changed. Raising the capacity fills the new seats from the waitlist, first
    come first served, in the same transaction.

    Raises :class:`PermissionDenied`, :class:`ClassLocked`, :class:`ScheduleConflict` and
    :class:`ValidationFailed`.
    """
    require_admin(actor)
    lock_for_change(course_class)
    check_not_finished(course_class)
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
    _check_new_bookings(course_class, course, trainers)

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
        from . import waitlist

        promoted = list(waitlist.promote_waitlist(course_class, actor))
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
                day=fmt_date(data.starts_on),
            ),
            field="withdrawal_deadline_at",
        )


def _check_sessions_within(course_class: CourseClass, starts_on: date, ends_on: date) -> None:
    days = [hk_date(s.starts_at) for s in course_class.sessions if not s.is_cancelled]
    if days and min(days) < starts_on:
        raise ValidationFailed(
            _l(
                "There is a session on %(day)s, before this start date: move or remove it first.",
                day=fmt_date(min(days)),
            ),
            field="starts_on",
        )
    if days and max(days) > ends_on:
        raise ValidationFailed(
            _l(
                "There is a session on %(day)s, after this end date: move or remove it first.",
                day=fmt_date(max(days)),
            ),
            field="ends_on",
        )


def _check_new_bookings(course_class: CourseClass, course: Course, trainers: list[User]) -> None:
    """The class's sessions double-book none of the trainers newly assigned to it, nor a room
    once its course is taught in rooms where it was online live."""
    added = {t.id for t in trainers} - {t.id for t in course_class.trainers}
    rooms_now_booked = (
        course_class.course.delivery_mode is DeliveryMode.ONLINE_LIVE
        and course.delivery_mode is not DeliveryMode.ONLINE_LIVE
    )
    if not added and not rooms_now_booked:
        return
    check_bookings(
        course_class,
        [
            Booking(s.starts_at, s.ends_at, s.room)
            for s in course_class.sessions
            if not s.is_cancelled
        ],
        trainer_ids=added,
        check_rooms=rooms_now_booked,
        delivery_mode=course.delivery_mode,
        trainer_field="trainer_ids",
    )


def _has_enrolments(course_class: CourseClass) -> bool:
    return bool(db.session.scalar(select(exists().where(Enrolment.class_id == course_class.id))))


# Checks every change to a class makes --------------------------------------------------------


def require_admin(actor: User | None) -> None:
    """Only programme admins change classes; :class:`PermissionDenied` for anyone else."""
    if not permissions.can_manage_catalogue(actor):
        raise PermissionDenied()


def lock_for_change(course_class: CourseClass) -> None:
    """Lock the class row for the rest of the transaction and re-read it: enrolments change
    ``seats_taken`` concurrently, and checks against it must see the latest value and keep it
    until the commit. A class not saved yet has nothing to lock."""
    if course_class.id is not None:
        lock_class(course_class.id)


def check_not_finished(course_class: CourseClass) -> None:
    """:class:`ClassLocked` for a completed or cancelled class: it no longer changes."""
    if course_class.is_finished:
        raise ClassLocked()
