"""An admin's changes to a person: details, role, company, e-mail address and invitation.

The rules, whichever way a change comes in:

- Learners and HR officers belong to an active partner company; trainers and admins to none.
- An admin never changes their own role, and the last active admin stays an admin.
- A learner with active enrolments (pending, confirmed, waitlisted) keeps the learner's role
  and company until they are withdrawn or over: HR approvals, reminders and quotas follow an
  active enrolment's learner and company, and moving them silently would put a place under
  one company's quota and another's HR. Past enrolments stay with the company they were made
  under (``Enrolment.company_id``), so the old company's seats and reports keep them.
- A trainer still down to teach a class that has not finished keeps the trainer's role until
  another trainer takes it over.
- A new e-mail address is used only once its owner confirms it from the link sent to it: it
  waits as ``User.pending_email`` and the old address is told. It must be free when asked for
  and again when confirmed, and at one of the company's e-mail domains when it has any (as
  registration and staff imports require). An invitation not yet accepted is re-sent to the
  new address instead, since following it proves the address.
- A change of role or company takes rights away, so it ends every session of the person.
- Every change is in the audit log with the values before and after. A person's entries
  belong to the company they were at (``AuditEntry.company_id``); a move to another company
  holds both companies' details and belongs to neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    COMPANY_ROLES,
    FINISHED_STATUSES,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    User,
    class_trainers,
    normalise_email,
    utcnow,
)
from ..validators import is_valid_email
from . import audit, notify
from .accounts import (
    AccountLinks,
    check_at_company_domains,
    check_staff_number_free,
    end_all_sessions,
    find_user_by_email,
)
from .accounts import send_invitation as _send_invitation
from .errors import EmailTaken, PermissionDenied, ValidationFailed
from .tokens import Purpose, make_token, user_for_token


class PersonLinks(AccountLinks, Protocol):
    """The links the e-mail about a change of address carries (built by the web layer)."""

    def confirm_email_change(self, token: str) -> str: ...


@dataclass(frozen=True)
class PersonDetails:
    """What an admin may change about a person, as the edit form gives it."""

    name: str
    email: str
    role: Role
    company: PartnerCompany | None = None
    staff_number: str | None = None
    department: str | None = None
    job_title: str | None = None


def active_enrolment_count(user: User) -> int:
    return (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.learner_id == user.id, Enrolment.status.in_(ACTIVE_STATUSES)
            )
        )
        or 0
    )


def enrolment_counts(user: User) -> dict[EnrolmentStatus, int]:
    """How many enrolments the person has in each status (only the statuses they have)."""
    return {
        status: count
        for status, count in db.session.execute(
            select(Enrolment.status, func.count(Enrolment.id))
            .where(Enrolment.learner_id == user.id)
            .group_by(Enrolment.status)
        )
    }


def unfinished_class_count(trainer: User) -> int:
    """The classes ``trainer`` is down to teach that are neither completed nor cancelled."""
    return (
        db.session.scalar(
            select(func.count(CourseClass.id))
            .join(class_trainers, class_trainers.c.class_id == CourseClass.id)
            .where(
                class_trainers.c.trainer_id == trainer.id,
                CourseClass.status.not_in(FINISHED_STATUSES),
            )
        )
        or 0
    )


def _active_admin_count() -> int:
    return (
        db.session.scalar(
            select(func.count(User.id)).where(User.role == Role.ADMIN, User.is_active.is_(True))
        )
        or 0
    )


def _check_role_change(actor: User, user: User, role: Role) -> None:
    if not permissions.can_change_role(actor, user):
        raise ValidationFailed(
            _l("You cannot change your own role: ask another admin."), field="role"
        )
    if user.role == Role.ADMIN and user.is_active and _active_admin_count() <= 1:
        raise ValidationFailed(
            _l(
                "%(name)s is the last active admin: make someone else an admin first.",
                name=user.name,
            ),
            field="role",
        )
    if user.role == Role.LEARNER:
        _check_no_active_enrolments(user, field="role")
    if user.role == Role.TRAINER:
        classes = unfinished_class_count(user)
        if classes:
            raise ValidationFailed(
                _l(
                    "%(name)s still teaches %(count)d classes that have not finished: give them "
                    "to another trainer first.",
                    name=user.name,
                    count=classes,
                ),
                field="role",
            )


def _check_no_active_enrolments(user: User, *, field: str) -> None:
    active = active_enrolment_count(user)
    if active:
        raise ValidationFailed(
            _l(
                "%(name)s has %(count)d active enrolments (pending, confirmed or waitlisted): "
                "withdraw them, or wait until their classes are over, first.",
                name=user.name,
                count=active,
            ),
            field=field,
        )


def _check_company(user: User, role: Role, company: PartnerCompany | None) -> None:
    if role not in COMPANY_ROLES:
        return
    if company is None:
        raise ValidationFailed(_l("Choose the person's company."), field="company")
    if company.id != user.company_id:
        if not company.is_active:
            raise ValidationFailed(
                _l("%(name)s is inactive: choose an active company.", name=company.name),
                field="company",
            )
        if user.role == Role.LEARNER and user.company_id is not None:
            _check_no_active_enrolments(user, field="company")


def _check_email(user: User, email: str, company: PartnerCompany | None, *, moved: bool) -> None:
    if not is_valid_email(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email")
    changed = email != user.email
    if changed:
        owner = find_user_by_email(email)
        if owner is not None and owner.id != user.id:
            raise EmailTaken(
                _l("Someone with this e-mail address already has an account."), field="email"
            )
    # The company's domains apply to a new address, and to the address in a new company.
    if company is not None and (changed or moved):
        check_at_company_domains(email, company)


def update_person(
    actor: User, user: User, details: PersonDetails, *, links: PersonLinks
) -> dict[str, tuple[Any, Any]]:
    """Change a person's details as an admin; returns what changed (before, after) by field.

    The rules are the module's. A new address of an account in use waits for confirmation
    (the ``email`` entry then says what was asked for); the e-mail goes after the commit.
    Raises :class:`PermissionDenied` for anyone but an admin, :class:`EmailTaken` and
    :class:`ValidationFailed` (naming the form field) for a change the rules refuse; nothing
    is changed then.
    """
    if not permissions.can_edit_person(actor, user):
        raise PermissionDenied()
    name = details.name.strip()
    if not name:
        raise ValidationFailed(_l("Enter the person's full name."), field="name")
    email = normalise_email(details.email)
    role = details.role
    company = details.company if role in COMPANY_ROLES else None
    if role != user.role:
        _check_role_change(actor, user, role)
    _check_company(user, role, company)
    moved = (company.id if company else None) != user.company_id
    _check_email(user, email, company, moved=moved)
    staff_number = (details.staff_number or "").strip() or None
    if company is not None:
        check_staff_number_free(company, staff_number, holder=user)

    before = _snapshot(user)
    user.name = name
    user.role = role
    user.company = company
    user.staff_number = staff_number
    user.department = (details.department or "").strip() or None
    user.job_title = (details.job_title or "").strip() or None
    changes = {
        field: (before[field], after)
        for field, after in _snapshot(user).items()
        if before[field] != after
    }
    if email != user.email:
        changes["email"] = (user.email, email)
        _change_email(actor, user, email, links)
    if not changes:
        return changes
    if "role" in changes or "company" in changes:
        end_all_sessions(user)
    entry = audit.record(
        actor,
        "account.changed",
        user,
        ", ".join(sorted(changes)),
        {field: {"before": old, "after": new} for field, (old, new) in changes.items()},
    )
    if "company" in changes:
        # A move holds both companies' details (staff number, department, ...): it is part
        # of neither company's history (skillsup.services.hr_scope), only the admins'.
        entry.company = None
    return changes


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "name": user.name,
        "role": user.role.value,
        "company": user.company.code if user.company else None,
        "staff_number": user.staff_number,
        "department": user.department,
        "job_title": user.job_title,
    }


def _change_email(actor: User, user: User, email: str, links: PersonLinks) -> None:
    if user.invitation_pending:
        # Nobody uses the old address yet: the invitation goes to the new one, whose link
        # proves it (and voids the link sent to the old one); a withdrawn one stays withdrawn.
        user.email = email
        user.pending_email = None
        if user.is_active:
            user.invited_at = utcnow()
            _send_invitation(user, actor, links)
        return
    user.pending_email = email
    notify.send(
        user,
        _l("Confirm your new e-mail address"),
        "confirm_email_change",
        to=email,
        new_email=email,
        link=links.confirm_email_change(make_token(user, Purpose.CHANGE_EMAIL)),
    )
    notify.send(
        user,
        _l("Your SkillsUp e-mail address is changing"),
        "email_change_requested",
        new_email=email,
    )


def confirm_email_change(token: str) -> User:
    """Make the pending address the one in use, from the link sent to it.

    Raises :class:`InvalidToken` for a link that is forged, expired, used or replaced by a
    later request, and :class:`EmailTaken` when someone has taken the address meanwhile.
    """
    user = user_for_token(token, Purpose.CHANGE_EMAIL)
    new_email = user.pending_email
    if new_email is None:
        raise ValidationFailed(_l("There is no change of address to confirm."))
    owner = find_user_by_email(new_email)
    if owner is not None and owner.id != user.id:
        raise EmailTaken(
            _l("Someone else now has an account with this address: the change was not made.")
        )
    old_email = user.email
    user.email = new_email
    user.pending_email = None
    user.email_confirmed_at = utcnow()
    audit.record(
        user,
        "account.email_changed",
        user,
        "confirmed a new e-mail address",
        {"email": {"before": old_email, "after": new_email}},
    )
    return user


def cancel_email_change(actor: User, user: User) -> None:
    """Drop a pending change of address (its link stops working).

    Raises :class:`PermissionDenied` for anyone but an admin, :class:`ValidationFailed` when
    no change is pending.
    """
    if not permissions.can_edit_person(actor, user):
        raise PermissionDenied()
    if user.pending_email is None:
        raise ValidationFailed(_l("No change of address is waiting for confirmation."))
    pending = user.pending_email
    user.pending_email = None
    audit.record(actor, "account.email_change_cancelled", user, "", {"pending_email": pending})


def resend_invitation(actor: User, user: User, links: AccountLinks) -> None:
    """Send a new invitation link; the links sent before stop working. A withdrawn invitation
    is renewed (the account can be used again).

    Raises :class:`PermissionDenied` for anyone but an admin and :class:`ValidationFailed`
    when the person has accepted the invitation already.
    """
    if not permissions.can_edit_person(actor, user):
        raise PermissionDenied()
    if not user.is_awaiting_first_sign_in:
        raise ValidationFailed(_l("%(name)s has accepted the invitation already.", name=user.name))
    renewed = not user.is_active
    user.is_active = True
    user.deactivated_at = None
    user.invited_at = utcnow()
    user.invited_by = actor
    audit.record(
        actor,
        "account.invitation_resent",
        user,
        "renewed a withdrawn invitation" if renewed else "sent a new invitation link",
        {"email": user.email, "renewed": renewed},
    )
    _send_invitation(user, actor, links)


def revoke_invitation(actor: User, user: User) -> None:
    """Withdraw an invitation not yet accepted: its link shows that it was withdrawn, and the
    account cannot be used until an admin sends the invitation again.

    Raises :class:`PermissionDenied` for anyone but an admin and :class:`ValidationFailed`
    when the invitation was accepted or is withdrawn already.
    """
    if not permissions.can_edit_person(actor, user):
        raise PermissionDenied()
    if not user.invitation_pending:
        raise ValidationFailed(
            _l(
                "%(name)s has accepted the invitation: deactivate the account instead.",
                name=user.name,
            )
        )
    if not user.is_active:
        raise ValidationFailed(_l("This invitation has been withdrawn already."))
    user.is_active = False
    user.deactivated_at = utcnow()
    end_all_sessions(user)
    audit.record(actor, "account.invitation_revoked", user, "", {"email": user.email})


def pending_invitations() -> Select[User]:
    """Invitations not yet accepted nor withdrawn, the latest first."""
    return (
        select(User)
        .options(joinedload(User.company), joinedload(User.invited_by))
        .where(
            User.invited_at.is_not(None),
            User.password_hash.is_(None),
            User.email_confirmed_at.is_(None),
            User.is_active.is_(True),
        )
        .order_by(User.invited_at.desc(), User.id.desc())
    )
