"""What each role sees on its home page, in a fixed number of queries."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, bindparam, func, select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    AuditEntry,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    User,
    utcnow,
)


@dataclass(frozen=True)
class UpcomingSession:
    session: ClassSession
    course_class: CourseClass
    course: Course


def learner_upcoming_sessions(
    learner: User, *, now: datetime | None = None, limit: int = 10
) -> list[UpcomingSession]:
    """The next sessions of the classes the learner is confirmed in."""
    now = now or utcnow()
    rows = db.session.execute(
        _learner_upcoming_statement(), {"learner_id": learner.id, "now": now, "limit": limit}
    ).all()
    return [UpcomingSession(s, c, course) for s, c, course in rows]


@functools.cache
def _learner_upcoming_statement() -> Select[ClassSession, CourseClass, Course]:
    # Built once: "My learning" runs it on every visit.
    return (
        select(ClassSession, CourseClass, Course)
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .where(
            Enrolment.learner_id == bindparam("learner_id"),
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            ClassSession.ends_at >= bindparam("now"),
            ClassSession.is_cancelled.is_(False),
            CourseClass.status != ClassStatus.CANCELLED,
        )
        .order_by(ClassSession.starts_at)
        .limit(bindparam("limit"))
    )


@dataclass(frozen=True)
class InstituteSummary:
    published_courses: int
    draft_courses: int
    classes_by_status: dict[ClassStatus, int]
    active_enrolments: int
    companies: int
    users_by_role: dict[Role, int]
    recent_changes: list[AuditEntry]


def institute_summary(*, recent_limit: int = 15) -> InstituteSummary:
    """The admin's home page: courses by status, classes by status, active enrolments, active
    companies and users, and the latest ``recent_limit`` changes of the audit log with who made
    them. A fixed number of queries whatever the size of the data; the caller checks that the
    reader is an admin."""
    courses = dict(
        db.session.execute(select(Course.status, func.count()).group_by(Course.status)).all()
    )
    classes = dict(
        db.session.execute(
            select(CourseClass.status, func.count()).group_by(CourseClass.status)
        ).all()
    )
    active = db.session.scalar(
        select(func.count()).select_from(Enrolment).where(Enrolment.status.in_(ACTIVE_STATUSES))
    )
    companies = db.session.scalar(
        select(func.count()).select_from(PartnerCompany).where(PartnerCompany.is_active)
    )
    roles = dict(
        db.session.execute(
            select(User.role, func.count()).where(User.is_active).group_by(User.role)
        ).all()
    )
    recent = list(
        db.session.scalars(
            select(AuditEntry)
            .options(selectinload(AuditEntry.actor), selectinload(AuditEntry.api_token))
            .order_by(AuditEntry.id.desc())
            .limit(recent_limit)
        )
    )
    return InstituteSummary(
        published_courses=courses.get(CourseStatus.PUBLISHED, 0),
        draft_courses=courses.get(CourseStatus.DRAFT, 0),
        classes_by_status={status: classes.get(status, 0) for status in ClassStatus},
        active_enrolments=active or 0,
        companies=companies or 0,
        users_by_role={role: roles.get(role, 0) for role in Role},
        recent_changes=recent,
    )
