"""Which reminders have gone out, so that none is sent twice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, utcnow


class SentReminder(Model):
    """One reminder of one kind about one thing to one person.

    The unique key is claimed in the same transaction that writes the e-mail to the outbox,
    so two reminder runs at once cannot both send it.
    """

    __tablename__ = "sent_reminders"
    __table_args__ = (sa.UniqueConstraint("kind", "subject_key", "recipient_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(40))
    # What the reminder is about, e.g. "session:12:enrolment:34".
    subject_key: Mapped[str] = mapped_column(sa.String(120))
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
