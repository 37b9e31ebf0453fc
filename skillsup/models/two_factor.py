"""Two-factor sign-in: the recovery codes that stand in for a one-time code once each.

The TOTP key itself and the last time step used are columns of :class:`~.users.User`.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class RecoveryCode(Model):
    """One recovery code of a person, stored hashed (never as given to them); used once."""

    __tablename__ = "recovery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # "pbkdf2_sha256$<iterations>$<salt hex>$<digest hex>" (skillsup.services.two_factor).
    code_hash: Mapped[str] = mapped_column(sa.String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def __repr__(self) -> str:
        return f"<RecoveryCode {self.id} of user {self.user_id}>"
