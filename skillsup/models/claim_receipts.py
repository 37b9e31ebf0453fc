"""Money a partner company has received on a funding claim, as its HR officer recorded it.

The portal works out what a company may claim (:mod:`skillsup.services.subsidy`); what the
scheme then paid, and when, comes from outside, so an HR officer records it: one receipt per
enrolment and scheme, corrected in place (every change is in the audit log).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class ClaimReceipt(Model):
    __tablename__ = "claim_receipts"
    __table_args__ = (
        sa.UniqueConstraint("enrolment_id", "scheme_id"),
        sa.CheckConstraint("amount >= 0", name="amount_not_negative"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_schemes.id"), index=True)
    amount: Mapped[Decimal] = mapped_column(sa.Numeric(12, 2))
    received_on: Mapped[date]
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<ClaimReceipt {self.enrolment_id}/{self.scheme_id} {self.amount}>"
