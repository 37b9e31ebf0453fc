"""Accounts: signing in, registration, invitations, password changes and deactivation.

The e-mail these send carries links to the portal with a token in them (to confirm an
address, accept an invitation, reset a password): the view that asks for it passes in the
links (:class:`AccountLinks`), since services build no URLs.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Protocol

from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import func, select

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    CompanyDomain,
    Enrolment,
    PartnerCompany,
    Role,
    User,
    normalise_email,
    utcnow,
)
from ..validators import is_valid_email
from . import audit, mail, notify, passwords, user_sessions
from .errors import (
    AccountUnavailable,
    EmailTaken,
    InvalidCredentials,
    NotAtCompanyDomain,
    PermissionDenied,
    StaffNumberTaken,
    UnknownCompanyDomain,
    ValidationFailed,
)
from .tokens import Purpose, make_token, user_for_token


class AccountLinks(Protocol):
    """The links that account e-mail carries, built by the web layer
    (:class:`skillsup.links.PortalLinks`)."""

    def confirm_email(self, token: str) -> str: ...

    def accept_invitation(self, token: str) -> str: ...

    def forgot_password(self) -> str: ...


def find_user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(User.email == normalise_email(email)))


def company_for_email(email: str) -> PartnerCompany | None:
    """The active partner company whose staff use the address's domain, if any."""
    local, at, domain = normalise_email(email).rpartition("@")
    if not at or not local or not domain:
        return None
    return db.session.scalar(
        select(PartnerCompany)
        .join(CompanyDomain)
        .where(CompanyDomain.domain == domain, PartnerCompany.is_active.is_(True))
    )


def authenticate(email: str, password: str) -> User:
    """The user with this address and password.

    Raises :class:`InvalidCredentials` for an unknown address or a wrong password (the
    same message, and the same time spent, either way) and :class:`AccountUnavailable` for
    a right password on an account that is deactivated, unconfirmed or whose company is
    inactive. Upgrades the stored hash when the hashing parameters have changed.
    """
    user = find_user_by_email(email)
    if user is None or user.password_hash is None:
        passwords.dummy_verify(password)
        raise InvalidCredentials()
    if not passwords.verify_password(user.password_hash, password):
        raise InvalidCredentials()
    if not user.is_active:
        raise AccountUnavailable(_l("This account has been deactivated."))
    if user.email_confirmed_at is None:
        raise AccountUnavailable(
            _l("Confirm your e-mail address first: follow the link we sent you.")
        )
    if user.company is not None and not user.company.is_active:
        raise AccountUnavailable(_l("Your company's access to the portal has ended."))
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = utcnow()
    audit.record(user, "auth.login", user, "signed in")
    return user


def end_all_sessions(user: User) -> None:
    """Invalidate every session cookie of ``user``, on every device, and mark every session
    ended (:func:`skillsup.services.user_sessions.end_all`). Followed by a new session in the
    web layer, it means "end every other session and carry on in a fresh one here"."""
    user_sessions.end_all(user)


def register_learner(email: str, name: str, password: str, *, links: AccountLinks) -> User | None:
    """Register a learner from a partner company's staff, pending e-mail confirmation, and
    e-mail them the link that confirms it.

    The address must be at an active partner company's domain (else
    :class:`UnknownCompanyDomain`); the password must meet the policy (else
    :class:`WeakPassword`). If the address already has an account, nothing is created and
    its owner is told by e-mail instead (with the way to reset a forgotten password), so that
    the form reveals nothing; returns ``None``.
    """
    email = normalise_email(email)
    if not is_valid_email(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email")
    company = company_for_email(email)
    if company is None:
        raise UnknownCompanyDomain(
            _l("Use your work e-mail address at one of our partner companies."), field="email"
        )
    passwords.check_password_policy(password, email=email, name=name)
    # Hash before looking the address up, so that a taken address answers no faster.
    password_hash = passwords.hash_password(password)
    existing = find_user_by_email(email)
    if existing is not None:
        notify.send(
            existing,
            _l("You already have a SkillsUp account"),
            "account_exists",
            reset_url=links.forgot_password(),
        )
        return None
    user = User(
        email=email,
        name=name.strip(),
        role=Role.LEARNER,
        company=company,
        password_hash=password_hash,
    )
    db.session.add(user)
    db.session.flush()
    audit.record(user, "account.registered", user, f"registered as a learner of {company.code}")
    notify.send(
        user,
        _l("Confirm your e-mail address"),
        "confirm_email",
        link=links.confirm_email(make_token(user, Purpose.CONFIRM_EMAIL)),
    )
    return user


def register_verified_learner(email: str, name: str, company: PartnerCompany) -> User:
    """Create the learner account of someone whose company's identity provider has verified
    their address at one of the company's domains (single sign-on's first sign-in).

    As :func:`register_learner` does, but the address counts as confirmed and there is no
    portal password (the person signs in through the provider). The caller has checked the
    address, the company and that no account has it.
    """
    user = User(
        email=normalise_email(email),
        name=name.strip() or normalise_email(email),
        role=Role.LEARNER,
        company=company,
        password_hash=None,
        email_confirmed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(
        user,
        "account.registered",
        user,
        f"registered as a learner of {company.code} through single sign-on",
    )
    return user


def create_admin(email: str, name: str, password: str) -> User:
    """Create an institute admin with a password, from the command line of the server (the
    first admin cannot be invited by anyone). The address is taken as confirmed.

    Raises :class:`ValidationFailed` for an invalid address or a missing name,
    :class:`EmailTaken` when the address has an account, :class:`WeakPassword`.
    """
    email = normalise_email(email)
    name = name.strip()
    if not is_valid_email(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email")
    if not name:
        raise ValidationFailed(_l("Enter the person's full name."), field="name")
    if find_user_by_email(email) is not None:
        raise EmailTaken(
            _l("Someone with this e-mail address already has an account."), field="email"
        )
    passwords.check_password_policy(password, email=email, name=name)
    user = User(
        email=email,
        name=name,
        role=Role.ADMIN,
        password_hash=passwords.hash_password(password),
        email_confirmed_at=utcnow(),
    )
    db.session.add(user)
    db.session.flush()
    audit.record(None, "account.created", user, f"created admin {email} from the command line")
    return user


def confirm_email(token: str) -> User:
    """Mark the address of the token's user confirmed. Raises :class:`InvalidToken`."""
    user = user_for_token(token, Purpose.CONFIRM_EMAIL)
    user.email_confirmed_at = utcnow()
    audit.record(user, "account.email_confirmed", user, "confirmed e-mail address")
    return user


def not_at_company_domains(domains: Iterable[str]) -> str:
    """The message for an address outside the company's e-mail domains."""
    names = sorted(domains)
    return str(
        ngettext(
            "The address is not at your company's e-mail domain (%(domains)s).",
            "The address is not at one of your company's e-mail domains (%(domains)s).",
            len(names),
            domains=", ".join(names),
        )
    )


def check_at_company_domains(email: str, company: PartnerCompany) -> None:
    """Raise :class:`NotAtCompanyDomain` (field ``email``) unless the normalised ``email`` is
    at one of the company's e-mail domains; a company without any on record takes any."""
    domains = sorted(company.domain_names)
    if domains and email.rpartition("@")[2] not in domains:
        raise NotAtCompanyDomain(not_at_company_domains(domains), field="email")


def check_staff_number_free(
    company: PartnerCompany, staff_number: str | None, *, holder: User | None = None
) -> None:
    """Raise :class:`StaffNumberTaken` (field ``staff_number``) when someone of the company
    other than ``holder`` has ``staff_number``; no staff number is always free. Staff numbers
    are unique within a company (the database holds it too)."""
    if not staff_number:
        return
    statement = select(User.id).where(
        User.company_id == company.id, User.staff_number == staff_number
    )
    if holder is not None:
        statement = statement.where(User.id != holder.id)
    if db.session.scalar(statement.limit(1)) is not None:
        raise StaffNumberTaken(_l("Another employee has this staff number."), field="staff_number")


def invite_user(
    actor: User,
    *,
    email: str,
    name: str,
    role: Role,
    company: PartnerCompany | None = None,
    staff_number: str | None = None,
    department: str | None = None,
    job_title: str | None = None,
    links: AccountLinks,
    send_email: bool = True,
) -> User:
    """Create an account for someone and e-mail them a link to set their password.

    Admins invite anyone (learners and HR officers need a company; trainers and admins have
    none), never into an inactive company; HR officers invite learners of their own company
    only, at one of its e-mail domains when it has any (as a staff CSV import requires). The
    name is required; a staff number must be free in the company. Without ``send_email``
    the account is created with no invitation sent (a company's HR system adding staff who
    are told later): its owner sets a password from "Forgot your password?", or an admin
    sends the invitation. Raises :class:`PermissionDenied`, :class:`EmailTaken`,
    :class:`NotAtCompanyDomain`, :class:`StaffNumberTaken` or :class:`ValidationFailed`.
    """
    if not permissions.can_invite(actor, role, company):
        raise PermissionDenied()
    email = normalise_email(email)
    if not is_valid_email(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email")
    name = name.strip()
    if not name:
        raise ValidationFailed(_l("Enter the person's full name."), field="name")
    if role in (Role.LEARNER, Role.HR):
        if company is None:
            raise ValidationFailed(_l("Choose the person's company."), field="company")
        if not company.is_active:
            raise ValidationFailed(
                _l(
                    "%(name)s is inactive: reactivate it before inviting its staff.",
                    name=company.name,
                ),
                field="company",
            )
    else:
        company = None
    if permissions.is_hr(actor) and company is not None:
        check_at_company_domains(email, company)
    if find_user_by_email(email) is not None:
        raise EmailTaken(
            _l("Someone with this e-mail address already has an account."), field="email"
        )
    if company is not None:
        check_staff_number_free(company, staff_number)
    user = User(
        email=email,
        name=name,
        role=role,
        company=company,
        staff_number=staff_number or None,
        department=department or None,
        job_title=job_title or None,
        invited_at=utcnow() if send_email else None,
        invited_by=actor,
        # Following the invitation link proves the address.
        email_confirmed_at=None,
    )
    db.session.add(user)
    db.session.flush()
    if send_email:
        audit.record(actor, "account.invited", user, f"invited {email} as {role.value}")
        send_invitation(user, actor, links)
    else:
        audit.record(
            actor, "account.created", user, f"added {email} as {role.value}; no invitation sent"
        )
    return user


def send_invitation(user: User, actor: User, links: AccountLinks) -> None:
    """E-mail ``user`` an invitation from ``actor`` with the link to set their password."""
    notify.send(
        user,
        _l("You are invited to the SkillsUp portal"),
        "invitation",
        inviter=actor,
        link=links.accept_invitation(make_token(user, Purpose.INVITATION)),
    )


def accept_invitation(token: str, password: str) -> User:
    """Set the invitee's first password. Raises :class:`InvalidToken` or :class:`WeakPassword`."""
    user = user_for_token(token, Purpose.INVITATION)
    passwords.check_password_policy(password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    audit.record(user, "account.invitation_accepted", user, "set a first password")
    return user


def request_password_reset(email: str) -> None:
    """Queue a reset link for ``email``, which the address gets if it has an active account.

    Whether it has one is not looked up here but when the message is written, at delivery
    (the renderer of :data:`notify.PASSWORD_RESET`): the request does the same work, and the
    caller gives the same answer, for every address, so that neither tells which have an
    account. The outbox row records the request, and whether a link was sent.

    Raises :class:`ValidationFailed` for an invalid address.
    """
    email = normalise_email(email)
    if not is_valid_email(email):
        raise ValidationFailed(_l("Enter a valid e-mail address."), field="email")
    if mail.in_dry_run(db.session()):
        return
    mail.queue_to_render(
        db.session(),
        email,
        str(_l("Reset your SkillsUp password")),
        notify.PASSWORD_RESET,
        {"email": email},
    )


def reset_password(token: str, password: str) -> User:
    """Set a new password from a reset link and end every session of the user.

    Raises :class:`InvalidToken` or :class:`WeakPassword`. A reset also confirms the address,
    since the link reached it.
    """
    user = user_for_token(token, Purpose.PASSWORD_RESET)
    passwords.check_password_policy(password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(password)
    user.email_confirmed_at = user.email_confirmed_at or utcnow()
    end_all_sessions(user)
    audit.record(user, "account.password_reset", user, "reset the password")
    return user


def change_password(user: User, current_password: str, new_password: str) -> None:
    """Change a password, given the current one; ends every other session.

    Raises :class:`InvalidCredentials` for a wrong current password and :class:`WeakPassword`.
    """
    if not passwords.verify_password(user.password_hash, current_password):
        raise InvalidCredentials(
            _l("The current password is not correct."), field="current_password"
        )
    if current_password == new_password:
        raise ValidationFailed(
            _l("Choose a password different from the current one."), field="password"
        )
    passwords.check_password_policy(new_password, email=user.email, name=user.name)
    user.password_hash = passwords.hash_password(new_password)
    end_all_sessions(user)
    audit.record(user, "account.password_changed", user, "changed the password")


def active_enrolment_count(user: User) -> int:
    """How many active (pending, confirmed, waitlisted) enrolments ``user`` holds: those that
    deactivating their account (:func:`set_active`) leaves as they are."""
    return int(
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.learner_id == user.id, Enrolment.status.in_(ACTIVE_STATUSES)
            )
        )
        or 0
    )


def set_active(
    actor: User, user: User, active: bool, reason: str = "", *, now: datetime | None = None
) -> None:
    """Deactivate or reactivate an account. Deactivation ends every session of the user.

    Admins act on anyone but themselves; HR officers on learners of their own company.
    Raises :class:`PermissionDenied`.
    """
    if not permissions.can_manage_account(actor, user):
        raise PermissionDenied()
    if user.is_active == active:
        return
    user.is_active = active
    if active:
        user.deactivated_at = None
    else:
        user.deactivated_at = now or utcnow()
        end_all_sessions(user)
    audit.record(
        actor,
        "account.reactivated" if active else "account.deactivated",
        user,
        reason or "",
        {"reason": reason},
    )


def update_preferences(
    user: User,
    *,
    name: str,
    preferred_language: str | None,
    wants_reminders: bool = True,
    wants_attendance_warnings: bool = True,
) -> None:
    """Save a user's own details and choices of optional e-mail.

    Decisions (confirmations, rejections, cancellations, password resets) and the loss of a
    subsidy are always sent; only reminders and attendance warnings (a class's completion or
    its subsidy at risk) can be turned off.
    """
    user.name = name.strip()
    user.preferred_language = preferred_language or None
    user.wants_reminders = wants_reminders
    user.wants_attendance_warnings = wants_attendance_warnings
    audit.record(user, "account.updated", user, "updated own profile")


def choose_language(user: User, language: str) -> None:
    """Remember the language a user chose from the language switch: their pages and e-mail
    are in it from now on. The caller checks that the portal speaks it."""
    user.preferred_language = language
