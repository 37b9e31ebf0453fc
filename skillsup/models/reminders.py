"""Which reminders have gone out, so that none is sent twice."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .funding import FundingState
from .types import UTCDateTime, enum_column, utcnow


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


class FundingWarning(Model):
    """What an enrolment has last been warned of under one funding scheme: at risk or lost,
    while that lasts (``state``), or nothing since it recovered (``None``).

    ``warnings`` counts the falls warned of: the e-mails of each are claimed under it
    (:class:`SentReminder`), so a learner who recovers and falls back is warned again, and
    never twice for the same fall (:mod:`skillsup.services.funding_warnings`).
    """

    __tablename__ = "funding_warnings"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "scheme_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_schemes.id"))
    state: Mapped[FundingState | None] = mapped_column(
        enum_column(FundingState, "funding_warning_state")
    )
    warnings: Mapped[int] = mapped_column(default=0)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
