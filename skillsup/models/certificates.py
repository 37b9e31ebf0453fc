"""Certificates issued on completion."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .enrolments import Enrolment
    from .users import User


#: A certificate still in force: an enrolment holds at most one (a class reopened and closed
#: again issues a new one beside the one it withdrew).
_VALID_SQL = "revoked_at IS NULL"


class Certificate(Model):
    __tablename__ = "certificates"
    __table_args__ = (
        sa.Index(
            "uq_certificates_enrolment_id_valid",
            "enrolment_id",
            unique=True,
            sqlite_where=sa.text(_VALID_SQL),
            postgresql_where=sa.text(_VALID_SQL),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    serial_number: Mapped[str] = mapped_column(sa.String(40), unique=True)
    # Unguessable; the public verification page is found by it.
    verification_code: Mapped[str] = mapped_column(sa.String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The Hong Kong date from which it is no longer valid, fixed when it is issued from the
    # course's validity (skillsup.services.certificate_expiry); None: it never expires.
    expires_on: Mapped[date | None] = mapped_column(sa.Date, index=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Why it was revoked: a list of reasons (:mod:`skillsup.reasons`).
    revoked_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))
    revoked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))

    enrolment: Mapped[Enrolment] = relationship(back_populates="certificates")
    revoked_by: Mapped[User | None] = relationship()

    @property
    def is_valid(self) -> bool:
        return self.revoked_at is None
