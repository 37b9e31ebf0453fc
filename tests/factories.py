"""Data factories for tests: sensible defaults, every field overridable."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from skillsup.extensions import db
from skillsup.models import (
    ClassSession,
    ClassStatus,
    CompanyDomain,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    SeatQuota,
    SkillArea,
    TeachingLanguage,
    User,
    utcnow,
)
from skillsup.services.passwords import hash_password
from skillsup.timeutil import hk_date

PASSWORD = "correct horse battery staple"

_counter = itertools.count(1)


def _next() -> int:
    return next(_counter)


class Factory:
    """Builds and flushes model objects; the caller commits when it needs to."""

    _password_hash: str | None = None

    def _hash(self) -> str:
        if Factory._password_hash is None:
            Factory._password_hash = hash_password(PASSWORD)
        return Factory._password_hash

    def _save(self, obj: Any) -> Any:
        db.session.add(obj)
        db.session.commit()
        return obj

    def company(
        self,
        name: str | None = None,
        code: str | None = None,
        domains: list[str] | None = None,
        **fields: Any,
    ) -> PartnerCompany:
        n = _next()
        code = code or f"CO{n}"
        company = PartnerCompany(name=name or f"Company {n}", code=code, **fields)
        for domain in domains or [f"{code.lower()}.test"]:
            company.domains.append(CompanyDomain(domain=domain))
        return self._save(company)

    def user(
        self,
        role: str | Role = Role.LEARNER,
        company: PartnerCompany | None = None,
        email: str | None = None,
        password: str | None = PASSWORD,
        **fields: Any,
    ) -> User:
        role = Role(role)
        n = _next()
        if role in (Role.LEARNER, Role.HR) and company is None:
            company = self.company()
        if email is None:
            domain = company.domains[0].domain if company else "skillsup.test"
            email = f"{role.value}{n}@{domain}"
        fields.setdefault("name", f"Person {n}")
        # Without a password, someone invited who has not accepted yet (whose address is not
        # confirmed either); someone signed in by their company's identity provider has a
        # confirmed address and no password: pass email_confirmed_at for them.
        fields.setdefault("email_confirmed_at", utcnow() if password is not None else None)
        if role is Role.LEARNER:
            fields.setdefault("staff_number", f"S{n:05d}")
        password_hash = None
        if password == PASSWORD:
            password_hash = self._hash()
        elif password is not None:
            password_hash = hash_password(password)
        user = User(
            email=email,
            role=role,
            company=company if role in (Role.LEARNER, Role.HR) else None,
            password_hash=password_hash,
            **fields,
        )
        return self._save(user)

    def course(self, code: str | None = None, **fields: Any) -> Course:
        n = _next()
        defaults: dict[str, Any] = {
            "title_en": f"Course {n}",
            "title_zh": f"課程 {n}",
            "summary_en": "A practical course.",
            "skill_area": SkillArea.CLOUD,
            "qf_level": 4,
            "qf_credits": 3,
            "contact_hours": Decimal("24"),
            "delivery_mode": DeliveryMode.ON_CAMPUS,
            "teaching_language": TeachingLanguage.ENGLISH,
            "fee": Decimal("4800"),
            "status": CourseStatus.PUBLISHED,
        }
        defaults.update(fields)
        return self._save(Course(code=code or f"SU-TST-{n:03d}", **defaults))

    def course_class(
        self,
        course: Course | None = None,
        code: str | None = None,
        capacity: int = 20,
        trainers: list[User] | None = None,
        sessions: int = 0,
        first_session: datetime | None = None,
        **fields: Any,
    ) -> CourseClass:
        course = course or self.course()
        n = _next()
        now = utcnow()
        start = first_session or (now + timedelta(days=30)).replace(
            hour=11, minute=0, second=0, microsecond=0
        )
        defaults: dict[str, Any] = {
            "venue": "Tsing Yi campus, room 301",
            # The portal reads a class's dates as Hong Kong dates: 23:00 UTC is the next day.
            "starts_on": hk_date(start),
            "ends_on": hk_date(start + timedelta(days=7 * max(sessions - 1, 0))),
            "enrolment_opens_at": min(now, start) - timedelta(days=30),
            "enrolment_closes_at": start - timedelta(days=2),
            "withdrawal_deadline_at": start - timedelta(days=5),
            "status": ClassStatus.OPEN,
        }
        defaults.update(fields)
        course_class = CourseClass(
            course=course, code=code or f"{course.code}-{n:04d}", capacity=capacity, **defaults
        )
        for trainer in trainers or []:
            course_class.trainers.append(trainer)
        for week in range(sessions):
            begins = start + timedelta(days=7 * week)
            course_class.sessions.append(
                ClassSession(starts_at=begins, ends_at=begins + timedelta(hours=3))
            )
        return self._save(course_class)

    def enrolment(
        self,
        course_class: CourseClass,
        learner: User,
        status: EnrolmentStatus = EnrolmentStatus.CONFIRMED,
        **fields: Any,
    ) -> Enrolment:
        """An enrolment made directly, bypassing the rules: for setting up a scene."""
        now = utcnow()
        enrolment = Enrolment(
            course_class=course_class,
            learner=learner,
            status=status,
            source=fields.pop("source", EnrolmentSource.SELF),
            requested_by=fields.pop("requested_by", learner),
            **fields,
        )
        if status == EnrolmentStatus.CONFIRMED:
            enrolment.confirmed_at = now
            course_class.seats_taken += 1
        if status == EnrolmentStatus.WAITLISTED:
            enrolment.waitlisted_at = now
        return self._save(enrolment)

    def quota(
        self, company: PartnerCompany, seats: int, starts_on: date, ends_on: date, **fields: Any
    ) -> SeatQuota:
        fields.setdefault("label", f"{starts_on:%Y} period")
        return self._save(
            SeatQuota(company=company, seats=seats, starts_on=starts_on, ends_on=ends_on, **fields)
        )


def hk_datetime(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Hong Kong wall-clock time as an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)
