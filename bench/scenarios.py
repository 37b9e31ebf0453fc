"""What the benchmark requests, as whom: chosen from the bench data in the database.

Each page is requested as the user it is for, picked so that the page is among the heaviest of
its kind: the HR officer of the largest company, that company's learner with the most
enrolments, the trainer of the running class with the most learners, the course with the most
classes on offer. Call :func:`make_plan` inside an application context.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from urllib.parse import urlencode

from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    PartnerCompany,
    Role,
    SeatQuota,
    User,
    class_trainers,
    course_prerequisites,
    utcnow,
)
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
    session_version: int = 1


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
    return Actor(key, user.id, user.email, user.session_version)


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
    course = db.session.scalar(
        select(Course)
        .where(
            Course.status == CourseStatus.PUBLISHED,
            ~select(course_prerequisites.c.course_id)
            .where(course_prerequisites.c.course_id == Course.id)
            .exists(),
        )
        .order_by(Course.id)
        .limit(1)
    )
    trainer = db.session.scalar(select(User).where(User.role == Role.TRAINER).order_by(User.id))
    if course is None or trainer is None:
        raise RuntimeError("the bench data has no published course without prerequisites")
    number = (
        db.session.scalar(
            select(func.count(CourseClass.id)).where(CourseClass.code.like("BENCH-BURST-%"))
        )
        or 0
    ) + 1
    last_quota = db.session.scalar(select(func.max(SeatQuota.ends_on))) or today
    # Each burst class two weeks after the one before, so that their sessions never clash.
    first = max(last_quota, today + timedelta(days=60)) + timedelta(days=30 + 14 * number)
    first += timedelta(days=(6 - first.weekday()) % 7)  # a Sunday
    code = f"BENCH-BURST-{number:03d}"
    course_class = CourseClass(
        course=course,
        code=code,
        venue="Kowloon Bay centre, Lab 2",
        capacity=capacity,
        seats_taken=0,
        starts_on=first,
        ends_on=first + timedelta(days=7),
        enrolment_opens_at=now - timedelta(days=1),
        enrolment_closes_at=now + timedelta(days=30),
        withdrawal_deadline_at=now + timedelta(days=20),
        status=ClassStatus.OPEN,
    )
    course_class.trainers.append(trainer)
    for week in range(2):
        starts = hk_to_utc(first + timedelta(days=7 * week), time(7, 0))
        course_class.sessions.append(
            ClassSession(starts_at=starts, ends_at=starts + timedelta(hours=1))
        )
    db.session.add(course_class)
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
    return BurstSetup(course_class.id, code, course.code, learner_ids)
