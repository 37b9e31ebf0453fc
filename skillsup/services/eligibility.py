"""Who may enrol in which class: the class's enrolment window and the learner's own record.

A class takes enrolments while it is open, its course published and its enrolment window
current, and never once its last session has ended, except from an admin who gives a reason
(:func:`check_not_over`). A learner may ask for a place while their account and their
company are active, they hold no active enrolment in the class, they have completed the
course's prerequisites, and no class they are confirmed in has a session that overlaps one of
this class's. Having completed the course before is no obstacle: a learner may take a course
again, as the holder of an expired or expiring certificate does to renew it
(:mod:`.certificate_expiry`). The learner's checks run in one query
(:func:`learner_obstacles`), since every request asks all of them; the seat quotas are
:mod:`.seat_quotas`'s.

The messages are worded for the learner, or for whoever acts for them (an HR officer, an
admin).
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    and_,
    bindparam,
    func,
    literal,
    select,
    union_all,
)
from sqlalchemy.orm import aliased

from ..extensions import db
from ..i18n import fmt_date, fmt_time
from ..models import (
    ACTIVE_STATUSES,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    User,
    course_prerequisites,
)
from .enrolment import EnrolmentRefused
from .seat_quotas import check_quota


class ClassNotOpen(EnrolmentRefused):
    pass


class EnrolmentClosed(EnrolmentRefused):
    pass


class ClassOver(EnrolmentClosed):
    """The class's last session has ended."""


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


def check_eligibility(learner: User, course_class: CourseClass, *, now: datetime) -> None:
    """Raise the first rule a request by ``learner`` for ``course_class`` would break:
    :class:`ClassNotOpen`, :class:`EnrolmentClosed`, :class:`AccountInactive`,
    :class:`AlreadyEnrolled`, :class:`PrerequisitesMissing`, :class:`TimetableClash` or
    :class:`~.seat_quotas.QuotaExceeded`."""
    check_class_open(course_class, now)
    check_learner(learner, course_class)
    check_quota(learner, course_class)


# ---------------------------------------------------------------------------------------------
# The class


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
        check_class_open(course_class, now)
    except (ClassNotOpen, EnrolmentClosed):
        return False
    return True


class Window(enum.StrEnum):
    """Where a class stands with its enrolments at a moment (:func:`enrolment_window`)."""

    TAKING = "taking"
    NOT_OPEN = "not_open"
    NOT_YET_OPEN = "not_yet_open"
    CLOSED = "closed"


def enrolment_window(course_class: CourseClass, now: datetime) -> Window:
    """Whether the class takes enrolments at ``now``: not when the class is not open or its
    course not published (``NOT_OPEN``), nor before its enrolment window opens
    (``NOT_YET_OPEN``) or after it closes (``CLOSED``). The rule of
    :func:`check_class_open`, which raises where this answers."""
    if course_class.status != ClassStatus.OPEN or course_class.course.status != (
        CourseStatus.PUBLISHED
    ):
        return Window.NOT_OPEN
    if now < course_class.enrolment_opens_at:
        return Window.NOT_YET_OPEN
    if now > course_class.enrolment_closes_at:
        return Window.CLOSED
    return Window.TAKING


def check_class_open(course_class: CourseClass, now: datetime) -> None:
    """Raise :class:`ClassNotOpen` unless the class is open and its course published, and
    :class:`EnrolmentClosed` outside its enrolment window (:func:`enrolment_window`)."""
    window = enrolment_window(course_class, now)
    if window == Window.NOT_OPEN:
        raise ClassNotOpen(_l("This class is not open for enrolment."))
    if window == Window.NOT_YET_OPEN:
        raise EnrolmentClosed(_l("Enrolment for this class has not opened yet."))
    if window == Window.CLOSED:
        raise EnrolmentClosed(_l("Enrolment for this class has closed."))


def last_session_end(class_id: int) -> datetime | None:
    """When the class's last session (not cancelled) ends; ``None`` for a class without any."""
    return db.session.scalar(
        select(func.max(ClassSession.ends_at)).where(
            ClassSession.class_id == class_id, ClassSession.is_cancelled.is_(False)
        )
    )


def has_ended(last_session_end: datetime | None, now: datetime) -> bool:
    """Whether a class whose last session ends at ``last_session_end`` is over at ``now``:
    a class without sessions never is."""
    return last_session_end is not None and now >= last_session_end


def check_not_over(
    course_class: CourseClass, now: datetime, *, by_admin: bool, reason: str | None = None
) -> datetime | None:
    """No enrolment once the class's last session has ended: learners, HR officers and
    imports are refused with :class:`ClassOver`. An admin may still enrol someone, giving a
    reason (:class:`ClassOver` on the field ``reason`` without one), which the caller keeps
    in the enrolment's history. Returns when the last session ended for such a late
    enrolment, ``None`` when the class is not over (or has no sessions)."""
    return check_not_over_at(
        last_session_end(course_class.id), now, by_admin=by_admin, reason=reason
    )


def check_not_over_at(
    ended_at: datetime | None, now: datetime, *, by_admin: bool, reason: str | None = None
) -> datetime | None:
    """:func:`check_not_over` for a class whose last session ends at ``ended_at``, read by the
    caller under the class's lock (with other figures, in one statement)."""
    if not has_ended(ended_at, now):
        return None
    assert ended_at is not None
    if not by_admin:
        raise ClassOver(
            _l(
                "This class's last session ended on %(day)s: it no longer takes enrolments.",
                day=fmt_date(ended_at),
            )
        )
    if not (reason or "").strip():
        raise ClassOver(
            _l(
                "This class's last session ended on %(day)s at %(time)s. Give a reason to "
                "enrol a learner after it; it is kept in the enrolment's history.",
                day=fmt_date(ended_at),
                time=fmt_time(ended_at),
            ),
            field="reason",
        )
    return ended_at


# ---------------------------------------------------------------------------------------------
# The learner


def can_hold_a_place(learner: User) -> bool:
    """A learner holds a place only while their account and their company are active."""
    return learner.is_active and learner.company is not None and learner.company.is_active


def check_learner(learner: User, course_class: CourseClass, *, for_self: bool = True) -> None:
    """The learner's own rules, worded for the learner (``for_self``) or for whoever acts for
    them (an HR officer, an admin). Raises :class:`AccountInactive`, :class:`AlreadyEnrolled`,
    :class:`PrerequisitesMissing` or :class:`TimetableClash`."""
    if not can_hold_a_place(learner):
        raise AccountInactive(_l("This account cannot enrol: it or its company is inactive."))
    obstacles = learner_obstacles(learner.id, course_class)
    if obstacles.enrolled:
        raise already_enrolled(learner, for_self=for_self)
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


def already_enrolled(learner: User, *, for_self: bool) -> AlreadyEnrolled:
    """The refusal of a second active enrolment in a class, worded as :func:`check_learner`."""
    return AlreadyEnrolled(
        _l("You already have a place or a request in this class.")
        if for_self
        else _l("%(name)s already has a place or a request in this class.", name=learner.name)
    )


def active_enrolment(learner_id: int, class_id: int) -> Enrolment | None:
    return db.session.scalar(_active_enrolments(learner_id, class_id))


# The builders below take values or bound parameters (for statements built once).


def _active_enrolments(learner_id: Any, class_id: Any) -> Select[Enrolment]:
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


def missing_prerequisite_courses(learner_id: int, course_id: int) -> list[Course]:
    """The course's prerequisites the learner has not completed, as courses (by code), for a
    page that links to them: :func:`missing_prerequisites`' rule."""
    return list(
        db.session.scalars(
            _missing_prerequisite_courses_statement(),
            {"learner_id": learner_id, "course_id": course_id},
        )
    )


@functools.cache
def _missing_prerequisite_courses_statement() -> Select[Course]:
    return (
        _missing_prerequisites(bindparam("learner_id"), bindparam("course_id"))
        .with_only_columns(Course, maintain_column_froms=True)
        .order_by(Course.code)
    )


def _missing_prerequisites(learner_id: Any, course_id: Any) -> Select[str]:
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


def clashing_classes_by_class(learner_id: int, class_ids: Sequence[int]) -> dict[int, str]:
    """For each of the classes that has one, the first code of a class the learner is
    confirmed in whose sessions overlap it: :func:`learner_obstacles`' clash for many classes
    in one query (for a page that shows them all)."""
    if not class_ids:
        return {}
    rows = db.session.execute(
        _clashing_classes_by_class_statement(),
        {"learner_id": learner_id, "class_ids": sorted(set(class_ids))},
    )
    return {class_id: code for class_id, code in rows}


@functools.cache
def _clashing_classes_by_class_statement() -> Select[int, str]:
    ours = _OUR_SESSIONS
    # The class's id is the session's own, so the statement is the request's own, for each.
    return (
        _clashing_classes(bindparam("learner_id"), ours.class_id)
        .with_only_columns(ours.class_id, func.min(CourseClass.code), maintain_column_froms=True)
        .where(ours.class_id.in_(bindparam("class_ids", expanding=True)))
        .group_by(ours.class_id)
    )


def _clashing_classes(learner_id: Any, class_id: Any) -> Select[str]:
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
def _learner_obstacles_statement() -> CompoundSelect[str, str]:
    # Built once: making the statement anew costs more than running it.
    learner_id: BindParameter[int] = bindparam("learner_id")
    class_id: BindParameter[int] = bindparam("class_id")
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
