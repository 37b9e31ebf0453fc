"""HR nominations: the classes an HR officer may see and nominate into, and the nominations.

An HR officer nominates learners of their own company only (see
:func:`skillsup.services.staff.check_employee`) into classes HR may see (not drafts, nor
classes of draft courses). A nomination goes through
:func:`skillsup.services.enrolment_requests.request_enrolment` with source ``nominated``: it
skips HR approval but obeys every other enrolment rule. A batch of nominations is all or
nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    Role,
    User,
    normalise_email,
    utcnow,
)
from . import audit, enrolment_requests, seat_quotas
from .eligibility import taking_enrolments
from .enrolment import EnrolmentRefused
from .enrolment_requests import EnrolmentOutcome
from .errors import DomainError, NotFound, ValidationFailed
from .hr_scope import company_enrolments, company_staff
from .search import contains_pattern
from .seat_quotas import QuotaUse
from .staff import StaffFilters, check_employee, directory, hr_company_id
from .waitlist import waitlist_positions

#: The most classes offered in the employee page's list; any other is reached by its code.
MAX_CLASS_CHOICES = 300


# ---------------------------------------------------------------------------------------------
# Classes HR can nominate into


def visible_classes() -> Select[CourseClass]:
    """Classes an HR officer may look at: not drafts, of courses that are not drafts."""
    return (
        select(CourseClass)
        .join(Course, CourseClass.course_id == Course.id)
        .where(CourseClass.status != ClassStatus.DRAFT, Course.status != CourseStatus.DRAFT)
        .options(contains_eager(CourseClass.course))
    )


def find_class(code: str) -> CourseClass | None:
    """The class with this code (any case) if HR may see it, with its course; else ``None``.

    Draft classes and classes of draft courses are the institute's business only.
    """
    cleaned = (code or "").strip().upper()
    if not cleaned or len(cleaned) > 40:
        return None
    return db.session.scalar(visible_classes().where(CourseClass.code == cleaned))


def find_class_by_id(class_id: int) -> CourseClass | None:
    """The class with this id if HR may see it (as :func:`find_class`), else ``None``."""
    return db.session.scalar(visible_classes().where(CourseClass.id == class_id))


def _open_conditions(now: datetime) -> list[Any]:
    return [*taking_enrolments(now), Course.status == CourseStatus.PUBLISHED]


def open_classes(q: str = "", *, now: datetime | None = None) -> Select[CourseClass]:
    """Classes of published courses taking enrolments now, soonest first, for ``db.paginate``.

    ``q`` matches part of the class code, the course code or either title.
    """
    now = now or utcnow()
    statement = visible_classes().where(*_open_conditions(now))
    q = (q or "").strip()
    if q:
        pattern = contains_pattern(q)
        statement = statement.where(
            or_(
                CourseClass.code.ilike(pattern, escape="\\"),
                Course.code.ilike(pattern, escape="\\"),
                Course.title_en.ilike(pattern, escape="\\"),
                Course.title_zh.ilike(pattern, escape="\\"),
            )
        )
    return statement.order_by(CourseClass.starts_on, CourseClass.code, CourseClass.id)


def class_choices(actor: User, employee: User, *, now: datetime | None = None) -> list[CourseClass]:
    """Classes the employee could be nominated into now: taking enrolments, and without an
    active enrolment of theirs. At most :data:`MAX_CLASS_CHOICES`, soonest first."""
    check_employee(actor, employee)
    already = exists().where(
        Enrolment.class_id == CourseClass.id,
        Enrolment.learner_id == employee.id,
        Enrolment.status.in_(ACTIVE_STATUSES),
    )
    return list(db.session.scalars(open_classes(now=now).where(~already).limit(MAX_CLASS_CHOICES)))


def staff_counts_in_classes(actor: User, class_ids: Iterable[int]) -> dict[int, int]:
    """How many active enrolments made under the company each class has, one query."""
    company_id = hr_company_id(actor)
    ids = list(class_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.class_id, func.count(Enrolment.id))
        .where(
            Enrolment.class_id.in_(ids),
            Enrolment.status.in_(ACTIVE_STATUSES),
            *company_enrolments(company_id),
        )
        .group_by(Enrolment.class_id)
    ).all()
    return {class_id: count for class_id, count in rows}


@dataclass(frozen=True)
class ClassStaffRow:
    enrolment: Enrolment
    waitlist_position: int | None
    #: The learner is still one of the company's staff: HR may open their page and sees their
    #: department. Someone who has left keeps their past enrolments here, and nothing else.
    is_current_staff: bool = True


_STATUS_ORDER = {
    EnrolmentStatus.CONFIRMED: 0,
    EnrolmentStatus.WAITLISTED: 1,
    EnrolmentStatus.PENDING: 2,
    EnrolmentStatus.COMPLETED: 3,
    EnrolmentStatus.NOT_COMPLETED: 4,
}


def class_staff(actor: User, course_class: CourseClass) -> list[ClassStaffRow]:
    """The enrolments made under the company in the class (:mod:`.hr_scope`: those of staff
    who have since left included), whatever their status, with waitlist positions: confirmed
    first, then the waitlist in its order, then pending, finished and ended ones."""
    company_id = hr_company_id(actor)
    rows = list(
        db.session.scalars(
            select(Enrolment)
            .join(User, Enrolment.learner_id == User.id)
            .where(Enrolment.class_id == course_class.id, *company_enrolments(company_id))
            .options(contains_eager(Enrolment.learner))
            .order_by(User.name, Enrolment.id)
        )
    )
    positions = waitlist_positions([e.id for e in rows if e.status == EnrolmentStatus.WAITLISTED])
    result = [
        ClassStaffRow(e, positions.get(e.id), permissions.can_act_on_employee(actor, e.learner))
        for e in rows
    ]
    result.sort(
        key=lambda row: (
            _STATUS_ORDER.get(row.enrolment.status, 9),
            row.waitlist_position or 0,
        )
    )
    return result


def nomination_candidates(
    actor: User, course_class: CourseClass, q: str = "", department: str | None = None
) -> Select[User]:
    """Active learners of the company without an active enrolment in the class, by name,
    for ``db.paginate``; ``q`` and ``department`` narrow them as in the directory."""
    already = exists().where(
        Enrolment.learner_id == User.id,
        Enrolment.class_id == course_class.id,
        Enrolment.status.in_(ACTIVE_STATUSES),
    )
    statement = directory(actor, StaffFilters(q=q, department=department))
    return statement.where(User.is_active.is_(True), ~already)


def quota_uses(actor: User, course_class: CourseClass) -> list[QuotaUse]:
    """The company's seat quotas that cover the class, with the seats used of each."""
    company_id = hr_company_id(actor)
    return seat_quotas.quota_uses(company_id, course_class)


# ---------------------------------------------------------------------------------------------
# Nominations


def nominate_employee(
    actor: User,
    employee: User,
    course_class: CourseClass,
    *,
    note: str | None = None,
    now: datetime | None = None,
) -> EnrolmentOutcome:
    """Nominate one learner of the HR officer's company into a class.

    Goes through :func:`skillsup.services.enrolment_requests.request_enrolment` with source
    ``nominated``: the nomination skips HR approval but obeys every other rule. A ``note``
    (why, say) is kept in the enrolment's history. Raises :class:`NotFound` for anyone but a
    learner of the actor's company and for a class HR may not see, and the enrolment
    service's :class:`~skillsup.services.enrolment.EnrolmentRefused` errors.
    """
    check_employee(actor, employee)
    if find_class_by_id(course_class.id) is None:
        raise NotFound()
    return _nominate(actor, employee, course_class, now, note=note)


def _nominate(
    actor: User,
    employee: User,
    course_class: CourseClass,
    now: datetime | None,
    *,
    note: str | None = None,
) -> EnrolmentOutcome:
    return enrolment_requests.request_enrolment(
        actor, employee, course_class, EnrolmentSource.NOMINATED, reason=note, now=now
    )


def find_nominee(
    actor: User,
    *,
    employee_id: int | None = None,
    email: str | None = None,
    staff_number: str | None = None,
) -> User | None:
    """The learner a nomination names by id, e-mail address or staff number (the first
    given), or ``None`` when there is none such that the actor may nominate.

    For an HR officer, one of their company's learners of today (:func:`.hr_scope.company_staff`):
    another company's employee is not there. For an admin, who enrols anyone, any learner
    by id or e-mail address (a staff number is unique within a company only, so it names
    nobody here). Raises :class:`PermissionDenied` for anyone else.
    """
    if permissions.is_admin(actor):
        conditions: list[Any] = [User.role == Role.LEARNER]
    else:
        conditions = company_staff(hr_company_id(actor))
    if employee_id is not None:
        conditions.append(User.id == employee_id)
    elif email:
        conditions.append(User.email == normalise_email(email))
    elif staff_number and not permissions.is_admin(actor):
        conditions.append(User.staff_number == staff_number.strip())
    else:
        return None
    return db.session.scalar(select(User).where(*conditions))


@dataclass(frozen=True)
class NominationResult:
    """What happened (or would have happened) to one employee of a batch of nominations."""

    employee_id: int
    name: str
    staff_number: str | None
    status: EnrolmentStatus | None = None
    waitlist_position: int | None = None
    refusal: Any = None

    @property
    def refused(self) -> bool:
        return self.refusal is not None

    @property
    def waitlisted(self) -> bool:
        return self.status == EnrolmentStatus.WAITLISTED


class NominationsRefused(DomainError):
    """Some nominations of a batch were refused, so none was made; ``results`` says, for each
    employee, why they were refused or what would have happened."""

    def __init__(self, results: list[NominationResult]) -> None:
        refused = sum(1 for result in results if result.refused)
        super().__init__(
            _l(
                "Nothing was saved: %(refused)d of %(total)d nominations were refused.",
                refused=refused,
                total=len(results),
            )
        )
        self.results = results

    @property
    def accepted(self) -> list[NominationResult]:
        return [result for result in self.results if not result.refused]

    @property
    def refused(self) -> list[NominationResult]:
        return [result for result in self.results if result.refused]


def nominate_employees(
    actor: User,
    course_class: CourseClass,
    employee_ids: Iterable[int],
    *,
    now: datetime | None = None,
) -> list[NominationResult]:
    """Nominate several learners of the HR officer's company into a class: all or nothing.

    Each nomination goes through the enrolment service as in :func:`nominate_employee`, in
    the order of the employees' names, each in a savepoint, so that every one is tried and a
    refusal leaves no trace. A nomination that succeeds uses what earlier ones of the batch
    took (seats, quota), so the results are exactly what the batch does. When every one
    succeeds, returns the results (confirmed, or waitlisted with the position); when any is
    refused, raises :class:`NominationsRefused` with every result, and the caller rolls back,
    so that nothing of the batch is saved.

    Raises :class:`ValidationFailed` without any employee, and :class:`NotFound` when an id is
    not a learner of the actor's company or the class is not one HR may see (before trying
    any nomination).
    """
    company_id = hr_company_id(actor)
    ids = sorted(set(employee_ids))
    if not ids:
        raise ValidationFailed(_l("Choose at least one employee."), field="employee_ids")
    if find_class_by_id(course_class.id) is None:
        raise NotFound()
    employees = list(
        db.session.scalars(
            select(User)
            .where(User.id.in_(ids), *company_staff(company_id))
            .order_by(User.name, User.id)
        )
    )
    if len(employees) != len(ids):
        raise NotFound()
    results: list[NominationResult] = []
    for employee in employees:
        base = NominationResult(employee.id, employee.name, employee.staff_number)
        try:
            with db.session.begin_nested():
                outcome = _nominate(actor, employee, course_class, now)
                result = replace(
                    base, status=outcome.status, waitlist_position=outcome.waitlist_position
                )
        except EnrolmentRefused as error:
            result = replace(base, refusal=error.message)
        results.append(result)
    if any(result.refused for result in results):
        raise NominationsRefused(results)
    audit.record(
        actor,
        "staff.nominated",
        course_class,
        f"nominated {len(results)} employee(s) into {course_class.code}",
        {"employee_ids": [result.employee_id for result in results]},
        company=actor.company,
    )
    return results
