"""Programme administration of courses: creating, editing, publishing and archiving them.

Courses are never deleted, since classes, enrolments and certificates refer to them: a course
that is no longer offered is archived instead.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, or_, select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..extensions import db
from ..models import (
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    SkillArea,
    TeachingLanguage,
    User,
    course_prerequisites,
)
from . import audit
from .certificate_expiry import clean_valid_months
from .errors import PermissionDenied, ValidationFailed
from .search import contains_pattern

#: Upper-case letters, digits and hyphens, 3 to 30 characters, not starting with a hyphen.
CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,29}$")
TITLE_MAX_LENGTH = 200
QF_LEVELS = range(1, 8)
MAX_QF_CREDITS = 999
# The largest values the columns hold: Numeric(6, 1) and Numeric(10, 2).
MAX_CONTACT_HOURS = Decimal("99999.9")
MAX_FEE = Decimal("99999999.99")
ONE_DECIMAL = Decimal("0.1")
TWO_DECIMALS = Decimal("0.01")

#: What the audit log shows for an empty value.
EMPTY = "—"


@dataclass
class CourseData:
    """Everything an admin can set on a course, as the services expect it."""

    code: str
    title_en: str
    skill_area: SkillArea | str
    qf_level: int
    contact_hours: Decimal
    delivery_mode: DeliveryMode | str
    teaching_language: TeachingLanguage | str
    title_zh: str | None = None
    summary_en: str = ""
    summary_zh: str | None = None
    description_en: str = ""
    description_zh: str | None = None
    outcomes_en: str = ""
    outcomes_zh: str | None = None
    audience_en: str = ""
    audience_zh: str | None = None
    skills: str = ""
    qf_credits: int = 0
    fee: Decimal = Decimal("0")
    certificate_valid_months: int | None = None
    prerequisite_ids: list[int] = field(default_factory=list)

    @classmethod
    def from_course(cls, course: Course) -> CourseData:
        """The course's current values, for pre-filling a form or changing a few fields."""
        return cls(
            **{name: getattr(course, name) for name in SCALAR_FIELDS},
            prerequisite_ids=[prerequisite.id for prerequisite in course.prerequisites],
        )


#: The course columns that ``CourseData`` sets, in the order the audit log lists them.
SCALAR_FIELDS = (
    "code",
    "title_en",
    "title_zh",
    "summary_en",
    "summary_zh",
    "description_en",
    "description_zh",
    "outcomes_en",
    "outcomes_zh",
    "audience_en",
    "audience_zh",
    "skills",
    "skill_area",
    "qf_level",
    "qf_credits",
    "contact_hours",
    "delivery_mode",
    "teaching_language",
    "fee",
    "certificate_valid_months",
)


# Queries for the admin pages -------------------------------------------------------------


def course_admin_list(
    q: str | None = None,
    status: CourseStatus | None = None,
    skill_area: SkillArea | None = None,
) -> Select[Course]:
    """Courses whose code, English or Chinese title or skills contain ``q``, by code.

    For ``db.paginate``; the number of classes of a page's courses comes from
    :func:`class_counts`.
    """
    statement = select(Course).order_by(Course.code, Course.id)
    if q and q.strip():
        pattern = contains_pattern(q.strip())
        statement = statement.where(
            or_(
                Course.code.ilike(pattern, escape="\\"),
                Course.title_en.ilike(pattern, escape="\\"),
                Course.title_zh.ilike(pattern, escape="\\"),
                Course.skills.ilike(pattern, escape="\\"),
            )
        )
    if status is not None:
        statement = statement.where(Course.status == status)
    if skill_area is not None:
        statement = statement.where(Course.skill_area == skill_area)
    return statement


def class_counts(course_ids: Iterable[int]) -> dict[int, int]:
    """The number of classes of each course, in one query; courses without classes get 0."""
    ids = list(course_ids)
    if not ids:
        return {}
    counts: dict[int, int] = {course_id: 0 for course_id in ids}
    rows = db.session.execute(
        select(CourseClass.course_id, func.count())
        .where(CourseClass.course_id.in_(ids))
        .group_by(CourseClass.course_id)
    ).all()
    for course_id, count in rows:
        counts[course_id] = count
    return counts


@dataclass(frozen=True)
class CourseAdminPage:
    course: Course
    prerequisites: list[Course]
    required_by: list[Course]
    classes: list[CourseClass]


def course_admin_page(course: Course) -> CourseAdminPage:
    """What a course's admin page shows besides its audit log, in three queries."""
    prerequisites = list(
        db.session.scalars(
            select(Course)
            .join(course_prerequisites, course_prerequisites.c.prerequisite_id == Course.id)
            .where(course_prerequisites.c.course_id == course.id)
            .order_by(Course.code)
        )
    )
    required_by = list(
        db.session.scalars(
            select(Course)
            .join(course_prerequisites, course_prerequisites.c.course_id == Course.id)
            .where(course_prerequisites.c.prerequisite_id == course.id)
            .order_by(Course.code)
        )
    )
    classes = list(
        db.session.scalars(
            select(CourseClass)
            .where(CourseClass.course_id == course.id)
            .order_by(CourseClass.starts_on.desc(), CourseClass.code)
        )
    )
    return CourseAdminPage(course, prerequisites, required_by, classes)


def prerequisite_choices(course: Course | None = None) -> list[tuple[int, str, CourseStatus]]:
    """Every course that ``course`` could require (all but itself): id, code and title, status."""
    statement = select(Course.id, Course.code, Course.title_en, Course.status).order_by(Course.code)
    if course is not None:
        statement = statement.where(Course.id != course.id)
    return [
        (course_id, f"{code} {title}", status)
        for course_id, code, title, status in db.session.execute(statement)
    ]


# Changes ---------------------------------------------------------------------------------


def create_course(actor: User, data: CourseData) -> Course:
    """Create a draft course from ``data``.

    The code is stored upper-case and must match :data:`CODE_PATTERN` and be unused by any
    other course, whatever its case; the English title is required; the QF level is 1 to 7,
    the QF credits and the fee are not negative, the contact hours are above zero; the
    certificate validity is empty or 1 to 120 months; each prerequisite must be an existing
    course.

    Raises :class:`PermissionDenied` unless ``actor`` may manage the catalogue, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks.
    """
    _check_actor(actor)
    values = _clean(data)
    _check_code_unused(values["code"], None)
    prerequisites = _load_prerequisites(data.prerequisite_ids, None)
    course = Course(**values, status=CourseStatus.DRAFT)
    course.prerequisites = prerequisites
    db.session.add(course)
    _flush_checking_code()
    details: dict[str, Any] = {
        name: _show(values[name]) for name in SCALAR_FIELDS if values[name] not in (None, "")
    }
    if prerequisites:
        details["prerequisites"] = _show_courses(prerequisites)
    audit.record(actor, "course.created", course, f"created course {course.code}", details)
    return course


def update_course(actor: User, course: Course, data: CourseData) -> Course:
    """Replace every editable field of ``course`` with ``data``.

    The rules of :func:`create_course` apply, and also: a course cannot be its own
    prerequisite, nor require a course that requires it, directly or through a chain of
    prerequisites; a published course keeps an English summary. Records the changed fields,
    old and new, in the audit log; records nothing when nothing changed.

    Raises :class:`PermissionDenied` unless ``actor`` may manage the catalogue, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks (the course
    is left unchanged).
    """
    _check_actor(actor)
    _lock(course)
    values = _clean(data)
    if course.status == CourseStatus.PUBLISHED and not values["summary_en"]:
        raise ValidationFailed(
            _l("A published course needs an English summary."), field="summary_en"
        )
    _check_code_unused(values["code"], course)
    prerequisites = _load_prerequisites(data.prerequisite_ids, course)
    _check_no_cycle(course, prerequisites)

    changes: dict[str, str] = {}
    for name in SCALAR_FIELDS:
        old, new = getattr(course, name), values[name]
        if _differs(old, new):
            changes[name] = f"{_show(old)} → {_show(new)}"
    old_prerequisites = list(course.prerequisites)
    prerequisites_changed = {c.id for c in old_prerequisites} != {c.id for c in prerequisites}
    if prerequisites_changed:
        changes["prerequisites"] = (
            f"{_show_courses(old_prerequisites)} → {_show_courses(prerequisites)}"
        )
    if not changes:
        return course
    for name in SCALAR_FIELDS:
        if name in changes:
            setattr(course, name, values[name])
    if prerequisites_changed:
        course.prerequisites = prerequisites
    _flush_checking_code()
    audit.record(
        actor,
        "course.updated",
        course,
        f"updated course {course.code}: {', '.join(changes)}",
        changes,
    )
    return course


class CourseAction(enum.StrEnum):
    """A change of a course's status that an admin can make from its page."""

    PUBLISH = "publish"
    UNPUBLISH = "unpublish"  # a published course back to a draft
    RESTORE = "restore"  # an archived course back to a draft
    ARCHIVE = "archive"


def status_actions(course: Course) -> list[CourseAction]:
    """The status changes that the course's life cycle allows from where it is now: a course
    moves between draft, published and archived in any direction, never to where it is."""
    actions = []
    if course.status != CourseStatus.PUBLISHED:
        actions.append(CourseAction.PUBLISH)
    if course.status == CourseStatus.PUBLISHED:
        actions.append(CourseAction.UNPUBLISH)
    if course.status == CourseStatus.ARCHIVED:
        actions.append(CourseAction.RESTORE)
    if course.status != CourseStatus.ARCHIVED:
        actions.append(CourseAction.ARCHIVE)
    return actions


def publish_course(actor: User, course: Course) -> Course:
    """Put a draft or archived course in the public catalogue.

    Needs an English title and summary. Raises :class:`PermissionDenied` unless ``actor`` may
    manage the catalogue, and :class:`ValidationFailed` when the course is already published
    or lacks the English title or summary.
    """
    _check_actor(actor)
    _lock(course)
    if course.status == CourseStatus.PUBLISHED:
        raise ValidationFailed(_l("This course is already published."))
    if not (course.title_en or "").strip() or not (course.summary_en or "").strip():
        raise ValidationFailed(_l("Add an English title and summary before publishing."))
    return _set_status(actor, course, CourseStatus.PUBLISHED, "course.published", "published")


def unpublish_course(actor: User, course: Course) -> Course:
    """Take a published or archived course back to draft, out of the public catalogue.

    Its classes are left as they are. Raises :class:`PermissionDenied` unless ``actor`` may
    manage the catalogue, and :class:`ValidationFailed` when the course is already a draft.
    """
    _check_actor(actor)
    _lock(course)
    if course.status == CourseStatus.DRAFT:
        raise ValidationFailed(_l("This course is already a draft."))
    return _set_status(actor, course, CourseStatus.DRAFT, "course.unpublished", "unpublished")


def archive_course(actor: User, course: Course) -> Course:
    """Archive a course that is no longer offered; it is kept with its classes and history.

    Courses are never deleted. Raises :class:`PermissionDenied` unless ``actor`` may manage
    the catalogue, and :class:`ValidationFailed` when the course is already archived.
    """
    _check_actor(actor)
    _lock(course)
    if course.status == CourseStatus.ARCHIVED:
        raise ValidationFailed(_l("This course is already archived."))
    return _set_status(actor, course, CourseStatus.ARCHIVED, "course.archived", "archived")


def _set_status(
    actor: User, course: Course, status: CourseStatus, action: str, verb: str
) -> Course:
    old = course.status
    course.status = status
    db.session.flush()
    audit.record(
        actor,
        action,
        course,
        f"{verb} course {course.code}",
        {"status": f"{_show(old)} → {_show(status)}"},
    )
    return course


# Rules -----------------------------------------------------------------------------------


def _check_actor(actor: User) -> None:
    if not permissions.can_manage_catalogue(actor):
        raise PermissionDenied()


def _lock(course: Course) -> None:
    # Reload the row under a lock so that two admins changing the same course one after
    # the other each see, and record, the other's change (SQLite's BEGIN IMMEDIATE already
    # serialises writers; it ignores FOR UPDATE).
    db.session.refresh(course, with_for_update=True)


def _clean(data: CourseData) -> dict[str, Any]:
    """The column values for ``data``, normalised, or :class:`ValidationFailed`."""
    code = (data.code or "").strip().upper()
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationFailed(
            _l("Use 3 to 30 capital letters, digits and hyphens, starting with a letter or digit."),
            field="code",
        )
    title_en = _text(data.title_en)
    if not title_en:
        raise ValidationFailed(_l("Enter the English title."), field="title_en")
    values: dict[str, Any] = {
        "code": code,
        "title_en": title_en,
        "title_zh": _optional_text(data.title_zh),
        "skills": _skills(data.skills),
    }
    for name in ("title_en", "title_zh"):
        if values[name] and len(values[name]) > TITLE_MAX_LENGTH:
            raise ValidationFailed(
                _l("Use at most %(num)d characters.", num=TITLE_MAX_LENGTH), field=name
            )
    for name in ("summary", "description", "outcomes", "audience"):
        values[f"{name}_en"] = _text(getattr(data, f"{name}_en"))
        values[f"{name}_zh"] = _optional_text(getattr(data, f"{name}_zh"))
    values["skill_area"] = _choice(SkillArea, data.skill_area, "skill_area")
    values["delivery_mode"] = _choice(DeliveryMode, data.delivery_mode, "delivery_mode")
    values["teaching_language"] = _choice(
        TeachingLanguage, data.teaching_language, "teaching_language"
    )
    if not _is_int(data.qf_level) or data.qf_level not in QF_LEVELS:
        raise ValidationFailed(_l("The QF level is a whole number from 1 to 7."), field="qf_level")
    values["qf_level"] = data.qf_level
    if not _is_int(data.qf_credits) or not 0 <= data.qf_credits <= MAX_QF_CREDITS:
        raise ValidationFailed(
            _l("QF credits are a whole number from 0 to %(max)d.", max=MAX_QF_CREDITS),
            field="qf_credits",
        )
    values["qf_credits"] = data.qf_credits
    hours = _decimal(data.contact_hours)
    if (
        hours is None
        or not Decimal(0) < hours <= MAX_CONTACT_HOURS
        or _has_more_places(hours, ONE_DECIMAL)
    ):
        raise ValidationFailed(
            _l("Enter the contact hours: more than zero, with at most one decimal place."),
            field="contact_hours",
        )
    values["contact_hours"] = hours.quantize(ONE_DECIMAL)
    fee = _decimal(data.fee)
    if fee is None or not Decimal(0) <= fee <= MAX_FEE or _has_more_places(fee, TWO_DECIMALS):
        raise ValidationFailed(
            _l("Enter the fee in Hong Kong dollars: zero or more, with at most two decimals."),
            field="fee",
        )
    values["fee"] = fee.quantize(TWO_DECIMALS)
    values["certificate_valid_months"] = clean_valid_months(data.certificate_valid_months)
    return values


def _text(value: str | None) -> str:
    return (value or "").strip()


def _optional_text(value: str | None) -> str | None:
    return (value or "").strip() or None


def _skills(value: str | None) -> str:
    keywords = (keyword.strip() for keyword in (value or "").split(","))
    return ", ".join(keyword for keyword in keywords if keyword)


def _choice(enum_class: Any, value: Any, name: str) -> Any:
    try:
        return enum_class(value)
    except ValueError:
        raise ValidationFailed(_l("Choose one of the options."), field=name) from None


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool | float):
        return None
    try:
        number = Decimal(value)
    except (InvalidOperation, TypeError, ValueError):
        return None
    return number if number.is_finite() else None


def _has_more_places(value: Decimal, step: Decimal) -> bool:
    return value != value.quantize(step)


def _check_code_unused(code: str, course: Course | None) -> None:
    statement = select(Course.id).where(func.upper(Course.code) == code)
    if course is not None:
        statement = statement.where(Course.id != course.id)
    if db.session.scalar(statement.limit(1)) is not None:
        raise ValidationFailed(
            _l("Another course already has the code %(code)s.", code=code), field="code"
        )


def _flush_checking_code() -> None:
    # The check above cannot see a course that another request is saving at the same
    # moment; the unique index then refuses the second one.
    try:
        db.session.flush()
    except IntegrityError as error:
        message = str(error.orig).lower()
        if "courses.code" in message or "uq_courses_code" in message:
            raise ValidationFailed(
                _l("Another course already has this code."), field="code"
            ) from error
        raise


def _load_prerequisites(ids: Sequence[int], course: Course | None) -> list[Course]:
    """The courses ``ids`` names, by code; each must exist and not be ``course`` itself."""
    wanted: list[int] = []
    for value in ids or []:
        if not _is_int(value):
            raise ValidationFailed(_l("Choose prerequisites from the list."), field="prerequisites")
        if value not in wanted:
            wanted.append(value)
    if course is not None and course.id in wanted:
        raise ValidationFailed(
            _l("A course cannot be its own prerequisite."), field="prerequisites"
        )
    if not wanted:
        return []
    found = list(
        db.session.scalars(select(Course).where(Course.id.in_(wanted)).order_by(Course.code))
    )
    missing = sorted(set(wanted) - {c.id for c in found})
    if missing:
        raise ValidationFailed(
            _l(
                "There is no course with the id %(ids)s.",
                ids=", ".join(str(course_id) for course_id in missing),
            ),
            field="prerequisites",
        )
    return found


def _check_no_cycle(course: Course, prerequisites: list[Course]) -> None:
    """Refuse prerequisites that lead, through the existing links, back to ``course``.

    Walks the prerequisite graph breadth first, one query per level, remembering how each
    course was reached so that the message can show the whole loop.
    """
    reached_from: dict[int, int] = {p.id: course.id for p in prerequisites}
    frontier = set(reached_from)
    while frontier:
        rows = db.session.execute(
            select(course_prerequisites.c.course_id, course_prerequisites.c.prerequisite_id)
            .where(course_prerequisites.c.course_id.in_(frontier))
            .order_by(course_prerequisites.c.course_id, course_prerequisites.c.prerequisite_id)
        ).all()
        next_frontier: set[int] = set()
        for requiring, required in rows:
            if required == course.id:
                raise ValidationFailed(
                    _l(
                        "These prerequisites would make a loop: %(loop)s.",
                        loop=_describe_loop(course.id, requiring, reached_from),
                    ),
                    field="prerequisites",
                )
            if required not in reached_from:
                reached_from[required] = requiring
                next_frontier.add(required)
        frontier = next_frontier


def _describe_loop(start: int, last: int, reached_from: dict[int, int]) -> str:
    path = [last]
    while path[-1] != start:
        path.append(reached_from[path[-1]])
    path.reverse()  # start, ..., last
    path.append(start)
    codes = dict(
        db.session.execute(select(Course.id, Course.code).where(Course.id.in_(path))).all()
    )
    # "A → B" reads "A requires B".
    return " → ".join(codes[course_id] for course_id in path)


def _differs(old: Any, new: Any) -> bool:
    if isinstance(old, Decimal) or isinstance(new, Decimal):
        return old is None or new is None or Decimal(old) != Decimal(new)
    return bool(old != new)


def _show(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, SkillArea | DeliveryMode | TeachingLanguage | CourseStatus):
        return value.value
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _show_courses(courses: Iterable[Course]) -> str:
    codes = sorted(course.code for course in courses)
    return ", ".join(codes) if codes else EMPTY
