"""Programme administration of partner companies: their details, e-mail domains and HR officers.

A company's e-mail domains decide who may register as its staff, so a domain belongs to one
company only, and the public mail providers that anyone can use are refused. Its seat quotas
are :mod:`.seat_quotas`'s.

Deactivating a company stops its learners and HR officers from logging in (their sessions end
on their next request, since an account of an inactive company cannot log in) but keeps every
account, enrolment and quota. Nothing here commits: the view or command does, once.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import Select, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from .. import permissions
from ..extensions import db
from ..models import (
    CompanyDomain,
    PartnerCompany,
    Role,
    User,
)
from . import accounts, audit
from .errors import NotFound, PermissionDenied, ValidationFailed
from .search import contains_pattern
from .seat_quotas import QuotaUse, quota_usage

#: Two to twenty capital letters and digits, for example HBIT.
CODE_PATTERN = re.compile(r"^[A-Z0-9]{2,20}$")
NAME_MAX_LENGTH = 200
MAX_DOMAINS = 50
DOMAIN_MAX_LENGTH = 253

_DOMAIN_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
_TOP_LEVEL_DOMAIN = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_DOMAIN_SEPARATORS = re.compile(r"[\s,;]+")

#: Mail providers anyone can sign up with: claiming one would let strangers register as staff.
PUBLIC_MAIL_DOMAINS = frozenset(
    {
        "163.com",
        "126.com",
        "aol.com",
        "gmail.com",
        "googlemail.com",
        "hotmail.com",
        "hotmail.com.hk",
        "icloud.com",
        "live.com",
        "mail.com",
        "me.com",
        "msn.com",
        "netvigator.com",
        "outlook.com",
        "proton.me",
        "protonmail.com",
        "qq.com",
        "yahoo.com",
        "yahoo.com.hk",
        "ymail.com",
    }
)

#: What the audit log shows for an empty value.
EMPTY = "—"


class CompanyFilter:
    """The values of the list's status filter."""

    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass
class CompanyData:
    """Everything an admin sets on a partner company, as the services expect it."""

    name: str
    code: str
    domains: Sequence[str] = field(default_factory=list)
    requires_approval: bool = False
    is_active: bool = True

    @classmethod
    def from_company(cls, company: PartnerCompany) -> CompanyData:
        return cls(
            name=company.name,
            code=company.code,
            domains=list(company.domain_names),
            requires_approval=company.requires_approval,
            is_active=company.is_active,
        )


# Queries for the admin pages -------------------------------------------------------------


def company_admin_list(q: str | None = None, status: str | None = None) -> Select[PartnerCompany]:
    """Companies whose name, code or one of whose domains contains ``q``, by name.

    ``status`` is :attr:`CompanyFilter.ACTIVE`, :attr:`CompanyFilter.INACTIVE` or ``None``
    for all. For ``db.paginate``: the domains of a page's companies come in one more query,
    and their people in one more again with :func:`people_counts`.
    """
    statement = (
        select(PartnerCompany)
        .options(selectinload(PartnerCompany.domains))
        .order_by(PartnerCompany.name, PartnerCompany.id)
    )
    if q and q.strip():
        pattern = contains_pattern(q.strip())
        statement = statement.where(
            or_(
                PartnerCompany.name.ilike(pattern, escape="\\"),
                PartnerCompany.code.ilike(pattern, escape="\\"),
                exists().where(
                    CompanyDomain.company_id == PartnerCompany.id,
                    CompanyDomain.domain.ilike(pattern, escape="\\"),
                ),
            )
        )
    if status == CompanyFilter.ACTIVE:
        statement = statement.where(PartnerCompany.is_active.is_(True))
    elif status == CompanyFilter.INACTIVE:
        statement = statement.where(PartnerCompany.is_active.is_(False))
    return statement


@dataclass(frozen=True)
class PeopleCount:
    """A company's active accounts: its learners (staff) and its HR officers."""

    staff: int = 0
    hr: int = 0


def people_counts(company_ids: Iterable[int]) -> dict[int, PeopleCount]:
    """The active learners and HR officers of each company, in one query.

    Deactivated accounts are left out: they are people who have left or lost access.
    """
    ids = list(company_ids)
    if not ids:
        return {}
    counts: dict[int, dict[Role, int]] = {company_id: {} for company_id in ids}
    rows = db.session.execute(
        select(User.company_id, User.role, func.count())
        .where(
            User.company_id.in_(ids),
            User.role.in_((Role.LEARNER, Role.HR)),
            User.is_active.is_(True),
        )
        .group_by(User.company_id, User.role)
    ).all()
    for company_id, role, count in rows:
        # The IN condition leaves out accounts without a company.
        assert company_id is not None
        counts[company_id][role] = count
    return {
        company_id: PeopleCount(staff=by_role.get(Role.LEARNER, 0), hr=by_role.get(Role.HR, 0))
        for company_id, by_role in counts.items()
    }


def hr_officers(company: PartnerCompany) -> list[User]:
    """The company's HR officers, deactivated ones too, by name."""
    return list(
        db.session.scalars(
            select(User)
            .where(User.company_id == company.id, User.role == Role.HR)
            .order_by(User.name, User.id)
        )
    )


@dataclass(frozen=True)
class CompanyAdminPage:
    company: PartnerCompany
    domains: list[str]
    quotas: list[QuotaUse]
    hr_officers: list[User]
    people: PeopleCount


def company_admin_page(company: PartnerCompany) -> CompanyAdminPage:
    """What a company's admin page shows besides its audit log, in four queries."""
    return CompanyAdminPage(
        company=company,
        domains=list(company.domain_names),
        quotas=quota_usage(company),
        hr_officers=hr_officers(company),
        people=people_counts([company.id])[company.id],
    )


# Companies -------------------------------------------------------------------------------


def split_domains(text: str | None) -> list[str]:
    """The domains in ``text``, one per line (commas, semicolons and spaces also separate).

    Lower-cased, without a leading ``@``, in the order given, each once.
    """
    domains: list[str] = []
    for word in _DOMAIN_SEPARATORS.split(text or ""):
        domain = word.strip().lower().removeprefix("@").rstrip(".")
        if domain and domain not in domains:
            domains.append(domain)
    return domains


def is_valid_domain(domain: str) -> bool:
    """Whether ``domain`` is a lower-case DNS name with at least two labels and a real TLD."""
    if not domain or len(domain) > DOMAIN_MAX_LENGTH:
        return False
    labels = domain.split(".")
    if len(labels) < 2:
        return False
    return all(_DOMAIN_LABEL.fullmatch(label) for label in labels) and bool(
        _TOP_LEVEL_DOMAIN.fullmatch(labels[-1])
    )


def create_company(actor: User, data: CompanyData) -> PartnerCompany:
    """Create a partner company from ``data``.

    The name is required and unused by any other company, whatever its case; the code is
    stored upper-case, matches :data:`CODE_PATTERN` and is unused; each e-mail domain is a
    valid domain name, not a public mail provider's, and not another company's.

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks.
    """
    _check_actor(actor)
    values = _clean_company(data, None)
    company = PartnerCompany(
        name=values["name"],
        code=values["code"],
        requires_approval=values["requires_approval"],
        is_active=values["is_active"],
    )
    for domain in values["domains"]:
        company.domains.append(CompanyDomain(domain=domain))
    db.session.add(company)
    _flush_checking_unique(company)
    audit.record(
        actor,
        "company.created",
        company,
        f"created partner company {company.code}",
        {
            "name": company.name,
            "code": company.code,
            "domains": _show_domains(values["domains"]),
            "requires_approval": _show(company.requires_approval),
            "is_active": _show(company.is_active),
        },
    )
    return company


def update_company(actor: User, company: PartnerCompany, data: CompanyData) -> dict[str, str]:
    """Replace the name, code, domains, approval policy and active flag of ``company``.

    The rules of :func:`create_company` apply. Changed fields are recorded old and new in
    the audit log as ``company.updated``; a change of the active flag is recorded on its own
    as ``company.deactivated`` or ``company.reactivated``. Deactivating stops every learner
    and HR officer of the company from logging in; accounts, enrolments and quotas are kept.
    Returns the changes (empty when nothing changed, and then nothing is recorded).

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks (the company
    is left unchanged).
    """
    _check_actor(actor)
    _lock(company)
    values = _clean_company(data, company)

    changes: dict[str, str] = {}
    for name in ("name", "code", "requires_approval"):
        old, new = getattr(company, name), values[name]
        if old != new:
            changes[name] = f"{_show(old)} → {_show(new)}"
    old_domains = list(company.domain_names)
    if set(old_domains) != set(values["domains"]):
        changes["domains"] = f"{_show_domains(old_domains)} → {_show_domains(values['domains'])}"
    activity_changed = company.is_active != values["is_active"]
    if not changes and not activity_changed:
        return {}

    company.name = values["name"]
    company.code = values["code"]
    company.requires_approval = values["requires_approval"]
    if "domains" in changes:
        wanted = set(values["domains"])
        for existing in list(company.domains):
            if existing.domain not in wanted:
                company.domains.remove(existing)
        have = set(company.domain_names)
        for domain in values["domains"]:
            if domain not in have:
                company.domains.append(CompanyDomain(domain=domain))
    company.is_active = values["is_active"]
    _flush_checking_unique(company)

    if changes:
        audit.record(
            actor,
            "company.updated",
            company,
            f"updated partner company {company.code}: {', '.join(changes)}",
            changes,
        )
    if activity_changed:
        audit.record(
            actor,
            "company.reactivated" if company.is_active else "company.deactivated",
            company,
            f"{'reactivated' if company.is_active else 'deactivated'} partner company "
            f"{company.code}",
            {"is_active": f"{_show(not company.is_active)} → {_show(company.is_active)}"},
        )
        changes["is_active"] = f"{_show(not company.is_active)} → {_show(company.is_active)}"
    return changes


def _clean_company(data: CompanyData, company: PartnerCompany | None) -> dict[str, Any]:
    """The column values for ``data``, normalised and checked, or :class:`ValidationFailed`."""
    name = " ".join((data.name or "").split())
    if not name:
        raise ValidationFailed(_l("Enter the company's name."), field="name")
    if len(name) > NAME_MAX_LENGTH:
        raise ValidationFailed(
            _l("Use at most %(num)d characters.", num=NAME_MAX_LENGTH), field="name"
        )
    code = (data.code or "").strip().upper()
    if not CODE_PATTERN.fullmatch(code):
        raise ValidationFailed(
            _l("Use 2 to 20 capital letters and digits, for example HBIT."), field="code"
        )
    domains = _clean_domains(data.domains)
    values = {
        "name": name,
        "code": code,
        "domains": domains,
        "requires_approval": bool(data.requires_approval),
        "is_active": bool(data.is_active),
    }
    own_id = company.id if company is not None else None
    _check_unused(PartnerCompany.name, name, own_id, "name")
    _check_unused(PartnerCompany.code, code, own_id, "code")
    _check_domains_free(domains, own_id)
    return values


def _clean_domains(values: Sequence[str] | str | None) -> list[str]:
    if isinstance(values, str) or values is None:
        domains = split_domains(values)
    else:
        domains = split_domains("\n".join(str(value) for value in values))
    if len(domains) > MAX_DOMAINS:
        raise ValidationFailed(
            _l("Give at most %(num)d e-mail domains.", num=MAX_DOMAINS), field="domains"
        )
    malformed = [domain for domain in domains if not is_valid_domain(domain)]
    if malformed:
        raise ValidationFailed(
            _nl(
                "%(domains)s is not a valid domain name: give one such as harbour-it.example.",
                "These are not valid domain names: %(domains)s.",
                len(malformed),
                domains=", ".join(malformed),
            ),
            field="domains",
        )
    public = [domain for domain in domains if domain in PUBLIC_MAIL_DOMAINS]
    if public:
        raise ValidationFailed(
            _l(
                "%(domains)s: anyone can have an address there, so it cannot identify a "
                "company's staff.",
                domains=", ".join(public),
            ),
            field="domains",
        )
    return domains


def _check_unused(column: Any, value: str, own_id: int | None, name: str) -> None:
    statement = select(PartnerCompany.id).where(func.lower(column) == value.lower())
    if own_id is not None:
        statement = statement.where(PartnerCompany.id != own_id)
    with db.session.no_autoflush:
        taken = db.session.scalar(statement.limit(1))
    if taken is None:
        return
    if name == "code":
        raise ValidationFailed(
            _l("Another company already has the code %(code)s.", code=value), field="code"
        )
    raise ValidationFailed(
        _l("Another company is already called %(name)s.", name=value), field="name"
    )


def _check_domains_free(domains: list[str], own_id: int | None) -> None:
    if not domains:
        return
    statement = (
        select(CompanyDomain.domain, PartnerCompany.name)
        .join(PartnerCompany, CompanyDomain.company_id == PartnerCompany.id)
        .where(CompanyDomain.domain.in_(domains))
        .order_by(CompanyDomain.domain)
    )
    if own_id is not None:
        statement = statement.where(CompanyDomain.company_id != own_id)
    with db.session.no_autoflush:
        taken = db.session.execute(statement).all()
    if taken:
        raise ValidationFailed(
            _l(
                "Already used by another company: %(domains)s.",
                domains="; ".join(f"{domain} ({name})" for domain, name in taken),
            ),
            field="domains",
        )


def _flush_checking_unique(company: PartnerCompany) -> None:
    # The checks above cannot see a company that another request is saving at the same
    # moment; the unique indexes then refuse the second one, and this says which.
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError as error:
        message = str(error.orig).lower()
        if "company_domains.domain" in message or "uq_company_domains_domain" in message:
            raise ValidationFailed(
                _l("One of these domains has just been given to another company."),
                field="domains",
            ) from error
        if "partner_companies.code" in message or "uq_partner_companies_code" in message:
            raise ValidationFailed(
                _l("Another company already has the code %(code)s.", code=company.code),
                field="code",
            ) from error
        if "partner_companies.name" in message or "uq_partner_companies_name" in message:
            raise ValidationFailed(
                _l("Another company is already called %(name)s.", name=company.name),
                field="name",
            ) from error
        raise


# HR officers -----------------------------------------------------------------------------


def invite_hr_officer(
    actor: User, company: PartnerCompany, *, name: str, email: str, links: accounts.AccountLinks
) -> User:
    """Create an HR officer account for ``company`` and e-mail them an invitation, with the
    link to set their password from ``links``.

    The company must be active (an inactive company's people cannot log in, so the link
    would lead nowhere) and the name given; the address rules are those of
    :func:`skillsup.services.accounts.invite_user`. Records the invitation on the company as
    well as on the account.

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` (or :class:`EmailTaken`) naming the field at fault.
    """
    _check_actor(actor)
    if not company.is_active:
        raise ValidationFailed(
            _l(
                "%(name)s is inactive: reactivate it before inviting HR officers.",
                name=company.name,
            )
        )
    if not (name or "").strip():
        raise ValidationFailed(_l("Enter the person's full name."), field="name")
    officer = accounts.invite_user(
        actor, email=email, name=name, role=Role.HR, company=company, links=links
    )
    audit.record(
        actor,
        "company.hr_officer_invited",
        company,
        f"invited HR officer {officer.email}",
        {"user_id": officer.id, "name": officer.name, "email": officer.email},
    )
    return officer


def set_hr_officer_active(
    actor: User, company: PartnerCompany, officer: User, active: bool
) -> bool:
    """Deactivate or reactivate one of ``company``'s HR officers; returns whether it changed.

    Deactivation ends every session of the officer (see
    :func:`skillsup.services.accounts.set_active`). Records the change on the company as well
    as on the account; asking for the state the officer is already in changes nothing.

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and :class:`NotFound` when
    ``officer`` is not an HR officer of ``company``.
    """
    _check_actor(actor)
    if officer.company_id != company.id or officer.role != Role.HR:
        raise NotFound()
    if officer.is_active == active:
        return False
    accounts.set_active(actor, officer, active)
    audit.record(
        actor,
        "company.hr_officer_reactivated" if active else "company.hr_officer_deactivated",
        company,
        f"{'reactivated' if active else 'deactivated'} HR officer {officer.email}",
        {"user_id": officer.id, "email": officer.email},
    )
    return True


# Helpers ---------------------------------------------------------------------------------


def _check_actor(actor: User) -> None:
    if not permissions.can_manage_companies(actor):
        raise PermissionDenied()


def _lock(company: PartnerCompany) -> None:
    # One admin change to a company at a time: the checks for duplicate names, codes and
    # domains read before they write (on SQLite, BEGIN IMMEDIATE already serialises writers).
    db.session.refresh(company, with_for_update=True)


def _show(value: Any) -> str:
    if value is None or value == "":
        return EMPTY
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _show_domains(domains: Iterable[str]) -> str:
    ordered = sorted(domains)
    return ", ".join(ordered) if ordered else EMPTY
