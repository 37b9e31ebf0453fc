"""API tokens, and the answers kept for requests that carry an ``Idempotency-Key``."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .companies import PartnerCompany
    from .users import User


class ApiScope(enum.StrEnum):
    """What a token may do. Reading is a scope of its own: a token that only nominates staff
    need not read anyone's progress."""

    READ = "read"
    STAFF_WRITE = "staff:write"
    ENROLMENTS_WRITE = "enrolments:write"


class ApiTokenState(enum.StrEnum):
    """Whether a token may be used: ``active`` until it expires or is revoked. Worked out
    from its dates (:func:`skillsup.services.api_tokens.token_state`), not stored."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"


class ApiToken(Model):
    """A key another system uses to call the API on behalf of the person who created it.

    A token of a partner company's HR officer acts for that company only; an admin's token
    (``company_id`` empty) acts institute-wide. Only a hash of the secret is kept: the secret
    is shown once, when the token is created.
    """

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100))
    # The first characters of the secret, shown in lists so that people can tell tokens apart.
    prefix: Mapped[str] = mapped_column(sa.String(16))
    # SHA-256 of the whole secret (a random 256-bit value, so a slow hash adds nothing).
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    company_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner_companies.id"), index=True
    )
    created_by_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    company: Mapped[PartnerCompany | None] = relationship()
    created_by: Mapped[User] = relationship(foreign_keys=[created_by_id])
    revoked_by: Mapped[User | None] = relationship(foreign_keys=[revoked_by_id])

    def allows(self, scope: ApiScope) -> bool:
        return scope.value in self.scopes


class IdempotentAnswer(Model):
    """The answer given to a change requested with an ``Idempotency-Key``: the same key with
    the same request gets this answer again instead of making the change twice."""

    __tablename__ = "api_idempotent_answers"
    __table_args__ = (sa.UniqueConstraint("token_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_id: Mapped[int] = mapped_column(sa.ForeignKey("api_tokens.id"))
    key: Mapped[str] = mapped_column(sa.String(255))
    # SHA-256 of the method, the path and the body: the same key on another request is refused.
    request_hash: Mapped[str] = mapped_column(sa.String(64))
    status_code: Mapped[int]
    body: Mapped[str] = mapped_column(sa.Text)
    headers: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
