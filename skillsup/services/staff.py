"""An HR officer's staff: the directory of their company's learners, deactivation, reactivation.

Every function takes the acting HR officer and works inside their company only: each query
filters on ``User.company_id == actor.company_id`` (and on the learner role), so another
company's employee, enrolment or record is never found and never changed, even if a view
forgets a check (:func:`hr_company_id`, :func:`check_employee`). The same holds for an
employee's record (:mod:`.employee_records`) and for nominations (:mod:`.nominations`).
Deactivation, reactivation and the staff lists of :func:`staff_in_scope` also answer an
admin, for any company's learners (the API's institute-wide tokens): the company is then the
employee's (:func:`check_staff_member`).
Changes to enrolments go through :mod:`skillsup.services.enrolment_requests`, so its rules
(seats, waitlist, quotas, clashes, prerequisites) hold here too.

Functions flush but never commit; the view commits once per request.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Select,
    and_,
    bindparam,
    func,
    not_,
    or_,
    select,
)

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    StaffStatus,
    User,
    utcnow,
)
from ..timeutil import today_hk
from . import accounts, audit, enrolment_requests
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from .hr_scope import company_enrolments, company_staff
from .search import contains_pattern

PER_PAGE = 25
REASON_MAX_LENGTH = 500


class StaffSort(enum.StrEnum):
    NAME = "name"
    DEPARTMENT = "department"


def staff_status(user: User) -> StaffStatus:
    """Deactivated, invited (active but without a password or a confirmed address yet) or
    active."""
    if not user.is_active:
        return StaffStatus.DEACTIVATED
    if user.is_awaiting_first_sign_in:
        return StaffStatus.INVITED
    return StaffStatus.ACTIVE


class StaffActionRefused(DomainError):
    """The employee is not in a state the action applies to; the message says why."""

    status_code = 409


def hr_company_id(actor: User) -> int:
    """The acting HR officer's company: every HR service works within it.

    Raises :class:`PermissionDenied` for anyone who is not an HR officer of a company.
    """
    if not permissions.is_hr(actor) or actor.company_id is None:
        raise PermissionDenied()
    return actor.company_id


def _company_staff(actor: User) -> Select[User]:
    return select(User).where(*company_staff(hr_company_id(actor)))


# ---------------------------------------------------------------------------------------------
# The directory


@dataclass(frozen=True)
class StaffFilters:
    q: str = ""
    department: str | None = None
    status: StaffStatus | None = None
    sort: StaffSort = StaffSort.NAME


def directory(actor: User, filters: StaffFilters) -> Select[User]:
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
    if filters.status is not None:
        statement = statement.where(*status_conditions(filters.status))
    if filters.sort == StaffSort.DEPARTMENT:
        statement = statement.order_by(
            User.department.is_(None), User.department, User.name, User.id
        )
    else:
        statement = statement.order_by(User.name, User.id)
    return statement


def status_conditions(status: StaffStatus) -> list[ColumnElement[bool]]:
    """Conditions that keep a query of people to those in ``status`` (:func:`staff_status`)."""
    awaiting = and_(User.password_hash.is_(None), User.email_confirmed_at.is_(None))
    if status == StaffStatus.ACTIVE:
        return [User.is_active.is_(True), not_(awaiting)]
    if status == StaffStatus.INVITED:
        return [User.is_active.is_(True), awaiting]
    return [User.is_active.is_(False)]


def staff_in_scope(actor: User, company: PartnerCompany | None = None) -> Select[User]:
    """The learners whose staff records the actor keeps: an HR officer's company's (``company``
    must then be theirs, else :class:`NotFound`), an admin's of ``company``, or of every
    company when it is ``None``. Raises :class:`PermissionDenied` for anyone else."""
    if permissions.is_admin(actor):
        if company is not None:
            return select(User).where(*company_staff(company.id))
        return select(User).where(User.role == Role.LEARNER, User.company_id.is_not(None))
    company_id = hr_company_id(actor)
    if company is not None and company.id != company_id:
        raise NotFound()
    return select(User).where(*company_staff(company_id))


def find_staff_member(actor: User, user_id: int, *, lock: bool = False) -> User | None:
    """The learner with this id among those of :func:`staff_in_scope` (every company's for
    an admin), else ``None``; with ``lock``, locked for a change, its attributes read afresh."""
    statement = staff_in_scope(actor).where(User.id == user_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(statement)


def check_staff_member(actor: User, employee: User) -> None:
    """Raise :class:`NotFound` unless the actor keeps ``employee``'s staff record
    (:func:`skillsup.permissions.can_manage_staff_member`: a learner of the HR officer's
    company, or of any company for an admin), :class:`PermissionDenied` for anyone but an HR
    officer or an admin."""
    if not permissions.is_admin(actor):
        hr_company_id(actor)
    if not permissions.can_manage_staff_member(actor, employee):
        raise NotFound()


def departments(actor: User) -> list[str]:
    """The departments of the company's learners, in alphabetical order."""
    company_id = hr_company_id(actor)
    return list(db.session.scalars(_departments_statement(), {"company_id": company_id}))


@functools.cache
def _departments_statement() -> Select[str | None]:
    # Built once, as the counts' below: making a statement anew costs more of the processor
    # than running it.
    return (
        select(User.department)
        .where(
            *company_staff(bindparam("company_id")),
            User.department.is_not(None),
            User.department != "",
        )
        .distinct()
        .order_by(User.department)
    )


@dataclass(frozen=True)
class EnrolmentCounts:
    #: Pending, confirmed and waitlisted.
    current: int = 0
    completed: int = 0


def enrolment_counts(actor: User, user_ids: Iterable[int]) -> dict[int, EnrolmentCounts]:
    """Current (active) and completed enrolments made under the company of each of its
    learners given, in one query; another company's learners, and enrolments made under
    another company, are left out."""
    company_id = hr_company_id(actor)
    ids = list(user_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        _enrolment_counts_statement(), {"company_id": company_id, "user_ids": ids}
    ).all()
    return {learner_id: EnrolmentCounts(current, done) for learner_id, current, done in rows}


@functools.cache
def _enrolment_counts_statement() -> Select[int, int, int]:
    company_id: BindParameter[int] = bindparam("company_id")
    return (
        select(
            Enrolment.learner_id,
            func.count(Enrolment.id).filter(Enrolment.status.in_(ACTIVE_STATUSES)),
            func.count(Enrolment.id).filter(Enrolment.status == EnrolmentStatus.COMPLETED),
        )
        .join(User, Enrolment.learner_id == User.id)
        .where(
            Enrolment.learner_id.in_(bindparam("user_ids", expanding=True)),
            *company_staff(company_id),
            *company_enrolments(company_id),
        )
        .group_by(Enrolment.learner_id)
    )


def find_employee(actor: User, user_id: int, *, lock: bool = False) -> User | None:
    """The learner of the actor's company with this id, else ``None``."""
    statement = _company_staff(actor).where(User.id == user_id)
    if lock:
        statement = statement.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(statement)


def check_employee(actor: User, employee: User) -> None:
    """Raise :class:`NotFound` unless ``employee`` is a learner of the HR officer's company
    (:class:`PermissionDenied` for anyone but an HR officer)."""
    hr_company_id(actor)
    if not permissions.can_act_on_employee(actor, employee):
        raise NotFound()


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
    already_ok: bool = False,
) -> list[Enrolment]:
    """Deactivate a learner of the HR officer's company and free their seats in classes to come.

    The account is deactivated through :func:`skillsup.services.accounts.set_active`, which
    ends every session of the user at once. Their history stays: nothing is deleted, and
    enrolments in classes that have started (or finished) are left as they are. Every active
    (pending, confirmed or waitlisted) enrolment in a class that has not started yet, that is
    whose ``starts_on`` is after today in Hong Kong, is withdrawn through
    :func:`skillsup.services.enrolment_requests.withdraw` with ``reason`` recorded, so that a freed
    seat goes to the first on the waitlist in the same transaction. The account is
    deactivated first, so that no waitlist promotion picks the employee.

    An admin may deactivate any company's learner the same way (:func:`check_staff_member`).

    Returns the withdrawn enrolments, soonest class first. Raises :class:`NotFound` for anyone
    but a learner of the actor's company, :class:`PermissionDenied` unless the actor is an HR
    officer or an admin, :class:`ValidationFailed` (field ``reason``) without a reason, and
    :class:`StaffActionRefused` when the employee is already deactivated, unless
    ``already_ok`` (a company's HR system saying again what it said before): then nothing
    changes, nothing is recorded and the list is empty. Nothing changes when it raises.
    """
    check_staff_member(actor, employee)
    reason = _clean_reason(reason, required=True, message=_l("Give a reason for the deactivation."))
    today = today or today_hk()
    now = now or utcnow()
    locked = find_staff_member(actor, employee.id, lock=True)
    if locked is None or locked.company_id is None:
        raise NotFound()
    if not locked.is_active:
        if already_ok:
            return []
        raise StaffActionRefused(_l("%(name)s is already deactivated.", name=locked.name))
    to_withdraw = _active_enrolments(locked.id, locked.company_id, today, to_come=True)
    accounts.set_active(actor, locked, False, reason, now=now)
    # Every class (and the quotas their waitlists may use) before the first withdrawal, in the
    # lock order of skillsup.services.enrolment: one by one, a class would be locked after
    # another's quotas.
    enrolment_requests.lock_for_several((), (e.class_id for e in to_withdraw))
    withdrawn: list[Enrolment] = []
    for enrolment in to_withdraw:
        try:
            enrolment_requests.withdraw(actor, enrolment, reason, now=now)
        except enrolment_requests.InvalidTransition:
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


def _active_enrolments(
    employee_id: int, company_id: int, today: date, *, to_come: bool
) -> list[Enrolment]:
    """The employee's active enrolments made under the company, in classes that have not
    started (``to_come``: those that deactivating withdraws), or else in classes that have
    (left as they are)."""
    starts = CourseClass.starts_on > today if to_come else CourseClass.starts_on <= today
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .where(
                Enrolment.learner_id == employee_id,
                *company_enrolments(company_id),
                Enrolment.status.in_(ACTIVE_STATUSES),
                starts,
            )
            .order_by(CourseClass.starts_on, CourseClass.code, Enrolment.id)
        )
    )


@dataclass
class DeactivationPreview:
    """What :func:`deactivate_employee` would do now (:func:`deactivation_preview`)."""

    employee: User
    #: Why the employee cannot be deactivated, if they cannot.
    refusal: DomainError | None
    #: The enrolments it would withdraw (classes not started; each seat to the waitlist,
    #: the employee told by e-mail for each).
    withdrawn: list[Enrolment]
    #: The active enrolments it leaves as they are (classes under way).
    kept: list[Enrolment]


def deactivation_preview(
    actor: User, employee: User, *, today: date | None = None
) -> DeactivationPreview:
    """What deactivating ``employee`` now would do, for its confirmation page. Raises
    :class:`NotFound` for anyone but a learner of the actor's company. Changes nothing."""
    check_employee(actor, employee)
    today = today or today_hk()
    refusal = (
        None
        if employee.is_active
        else StaffActionRefused(_l("%(name)s is already deactivated.", name=employee.name))
    )
    return DeactivationPreview(
        employee,
        refusal,
        _active_enrolments(employee.id, hr_company_id(actor), today, to_come=True),
        _active_enrolments(employee.id, hr_company_id(actor), today, to_come=False),
    )


def reactivate_employee(
    actor: User, employee: User, reason: str = "", *, already_ok: bool = False
) -> bool:
    """Let a deactivated learner of the HR officer's company (any company's, for an admin)
    log in again; returns whether anything changed.

    Enrolments withdrawn at the deactivation stay withdrawn: seats given to others are not
    taken back; HR nominates the employee again where needed. The reason is optional.
    Raises :class:`NotFound` for anyone but a learner of the actor's company,
    :class:`PermissionDenied` unless the actor is an HR officer or an admin,
    :class:`ValidationFailed` for a reason that is too long, and :class:`StaffActionRefused`
    when the employee is active, unless ``already_ok``: then nothing changes (``False``).
    """
    check_staff_member(actor, employee)
    reason = _clean_reason(reason, required=False, message=None)
    locked = find_staff_member(actor, employee.id, lock=True)
    if locked is None:
        raise NotFound()
    if locked.is_active:
        if already_ok:
            return False
        raise StaffActionRefused(_l("%(name)s is already active.", name=locked.name))
    accounts.set_active(actor, locked, True, reason)
    db.session.flush()
    return True
