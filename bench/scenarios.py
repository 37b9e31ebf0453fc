"""What the benchmark requests, as whom: chosen from the bench data in the database.

Each page is requested as the user it is for, picked so that the page is among the heaviest of
its kind: the HR officer of the largest company, that company's learner with the most
enrolments, the trainer of the running class with the most learners, the course with the most
classes on offer. Call :func:`make_plan` inside an application context.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    ACTIVE_STATUSES,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    SeatQuota,
    User,
    class_trainers,
    course_prerequisites,
    utcnow,
)
from skillsup.services.seat_quotas import seats_used_by_quota
from skillsup.timeutil import hk_to_utc, today_hk

EXPORT_ROWS = 10_000
BURST_CAPACITY = 30
BURST_REQUESTS = 500


@dataclass(frozen=True)
class Actor:
    """Who makes a scenario's requests; ``user_id`` is ``None`` for an anonymous visitor."""

    key: str
    user_id: int | None = None
    email: str | None = None


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    path: str
    actor: str
    kind: str = "page"  # reference, page or export
    content_type: str = "text/html"


@dataclass
class Plan:
    actors: dict[str, Actor]
    scenarios: list[Scenario]
    notes: dict[str, str] = field(default_factory=dict)
    export_rows: int = 0

    def scenario(self, key: str) -> Scenario:
        return next(s for s in self.scenarios if s.key == key)

    def of_kind(self, kind: str) -> list[Scenario]:
        return [s for s in self.scenarios if s.kind == kind]


def _one(statement: object, what: str) -> object:
    row = db.session.execute(statement).first()  # type: ignore[call-overload]
    if row is None:
        raise RuntimeError(f"the bench data has no {what}: seed it first (flask seed-bench)")
    return row


def make_plan(*, now: datetime | None = None, today: date | None = None) -> Plan:
    """The scenarios, their users and their URLs, from the data in the database."""
    now = now or utcnow()
    today = today or today_hk()
    company_id, staff = _one(
        select(User.company_id, func.count(User.id))
        .where(User.role == Role.LEARNER)
        .group_by(User.company_id)
        .order_by(func.count(User.id).desc(), User.company_id),
        "learners",
    )
    company_code = db.session.scalar(
        select(PartnerCompany.code).where(PartnerCompany.id == company_id)
    )
    hr = db.session.scalar(
        select(User)
        .where(User.company_id == company_id, User.role == Role.HR, User.is_active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    learner_id, learner_enrolments = _one(
        select(Enrolment.learner_id, func.count(Enrolment.id))
        .join(User, Enrolment.learner_id == User.id)
        .where(
            User.company_id == company_id,
            User.is_active.is_(True),
            User.password_hash.is_not(None),
        )
        .group_by(Enrolment.learner_id)
        .order_by(func.count(Enrolment.id).desc(), Enrolment.learner_id),
        "enrolments",
    )
    learner = db.session.get(User, learner_id)
    course_id, offered = _one(
        select(CourseClass.course_id, func.count(CourseClass.id))
        .join(Course, CourseClass.course_id == Course.id)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            CourseClass.status.in_((ClassStatus.OPEN, ClassStatus.CLOSED, ClassStatus.RUNNING)),
        )
        .group_by(CourseClass.course_id)
        .order_by(func.count(CourseClass.id).desc(), CourseClass.course_id),
        "classes on offer",
    )
    course_code = db.session.scalar(select(Course.code).where(Course.id == course_id))
    class_id, class_code, seats = _one(
        select(CourseClass.id, CourseClass.code, CourseClass.seats_taken)
        .where(CourseClass.status == ClassStatus.RUNNING)
        .order_by(CourseClass.seats_taken.desc(), CourseClass.id),
        "running class",
    )
    trainer = db.session.scalar(
        select(User)
        .join(class_trainers, class_trainers.c.trainer_id == User.id)
        .where(class_trainers.c.class_id == class_id)
        .order_by(User.id)
        .limit(1)
    )
    session_id = db.session.scalar(
        select(ClassSession.id)
        .where(ClassSession.class_id == class_id, ClassSession.ends_at <= now)
        .order_by(ClassSession.starts_at.desc())
        .limit(1)
    )
    if hr is None or learner is None or trainer is None or session_id is None:
        raise RuntimeError("the bench data lacks an HR officer, learner, trainer or session")

    starts_on, ends_on, export_rows = export_range(company_id, EXPORT_ROWS)
    export_query = urlencode({"starts_on": starts_on.isoformat(), "ends_on": ends_on.isoformat()})
    staff_pages = max((staff + 24) // 25, 1)

    actors = {
        "anonymous": Actor("anonymous"),
        "learner": _actor("learner", learner),
        "hr": _actor("hr", hr),
        "trainer": _actor("trainer", trainer),
    }
    filtered = urlencode({"q": "cloud", "skill_area": "cloud", "open_seats": "y", "sort": "title"})
    scenarios = [
        Scenario("plaintext", "Reference: plaintext", "/_bench/plaintext", "anonymous",
                 "reference", "text/plain"),
        Scenario("primary_key", "Reference: one primary-key query", f"/_bench/pk/{course_id}",
                 "anonymous", "reference", "text/plain"),
        Scenario("layout", "Reference: the page frame, signed in, no content", "/_bench/layout",
                 "learner", "reference"),
        Scenario("catalogue", "Catalogue, no filter", "/courses", "anonymous"),
        Scenario("catalogue_filtered", "Catalogue, search and filters", f"/courses?{filtered}",
                 "anonymous"),
        Scenario("course", "Course page (as a learner)", f"/courses/{course_code}", "learner"),
        Scenario("course_signed_out", "Course page (signed out)", f"/courses/{course_code}",
                 "anonymous"),
        Scenario("my_learning", "My learning", "/my-learning", "learner"),
        Scenario("hr_dashboard", "HR dashboard", "/hr/", "hr"),
        Scenario("hr_staff", "HR staff table, a middle page",
                 f"/hr/staff?page={staff_pages // 2 or 1}", "hr"),
        Scenario("trainer_roster", "Trainer: class roster", f"/trainer/classes/{class_code}",
                 "trainer"),
        Scenario("trainer_attendance", "Trainer: attendance of a session",
                 f"/trainer/classes/{class_code}/sessions/{session_id}/attendance", "trainer"),
        Scenario("export_csv", "Enrolments export, CSV",
                 f"/hr/reports/enrolments.csv?{export_query}", "hr", "export", "text/csv"),
        Scenario("export_xlsx", "Enrolments export, XLSX",
                 f"/hr/reports/enrolments.xlsx?{export_query}", "hr", "export",
                 "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ]  # fmt: skip
    notes = {
        "company": f"{company_code} ({staff:,} learners, {staff_pages:,} staff pages)",
        "hr": hr.email,
        "learner": f"{learner.email} ({learner_enrolments} enrolments)",
        "course": f"{course_code} ({offered} classes on offer)",
        "class": f"{class_code} ({seats} confirmed learners), trainer {trainer.email}",
        "export": f"classes starting {starts_on} to {ends_on}: {export_rows:,} rows",
    }
    return Plan(actors=actors, scenarios=scenarios, notes=notes, export_rows=export_rows)


def _actor(key: str, user: User) -> Actor:
    return Actor(key, user.id, user.email)


def export_range(company_id: int, rows: int) -> tuple[date, date, int]:
    """The latest range of class start dates whose enrolments of the company's learners come
    to at least ``rows`` (or all of them, when there are fewer), and the row count."""
    per_day = db.session.execute(
        select(CourseClass.starts_on, func.count(Enrolment.id))
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(User.company_id == company_id, User.role == Role.LEARNER)
        .group_by(CourseClass.starts_on)
        .order_by(CourseClass.starts_on.desc())
    ).all()
    if not per_day:
        day = today_hk()
        return day, day, 0
    last = per_day[0][0]
    total = 0
    first = last
    for day, count in per_day:
        total += count
        first = day
        if total >= rows:
            break
    return first, last, total


# ---------------------------------------------------------------------------------------------
# The enrolment burst


@dataclass(frozen=True)
class BurstSetup:
    class_id: int
    class_code: str
    course_code: str
    learner_ids: list[int]


def _courses_without_prerequisites(*, offset: int, limit: int) -> list[Course]:
    """Published courses without prerequisites, in id order: the burst takes the first, the
    rush the next ones."""
    return list(
        db.session.scalars(
            select(Course)
            .where(
                Course.status == CourseStatus.PUBLISHED,
                ~select(course_prerequisites.c.course_id)
                .where(course_prerequisites.c.course_id == Course.id)
                .exists(),
            )
            .order_by(Course.id)
            .offset(offset)
            .limit(limit)
        )
    )


def _first_trainer() -> User:
    trainer = db.session.scalar(select(User).where(User.role == Role.TRAINER).order_by(User.id))
    if trainer is None:
        raise RuntimeError("the bench data has no trainer")
    return trainer


def _count_classes(prefix: str) -> int:
    return (
        db.session.scalar(
            select(func.count(CourseClass.id)).where(CourseClass.code.like(f"{prefix}%"))
        )
        or 0
    )


def _open_sunday_class(
    course: Course,
    code: str,
    *,
    capacity: int,
    first: date,
    starts_at: time,
    hours: int,
    venue: str,
    trainer: User,
    opened: datetime,
) -> CourseClass:
    """An open class of two weekly sessions from the Sunday ``first``, taking enrolments
    since ``opened`` for a month; added to the session."""
    now = utcnow()
    course_class = CourseClass(
        course=course,
        code=code,
        venue=venue,
        capacity=capacity,
        seats_taken=0,
        starts_on=first,
        ends_on=first + timedelta(days=7),
        enrolment_opens_at=opened,
        enrolment_closes_at=now + timedelta(days=30),
        withdrawal_deadline_at=now + timedelta(days=20),
        status=ClassStatus.OPEN,
    )
    course_class.trainers.append(trainer)
    for week in range(2):
        starts = hk_to_utc(first + timedelta(days=7 * week), starts_at)
        course_class.sessions.append(
            ClassSession(starts_at=starts, ends_at=starts + timedelta(hours=hours))
        )
    db.session.add(course_class)
    return course_class


def _next_sunday(day: date) -> date:
    return day + timedelta(days=(6 - day.weekday()) % 7)


def make_burst_class(
    *, requests: int = BURST_REQUESTS, capacity: int = BURST_CAPACITY
) -> BurstSetup:
    """A fresh open class of ``capacity`` seats, and ``requests`` learners who may all enrol in
    it without approval, quota, prerequisite or timetable getting in the way.

    The class meets on Sundays (no bench class does) and starts after the last quota period,
    so every request is decided by the seats alone. Commits.
    """
    now = utcnow()
    today = today_hk()
    courses = _courses_without_prerequisites(offset=0, limit=1)
    if not courses:
        raise RuntimeError("the bench data has no published course without prerequisites")
    number = _count_classes("BENCH-BURST-") + 1
    last_quota = db.session.scalar(select(func.max(SeatQuota.ends_on))) or today
    # Each burst class two weeks after the one before, so that their sessions never clash.
    first = _next_sunday(
        max(last_quota, today + timedelta(days=60)) + timedelta(days=30 + 14 * number)
    )
    code = f"BENCH-BURST-{number:03d}"
    course_class = _open_sunday_class(
        courses[0],
        code,
        capacity=capacity,
        first=first,
        starts_at=time(7, 0),
        hours=1,
        venue="Kowloon Bay centre, Lab 2",
        trainer=_first_trainer(),
        opened=now - timedelta(days=1),
    )
    learner_ids = list(
        db.session.scalars(
            select(User.id)
            .join(PartnerCompany, User.company_id == PartnerCompany.id)
            .where(
                User.role == Role.LEARNER,
                User.is_active.is_(True),
                User.password_hash.is_not(None),
                User.email_confirmed_at.is_not(None),
                PartnerCompany.is_active.is_(True),
                PartnerCompany.requires_approval.is_(False),
            )
            .order_by(User.id)
            .limit(requests)
        )
    )
    if len(learner_ids) < requests:
        raise RuntimeError(f"only {len(learner_ids)} learners can take part in the burst")
    db.session.commit()
    return BurstSetup(course_class.id, code, courses[0].code, learner_ids)


# ---------------------------------------------------------------------------------------------
# The enrolment-opening rush

RUSH_LEARNERS = 1000
#: The rush's classes: two of each of two courses, seats such that the first ones to be
#: chosen fill and have waitlists, the last does not (a quarter of the learners each).
RUSH_CAPACITIES = (120, 160, 200, 320)
#: Companies whose staff get a seat quota for the rush's courses, and its share of their staff
#: in the rush: the quota fills, and the requests after that are refused.
RUSH_QUOTA_COMPANIES = 3
RUSH_QUOTA_SHARE = 0.5
RUSH_PREFIX = "BENCH-RUSH-"
RUSH_SEED = 2026


@dataclass(frozen=True)
class RushClass:
    class_id: int
    class_code: str
    course_code: str
    word: str
    capacity: int


@dataclass(frozen=True)
class RushSetup:
    classes: list[RushClass]
    learner_ids: list[int]
    quota_ids: list[int]
    #: learner id -> the class they want (an index into ``classes``).
    choices: dict[int, int]
    notes: dict[str, str] = field(default_factory=dict)


def _search_word(title: str) -> str:
    """The longest word of a course title: what a person types into the search box."""
    words = [w.strip(".,:;()&-") for w in title.split()]
    return max(words, key=len) if words else title


def make_rush(
    *, learners: int = RUSH_LEARNERS, capacities: tuple[int, ...] = RUSH_CAPACITIES
) -> RushSetup:
    """Fresh open classes of two courses and ``learners`` learners who may enrol in them,
    round-robin over the partner companies (so several companies, including those that need
    HR approval, whose requests wait for it and take no seat), and a seat quota for the rush's
    courses at :data:`RUSH_QUOTA_COMPANIES` of the companies that need no approval.

    The classes meet on a Sunday afternoon (no bench class meets on Sundays; the burst's meet
    in the morning) later than every quota period, bench class and earlier rush, so that no
    timetable clash or earlier quota gets in the way; their courses have no prerequisites.
    Each learner's class is chosen at random, with the same seed for every rush. Commits.
    """
    now = utcnow()
    today = today_hk()
    courses = _courses_without_prerequisites(offset=1, limit=2)  # the first is the burst's
    if len(courses) < 2:
        raise RuntimeError("the bench data has too few published courses without prerequisites")
    trainer = _first_trainer()
    number = _count_classes(RUSH_PREFIX) // len(capacities) + 1
    latest = max(
        db.session.scalar(select(func.max(SeatQuota.ends_on))) or today,
        db.session.scalar(
            select(func.max(CourseClass.ends_on)).where(CourseClass.code.like("BENCH-%"))
        )
        or today,
        today + timedelta(days=60),
    )
    first = _next_sunday(latest + timedelta(days=7))
    classes = [
        _open_sunday_class(
            courses[index * len(courses) // len(capacities)],
            f"{RUSH_PREFIX}{number:03d}-{index + 1}",
            capacity=capacity,
            first=first,
            starts_at=time(14, 0),
            hours=2,
            venue="Kowloon Bay centre, Hall",
            trainer=trainer,
            opened=now - timedelta(minutes=5),
        )
        for index, capacity in enumerate(capacities)
    ]
    ranked = (
        select(
            User.id.label("user_id"),
            User.company_id.label("company_id"),
            func.row_number().over(partition_by=User.company_id, order_by=User.id).label("rank"),
        )
        .join(PartnerCompany, User.company_id == PartnerCompany.id)
        .where(
            User.role == Role.LEARNER,
            User.is_active.is_(True),
            User.password_hash.is_not(None),
            User.email_confirmed_at.is_not(None),
            PartnerCompany.is_active.is_(True),
        )
        .subquery()
    )
    picked = db.session.execute(
        select(ranked.c.user_id, ranked.c.company_id)
        .order_by(ranked.c.rank, ranked.c.company_id)
        .limit(learners)
    ).all()
    if len(picked) < learners:
        raise RuntimeError(f"only {len(picked)} learners can take part in the rush")
    per_company: dict[int, int] = {}
    for _user_id, company_id in picked:
        per_company[company_id] = per_company.get(company_id, 0) + 1
    free_companies = list(
        db.session.scalars(
            select(PartnerCompany.id)
            .where(PartnerCompany.id.in_(per_company), PartnerCompany.requires_approval.is_(False))
            .order_by(PartnerCompany.id)
            .limit(RUSH_QUOTA_COMPANIES)
        )
    )
    quotas = [
        SeatQuota(
            company_id=company_id,
            course_id=course.id,
            label=f"Rush {number}",
            starts_on=first,
            ends_on=first,
            seats=max(1, int(per_company[company_id] * RUSH_QUOTA_SHARE / len(courses))),
        )
        for company_id in free_companies
        for course in courses
    ]
    db.session.add_all(quotas)
    db.session.flush()
    # The same seed for every rush: the same learners choose the same classes whatever the
    # server, so that the settings compared face the same requests.
    generator = random.Random(RUSH_SEED)  # noqa: S311 - a repeatable choice, not a secret
    choices = {user_id: generator.randrange(len(classes)) for user_id, _company in picked}
    approval = db.session.scalar(
        select(func.count(PartnerCompany.id)).where(
            PartnerCompany.id.in_(per_company), PartnerCompany.requires_approval.is_(True)
        )
    )
    setup = RushSetup(
        classes=[
            RushClass(c.id, c.code, c.course.code, _search_word(c.course.title_en), c.capacity)
            for c in classes
        ],
        learner_ids=[user_id for user_id, _company in picked],
        quota_ids=[q.id for q in quotas],
        choices=choices,
        notes={
            "classes": ", ".join(f"{c.code} ({c.capacity} seats)" for c in classes),
            "companies": f"{len(per_company)} companies ({approval} of them need HR approval)",
            "quotas": f"{len(quotas)} quotas of "
            + "/".join(str(seats) for seats in sorted({q.seats for q in quotas}))
            + " seats",
            "starts": first.isoformat(),
        },
    )
    db.session.commit()
    return setup


def check_rush_rules(class_ids: Sequence[int], quota_ids: Sequence[int]) -> dict[str, Any]:
    """The enrolment rules, checked in the database after a rush in the given classes: each
    ``{"held": bool, "detail": str}``.

    - capacity: each class's ``seats_taken`` equals its confirmed learners, at most its seats;
    - quota: no quota has more seats used than it gives (counted as the service counts them);
    - first come, first served: within each class, in the order the class took the requests
      (enrolment ids, given under the class's lock), every confirmed request comes before
      every waitlisted one, and the waitlist positions follow that order;
    - one place each: no learner has two active enrolments in one class.
    """
    checks: dict[str, Any] = {}
    over = []
    for course_class in db.session.scalars(
        select(CourseClass).where(CourseClass.id.in_(class_ids)).order_by(CourseClass.id)
    ):
        confirmed = db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.class_id == course_class.id,
                Enrolment.status == EnrolmentStatus.CONFIRMED,
            )
        )
        if confirmed != course_class.seats_taken or confirmed > course_class.capacity:
            over.append(
                f"{course_class.code}: {confirmed} confirmed, seats_taken "
                f"{course_class.seats_taken}, capacity {course_class.capacity}"
            )
    checks["capacity"] = {"held": not over, "detail": "; ".join(over)}

    used = seats_used_by_quota().label("used")
    exceeded = [
        f"quota {quota_id}: {seats_used} of {seats} seats used"
        for quota_id, seats, seats_used in db.session.execute(
            select(SeatQuota.id, SeatQuota.seats, used)
            .where(SeatQuota.id.in_(quota_ids))
            .order_by(SeatQuota.id)
        )
        if seats_used > seats
    ]
    used_total = sum(db.session.scalars(select(used).where(SeatQuota.id.in_(quota_ids))).all())
    checks["quota"] = {
        "held": not exceeded,
        "detail": "; ".join(exceeded) or f"{used_total} seats used in {len(quota_ids)} quotas",
    }

    out_of_order = []
    for class_id in class_ids:
        rows = db.session.execute(
            select(Enrolment.id, Enrolment.status, Enrolment.waitlisted_at)
            .where(
                Enrolment.class_id == class_id,
                Enrolment.status.in_((EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)),
            )
            .order_by(Enrolment.id)
        ).all()
        statuses = [status for _id, status, _at in rows]
        if EnrolmentStatus.WAITLISTED in statuses:
            first_waiting = statuses.index(EnrolmentStatus.WAITLISTED)
            late = statuses[first_waiting:].count(EnrolmentStatus.CONFIRMED)
            if late:
                out_of_order.append(f"class {class_id}: {late} confirmed after a waitlisted one")
        waiting = [(at, id_) for id_, status, at in rows if status == EnrolmentStatus.WAITLISTED]
        by_request = [id_ for _at, id_ in waiting]
        by_position = [id_ for _at, id_ in sorted(waiting, key=lambda w: (w[0] is None, w))]
        if by_request != by_position:
            out_of_order.append(f"class {class_id}: waitlist positions not in request order")
    checks["first_come_first_served"] = {
        "held": not out_of_order,
        "detail": "; ".join(out_of_order),
    }

    doubles = db.session.execute(
        select(Enrolment.class_id, Enrolment.learner_id, func.count(Enrolment.id))
        .where(Enrolment.class_id.in_(class_ids), Enrolment.status.in_(ACTIVE_STATUSES))
        .group_by(Enrolment.class_id, Enrolment.learner_id)
        .having(func.count(Enrolment.id) > 1)
    ).all()
    checks["one_place_each"] = {
        "held": not doubles,
        "detail": "; ".join(
            f"learner {learner} has {count} in class {class_id}"
            for class_id, learner, count in doubles
        ),
    }
    return checks


def rush_outcome(class_ids: Sequence[int]) -> dict[str, int]:
    """How many enrolments of each status the rush's classes hold."""
    counts = db.session.execute(
        select(Enrolment.status, func.count(Enrolment.id))
        .where(Enrolment.class_id.in_(class_ids))
        .group_by(Enrolment.status)
    ).all()
    return {str(status): int(count) for status, count in sorted(counts)}
