"""A partner company's identity provider: its staff sign in there (OpenID Connect single
sign-on) instead of, or besides, with a portal password."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .companies import PartnerCompany


class CompanyIdentityProvider(Model):
    """The OpenID Connect provider that signs in a partner company's staff.

    ``domains`` are the e-mail domains it covers (some or all of the company's): people whose
    address is at one of them are sent to the provider when it is enabled. The client secret
    is kept sealed (:mod:`skillsup.services.sealed`) and never shown again.
    """

    __tablename__ = "company_identity_providers"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        sa.ForeignKey("partner_companies.id", ondelete="CASCADE"), unique=True
    )
    issuer: Mapped[str] = mapped_column(sa.String(500))
    client_id: Mapped[str] = mapped_column(sa.String(255))
    client_secret_sealed: Mapped[str] = mapped_column(sa.Text)
    domains: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    #: Whether the people it covers may still sign in with a portal password too.
    password_allowed: Mapped[bool] = mapped_column(default=False)
    is_enabled: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    company: Mapped[PartnerCompany] = relationship()

    def covers(self, email: str) -> bool:
        """Whether the address is at one of the domains the provider covers."""
        return email.strip().lower().rpartition("@")[2] in self.domains

    def __repr__(self) -> str:
        return f"<CompanyIdentityProvider {self.issuer} for company {self.company_id}>"
