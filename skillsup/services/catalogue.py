"""The public catalogue: finding courses and showing a course with its upcoming classes.

Each page costs a fixed number of queries, whatever the number of courses and classes.
"""

from __future__ import annotations

import enum
import functools
import hashlib
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from babel.dates import get_day_names
from babel.lists import format_list
from flask_babel import get_locale, ngettext
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    CompoundSelect,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import contains_eager, selectinload

from .. import permissions
from ..extensions import db
from ..i18n import comma, fmt_time
from ..models import (
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    FundingScheme,
    SkillArea,
    TeachingLanguage,
    User,
    class_trainers,
    course_funding_schemes,
    course_prerequisites,
    utcnow,
)
from ..timeutil import to_hk, today_hk
from . import enrolment_offers
from .eligibility import Window, enrolment_window, is_taking_enrolments, taking_enrolments
from .enrolment_offers import Obstacle, ViewerAction
from .search import contains_pattern

UPCOMING_STATUSES = (ClassStatus.OPEN, ClassStatus.CLOSED)
SORTS = ("start", "title", "level")
PER_PAGE = 12


class Availability(enum.StrEnum):
    OPEN = "open"
    WAITLIST = "waitlist"
    OPENS_LATER = "opens_later"
    CLOSED = "closed"


@dataclass(frozen=True)
class CatalogueQuery:
    q: str = ""
    skill_area: SkillArea | None = None
    qf_level: int | None = None
    delivery_mode: DeliveryMode | None = None
    teaching_language: TeachingLanguage | None = None
    start_month: date | None = None
    open_seats: bool = False
    sort: str = "start"
    page: int = 1
    per_page: int = PER_PAGE


@dataclass
class CourseCard:
    course: Course
    next_class: CourseClass | None
    availability: Availability
    #: When enrolment opens, for a course whose classes all open later (``OPENS_LATER``).
    opens_at: datetime | None = None


@dataclass
class CataloguePage:
    cards: list[CourseCard]
    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return max(math.ceil(self.total / self.per_page), 1)

    @property
    def has_prev(self) -> bool:
        return self.page > 1

    @property
    def has_next(self) -> bool:
        return self.page < self.pages

    @property
    def first_item(self) -> int:
        return 0 if self.total == 0 else (self.page - 1) * self.per_page + 1

    @property
    def last_item(self) -> int:
        return min(self.page * self.per_page, self.total)


def _upcoming(today: Any) -> list[ColumnElement[bool]]:
    return [CourseClass.status.in_(UPCOMING_STATUSES), CourseClass.starts_on >= today]


def with_open_seats(now: datetime) -> list[ColumnElement[bool]]:
    """The conditions, in SQL, for a class with seats open at ``now`` (what
    :func:`availability` calls ``OPEN``): it takes enrolments
    (:func:`.eligibility.taking_enrolments`) and has a seat left. Its course's status is the
    caller's to join and check."""
    return [*taking_enrolments(now), CourseClass.seats_taken < CourseClass.capacity]


def course_conditions(
    query: CatalogueQuery, *, today: date, now: datetime
) -> list[ColumnElement[bool]]:
    """The conditions, in SQL, for a published course that the query's search words and
    filters find (its page number and order aside): the catalogue's pages and the API's
    course list both search with them."""
    conditions: list[ColumnElement[bool]] = [Course.status == CourseStatus.PUBLISHED]
    if query.q.strip():
        pattern = contains_pattern(query.q.lower())
        conditions.append(
            or_(
                *(
                    func.lower(func.coalesce(column, "")).like(pattern, escape="\\")
                    for column in (
                        Course.code,
                        Course.title_en,
                        Course.title_zh,
                        Course.summary_en,
                        Course.summary_zh,
                        Course.skills,
                    )
                )
            )
        )
    if query.skill_area is not None:
        conditions.append(Course.skill_area == query.skill_area)
    if query.qf_level is not None:
        conditions.append(Course.qf_level == query.qf_level)
    if query.delivery_mode is not None:
        conditions.append(Course.delivery_mode == query.delivery_mode)
    if query.teaching_language is not None:
        conditions.append(Course.teaching_language == query.teaching_language)
    if query.start_month is not None:
        month_start = query.start_month.replace(day=1)
        month_end = (
            date(month_start.year + 1, 1, 1)
            if month_start.month == 12
            else date(month_start.year, month_start.month + 1, 1)
        )
        conditions.append(
            exists().where(
                CourseClass.course_id == Course.id,
                *_upcoming(today),
                CourseClass.starts_on >= month_start,
                CourseClass.starts_on < month_end,
            )
        )
    if query.open_seats:
        conditions.append(exists().where(CourseClass.course_id == Course.id, *with_open_seats(now)))

    return conditions


def search_courses(
    query: CatalogueQuery,
    *,
    locale: str = "en",
    today: date | None = None,
    now: datetime | None = None,
) -> CataloguePage:
    """Published courses matching the query, one page of them, with their next class."""
    today = today or today_hk()
    now = now or utcnow()
    conditions = course_conditions(query, today=today, now=now)
    total = int(db.session.scalar(select(func.count(Course.id)).where(*conditions)) or 0)

    next_start = (
        select(func.min(CourseClass.starts_on))
        .where(CourseClass.course_id == Course.id, *_upcoming(today))
        .correlate(Course)
        .scalar_subquery()
    )
    statement: Select[Course] = select(Course).where(*conditions)
    if query.sort == "title":
        title = (
            func.coalesce(Course.title_zh, Course.title_en)
            if locale.startswith("zh")
            else Course.title_en
        )
        statement = statement.order_by(func.lower(title), Course.code)
    elif query.sort == "level":
        statement = statement.order_by(Course.qf_level, Course.code)
    else:
        statement = statement.order_by(next_start.is_(None), next_start, Course.code)
    page = max(query.page, 1)
    courses = list(
        db.session.scalars(statement.limit(query.per_page).offset((page - 1) * query.per_page))
    )

    classes_by_course: dict[int, list[CourseClass]] = defaultdict(list)
    if courses:
        for course_class in db.session.scalars(
            _upcoming_classes_statement(), {"course_ids": [c.id for c in courses], "today": today}
        ):
            classes_by_course[course_class.course_id].append(course_class)

    cards = []
    for course in courses:
        classes = classes_by_course.get(course.id, [])
        cards.append(
            CourseCard(
                course=course,
                next_class=classes[0] if classes else None,
                availability=availability(classes, now),
                opens_at=first_opening(classes, now),
            )
        )
    return CataloguePage(cards=cards, total=total, page=page, per_page=query.per_page)


@functools.cache
def _upcoming_classes_statement() -> Select[CourseClass]:
    # Built once: making a statement anew costs more of the processor than running it.
    return (
        select(CourseClass)
        .where(
            CourseClass.course_id.in_(bindparam("course_ids", expanding=True)),
            *_upcoming(bindparam("today")),
        )
        .order_by(CourseClass.starts_on, CourseClass.code)
    )


def last_change() -> str:
    """When the catalogue's courses and classes last changed, as text for a cache key.

    Every write to a course or a class (seats taken included) moves it, so a page kept under it
    stays current until the next change. A transaction that commits after a later-stamped one
    may not move it; the pages are kept for a short time only, which bounds that case.
    """
    courses, classes = db.session.execute(
        select(
            select(func.max(Course.updated_at)).scalar_subquery(),
            select(func.max(CourseClass.updated_at)).scalar_subquery(),
        )
    ).one()
    return "|".join(stamp.isoformat() if stamp else "-" for stamp in (courses, classes))


# ---------------------------------------------------------------------------------------------
# The front page: the same for every visitor, kept under :func:`last_change` like the results

#: How many classes the front page offers.
FRONT_PAGE_CLASSES = 6


@dataclass(frozen=True)
class OpenClass:
    """A class with seats open, as the front page offers it."""

    course_class: CourseClass
    schedule: str

    @property
    def course(self) -> Course:
        return self.course_class.course


@dataclass(frozen=True)
class SkillAreaCount:
    skill_area: SkillArea
    courses: int


def next_open_classes(
    *, limit: int = FRONT_PAGE_CLASSES, now: datetime | None = None, today: date | None = None
) -> list[OpenClass]:
    """The ``limit`` soonest upcoming classes of published courses (by start date, then
    code) with seats open at ``now`` (:func:`with_open_seats`): the classes a visitor could
    enrol in today, each with its schedule (:func:`schedule_summary`). Two queries whatever
    the number of classes."""
    now = now or utcnow()
    today = today or today_hk()
    classes = db.session.scalars(
        select(CourseClass)
        .join(CourseClass.course)
        .where(Course.status == CourseStatus.PUBLISHED, *_upcoming(today), *with_open_seats(now))
        .options(contains_eager(CourseClass.course), selectinload(CourseClass.sessions))
        .order_by(CourseClass.starts_on, CourseClass.code)
        .limit(limit)
    )
    return [OpenClass(c, schedule_summary(c)) for c in classes]


def skill_area_counts() -> list[SkillAreaCount]:
    """Each skill area that has published courses, with how many (what the catalogue finds
    filtered by that area), in the order the areas are declared. One query."""
    counts = dict(
        db.session.execute(
            select(Course.skill_area, func.count(Course.id))
            .where(Course.status == CourseStatus.PUBLISHED)
            .group_by(Course.skill_area)
        ).all()
    )
    return [SkillAreaCount(area, int(counts[area])) for area in SkillArea if counts.get(area)]


def availability(classes: list[CourseClass], now: datetime) -> Availability:
    """Open if some class takes enrolments and has a seat; waitlist if all such are full;
    opens later if none takes enrolments yet but one will (:func:`first_opening`)."""
    taking = [c for c in classes if is_taking_enrolments(c, now)]
    if any(c.seats_taken < c.capacity for c in taking):
        return Availability.OPEN
    if taking:
        return Availability.WAITLIST
    if first_opening(classes, now) is not None:
        return Availability.OPENS_LATER
    return Availability.CLOSED


def first_opening(classes: list[CourseClass], now: datetime) -> datetime | None:
    """The earliest moment one of ``classes`` starts taking enrolments, for those whose window
    has not opened yet at ``now``; ``None`` when none is waiting to open."""
    openings = [
        c.enrolment_opens_at for c in classes if enrolment_window(c, now) == Window.NOT_YET_OPEN
    ]
    return min(openings, default=None)


def class_availability(course_class: CourseClass, now: datetime) -> Availability:
    return availability([course_class], now)


# ---------------------------------------------------------------------------------------------
# A course's page


@dataclass
class ClassOffer:
    course_class: CourseClass
    schedule: str
    availability: Availability
    action: ViewerAction
    enrolment: Enrolment | None = None
    #: Why the reader cannot enrol, or the class takes no enrolments (:mod:`.enrolment_offers`).
    obstacles: list[Obstacle] = field(default_factory=list)
    #: When the class's enrolment opens, if it has not yet.
    opens_at: datetime | None = None

    @property
    def trainers(self) -> list[User]:
        return list(self.course_class.trainers)


@dataclass
class CoursePage:
    course: Course
    offers: list[ClassOffer]
    #: The first moment from which the page may tell its classes differently with no change
    #: to the data, only the time (:func:`next_turn`); ``None`` when no such moment comes.
    holds_until: datetime | None = None


def find_course(code: str, viewer: object) -> Course | None:
    """The course with this code, if the viewer may see it: drafts and archived courses
    are for admins only. Its prerequisites load when first read (one query), so that a
    caller that has its page kept reads the course alone."""
    course = db.session.scalar(_course_by_code_statement(), {"code": code.strip().upper()})
    if course is None or not permissions.can_see_course(viewer, course):
        return None
    return course


def course_page(
    course: Course,
    viewer: object,
    *,
    now: datetime | None = None,
    today: date | None = None,
    with_trainers: bool = True,
) -> CoursePage:
    """The course's upcoming and running classes with what the viewer may do in each, and why
    not (:func:`.enrolment_offers.class_offers`). Without ``with_trainers`` the classes'
    trainers are not read with them, for a caller that has the rest of the page kept."""
    now = now or utcnow()
    today = today or today_hk()
    classes = list(
        db.session.scalars(
            _course_page_classes_statement(with_trainers),
            {"course_id": course.id, "today": today},
        )
    )
    offers = enrolment_offers.class_offers(viewer, course, classes, now=now)
    return CoursePage(
        course=course,
        offers=[
            ClassOffer(
                course_class=course_class,
                schedule=schedule_summary(course_class),
                availability=class_availability(course_class, now),
                action=offers[course_class.id].action,
                enrolment=offers[course_class.id].enrolment,
                obstacles=offers[course_class.id].obstacles,
                opens_at=offers[course_class.id].opens_at,
            )
            for course_class in classes
        ],
        holds_until=next_turn(classes, now),
    )


@functools.cache
def _course_by_code_statement() -> Select[Course]:
    # Built once, as the course page's other statements: making a statement anew costs more
    # of the processor than running it.
    return select(Course).where(Course.code == bindparam("code"))


@functools.cache
def _course_page_classes_statement(with_trainers: bool) -> Select[CourseClass]:
    loads = [selectinload(CourseClass.sessions)]
    if with_trainers:
        loads.append(selectinload(CourseClass.trainers))
    return (
        select(CourseClass)
        .where(*_on_course_page(bindparam("course_id"), bindparam("today")))
        .options(*loads)
        .order_by(CourseClass.starts_on, CourseClass.code)
    )


def _on_course_page(course_id: Any, today: Any) -> list[ColumnElement[bool]]:
    """The conditions, in SQL, for a class that its course's page shows: upcoming or running
    (the course's id and the day as values or bound parameters)."""
    return [
        CourseClass.course_id == course_id,
        or_(and_(*_upcoming(today)), CourseClass.status == ClassStatus.RUNNING),
    ]


def next_turn(classes: list[CourseClass], now: datetime) -> datetime | None:
    """The first moment, ``now`` or later, from which what a page tells of ``classes`` (their
    sessions loaded) at ``now`` may change with the time alone: a class's enrolment opening
    or closing (:func:`.eligibility.enrolment_window`), or its last session ending
    (:func:`.eligibility.has_ended`). Until then, the page worked out at ``now`` holds for
    the same data. ``None`` when none of these moments is still to come."""
    moments: list[datetime] = []
    for course_class in classes:
        last_end = max(
            (s.ends_at for s in course_class.sessions if not s.is_cancelled), default=None
        )
        for moment in (course_class.enrolment_opens_at, course_class.enrolment_closes_at, last_end):
            if moment is not None and moment >= now:
                moments.append(moment)
    return min(moments, default=None)


def course_page_version(course: Course, *, today: date | None = None) -> str:
    """What the course's page shows of the catalogue's data on ``today`` (a Hong Kong day), as
    text for a cache key: it changes with every write to the course, its prerequisites, its
    funding schemes, the classes the page shows (their seats taken included), their sessions
    and their trainers (who they are, their names). Each row is named with its own last
    change, not the latest of all, so that a transaction committing after a later-stamped one
    still changes it. One query, a row per class, session, trainer, prerequisite and scheme.
    What changes with the time alone is :attr:`CoursePage.holds_until`'s."""
    today = today or today_hk()
    rows = db.session.execute(
        _course_page_version_statement(), {"course_id": course.id, "today": today}
    ).all()
    digest = hashlib.sha256(repr(sorted(tuple(row) for row in rows)).encode()).hexdigest()
    return f"{course.id}:{course.updated_at.isoformat()}:{digest}"


@functools.cache
def _course_page_version_statement() -> CompoundSelect[str, str, str]:
    course_id: BindParameter[int] = bindparam("course_id")
    today: BindParameter[date] = bindparam("today")
    shown = select(CourseClass.id).where(*_on_course_page(course_id, today))

    def text(column: Any) -> ColumnElement[str]:
        return cast(column, String)

    return union_all(
        select(literal("prerequisite"), text(Course.id), text(Course.updated_at))
        .join(course_prerequisites, course_prerequisites.c.prerequisite_id == Course.id)
        .where(course_prerequisites.c.course_id == course_id),
        select(
            literal("scheme"),
            text(FundingScheme.id),
            FundingScheme.name_en + "|" + func.coalesce(FundingScheme.name_zh, ""),
        )
        .join(course_funding_schemes, course_funding_schemes.c.scheme_id == FundingScheme.id)
        .where(course_funding_schemes.c.course_id == course_id),
        select(
            literal("class"),
            text(CourseClass.id),
            text(CourseClass.updated_at) + "|" + text(CourseClass.seats_taken),
        ).where(*_on_course_page(course_id, today)),
        select(literal("session"), text(ClassSession.id), text(ClassSession.updated_at)).where(
            ClassSession.class_id.in_(shown)
        ),
        select(
            literal("trainer"),
            text(class_trainers.c.class_id),
            text(User.id) + "|" + User.name,
        )
        .join(User, User.id == class_trainers.c.trainer_id)
        .where(class_trainers.c.class_id.in_(shown)),
    )


def schedule_summary(course_class: CourseClass) -> str:
    """'Tue and Thu 19:00–22:00, 8 sessions', in the reader's language and Hong Kong time."""
    sessions = [s for s in course_class.sessions if not s.is_cancelled]
    if not sessions:
        return str(ngettext("%(num)d session", "%(num)d sessions", 0))
    locale = get_locale() or "en"
    local = [(to_hk(s.starts_at), to_hk(s.ends_at)) for s in sessions]
    weekdays = sorted({start.weekday() for start, _ in local})
    names = get_day_names("abbreviated", locale=locale)
    days = format_list([names[d] for d in weekdays], locale=locale)
    usual: tuple[time, time] = Counter(
        (start.time(), end.time()) for start, end in local
    ).most_common(1)[0][0]
    hours = f"{fmt_time(usual[0], locale)}–{fmt_time(usual[1], locale)}"
    count = ngettext("%(num)d session", "%(num)d sessions", len(sessions))
    return f"{days} {hours}{comma(locale)}{count}"
