"""Staff progress for a partner company's HR officers: one row per employee with their
enrolments, training hours, attendance rate and classes at risk.

The company filter is inside each query, so a view that forgets a check cannot show another
company's staff. The rows are the company's staff and anyone who has left it with enrolments
made under it; the figures count the enrolments made under the company only
(:mod:`.hr_scope`). The attendance rate is the rate so far of :mod:`.attendance_rate`; a class is
at risk when its minimum attendance can no longer be reached (:mod:`.progress`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import ColumnElement, SQLColumnExpression, Subquery, case, func, select, union

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    ClassSession,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
)
from .attendance_rate import (
    attendance_rate,
    attended_hours_sum,
    counted_hours_sum,
    session_counts_sql,
)
from .hr_scope import company_enrolments, company_staff, is_current_staff, while_at_company
from .progress import standings
from .staff import hr_company_id


@dataclass
class StaffProgress:
    """One employee's training: counts of enrolments, hours attended and classes at risk."""

    user_id: int
    name: str
    email: str
    staff_number: str | None
    department: str | None
    job_title: str | None
    #: Whether the account is active; ``None`` for someone who has left the company.
    is_active: bool | None
    #: Still one of the company's staff (else they have left it, and only the enrolments
    #: made under the company count).
    is_current: bool = True
    enrolments: int = 0
    active: int = 0
    completed: int = 0
    qf_credits: int = 0
    attended_hours: float = 0.0
    counted_hours: float = 0.0
    at_risk_classes: int = 0

    @property
    def attendance_rate(self) -> float | None:
        """The rate so far over every class counted (:mod:`.attendance_rate`)."""
        return attendance_rate(self.attended_hours, self.counted_hours)

    @property
    def at_risk(self) -> bool:
        return self.at_risk_classes > 0


def staff_progress(
    actor: User,
    *,
    department: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Iterator[StaffProgress]:
    """One row per learner of the actor's company (of one department), by name, and one per person
    who has left it with enrolments made under it in classes of the range (not with a
    department: that is the present staff's). Their staff number, department, job title and
    account state are blank: those are their new company's.

    Counts the enrolments made under the company (:mod:`.hr_scope`) in classes that start
    between ``starts_on`` and ``ends_on`` (every class when they are not given): all of
    them, the active ones (pending, confirmed or waitlisted), the completed ones and their
    QF credits; the hours attended and the attendance rate; and the confirmed places at
    risk, i.e. whose minimum attendance can no longer be reached
    (:func:`skillsup.services.progress.standings`). Five queries whatever the number of
    staff; rows are read in batches. Raises :class:`PermissionDenied` unless the actor is an
    HR officer.
    """
    company_id = hr_company_id(actor)
    staff = company_staff(company_id, department)
    made_here = company_enrolments(company_id, department)
    in_range: list[ColumnElement[bool]] = []
    if starts_on is not None:
        in_range.append(CourseClass.starts_on >= starts_on)
    if ends_on is not None:
        in_range.append(CourseClass.starts_on <= ends_on)

    def rows() -> Iterator[StaffProgress]:
        confirmed = db.session.execute(
            select(Enrolment.id, Enrolment.learner_id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*made_here, *in_range, Enrolment.status == EnrolmentStatus.CONFIRMED)
        ).all()
        standing = standings([enrolment_id for enrolment_id, _ in confirmed])
        at_risk = Counter(
            learner_id for enrolment_id, learner_id in confirmed if standing[enrolment_id].at_risk
        )

        completed = Enrolment.status == EnrolmentStatus.COMPLETED
        counts = (
            select(
                Enrolment.learner_id.label("learner_id"),
                func.count(Enrolment.id).label("enrolments"),
                func.sum(case((Enrolment.status.in_(ACTIVE_STATUSES), 1), else_=0)).label("active"),
                func.sum(case((completed, 1), else_=0)).label("completed"),
                func.sum(case((completed, Course.qf_credits), else_=0)).label("qf_credits"),
            )
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*made_here, *in_range)
            .group_by(Enrolment.learner_id)
            .subquery()
        )
        attendance = attendance_hours(Enrolment.learner_id, "learner_id", *made_here, *in_range)
        # The staff, and those who have left with enrolments made here (a department is the
        # present staff's alone, so with one the enrolments' learners are staff already).
        people = union(
            select(User.id.label("id")).where(*staff),
            select(counts.c.learner_id),
        ).subquery()
        statement = (
            select(
                User.id,
                User.name,
                User.email,
                while_at_company(company_id, User.staff_number).label("staff_number"),
                while_at_company(company_id, User.department).label("department"),
                while_at_company(company_id, User.job_title).label("job_title"),
                while_at_company(company_id, User.is_active).label("is_active"),
                is_current_staff(company_id).label("is_current"),
                counts.c.enrolments,
                counts.c.active,
                counts.c.completed,
                counts.c.qf_credits,
                attendance.c.attended,
                attendance.c.counted,
            )
            .join(people, people.c.id == User.id)
            .outerjoin(counts, counts.c.learner_id == User.id)
            .outerjoin(attendance, attendance.c.learner_id == User.id)
            .order_by(User.name, User.id)
            .execution_options(yield_per=1000)
        )
        for row in db.session.execute(statement):
            yield StaffProgress(
                user_id=row.id,
                name=row.name,
                email=row.email,
                staff_number=row.staff_number,
                department=row.department,
                job_title=row.job_title,
                is_active=None if row.is_active is None else bool(row.is_active),
                is_current=bool(row.is_current),
                enrolments=int(row.enrolments or 0),
                active=int(row.active or 0),
                completed=int(row.completed or 0),
                qf_credits=int(row.qf_credits or 0),
                attended_hours=float(row.attended or 0),
                counted_hours=float(row.counted or 0),
                at_risk_classes=at_risk.get(row.id, 0),
            )

    return rows()


def attendance_hours(
    key: SQLColumnExpression[Any], name: str, *conditions: ColumnElement[bool]
) -> Subquery:
    """SQL: a subquery of the attended and counted hours (columns ``attended`` and ``counted``,
    as :mod:`.attendance_rate` counts them) of the attendance rows the ``conditions`` keep,
    grouped by ``key`` (column ``name``). The conditions may name the enrolment, its class and
    its learner."""
    return (
        select(
            key.label(name),
            attended_hours_sum().label("attended"),
            counted_hours_sum().label("counted"),
        )
        .select_from(Attendance)
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .join(Enrolment, Attendance.enrolment_id == Enrolment.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(*conditions, session_counts_sql())
        .group_by(key)
        .subquery()
    )


#: The columns the staff progress table sorts by, each with the direction it sorts first.
PROGRESS_SORTS = {
    "name": "asc",
    "department": "asc",
    "active": "desc",
    "completed": "desc",
    "hours": "desc",
    "attendance": "desc",
    "at_risk": "desc",
}


def sort_staff_progress(
    rows: Iterable[StaffProgress], sort: str, *, descending: bool = False
) -> list[StaffProgress]:
    """The rows sorted by one of :data:`PROGRESS_SORTS`, then by name; rows without a value
    (no department, no attendance yet) come last whichever the direction."""
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.user_id))
    if sort == "name":
        return list(reversed(by_name)) if descending else by_name
    value_of: Callable[[StaffProgress], Any] = {
        "department": lambda row: row.department.casefold() if row.department else None,
        "active": lambda row: row.active,
        "completed": lambda row: row.completed,
        "hours": lambda row: row.attended_hours,
        "attendance": lambda row: row.attendance_rate,
        "at_risk": lambda row: row.at_risk_classes,
    }[sort]
    with_value = [row for row in by_name if value_of(row) is not None]
    without = [row for row in by_name if value_of(row) is None]
    return sorted(with_value, key=value_of, reverse=descending) + without
