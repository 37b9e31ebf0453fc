"""The outbox: e-mail written in the transaction that causes it, delivered after the commit."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import Model
from .types import UTCDateTime, enum_column, utcnow


class OutboxStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    SENT = "sent"
    FAILED = "failed"
    #: Finished without sending: when it was to be written there was nothing to send (a
    #: reset link asked for an address that has no active account). ``last_error`` says why.
    SKIPPED = "skipped"


class OutboxMessage(Model):
    __tablename__ = "outbox_messages"
    __table_args__ = (sa.Index("ix_outbox_messages_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient: Mapped[str] = mapped_column(sa.String(254))
    subject: Mapped[str] = mapped_column(sa.String(300))
    # Empty until a message queued to be rendered at delivery has been rendered.
    text: Mapped[str | None] = mapped_column(sa.Text)
    html: Mapped[str | None] = mapped_column(sa.Text)
    # A message rendered when it is delivered rather than in the change that caused it: the
    # name of its renderer and what that needs (ids, and the facts as they were at the change).
    renderer: Mapped[str | None] = mapped_column(sa.String(60))
    context: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)
    # [{"filename", "maintype", "subtype", "content" (base64)}]
    attachments: Mapped[list[dict[str, Any]]] = mapped_column(sa.JSON, default=list)
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus, "outbox_status"), default=OutboxStatus.PENDING
    )
    attempts: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The claim of the run delivering the message: a run that finds another token here has
    # lost the message to another run and neither sends it nor records an outcome.
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    # The claim runs out at this time unless the run holding it renews it: a sender that
    # crashed mid-delivery leaves the message to the next run.
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
