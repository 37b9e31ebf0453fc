"""API tokens: created and revoked by HR officers (for their company) and admins (for the
institute), shown once, kept as a hash, checked on every API request.

A token acts as the person who created it, narrowed to its scopes: the API calls the same
services as that person's pages, so every rule (and every company boundary) holds there too.
Functions flush but never commit; the caller's unit of work commits.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, func, or_, select, update
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import ApiScope, ApiToken, ApiTokenState, PartnerCompany, User, utcnow
from ..timeutil import hk_date, start_of_hk_day_utc
from . import audit
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed

#: What every secret starts with, so that secret scanners and people recognise one.
SECRET_PREFIX = "su_"  # noqa: S105 (a marker, not a secret)
#: How many characters of a secret lists show.
SHOWN_PREFIX_LENGTH = 10
#: How often the time a token was last used is written: not on every request.
LAST_USED_PRECISION = timedelta(minutes=1)
NAME_LENGTH = 100


class InvalidApiToken(DomainError):
    """The request's token is missing, unknown, revoked, expired or can no longer act."""

    default_message = _l("The API token is missing or not valid.")
    status_code = 401


@dataclass(frozen=True)
class NewToken:
    """A token just created, with its secret: the only time the secret is known."""

    token: ApiToken
    secret: str


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _scopes(chosen: Iterable[str]) -> list[str]:
    known = {scope.value for scope in ApiScope}
    picked = [scope for scope in dict.fromkeys(chosen) if scope]
    if not picked:
        raise ValidationFailed(_l("Choose at least one scope."), field="scopes")
    if any(scope not in known for scope in picked):
        raise ValidationFailed(_l("Choose scopes from the list."), field="scopes")
    # In the list's order, whatever order they were chosen in.
    return [scope.value for scope in ApiScope if scope.value in picked]


def latest_expiry(today: date) -> date:
    """The last day a token created ``today`` may expire on: the same day two years on (28
    February for a 29 February)."""
    try:
        return today.replace(year=today.year + 2)
    except ValueError:
        return today.replace(year=today.year + 2, day=28)


def _owner_condition(company_id: int | None) -> ColumnElement[bool]:
    """The tokens of a company, or the institute-wide ones when ``company_id`` is ``None``."""
    if company_id is None:
        return ApiToken.company_id.is_(None)
    return ApiToken.company_id == company_id


def _checked_name(name: str | None, company_id: int | None, now: datetime) -> str:
    """The name, trimmed, if it may be a new token's (see :func:`create_token`)."""
    name = (name or "").strip()
    if not name:
        raise ValidationFailed(_l("Give the token a name."), field="name")
    if len(name) > NAME_LENGTH:
        raise ValidationFailed(
            _l("Use at most %(count)d characters.", count=NAME_LENGTH), field="name"
        )
    if any(unicodedata.category(char) == "Cc" for char in name):
        raise ValidationFailed(
            _l("Keep the name to one line, without control characters."), field="name"
        )
    in_use = db.session.scalar(
        select(ApiToken.id)
        .where(
            _owner_condition(company_id),
            ApiToken.revoked_at.is_(None),
            or_(ApiToken.expires_at.is_(None), ApiToken.expires_at > now),
            func.lower(ApiToken.name) == name.lower(),
        )
        .limit(1)
    )
    if in_use is not None:
        raise ValidationFailed(
            _l(
                "An active token already has this name. Choose another, so that the audit "
                "log tells them apart."
            ),
            field="name",
        )
    return name


def _expiry(expires_on: date | None, now: datetime) -> datetime | None:
    if expires_on is None:
        return None
    today = hk_date(now)
    if expires_on <= today:
        raise ValidationFailed(_l("Choose a day after today."), field="expires_on")
    if expires_on > latest_expiry(today):
        raise ValidationFailed(_l("A token may live at most two years."), field="expires_on")
    return start_of_hk_day_utc(expires_on)


def _owner(actor: User) -> int | None:
    """The company whose token the actor creates; ``None`` for the institute's."""
    if not permissions.can_manage_api_tokens(actor):
        raise PermissionDenied()
    return actor.company_id if permissions.is_hr(actor) else None


def new_token_problems(
    actor: User,
    name: str,
    scopes: Iterable[str],
    *,
    expires_on: date | None = None,
    now: datetime | None = None,
) -> list[ValidationFailed]:
    """Every reason :func:`create_token` would refuse these values (its name, scopes and
    expiry rules), each naming its field, so that a form can show them all at once; empty
    when it would create the token. Raises :class:`PermissionDenied` as it does."""
    company_id = _owner(actor)
    now = now or utcnow()
    problems = []
    checks = (
        lambda: _checked_name(name, company_id, now),
        lambda: _scopes(scopes),
        lambda: _expiry(expires_on, now),
    )
    for check in checks:
        try:
            check()
        except ValidationFailed as problem:
            problems.append(problem)
    return problems


def create_token(
    actor: User,
    name: str,
    scopes: Iterable[str],
    *,
    expires_on: date | None = None,
    now: datetime | None = None,
) -> NewToken:
    """Create a token for the actor's company (an HR officer) or the institute (an admin).

    Its name is one line of at most 100 characters, and no other token of the same company
    (or of the institute) that is still active has it, whatever the case: the audit log
    names a token by its name. It expires at the start of ``expires_on`` (Hong Kong time),
    which must be after today and at most two years ahead (:func:`latest_expiry`), or never
    when ``None``. Raises :class:`PermissionDenied` for anyone else and
    :class:`ValidationFailed` (naming the field) for a missing, too long, multi-line or
    taken name, no scope or an unknown one, or an expiry day in the past or too far ahead.
    Audited (without the secret).
    """
    company_id = _owner(actor)
    now = now or utcnow()
    name = _checked_name(name, company_id, now)
    kept_scopes = _scopes(scopes)
    expires_at = _expiry(expires_on, now)
    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        name=name,
        prefix=secret[:SHOWN_PREFIX_LENGTH],
        secret_hash=hash_secret(secret),
        scopes=kept_scopes,
        company_id=company_id,
        created_by=actor,
        created_at=now,
        expires_at=expires_at,
    )
    db.session.add(token)
    db.session.flush()
    audit.record(
        actor,
        "api_token.created",
        token,
        name,
        {"token_name": name, "scopes": kept_scopes, "expires_at": expires_at},
        company=token.company,
    )
    return NewToken(token, secret)


def visible_tokens(actor: User) -> Select[ApiToken]:
    """The tokens the actor manages, newest first: an HR officer's company's, or an admin's
    institute-wide ones. Raises :class:`PermissionDenied` for anyone else."""
    if not permissions.can_manage_api_tokens(actor):
        raise PermissionDenied()
    company_id = actor.company_id if permissions.is_hr(actor) else None
    return (
        select(ApiToken)
        .where(_owner_condition(company_id))
        .options(joinedload(ApiToken.created_by), joinedload(ApiToken.revoked_by))
        .order_by(ApiToken.revoked_at.is_not(None), ApiToken.created_at.desc(), ApiToken.id.desc())
    )


def find_token(actor: User, token_id: int) -> ApiToken:
    """The token with this id if the actor manages it; else :class:`NotFound` (another
    company's token is simply not there)."""
    token = db.session.get(ApiToken, token_id)
    if token is None or not permissions.can_manage_api_token(actor, token):
        raise NotFound()
    return token


def revoke_token(actor: User, token: ApiToken, *, now: datetime | None = None) -> bool:
    """Revoke the token at once: its next request is refused. Revoking a revoked token
    changes nothing and returns ``False``. Raises :class:`NotFound` for a token the actor
    does not manage. Audited."""
    if not permissions.can_manage_api_token(actor, token):
        raise NotFound()
    if token.revoked_at is not None:
        return False
    token.revoked_at = now or utcnow()
    token.revoked_by = actor
    db.session.flush()
    audit.record(
        actor,
        "api_token.revoked",
        token,
        token.name,
        {"token_name": token.name},
        company=token.company,
    )
    return True


def token_state(token: ApiToken, now: datetime) -> ApiTokenState:
    """Revoked once revoked, else expired from the start of its expiry day, else active: what
    the lists show."""
    if token.revoked_at is not None:
        return ApiTokenState.REVOKED
    if token.expires_at is not None and token.expires_at <= now:
        return ApiTokenState.EXPIRED
    return ApiTokenState.ACTIVE


_BY_HASH = select(ApiToken).options(
    joinedload(ApiToken.created_by).joinedload(User.company), joinedload(ApiToken.company)
)


def authenticate(secret: str | None, *, now: datetime | None = None) -> ApiToken:
    """The token whose secret this is, if it may be used now.

    Raises :class:`InvalidApiToken`, with the reason in its message, for a missing or unknown
    secret, a revoked or expired token, or one whose creator can no longer act for its
    company (deactivated, moved, or no longer an HR officer or admin). Sets the time the
    token was last used, at most once a minute (the caller commits it at once: a read has no
    unit of work to join).
    """
    now = now or utcnow()
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > 200:
        raise InvalidApiToken()
    token = db.session.scalar(_BY_HASH.where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None:
        raise InvalidApiToken()
    if token.revoked_at is not None:
        raise InvalidApiToken(_l("This API token has been revoked."))
    if token.expires_at is not None and token.expires_at <= now:
        raise InvalidApiToken(_l("This API token has expired."))
    if not permissions.can_act_through_api_token(token.created_by, token):
        raise InvalidApiToken(
            _l(
                "The person who created this API token can no longer act for its company. "
                "Create a new token."
            )
        )
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_PRECISION:
        db.session.execute(update(ApiToken).where(ApiToken.id == token.id).values(last_used_at=now))
    return token


def token_company(token: ApiToken) -> PartnerCompany | None:
    """The company a token is limited to; ``None`` for an institute-wide token."""
    return token.company
