"""The admin's part of the demo: the courses, the classes with their sessions, trainers and
status changes, and the companies' seat quotas, all through the services an admin's click
uses (:mod:`skillsup.services.courses`, :mod:`~skillsup.services.classes`,
:mod:`~skillsup.services.companies`)."""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import (
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    PartnerCompany,
    SeatQuota,
    User,
    class_trainers,
)
from ...services import (
    class_sessions,
    class_status,
    classes,
    courses,
    funding_figures,
    funding_schemes,
    seat_quotas,
)
from ...services.class_status import StatusAction
from ...services.seat_quotas import seats_used
from ...timeutil import to_hk
from ..calendar import hk, hk_date, term
from ..courses import AREA_VENUES, COURSES, COURSES_BY_CODE
from .people import ADMINS, COMPANIES, TRAINERS
from .plan import CLASS_PLAN, COURSE_SCHEMES, ClassPlan, first_meeting_day, session_times
from .state import SeedState, Step

# An archived course left the catalogue this long before the reference day.
ARCHIVED_DAYS_AGO = 60


@dataclass(eq=False)
class DemoClass:
    """A class the demo creates: its plan, its timetable and its moments; ``course_class``
    once it has been created."""

    plan: ClassPlan
    code: str
    course: Course
    times: list[tuple[datetime, datetime]]
    trainers: list[User]
    rng: random.Random
    created_at: datetime
    opens_at: datetime
    closes_at: datetime
    withdrawal_deadline_at: datetime
    # When an admin cancels it, for a cancelled class; when its trainer closes it, for one
    # that is over.
    cancelled_at: datetime | None
    closed_at: datetime | None
    course_class: CourseClass | None = None

    @property
    def starts_on(self) -> date:
        return hk_date(self.times[0][0])

    @property
    def ends_on(self) -> date:
        return hk_date(self.times[-1][0])

    @property
    def created(self) -> CourseClass:
        if self.course_class is None:
            raise RuntimeError(f"demo class {self.code} is used before it is created")
        return self.course_class


class CatalogueSeeding(SeedState):
    """Seeds courses, classes and quotas through the admin's services."""

    @property
    def admin(self) -> User:
        return self.users[ADMINS[0].email]

    # Courses -------------------------------------------------------------------------------

    def seed_courses(self) -> None:
        """The catalogue's courses, found by code or created a few days apart, with their
        prerequisites, and published (or left as drafts); the archived one leaves the
        catalogue later in the history."""
        existing = {
            course.code: course
            for course in db.session.scalars(
                select(Course).where(Course.code.in_([c["code"] for c in COURSES]))
            )
        }
        for index, data in enumerate(COURSES):
            course = existing.get(data["code"])
            if course is None:
                course = self.create_course(data, self.days_ago(400 - index * 3))
            self.courses[data["code"]] = course

    def create_course(self, data: dict[str, Any], created_at: datetime) -> Course:
        fields = {
            key: value
            for key, value in data.items()
            if key not in {"prerequisites", "assessment", "status", "cef_reimbursable"}
        }
        fields["contact_hours"] = Decimal(str(fields["contact_hours"]))
        fields["fee"] = Decimal(str(fields["fee"]))
        prerequisites = [
            self.courses[code].id for code in data.get("prerequisites", ()) if code in self.courses
        ]
        self.clock.now = created_at
        course = courses.create_course(
            self.admin, courses.CourseData(**fields, prerequisite_ids=prerequisites)
        )
        codes: tuple[str, ...] = (funding_figures.CEF,) if data.get("cef_reimbursable") else ()
        codes += COURSE_SCHEMES.get(course.code, ())
        if codes:
            funding_schemes.set_course_schemes(self.admin, course, self.scheme_ids(codes))
        status = data.get("status", CourseStatus.PUBLISHED)
        if status is not CourseStatus.DRAFT:
            self.clock.now = created_at + timedelta(hours=3)
            courses.publish_course(self.admin, course)
        if status is CourseStatus.ARCHIVED:
            self.schedule(
                self.days_ago(ARCHIVED_DAYS_AGO) + timedelta(hours=11),
                lambda: courses.archive_course(self.admin, course),
            )
        return course

    def scheme_ids(self, codes: Sequence[str]) -> list[int]:
        schemes = funding_schemes.ensure_published_schemes(self.admin)
        return [schemes[code].id for code in codes]

    # Classes -------------------------------------------------------------------------------

    def plan_classes(self) -> list[DemoClass]:
        """The classes of the plan that do not exist yet, each with the admin's steps
        scheduled: created as a draft with its sessions, enrolment opened, then (as its plan
        says) enrolment closed, started, or cancelled. Closing a class that is over is its
        trainer's step (:mod:`.teaching`)."""
        plans = list(CLASS_PLAN)
        seeds = [self.rng.getrandbits(32) for _ in plans]
        schedules = []
        for plan in plans:
            course_data = COURSES_BY_CODE[plan.course]
            earliest = self.anchor + timedelta(days=plan.offset)
            first_day = first_meeting_day(earliest, plan.pattern)
            while plan.status is ClassStatus.RUNNING and first_day >= self.anchor:
                # A holiday pushed the start past today: start a week earlier instead.
                earliest -= timedelta(days=7)
                first_day = first_meeting_day(earliest, plan.pattern)
            times = session_times(first_day, plan.pattern, course_data["contact_hours"])
            code = f"{plan.course}-{first_day:%y%m}"
            schedules.append((code, times))
        codes = [code for code, _ in schedules]
        if len(set(codes)) != len(codes):
            raise RuntimeError("two demo classes of one course start in the same month")
        existing = set(
            db.session.scalars(select(CourseClass.code).where(CourseClass.code.in_(codes)))
        )
        self.load_trainer_schedules()
        planned: list[DemoClass] = []
        for plan, seed, (code, times) in zip(plans, seeds, schedules, strict=True):
            if code in existing:
                continue
            course = self.courses[plan.course]
            if course.status is not CourseStatus.PUBLISHED:
                continue
            demo_class = self.plan_class(plan, course, code, times, random.Random(seed))
            self.schedule_admin_steps(demo_class)
            planned.append(demo_class)
        return planned

    def plan_class(
        self,
        plan: ClassPlan,
        course: Course,
        code: str,
        times: list[tuple[datetime, datetime]],
        rng: random.Random,
    ) -> DemoClass:
        starts_on, ends_on = hk_date(times[0][0]), hk_date(times[-1][0])
        opens_at = hk(starts_on - timedelta(days=56), time(9, 0))
        if plan.status is ClassStatus.OPEN:
            # Every open class is taking requests today, and has been for three weeks.
            opens_at = min(opens_at, self.days_ago(21) + timedelta(hours=9))
        closes_at = hk(starts_on - timedelta(days=4), time(23, 59))
        withdrawal_deadline_at = hk(starts_on - timedelta(days=7), time(23, 59))
        if plan.status is ClassStatus.CLOSED:
            closes_at = min(closes_at, self.days_ago(1) + timedelta(hours=17))
            withdrawal_deadline_at = min(withdrawal_deadline_at, closes_at)
        cancelled_at = closed_at = None
        if plan.status is ClassStatus.CANCELLED:
            cancelled_at = self.days_ago(2) + timedelta(hours=10)
        if plan.status is ClassStatus.COMPLETED:
            closed_at = min(
                hk(ends_on + timedelta(days=2), time(17, 30)), self.day_start - timedelta(hours=6)
            )
        return DemoClass(
            plan=plan,
            code=code,
            course=course,
            times=times,
            trainers=self.pick_trainers(plan.trainers, times),
            rng=rng,
            created_at=min(opens_at - timedelta(days=14), self.days_ago(2)),
            opens_at=opens_at,
            closes_at=closes_at,
            withdrawal_deadline_at=withdrawal_deadline_at,
            cancelled_at=cancelled_at,
            closed_at=closed_at,
        )

    def schedule_admin_steps(self, demo_class: DemoClass) -> None:
        plan = demo_class.plan
        self.schedule(demo_class.created_at, self.creation_step(demo_class))
        if plan.status is ClassStatus.DRAFT:
            return
        self.schedule(
            demo_class.created_at + timedelta(hours=1),
            self.status_step(demo_class, StatusAction.OPEN_ENROLMENT),
        )
        if plan.status is ClassStatus.CLOSED:
            self.schedule(
                demo_class.closes_at, self.status_step(demo_class, StatusAction.CLOSE_ENROLMENT)
            )
        if plan.status in (ClassStatus.RUNNING, ClassStatus.COMPLETED):
            self.schedule(
                demo_class.times[0][0] - timedelta(hours=1),
                self.status_step(demo_class, StatusAction.START),
            )
        if demo_class.cancelled_at is not None:
            self.schedule(
                demo_class.cancelled_at,
                self.status_step(demo_class, StatusAction.CANCEL, plan.status_reason),
            )

    def creation_step(self, demo_class: DemoClass) -> Step:
        def create() -> None:
            course = demo_class.course
            venue = online_url = None
            if course.delivery_mode is not DeliveryMode.ONLINE_LIVE:
                venue = AREA_VENUES[course.skill_area]
            if course.delivery_mode is not DeliveryMode.ON_CAMPUS:
                online_url = f"https://meet.skillsup.test/{demo_class.code.lower()}"
            course_class = classes.create_class(
                self.admin,
                classes.ClassData(
                    course_id=course.id,
                    code=demo_class.code,
                    capacity=demo_class.plan.capacity,
                    starts_on=demo_class.starts_on,
                    ends_on=demo_class.ends_on,
                    enrolment_opens_at=demo_class.opens_at,
                    enrolment_closes_at=demo_class.closes_at,
                    withdrawal_deadline_at=demo_class.withdrawal_deadline_at,
                    trainer_ids=[trainer.id for trainer in demo_class.trainers],
                    venue=venue,
                    online_url=online_url,
                    assessment_required=bool(COURSES_BY_CODE[course.code].get("assessment")),
                ),
            )
            if demo_class.plan.schemes is not None:
                funding_schemes.set_class_schemes(
                    self.admin, course_class, self.scheme_ids(demo_class.plan.schemes)
                )
            room = venue.split(", ", 1)[1] if venue else None
            for spec in _weekly_series(demo_class.times, room):
                # At the demo's moment, as the enrolment services are told it: the classes
                # it sets in the past got their sessions before they began.
                class_sessions.generate_sessions(self.admin, course_class, spec, now=self.clock.now)
            demo_class.course_class = course_class

        return create

    def status_step(
        self, demo_class: DemoClass, action: StatusAction, reason: str | None = None
    ) -> Step:
        def change() -> None:
            class_status.change_status(
                self.admin, demo_class.created, action, reason, now=self.clock.now
            )

        return change

    def load_trainer_schedules(self) -> None:
        trainer_ids = {self.users[spec.email].id: spec.email for spec in TRAINERS}
        rows = db.session.execute(
            select(class_trainers.c.trainer_id, ClassSession.starts_at, ClassSession.ends_at)
            .join(ClassSession, ClassSession.class_id == class_trainers.c.class_id)
            .where(class_trainers.c.trainer_id.in_(list(trainer_ids)))
        ).all()
        for trainer_id, starts_at, ends_at in rows:
            self.trainer_busy[trainer_ids[trainer_id]].append((starts_at, ends_at))

    def pick_trainers(
        self, wanted: Sequence[str], times: Sequence[tuple[datetime, datetime]]
    ) -> list[User]:
        """The wanted trainers, each replaced by a free colleague if already teaching then."""

        def free(email: str) -> bool:
            return not any(
                start < busy_end and busy_start < end
                for start, end in times
                for busy_start, busy_end in self.trainer_busy[email]
            )

        chosen: list[str] = []
        for email in wanted:
            if not free(email):
                email = next(
                    (s.email for s in TRAINERS if s.email not in chosen and free(s.email)), email
                )
            if email not in chosen:
                chosen.append(email)
        for email in chosen:
            self.trainer_busy[email].extend(times)
        return [self.users[email] for email in chosen]

    # Quotas --------------------------------------------------------------------------------

    def plan_quotas(self) -> None:
        """A quota per company and term, given two months before the term starts with room
        to spare; the approval company also caps one expensive course, this term and next.
        The day before the reference day, the third company's quota for the current term is
        cut to three seats more than it has used, to show the warning."""
        terms: dict[str, tuple[date, date]] = {}
        day = self.anchor - timedelta(days=130)
        while day <= self.anchor + timedelta(days=170):
            label, starts, ends = term(day)
            terms[label] = (starts, ends)
            day = ends + timedelta(days=1)
        current = term(self.anchor)[0]
        existing = {
            (quota.company_id, quota.label, quota.course_id)
            for quota in db.session.scalars(
                select(SeatQuota).where(
                    SeatQuota.company_id.in_([c.id for c in self.companies.values()])
                )
            )
        }
        for spec in COMPANIES:
            company = self.companies[spec.code]
            for label, (starts, ends) in terms.items():
                if (company.id, label, None) in existing:
                    continue
                self.schedule(
                    self.quota_given_at(starts),
                    self.quota_step(
                        company, label, starts, ends, None, _term_seats(spec.quota_seats)
                    ),
                )
                if spec.code == "PDLS" and label == current:
                    self.schedule(
                        self.day_start - timedelta(minutes=30),
                        self.quota_cut_step(company, label),
                    )
        course = self.courses["SU-SEC-301"]
        next_term = term(terms[current][1] + timedelta(days=1))[0]
        lrft = self.companies["LRFT"]
        for label in (current, next_term):
            starts, ends = terms[label]
            course_label = f"{label}: {course.code}"
            if (lrft.id, course_label, course.id) in existing:
                continue
            self.schedule(
                self.quota_given_at(starts),
                self.quota_step(lrft, course_label, starts, ends, course, _course_seats),
            )

    def quota_given_at(self, term_starts: date) -> datetime:
        return min(hk(term_starts - timedelta(days=60), time(10)), self.days_ago(1))

    def quota_step(
        self,
        company: PartnerCompany,
        label: str,
        starts: date,
        ends: date,
        course: Course | None,
        seats_for: Callable[[int], int],
    ) -> Step:
        """Give the quota, its seats worked out from those already used in its period (a
        quota given after the term's classes began to take requests)."""

        def give() -> None:
            course_id = course.id if course else None
            probe = SeatQuota(
                company_id=company.id, starts_on=starts, ends_on=ends, course_id=course_id
            )
            seats = seats_for(seats_used(probe))
            seat_quotas.add_quota(
                self.admin, company, seat_quotas.QuotaData(label, starts, ends, seats, course_id)
            )

        return give

    def quota_cut_step(self, company: PartnerCompany, label: str) -> Step:
        def cut() -> None:
            quota = db.session.scalar(
                select(SeatQuota).where(
                    SeatQuota.company_id == company.id,
                    SeatQuota.label == label,
                    SeatQuota.course_id.is_(None),
                )
            )
            if quota is None:
                return
            seats = min(quota.seats, seats_used(quota) + 3)
            seat_quotas.update_quota(
                self.admin,
                quota,
                seat_quotas.QuotaData(quota.label, quota.starts_on, quota.ends_on, seats),
            )

        return cut


def _term_seats(usual: int) -> Callable[[int], int]:
    """A term's seats: the company's usual number, or enough for what it uses with a third
    more to spare."""
    return lambda used: max(usual, math.ceil((used * 1.3 + 5) / 5) * 5)


def _course_seats(used: int) -> int:
    """A course's cap: two seats more than the company uses of it."""
    return max(used, 1) + 2


def _weekly_series(
    times: Sequence[tuple[datetime, datetime]], room: str | None
) -> list[class_sessions.SeriesSpec]:
    """The meetings as the weekly series an admin generates them in: one per time slot (a
    shortened last meeting is a series of its own), leaving out the days it does not meet
    (the holidays)."""
    days_by_slot: dict[tuple[time, time], list[date]] = {}
    for starts_at, ends_at in times:
        start, end = to_hk(starts_at), to_hk(ends_at)
        days_by_slot.setdefault((start.time(), end.time()), []).append(start.date())
    series = []
    for (start_time, end_time), days in days_by_slot.items():
        weekdays = frozenset(day.weekday() for day in days)
        weeks = (days[-1] - days[0]).days // 7 + 1
        every = class_sessions.series_dates(days[0], weekdays, weeks)
        series.append(
            class_sessions.SeriesSpec(
                weekdays=weekdays,
                start_time=start_time,
                end_time=end_time,
                first_date=days[0],
                weeks=weeks,
                skip_dates=frozenset(every) - frozenset(days),
                skip_public_holidays=False,
                room=room,
            )
        )
    return series
