"""The benchmark generator: companies, people, courses and classes; the enrolments of each
class come from :mod:`.enrolments`."""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from ...extensions import db
from ...models import (
    ClassStatus,
    CompanyDomain,
    Course,
    CourseStatus,
    PartnerCompany,
    Role,
    SkillArea,
    User,
    course_funding_schemes,
    course_prerequisites,
)
from ...services import funding_figures, funding_schemes
from ..calendar import HONG_KONG, hk, is_fixed_holiday
from ..courses import COURSES
from ..names import invent_name
from .enrolments import EnrolmentGeneration
from .records import ClassRecord, CompanyRecord, CourseRecord, LearnerRecord
from .shape import (
    COMPANY_KINDS,
    COMPANY_PLACES,
    COURSE_VARIANTS,
    COURSE_VARIANTS_ZH,
    DEPARTMENTS,
    FUTURE_DAYS,
    HISTORY_DAYS,
    PATTERNS,
    SESSION_HOURS,
    SESSIONS_PER_COURSE,
    VENUES,
    Pattern,
    spread,
)
from .store import USER_COLUMNS


class Generator(EnrolmentGeneration):
    """Generates the whole data set into the current session's database."""

    def run(self) -> None:
        self.make_companies()
        self.make_people()
        self.make_courses()
        self.make_classes()
        self.make_enrolments()
        self.make_quotas()
        self.writer.flush()

    # Companies and people ------------------------------------------------------------------

    def make_companies(self) -> None:
        rng = self.rng
        sizes = self.sizes
        table = PartnerCompany.__table__
        domains = CompanyDomain.__table__
        created_at = self.now - timedelta(days=HISTORY_DAYS + 200)
        for index in range(sizes.companies):
            place = COMPANY_PLACES[index % len(COMPANY_PLACES)]
            kind, short = COMPANY_KINDS[
                (index * 3 + index // len(COMPANY_PLACES)) % len(COMPANY_KINDS)
            ]
            name = f"{place} {kind}"
            if index >= len(COMPANY_PLACES):
                name = f"{place} {kind} ({index // len(COMPANY_PLACES) + 1})"
            slug = place.lower().replace(" ", "")
            code = f"B{index + 1:02d}{short.upper()}"
            domain = f"{slug}-{short}{index + 1:02d}.test"
            company_id = self.next_id("partner_companies")
            # The largest company needs no approval, every third one does.
            requires_approval = index % 3 == 1
            self.writer.add(
                table,
                ("id", "name", "code", "requires_approval", "is_active", "created_at"),
                (company_id, name, code, requires_approval, True, created_at),
            )
            self.writer.add(
                domains,
                ("id", "company_id", "domain"),
                (self.next_id("company_domains"), company_id, domain),
            )
            picked = rng.sample(DEPARTMENTS, rng.randint(4, 8))
            self.companies.append(
                CompanyRecord(company_id, code, domain, requires_approval, [], tuple(picked))
            )

    def _user_row(self, **fields: Any) -> tuple[Any, ...]:
        values = {
            "company_id": None,
            "staff_number": None,
            "department": None,
            "job_title": None,
            "is_active": True,
            "preferred_language": None,
            "password_hash": self.password_hash,
            "session_version": 1,
            "invited_at": None,
            "invited_by_id": None,
            "last_login_at": None,
            "deactivated_at": None,
            "calendar_token": None,
            "wants_reminders": True,
            "wants_attendance_warnings": True,
            **fields,
        }
        values["role"] = values["role"].value
        values.setdefault("email_confirmed_at", values["created_at"] + timedelta(minutes=15))
        return tuple(values[column] for column in USER_COLUMNS)

    def make_people(self) -> None:
        rng = self.rng
        sizes = self.sizes
        users = User.__table__
        start = self.now - timedelta(days=HISTORY_DAYS + 150)
        taken: set[str] = set(
            db.session.scalars(select(User.email).where(User.email.like("%.test")))
        )

        def unique(local: str, domain: str) -> str:
            email = f"{local}@{domain}"
            number = 2
            while email in taken:
                email = f"{local}{number}@{domain}"
                number += 1
            taken.add(email)
            return email

        self.admin_id = self.next_id("users")
        self.writer.add(
            users,
            USER_COLUMNS,
            self._user_row(
                id=self.admin_id,
                email=unique("bench-admin", "skillsup.test"),
                name="Bench Admin",
                role=Role.ADMIN,
                department="Lifelong Learning Programme Office",
                job_title="Programme Officer",
                created_at=start,
            ),
        )
        for number in range(1, sizes.trainers + 1):
            name, _local = invent_name(self.rng)
            trainer_id = self.next_id("users")
            self.trainer_ids.append(trainer_id)
            self.writer.add(
                users,
                USER_COLUMNS,
                self._user_row(
                    id=trainer_id,
                    email=unique(f"bench-trainer{number:03d}", "skillsup.test"),
                    name=name,
                    role=Role.TRAINER,
                    department="Department of Information Technology",
                    job_title=rng.choice(("Lecturer", "Senior Lecturer", "Instructor")),
                    preferred_language=rng.choice(("en", "zh_Hant_HK", None)),
                    created_at=start,
                ),
            )

        weights = [1 / (rank + 1) ** 0.9 for rank in range(sizes.companies)]
        staff_counts = spread(sizes.employees, weights, minimum=5)
        history = timedelta(days=HISTORY_DAYS + 100)
        for company, staff in zip(self.companies, staff_counts, strict=True):
            hr_count = 1 + staff // 1500
            for number in range(1, hr_count + 1):
                hr_id = self.next_id("users")
                company.hr_ids.append(hr_id)
                name, _local = invent_name(self.rng)
                self.writer.add(
                    users,
                    USER_COLUMNS,
                    self._user_row(
                        id=hr_id,
                        email=unique("hr" if number == 1 else f"hr{number}", company.domain),
                        name=name,
                        role=Role.HR,
                        company_id=company.id,
                        staff_number=f"HR{number:04d}",
                        department="Human Resources",
                        job_title="HR Business Partner",
                        preferred_language="en",
                        created_at=start,
                    ),
                )
            for number in range(1, staff + 1):
                learner_id = self.next_id("users")
                name, local = invent_name(self.rng)
                department, titles = rng.choice(company.departments)
                created_at = start + history * rng.random()
                draw = rng.random()
                fields: dict[str, Any] = {}
                if draw < 0.02:
                    # Invited, has not accepted yet: no password, address not confirmed.
                    fields = {
                        "password_hash": None,
                        "email_confirmed_at": None,
                        "invited_at": min(created_at, self.now - timedelta(days=2)),
                        "invited_by_id": company.hr_ids[0],
                    }
                elif draw < 0.05:
                    # Has left: only finished classes that ended before the departure.
                    fields = {
                        "is_active": False,
                        "deactivated_at": self.now - timedelta(days=rng.uniform(20, 400)),
                    }
                elif draw < 0.45:
                    fields = {"last_login_at": self.now - timedelta(hours=rng.uniform(1, 2000))}
                self.writer.add(
                    users,
                    USER_COLUMNS,
                    self._user_row(
                        id=learner_id,
                        email=unique(local, company.domain),
                        name=name,
                        role=Role.LEARNER,
                        company_id=company.id,
                        staff_number=f"{company.code[:3]}{100000 + number}",
                        department=department,
                        job_title=rng.choice(titles),
                        preferred_language=rng.choice(("en", "zh_Hant_HK", "zh_Hant_HK", None)),
                        created_at=created_at,
                        **fields,
                    ),
                )
                if fields.get("password_hash", self.password_hash) is not None:
                    self.learners.append(
                        LearnerRecord(learner_id, company, fields.get("deactivated_at"))
                    )

    # Courses -------------------------------------------------------------------------------

    def make_courses(self) -> None:
        rng = self.rng
        courses = Course.__table__
        numbers: Counter[tuple[str, int]] = Counter()
        created_at = self.now - timedelta(days=HISTORY_DAYS + 120)
        columns: tuple[str, ...] | None = None
        # The schemes come with the database (its migrations), or are installed here.
        cef_id = funding_schemes.ensure_published_schemes()[funding_figures.CEF].id
        for index in range(self.sizes.courses):
            base = COURSES[index % len(COURSES)]
            variant = COURSE_VARIANTS[(index // len(COURSES)) % len(COURSE_VARIANTS)]
            area = base["code"].split("-")[1]
            level = int(base["qf_level"])
            numbers[(area, level)] += 1
            code = f"SB-{area}-{level}{numbers[(area, level)]:02d}"
            # In turn rather than at random: ten sessions a course on average at any scale.
            sessions = SESSIONS_PER_COURSE[index % len(SESSIONS_PER_COURSE)]
            draw = rng.random()
            status = (
                CourseStatus.DRAFT
                if draw < 0.05
                else CourseStatus.ARCHIVED
                if draw < 0.09
                else CourseStatus.PUBLISHED
            )
            if index < min(len(COURSES), self.sizes.courses // 2 or 1):
                status = CourseStatus.PUBLISHED
            title_en = f"{base['title_en']} {variant}".strip()
            title_zh = f"{base['title_zh']}{COURSE_VARIANTS_ZH[variant]}"
            course_id = self.next_id("courses")
            values = {
                "id": course_id,
                "code": code,
                "title_en": title_en,
                "title_zh": title_zh,
                "summary_en": base["summary_en"],
                "summary_zh": base["summary_zh"],
                "description_en": base["description_en"],
                "description_zh": base["description_zh"],
                "outcomes_en": base["outcomes_en"],
                "outcomes_zh": base["outcomes_zh"],
                "audience_en": base["audience_en"],
                "audience_zh": base["audience_zh"],
                "skills": base["skills"],
                "skill_area": base["skill_area"].value,
                "qf_level": level,
                "qf_credits": max(1, sessions * SESSION_HOURS // 10),
                "contact_hours": Decimal(sessions * SESSION_HOURS),
                "delivery_mode": base["delivery_mode"].value,
                "teaching_language": base["teaching_language"].value,
                "fee": Decimal(base["fee"]) + Decimal(100 * rng.randint(-10, 10)),
                "status": status.value,
                "created_at": created_at + timedelta(days=index % 90),
                "updated_at": created_at + timedelta(days=index % 90),
            }
            columns = columns or tuple(values)
            self.writer.add(courses, columns, tuple(values.values()))
            if base.get("cef_reimbursable"):
                self.writer.add(
                    course_funding_schemes, ("course_id", "scheme_id"), (course_id, cef_id)
                )
            self.courses.append(
                CourseRecord(
                    id=course_id,
                    code=code,
                    area=area,
                    level=level,
                    sessions=sessions,
                    assessment=bool(base.get("assessment")),
                    status=status,
                    delivery_mode=base["delivery_mode"],
                    venue=VENUES[list(SkillArea).index(base["skill_area"])],
                    qf_credits=values["qf_credits"],
                )
            )
        # Some courses build on an easier one of the same area: no cycles, by level.
        prerequisites = course_prerequisites
        published = [c for c in self.courses if c.status is not CourseStatus.DRAFT]
        for course in published:
            if course.level < 4 or rng.random() >= 0.2:
                continue
            easier = [c for c in published if c.area == course.area and c.level < course.level]
            if easier:
                self.writer.add(
                    prerequisites,
                    ("course_id", "prerequisite_id"),
                    (course.id, rng.choice(easier).id),
                )

    # Classes and sessions ------------------------------------------------------------------

    def _session_times(
        self, first: date, pattern: Pattern, count: int
    ) -> list[tuple[datetime, datetime]]:
        meetings: list[tuple[datetime, datetime]] = []
        day = first
        while len(meetings) < count:
            if day.weekday() in pattern.weekdays and not is_fixed_holiday(day):
                for slot in pattern.slots:
                    if len(meetings) == count:
                        break
                    start = hk(day, slot)
                    meetings.append((start, start + timedelta(hours=SESSION_HOURS)))
            day += timedelta(days=1)
        return meetings

    def make_classes(self) -> None:
        rng = self.rng
        offered = [c for c in self.courses if c.status is not CourseStatus.DRAFT]
        popularity = [rng.uniform(0.3, 1.7) for _ in offered]
        counts = spread(self.sizes.classes, popularity)
        intakes: Counter[str] = Counter()
        plans: list[tuple[CourseRecord, int]] = []
        for course, count in zip(offered, counts, strict=True):
            for _ in range(count):
                if course.status is CourseStatus.ARCHIVED:
                    offset = rng.randint(-HISTORY_DAYS, -120)
                else:
                    offset = rng.randint(-HISTORY_DAYS, FUTURE_DAYS)
                plans.append((course, offset))
        plans.sort(key=lambda plan: (plan[1], plan[0].code))
        for course, offset in plans:
            pattern = PATTERNS[rng.randrange(len(PATTERNS))]
            first = self.today + timedelta(days=offset)
            times = self._session_times(first, pattern, course.sessions)
            starts_on = times[0][0].astimezone(HONG_KONG).date()
            ends_on = times[-1][0].astimezone(HONG_KONG).date()
            intakes[course.code] += 1
            code = f"{course.code}-{starts_on:%y%m}-{intakes[course.code]:02d}"
            opens_at = hk(starts_on - timedelta(days=60), time(9, 0))
            closes_at = hk(starts_on - timedelta(days=4), time(23, 59))
            withdrawal_deadline_at = hk(starts_on - timedelta(days=7), time(23, 59))
            class_start, class_end = times[0][0], times[-1][1]
            cancelled_at = None
            if class_end <= self.now:
                status = ClassStatus.COMPLETED
            elif class_start <= self.now:
                status = ClassStatus.RUNNING
            elif closes_at < self.now:
                status = ClassStatus.CLOSED
            elif opens_at > self.now and rng.random() < 0.3:
                status = ClassStatus.DRAFT
            else:
                status = ClassStatus.OPEN
            if status is not ClassStatus.DRAFT and rng.random() < 0.03:
                cancelled_at = min(
                    self.now - timedelta(hours=1), class_start - timedelta(days=rng.randint(3, 20))
                )
                if cancelled_at > opens_at:
                    status = ClassStatus.CANCELLED
                else:
                    cancelled_at = None
            class_id = self.next_id("classes")
            trainers = rng.sample(self.trainer_ids, 2 if rng.random() < 0.15 else 1)
            sessions = [(self.next_id("class_sessions"), start, end) for start, end in times]
            self.classes.append(
                ClassRecord(
                    id=class_id,
                    code=code,
                    course=course,
                    capacity=rng.randint(16, 32),
                    status=status,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    withdrawal_deadline_at=withdrawal_deadline_at,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    sessions=sessions,
                    trainer_ids=trainers,
                    cancelled_at=cancelled_at,
                )
            )
