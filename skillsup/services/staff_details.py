"""A learner's details as their company keeps them, and keeping the portal's staff in step with
the company's own staff records (its HR system's nightly sync, through the API).

The rules, whichever way a change comes in:

- Only a learner of the actor's company is changed by an HR officer; an admin changes any
  company's learner (:func:`skillsup.permissions.can_manage_staff_member`). Anyone else is
  simply not found.
- A company keeps its staff's name (required), staff number, department and job title. A
  staff number is unique within the company (:func:`.accounts.check_staff_number_free`); an
  empty value clears a staff number, department or job title.
- The e-mail address is not changed here: a new address is used only once its owner
  confirms it, a change that the institute's admins make (:func:`.people.update_person`).
- A deactivated employee's details are not changed: they are reactivated first
  (:func:`.staff.reactivate_employee`).
- Every change is in the audit log with the values before and after; a change that changes
  nothing records nothing, so that saying the same again (every night) leaves no trace.

Keeping in step (:func:`sync_employee`) finds the company's learner by staff number, else by
e-mail address; someone not yet on the portal is invited through
:func:`.accounts.invite_user`, with its rules (an HR officer's invitations keep to the
company's e-mail domains; an address that has an account anywhere is taken).

Functions flush but never commit; the caller's unit of work commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..extensions import db
from ..models import PartnerCompany, Role, User, normalise_email
from . import accounts, audit
from .errors import DomainError, NotFound, PermissionDenied, StaffNumberTaken, ValidationFailed
from .hr_scope import company_staff
from .staff import check_staff_member, find_staff_member

#: The details a company keeps about its learners, which :func:`update_employee` changes.
KEPT_FIELDS = ("name", "staff_number", "department", "job_title")


class EmployeeDeactivated(DomainError):
    """The employee is deactivated: their details wait until they are reactivated."""

    status_code = 409


class EmailDoesNotMatch(DomainError):
    """The staff number is an employee's whose e-mail address is another one."""

    status_code = 409


class SavedMeanwhile(DomainError):
    """Someone saved the same person at the same moment: sending it again finds them."""

    default_message = _l(
        "Someone saved this person at the same moment. Send the request again: it will find them."
    )
    status_code = 409


def _cleaned(given: Mapping[str, str | None]) -> dict[str, str | None]:
    unknown = set(given) - set(KEPT_FIELDS)
    if unknown:
        raise ValueError(f"not details a company keeps: {sorted(unknown)}")
    cleaned: dict[str, str | None] = {}
    for name, value in given.items():
        text = (value or "").strip()
        if name == "name":
            if not text:
                raise ValidationFailed(_l("Enter the person's full name."), field="name")
            cleaned[name] = text
        else:
            cleaned[name] = text or None
    return cleaned


def update_employee(
    actor: User, employee: User, given: Mapping[str, str | None]
) -> dict[str, tuple[Any, Any]]:
    """Change the details of ``given`` (any of :data:`KEPT_FIELDS`; those left out stay as
    they are) of a learner the actor keeps; returns what changed (before, after) by field.

    The rules are the module's. Raises :class:`NotFound` for a person the actor does not keep,
    :class:`PermissionDenied` for anyone but an HR officer or an admin,
    :class:`EmployeeDeactivated`, :class:`ValidationFailed` for an empty name and
    :class:`StaffNumberTaken`; nothing is changed then.
    """
    check_staff_member(actor, employee)
    cleaned = _cleaned(given)
    locked = find_staff_member(actor, employee.id, lock=True)
    if locked is None or locked.company is None:
        raise NotFound()
    if not locked.is_active:
        raise EmployeeDeactivated(
            _l(
                "%(name)s is deactivated: reactivate them first, then send their details again.",
                name=locked.name,
            )
        )
    changes = {
        name: (getattr(locked, name), value)
        for name, value in cleaned.items()
        if getattr(locked, name) != value
    }
    if not changes:
        return changes
    if "staff_number" in changes:
        accounts.check_staff_number_free(locked.company, changes["staff_number"][1], holder=locked)
    savepoint = db.session.begin_nested()
    try:
        for name, (_before, after) in changes.items():
            setattr(locked, name, after)
        db.session.flush()
    except IntegrityError as error:
        # Another employee was given the same staff number at the same moment.
        savepoint.rollback()
        raise SavedMeanwhile() from error
    savepoint.commit()
    audit.record(
        actor,
        "account.changed",
        locked,
        ", ".join(sorted(changes)),
        {name: {"before": old, "after": new} for name, (old, new) in changes.items()},
    )
    db.session.flush()
    return changes


@dataclass
class SyncOutcome:
    """What :func:`sync_employee` did: the employee, whether it created them, and what it
    changed (empty when the details were already so)."""

    employee: User
    created: bool
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)


def _company_for(actor: User, company: PartnerCompany | None) -> PartnerCompany:
    if permissions.is_admin(actor):
        if company is None:
            raise ValidationFailed(_l("Choose the person's company."), field="company")
        return company
    if not permissions.is_hr(actor) or actor.company is None:
        raise PermissionDenied()
    if company is not None and company.id != actor.company_id:
        raise NotFound()
    return actor.company


def _holder_of_staff_number(company: PartnerCompany, staff_number: str) -> User | None:
    return db.session.scalar(
        select(User).where(User.company_id == company.id, User.staff_number == staff_number)
    )


def _awaiting_address(company: PartnerCompany, email: str) -> User | None:
    """The company's learner whose new address ``email`` waits for their confirmation: the
    company's records may have it already."""
    return db.session.scalar(
        select(User).where(*company_staff(company.id), User.pending_email == email).limit(1)
    )


def _is_staff_of(person: User, company: PartnerCompany) -> bool:
    return person.role == Role.LEARNER and person.company_id == company.id


def sync_employee(
    actor: User,
    company: PartnerCompany | None,
    *,
    email: str,
    details: Mapping[str, str | None],
    invite: bool = True,
    links: accounts.AccountLinks,
) -> SyncOutcome:
    """Make the portal's record of one of the company's staff what the company says: update
    the learner it already has, or invite a new one.

    ``details`` gives the name (required) and any of the other :data:`KEPT_FIELDS`; those
    left out stay as they are. ``company`` is the HR officer's own (or ``None`` for it; another
    company is :class:`NotFound`), and the company an admin acts for (required).

    The learner is the company's learner with the staff number given, else the one with the
    e-mail address (in use, or the new one waiting for their confirmation). Found by staff
    number, their address must be ``email`` (or that new one), else
    :class:`EmailDoesNotMatch`: an address changes only through the institute's admins. A
    staff number that belongs to someone of the company who is not one of its learners is
    :class:`StaffNumberTaken`; an address that belongs to anyone who is not one of its
    learners is :class:`.errors.EmailTaken`. A learner found is updated by
    :func:`update_employee` (so a deactivated one is refused); else a new one is invited by
    :func:`.accounts.invite_user` (``invite``: with the invitation e-mail, queued for after
    the commit). Sending the same again changes and records
    nothing. Raises those errors, :class:`PermissionDenied`, :class:`ValidationFailed`,
    :class:`.errors.NotAtCompanyDomain` and :class:`SavedMeanwhile` when the same person was
    saved at the same moment; nothing is changed then.
    """
    company = _company_for(actor, company)
    email = normalise_email(email)
    cleaned = _cleaned(details)
    if "name" not in cleaned:
        raise ValidationFailed(_l("Enter the person's full name."), field="name")
    staff_number = cleaned.get("staff_number")
    if staff_number:
        holder = _holder_of_staff_number(company, staff_number)
        if holder is not None:
            if not _is_staff_of(holder, company):
                raise StaffNumberTaken(
                    _l("Another employee has this staff number."), field="staff_number"
                )
            if email not in {holder.email, holder.pending_email}:
                raise EmailDoesNotMatch(
                    _l(
                        "Staff number %(number)s is %(name)s's, whose e-mail address on the "
                        "portal is %(email)s. Only the institute's admins change an e-mail "
                        "address (its owner confirms the new one): ask them, or send the "
                        "address on the portal.",
                        number=staff_number,
                        name=holder.name,
                        email=holder.email,
                    ),
                    field="email",
                )
            return SyncOutcome(holder, False, update_employee(actor, holder, cleaned))
    person = accounts.find_user_by_email(email) or _awaiting_address(company, email)
    if person is not None and _is_staff_of(person, company):
        return SyncOutcome(person, False, update_employee(actor, person, cleaned))
    # Nobody of the company: a new learner, with the invitation's rules (an address with an
    # account elsewhere is taken).
    savepoint = db.session.begin_nested()
    try:
        created = accounts.invite_user(
            actor,
            email=email,
            name=cleaned["name"] or "",
            role=Role.LEARNER,
            company=company,
            staff_number=staff_number,
            department=cleaned.get("department"),
            job_title=cleaned.get("job_title"),
            links=links,
            send_email=invite,
        )
    except IntegrityError as error:
        savepoint.rollback()
        raise SavedMeanwhile() from error
    except DomainError:
        savepoint.rollback()
        raise
    savepoint.commit()
    return SyncOutcome(created, True)
