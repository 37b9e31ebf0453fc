"""The audit log: every change, who made it and when."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .api import ApiToken
    from .companies import PartnerCompany
    from .users import User


class AuditEntry(Model):
    __tablename__ = "audit_log"
    __table_args__ = (sa.Index("ix_audit_log_object", "object_type", "object_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(sa.String(60))
    object_type: Mapped[str] = mapped_column(sa.String(40))
    object_id: Mapped[int | None]
    summary: Mapped[str] = mapped_column(sa.Text, default="")
    details: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    #: For an entry about a person: the partner company they belonged to when it was recorded
    #: (none for trainers and admins). A company's HR officers see a person's entries from
    #: while the person was theirs, and no other (:mod:`skillsup.services.hr_scope`).
    company_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner_companies.id"), index=True
    )

    #: The API token the change came through, when it came through the API: the entry names it.
    api_token_id: Mapped[int | None] = mapped_column(sa.ForeignKey("api_tokens.id"))

    actor: Mapped[User | None] = relationship(foreign_keys=[actor_id])
    api_token: Mapped[ApiToken | None] = relationship()
    company: Mapped[PartnerCompany | None] = relationship()
