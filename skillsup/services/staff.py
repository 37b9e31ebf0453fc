"""An HR officer's staff pages: the directory, an employee's record, deactivation, nominations.

Every function takes the acting HR officer and works inside their company only: each query
filters on ``User.company_id == actor.company_id`` (and on the learner role), so another
company's employee, enrolment or record is never found and never changed, even if a view
forgets a check. Changes to enrolments go through :mod:`skillsup.services.enrolment`, so its
rules (seats, waitlist, quotas, clashes, prerequisites) hold here too.

Functions flush but never commit; the view commits once per request.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.orm import contains_eager, joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    Role,
    User,
    utcnow,
)
from ..timeutil import today_hk
from . import accounts, audit
from . import enrolment as enrolments
from .enrolment import EnrolmentOutcome, QuotaUse
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from .progress import AttendanceStanding, standings
from .search import contains_pattern

PER_PAGE = 25
#: The most classes offered in the employee page's list; any other is reached by its code.
MAX_CLASS_CHOICES = 300
REASON_MAX_LENGTH = 500


class StaffStatus(enum.StrEnum):
    ACTIVE = "active"
    #: Invited, but no password set yet.
    INVITED = "invited"
    DEACTIVATED = "deactivated"


class StaffSort(enum.StrEnum):
    NAME = "name"
    DEPARTMENT = "department"


STATUS_LABELS = {
    StaffStatus.ACTIVE: _l("Active"),
    StaffStatus.INVITED: _l("Invited"),
    StaffStatus.DEACTIVATED: _l("Deactivated"),
}


def staff_status(user: User) -> StaffStatus:
    """Deactivated, invited (active but without a password yet) or active."""
    if not user.is_active:
        return StaffStatus.DEACTIVATED
    if user.password_hash is None:
        return StaffStatus.INVITED
    return StaffStatus.ACTIVE


class StaffActionRefused(DomainError):
    """The employee is not in a state the action applies to; the message says why."""


def hr_company_id(actor: User) -> int:
    """The acting HR officer's company: every HR service works within it.

    Raises :class:`PermissionDenied` for anyone who is not an HR officer of a company.
    """
    if not permissions.is_hr(actor) or actor.company_id is None:
        raise PermissionDenied()
    return actor.company_id


def _company_staff(actor: User) -> Select[tuple[User]]:
    company_id = hr_company_id(actor)
    return select(User).where(User.company_id == company_id, User.role == Role.LEARNER)


# ---------------------------------------------------------------------------------------------
# The directory


@dataclass(frozen=True)
class StaffFilters:
    q: str = ""
    department: str | None = None
    status: StaffStatus | None = None
    sort: StaffSort = StaffSort.NAME


def directory(actor: User, filters: StaffFilters) -> Select[tuple[User]]:
    """The company's learners matching the filters, for ``db.paginate``.

    ``q`` matches part of the name, e-mail address or staff number, ignoring case. Sorted by
    name, or by department (employees without one last) and then name. Counts of enrolments
    for a page of them come from :func:`enrolment_counts`.
    """
    statement = _company_staff(actor)
    q = filters.q.strip()
    if q:
        pattern = contains_pattern(q)
        statement = statement.where(
            or_(
                User.name.ilike(pattern, escape="\\"),
                User.email.ilike(pattern, escape="\\"),
                User.staff_number.ilike(pattern, escape="\\"),
            )
        )
    if filters.department:
        statement = statement.where(User.department == filters.department)
    if filters.status == StaffStatus.ACTIVE:
        statement = statement.where(User.is_active.is_(True), User.password_hash.is_not(None))
    elif filters.status == StaffStatus.INVITED:
        statement = statement.where(User.is_active.is_(True), User.password_hash.is_(None))
    elif filters.status == StaffStatus.DEACTIVATED:
        statement = statement.where(User.is_active.is_(False))
    if filters.sort == StaffSort.DEPARTMENT:
        statement = statement.order_by(
            User.department.is_(None), User.department, User.name, User.id
        )
    else:
        statement = statement.order_by(User.name, User.id)
    return statement


def departments(actor: User) -> list[str]:
    """The departments of the company's learners, in alphabetical order."""
    company_id = hr_company_id(actor)
    return list(
        db.session.scalars(
            select(User.department)
            .where(
                User.company_id == company_id,
                User.role == Role.LEARNER,
                User.department.is_not(None),
                User.department != "",
            )
            .distinct()
            .order_by(User.department)
        )
    )


@dataclass(frozen=True)
class EnrolmentCounts:
    #: Pending, confirmed and waitlisted.
    current: int = 0
    completed: int = 0


def enrolment_counts(actor: User, user_ids: Iterable[int]) -> dict[int, EnrolmentCounts]:
    """Current (active) and completed enrolments of each of the company's learners given, in
    one query; another company's learners are left out."""
    company_id = hr_company_id(actor)
    ids = list(user_ids)
    if not ids:
        return {}
    is_current = Enrolment.status.in_(ACTIVE_STATUSES)
    is_completed = Enrolment.status == EnrolmentStatus.COMPLETED
    rows = db.session.execute(
        select(
            Enrolment.learner_id,
            func.count(Enrolment.id).filter(is_current),
            func.count(Enrolment.id).filter(is_completed),
        )
        .join(User, Enrolment.learner_id == User.id)
        .where(Enrolment.learner_id.in_(ids), User.company_id == company_id)
        .group_by(Enrolment.learner_id)
    ).all()
    return {learner_id: EnrolmentCounts(current, done) for learner_id, current, done in rows}


def find_employee(actor: User, user_id: int, *, lock: bool = False) -> User | None:
    """The learner of the actor's company with this id, else ``None``."""
    statement = _company_staff(actor).where(User.id == user_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(statement)


def _check_employee(actor: User, employee: User) -> None:
    """Raise :class:`NotFound` unless ``employee`` is a learner of the HR officer's company."""
    company_id = hr_company_id(actor)
    if employee.company_id != company_id or employee.role != Role.LEARNER:
        raise NotFound()


# ---------------------------------------------------------------------------------------------
# An employee's record


class SessionState(enum.StrEnum):
    MARKED = "marked"
    NOT_MARKED = "not_marked"
    UPCOMING = "upcoming"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SessionMark:
    session: ClassSession
    state: SessionState
    status: AttendanceStatus | None = None


#: Enrolments whose attendance is worth showing session by session.
ATTENDING_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)
FINISHED_STATUSES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)


@dataclass
class EnrolmentRecord:
    enrolment: Enrolment
    waitlist_position: int | None = None
    sessions: list[SessionMark] = field(default_factory=list)
    standing: AttendanceStanding | None = None
    certificate: Certificate | None = None

    @property
    def shows_attendance(self) -> bool:
        return self.enrolment.status in ATTENDING_STATUSES or any(
            mark.status is not None for mark in self.sessions
        )

    @property
    def has_result(self) -> bool:
        e = self.enrolment
        return (
            e.result_score is not None
            or e.result_passed is not None
            or e.status in FINISHED_STATUSES
        )

    @property
    def at_risk(self) -> bool:
        return (
            self.enrolment.status == EnrolmentStatus.CONFIRMED
            and self.standing is not None
            and self.standing.at_risk
        )


@dataclass(frozen=True)
class HistoryItem:
    change: EnrolmentStatusChange
    enrolment: Enrolment


@dataclass
class EmployeeRecord:
    employee: User
    status: StaffStatus
    enrolments: list[EnrolmentRecord]
    history: list[HistoryItem]
    account_history: list[AuditEntry]

    @property
    def attendance(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.shows_attendance]

    @property
    def results(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.has_result]

    @property
    def certificates(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.certificate is not None]


ACCOUNT_HISTORY_LIMIT = 50


def employee_record(actor: User, employee: User, *, now: datetime | None = None) -> EmployeeRecord:
    """Everything the employee page shows, in a fixed number of queries.

    Their enrolments (newest first, with class, course and requester), the waitlist position
    of those waitlisted, attendance session by session and the standing from
    :func:`skillsup.services.progress.standings` for those confirmed or finished, results,
    certificates, every status change of their requests, and the account's own history
    (invitation, deactivation, reactivation). Raises :class:`NotFound` for anyone but a
    learner of the actor's company.
    """
    _check_employee(actor, employee)
    now = now or utcnow()
    enrolment_list = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.learner_id == employee.id)
            .options(
                joinedload(Enrolment.course_class).joinedload(CourseClass.course),
                joinedload(Enrolment.requested_by),
            )
            .order_by(Enrolment.requested_at.desc(), Enrolment.id.desc())
        )
    )
    records = {e.id: EnrolmentRecord(e) for e in enrolment_list}
    ids = list(records)

    waitlisted = [e.id for e in enrolment_list if e.status == EnrolmentStatus.WAITLISTED]
    for enrolment_id, position in enrolments.waitlist_positions(waitlisted).items():
        records[enrolment_id].waitlist_position = position

    marks: dict[int, dict[int, AttendanceStatus]] = defaultdict(dict)
    sessions_by_class: dict[int, list[ClassSession]] = defaultdict(list)
    if ids:
        for attendance in db.session.scalars(
            select(Attendance).where(Attendance.enrolment_id.in_(ids))
        ):
            marks[attendance.enrolment_id][attendance.session_id] = attendance.status
        class_ids = {e.class_id for e in enrolment_list}
        for session in db.session.scalars(
            select(ClassSession)
            .where(ClassSession.class_id.in_(class_ids))
            .order_by(ClassSession.starts_at, ClassSession.id)
        ):
            sessions_by_class[session.class_id].append(session)
        for certificate in db.session.scalars(
            select(Certificate).where(Certificate.enrolment_id.in_(ids))
        ):
            records[certificate.enrolment_id].certificate = certificate

    for record in records.values():
        mine = marks.get(record.enrolment.id, {})
        for session in sessions_by_class.get(record.enrolment.class_id, []):
            status = mine.get(session.id)
            if status is not None:
                state = SessionState.MARKED
            elif session.is_cancelled:
                state = SessionState.CANCELLED
            elif session.starts_at > now:
                state = SessionState.UPCOMING
            else:
                state = SessionState.NOT_MARKED
            record.sessions.append(SessionMark(session, state, status))

    attending = [record.enrolment.id for record in records.values() if record.shows_attendance]
    for enrolment_id, standing in standings(attending).items():
        records[enrolment_id].standing = standing

    history: list[HistoryItem] = []
    if ids:
        for change in db.session.scalars(
            select(EnrolmentStatusChange)
            .where(EnrolmentStatusChange.enrolment_id.in_(ids))
            .options(joinedload(EnrolmentStatusChange.actor))
            .order_by(EnrolmentStatusChange.changed_at.desc(), EnrolmentStatusChange.id.desc())
        ):
            history.append(HistoryItem(change, records[change.enrolment_id].enrolment))

    account_history = list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                AuditEntry.object_type == User.__tablename__,
                AuditEntry.object_id == employee.id,
                AuditEntry.action.like("account.%"),
            )
            .options(joinedload(AuditEntry.actor))
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
            .limit(ACCOUNT_HISTORY_LIMIT)
        )
    )
    return EmployeeRecord(
        employee=employee,
        status=staff_status(employee),
        enrolments=[records[e.id] for e in enrolment_list],
        history=history,
        account_history=account_history,
    )


# ---------------------------------------------------------------------------------------------
# Deactivation and reactivation


def _clean_reason(reason: str | None, *, required: bool, message: Any) -> str:
    cleaned = (reason or "").strip()
    if required and not cleaned:
        raise ValidationFailed(message, field="reason")
    if len(cleaned) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            _l("Keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
            field="reason",
        )
    return cleaned


def deactivate_employee(
    actor: User,
    employee: User,
    reason: str,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> list[Enrolment]:
    """Deactivate a learner of the HR officer's company and free their seats in classes to come.

    The account is deactivated through :func:`skillsup.services.accounts.set_active`, which
    ends every session of the user at once. Their history stays: nothing is deleted, and
    enrolments in classes that have started (or finished) are left as they are. Every active
    (pending, confirmed or waitlisted) enrolment in a class that has not started yet, that is
    whose ``starts_on`` is after today in Hong Kong, is withdrawn through
    :func:`skillsup.services.enrolment.withdraw` with ``reason`` recorded, so that a freed
    seat goes to the first on the waitlist in the same transaction. The account is
    deactivated first, so that no waitlist promotion picks the employee.

    Returns the withdrawn enrolments, soonest class first. Raises :class:`NotFound` for anyone
    but a learner of the actor's company, :class:`PermissionDenied` unless the actor is an HR
    officer, :class:`ValidationFailed` (field ``reason``) without a reason, and
    :class:`StaffActionRefused` when the employee is already deactivated. Nothing changes when
    it raises.
    """
    _check_employee(actor, employee)
    reason = _clean_reason(reason, required=True, message=_l("Give a reason for the deactivation."))
    today = today or today_hk()
    now = now or utcnow()
    locked = find_employee(actor, employee.id, lock=True)
    if locked is None:
        raise NotFound()
    if not locked.is_active:
        raise StaffActionRefused(_l("%(name)s is already deactivated.", name=locked.name))
    to_withdraw = list(
        db.session.scalars(
            select(Enrolment)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .where(
                Enrolment.learner_id == locked.id,
                Enrolment.status.in_(ACTIVE_STATUSES),
                CourseClass.starts_on > today,
            )
            .order_by(CourseClass.starts_on, CourseClass.code, Enrolment.id)
        )
    )
    accounts.set_active(actor, locked, False, reason, now=now)
    withdrawn: list[Enrolment] = []
    for enrolment in to_withdraw:
        try:
            enrolments.withdraw(actor, enrolment, reason, now=now)
        except enrolments.InvalidTransition:
            # Ended meanwhile by someone else: nothing left to free.
            continue
        withdrawn.append(enrolment)
    audit.record(
        actor,
        "staff.deactivated",
        locked,
        f"deactivated; {len(withdrawn)} enrolment(s) in classes to come withdrawn",
        {"reason": reason, "withdrawn_enrolment_ids": [e.id for e in withdrawn]},
    )
    db.session.flush()
    return withdrawn


def reactivate_employee(actor: User, employee: User, reason: str = "") -> None:
    """Let a deactivated learner of the HR officer's company log in again.

    Enrolments withdrawn at the deactivation stay withdrawn: seats given to others are not
    taken back; HR nominates the employee again where needed. The reason is optional.
    Raises :class:`NotFound` for anyone but a learner of the actor's company,
    :class:`PermissionDenied` unless the actor is an HR officer, :class:`ValidationFailed`
    for a reason that is too long, and :class:`StaffActionRefused` when the employee is active.
    """
    _check_employee(actor, employee)
    reason = _clean_reason(reason, required=False, message=None)
    locked = find_employee(actor, employee.id, lock=True)
    if locked is None:
        raise NotFound()
    if locked.is_active:
        raise StaffActionRefused(_l("%(name)s is already active.", name=locked.name))
    accounts.set_active(actor, locked, True, reason)
    db.session.flush()


# ---------------------------------------------------------------------------------------------
# Classes HR can nominate into


def visible_classes() -> Select[tuple[CourseClass]]:
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
    return [*enrolments.taking_enrolments(now), Course.status == CourseStatus.PUBLISHED]


def open_classes(q: str = "", *, now: datetime | None = None) -> Select[tuple[CourseClass]]:
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
    _check_employee(actor, employee)
    already = exists().where(
        Enrolment.class_id == CourseClass.id,
        Enrolment.learner_id == employee.id,
        Enrolment.status.in_(ACTIVE_STATUSES),
    )
    return list(db.session.scalars(open_classes(now=now).where(~already).limit(MAX_CLASS_CHOICES)))


def staff_counts_in_classes(actor: User, class_ids: Iterable[int]) -> dict[int, int]:
    """How many of the company's learners hold an active enrolment in each class, one query."""
    company_id = hr_company_id(actor)
    ids = list(class_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        select(Enrolment.class_id, func.count(Enrolment.id))
        .join(User, Enrolment.learner_id == User.id)
        .where(
            Enrolment.class_id.in_(ids),
            Enrolment.status.in_(ACTIVE_STATUSES),
            User.company_id == company_id,
        )
        .group_by(Enrolment.class_id)
    ).all()
    return {class_id: count for class_id, count in rows}


@dataclass(frozen=True)
class ClassStaffRow:
    enrolment: Enrolment
    waitlist_position: int | None


_STATUS_ORDER = {
    EnrolmentStatus.CONFIRMED: 0,
    EnrolmentStatus.WAITLISTED: 1,
    EnrolmentStatus.PENDING: 2,
    EnrolmentStatus.COMPLETED: 3,
    EnrolmentStatus.NOT_COMPLETED: 4,
}


def class_staff(actor: User, course_class: CourseClass) -> list[ClassStaffRow]:
    """The company's enrolments in the class, whatever their status, with waitlist positions:
    confirmed first, then the waitlist in its order, then pending, finished and ended ones."""
    company_id = hr_company_id(actor)
    rows = list(
        db.session.scalars(
            select(Enrolment)
            .join(User, Enrolment.learner_id == User.id)
            .where(Enrolment.class_id == course_class.id, User.company_id == company_id)
            .options(contains_eager(Enrolment.learner))
            .order_by(User.name, Enrolment.id)
        )
    )
    positions = enrolments.waitlist_positions(
        [e.id for e in rows if e.status == EnrolmentStatus.WAITLISTED]
    )
    result = [ClassStaffRow(e, positions.get(e.id)) for e in rows]
    result.sort(
        key=lambda row: (
            _STATUS_ORDER.get(row.enrolment.status, 9),
            row.waitlist_position or 0,
        )
    )
    return result


def nomination_candidates(
    actor: User, course_class: CourseClass, q: str = "", department: str | None = None
) -> Select[tuple[User]]:
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
    return enrolments.quota_uses(company_id, course_class)


# ---------------------------------------------------------------------------------------------
# Nominations


def nominate_employee(
    actor: User, employee: User, course_class: CourseClass, *, now: datetime | None = None
) -> EnrolmentOutcome:
    """Nominate one learner of the HR officer's company into a class.

    Goes through :func:`skillsup.services.enrolment.request_enrolment` with source
    ``nominated``: the nomination skips HR approval but obeys every other rule. Raises
    :class:`NotFound` for anyone but a learner of the actor's company and for a class HR may
    not see, and the enrolment service's :class:`~skillsup.services.enrolment.EnrolmentRefused`
    errors.
    """
    _check_employee(actor, employee)
    if find_class_by_id(course_class.id) is None:
        raise NotFound()
    return _nominate(actor, employee, course_class, now)


def _nominate(
    actor: User, employee: User, course_class: CourseClass, now: datetime | None
) -> EnrolmentOutcome:
    return enrolments.request_enrolment(
        actor, employee, course_class, EnrolmentSource.NOMINATED, now=now
    )


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
            .where(User.id.in_(ids), User.company_id == company_id, User.role == Role.LEARNER)
            .order_by(User.name, User.id)
        )
    )
    if len(employees) != len(ids):
        raise NotFound()
    results: list[NominationResult] = []
    for employee in employees:
        base = {
            "employee_id": employee.id,
            "name": employee.name,
            "staff_number": employee.staff_number,
        }
        try:
            with db.session.begin_nested():
                outcome = _nominate(actor, employee, course_class, now)
                result = NominationResult(
                    **base, status=outcome.status, waitlist_position=outcome.waitlist_position
                )
        except enrolments.EnrolmentRefused as error:
            result = NominationResult(**base, refusal=error.message)
        results.append(result)
    if any(result.refused for result in results):
        raise NominationsRefused(results)
    audit.record(
        actor,
        "staff.nominated",
        course_class,
        f"nominated {len(results)} employee(s) into {course_class.code}",
        {"employee_ids": [result.employee_id for result in results]},
    )
    return results
