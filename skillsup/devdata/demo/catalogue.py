"""The demo's catalogue: its courses, their classes with sessions and trainers, and the
companies' seat quotas."""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from ...extensions import db
from ...models import (
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    PartnerCompany,
    SeatQuota,
    User,
    class_trainers,
)
from ...services.enrolment import QUOTA_STATUSES
from ..calendar import hk, hk_date, term
from ..courses import AREA_VENUES, COURSES, COURSES_BY_CODE
from .people import COMPANIES, TRAINERS
from .plan import CLASS_PLAN, STORIES, ClassPlan, Story, first_meeting_day, session_times
from .state import SeedState


class CatalogueSeeding(SeedState):
    """Seeds courses, classes and quotas; the enrolments of each new class are left to
    :meth:`enrol`."""

    def seed_courses(self) -> None:
        existing = {
            course.code: course
            for course in db.session.scalars(
                select(Course).where(Course.code.in_([c["code"] for c in COURSES]))
            )
        }
        new_codes: list[str] = []
        for index, data in enumerate(COURSES):
            course = existing.get(data["code"])
            if course is None:
                fields = {
                    key: value
                    for key, value in data.items()
                    if key not in {"prerequisites", "assessment"}
                }
                fields["contact_hours"] = Decimal(fields["contact_hours"])
                fields["fee"] = Decimal(fields["fee"])
                fields.setdefault("status", CourseStatus.PUBLISHED)
                created_at = self.days_ago(400 - index * 3)
                course = Course(**fields, created_at=created_at, updated_at=created_at)
                db.session.add(course)
                self.created["courses"] += 1
                new_codes.append(course.code)
            self.courses[data["code"]] = course
        for data in COURSES:
            if data["code"] not in new_codes:
                continue
            for code in data.get("prerequisites", ()):
                if code in self.courses:
                    self.courses[data["code"]].prerequisites.append(self.courses[code])
                    self.created["course_prerequisites"] += 1
        db.session.flush()

    # Classes -------------------------------------------------------------------------------

    def seed_classes(self) -> None:
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
        stories: dict[str, list[Story]] = defaultdict(list)
        for story in STORIES:
            stories[story.class_key].append(story)
        for plan, seed, (code, times) in zip(plans, seeds, schedules, strict=True):
            if code in existing:
                continue
            course = self.courses[plan.course]
            if course.status is not CourseStatus.PUBLISHED:
                continue
            rng = random.Random(seed)
            course_class = self.create_class(plan, course, code, times)
            self.enrol(plan, course_class, rng, stories.get(plan.key or "", []))
        db.session.flush()

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

    def create_class(
        self,
        plan: ClassPlan,
        course: Course,
        code: str,
        times: Sequence[tuple[datetime, datetime]],
    ) -> CourseClass:
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
        venue = online_url = None
        if course.delivery_mode is not DeliveryMode.ONLINE_LIVE:
            venue = AREA_VENUES[course.skill_area]
        if course.delivery_mode is not DeliveryMode.ON_CAMPUS:
            online_url = f"https://meet.skillsup.test/{code.lower()}"
        room = venue.split(", ", 1)[1] if venue else None
        created_at = min(opens_at - timedelta(days=14), self.days_ago(2))
        course_class = CourseClass(
            course=course,
            code=code,
            venue=venue,
            online_url=online_url,
            capacity=plan.capacity,
            seats_taken=0,
            starts_on=starts_on,
            ends_on=ends_on,
            enrolment_opens_at=opens_at,
            enrolment_closes_at=closes_at,
            withdrawal_deadline_at=withdrawal_deadline_at,
            min_attendance_pct=80,
            assessment_required=bool(COURSES_BY_CODE[course.code].get("assessment")),
            status=plan.status,
            status_reason=plan.status_reason,
            created_at=created_at,
            updated_at=created_at,
        )
        course_class.trainers.extend(self.pick_trainers(plan.trainers, times))
        for start, end in times:
            course_class.sessions.append(
                ClassSession(
                    starts_at=start,
                    ends_at=end,
                    room=room,
                    is_cancelled=plan.status is ClassStatus.CANCELLED,
                    created_at=created_at,
                    updated_at=created_at,
                )
            )
        db.session.add(course_class)
        self.created["classes"] += 1
        self.created["class_sessions"] += len(times)
        return course_class

    # Enrolments ----------------------------------------------------------------------------
    # Quotas --------------------------------------------------------------------------------

    def seed_quotas(self) -> None:
        """Term quotas for each company, with room to spare except the third company's now."""
        companies = {company.id: code for code, company in self.companies.items()}
        used_by_term: Counter[tuple[str, str]] = Counter()
        used_by_course: Counter[tuple[str, str, str]] = Counter()
        rows = db.session.execute(
            select(User.company_id, CourseClass.starts_on, Course.code, func.count())
            .select_from(Enrolment)
            .join(User, Enrolment.learner_id == User.id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .where(User.company_id.in_(list(companies)), Enrolment.status.in_(QUOTA_STATUSES))
            .group_by(User.company_id, CourseClass.starts_on, Course.code)
        ).all()
        for company_id, starts_on, course_code, count in rows:
            label = term(starts_on)[0]
            used_by_term[(companies[company_id], label)] += count
            used_by_course[(companies[company_id], label, course_code)] += count

        terms: dict[str, tuple[date, date]] = {}
        day = self.anchor - timedelta(days=130)
        while day <= self.anchor + timedelta(days=170):
            label, starts, ends = term(day)
            terms[label] = (starts, ends)
            day = ends + timedelta(days=1)
        current = term(self.anchor)[0]

        wanted: list[tuple[PartnerCompany, str, date, date, int, Course | None]] = []
        for spec in COMPANIES:
            company = self.companies[spec.code]
            for label, (starts, ends) in terms.items():
                used = used_by_term[(spec.code, label)]
                seats = max(spec.quota_seats, math.ceil((used * 1.3 + 5) / 5) * 5)
                if spec.code == "PDLS" and label == current:
                    seats = used + 3  # nearly used up, to show the warning
                wanted.append((company, label, starts, ends, seats, None))
        # The approval company also caps one expensive course, this term and next.
        course = self.courses["SU-SEC-301"]
        next_term = term(terms[current][1] + timedelta(days=1))[0]
        for label in (current, next_term):
            starts, ends = terms[label]
            used = used_by_course[("LRFT", label, course.code)]
            wanted.append(
                (
                    self.companies["LRFT"],
                    f"{label}: {course.code}",
                    starts,
                    ends,
                    max(used, 1) + 2,
                    course,
                )
            )

        existing = {
            (quota.company_id, quota.label, quota.course_id)
            for quota in db.session.scalars(
                select(SeatQuota).where(SeatQuota.company_id.in_(list(companies)))
            )
        }
        for company, label, starts, ends, seats, quota_course in wanted:
            key = (company.id, label, quota_course.id if quota_course else None)
            if key in existing:
                continue
            db.session.add(
                SeatQuota(
                    company=company,
                    course=quota_course,
                    label=label,
                    starts_on=starts,
                    ends_on=ends,
                    seats=seats,
                    created_at=min(hk(starts - timedelta(days=60), time(10)), self.days_ago(1)),
                )
            )
            self.created["seat_quotas"] += 1
        db.session.flush()
