"""Webhooks: the HTTPS endpoints of a partner company's HR system, and the events sent to them.

A delivery is written to the outbox (``webhook_deliveries``) in the transaction of the change it
tells of, with its body built once; ``flask send-webhooks`` posts it, signed, and keeps each
attempt with the receiver's answer (``webhook_attempts``) for the HR officer to see.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .companies import PartnerCompany
    from .users import User


class WebhookEvent(enum.StrEnum):
    """The kinds of event a delivery tells of (its ``type`` and ``SkillsUp-Event-Type``)."""

    ENROLMENT_STATUS_CHANGED = "enrolment.status_changed"
    CERTIFICATE_ISSUED = "certificate.issued"
    CERTIFICATE_REVOKED = "certificate.revoked"
    #: A test event an HR officer sends to check the endpoint: no endpoint subscribes to it.
    PING = "ping"


#: The events an endpoint may subscribe to, in the order the forms list them.
SUBSCRIBABLE_EVENTS = (
    WebhookEvent.ENROLMENT_STATUS_CHANGED,
    WebhookEvent.CERTIFICATE_ISSUED,
    WebhookEvent.CERTIFICATE_REVOKED,
)


class WebhookDeliveryStatus(enum.StrEnum):
    PENDING = "pending"
    SENDING = "sending"
    DELIVERED = "delivered"
    FAILED = "failed"


class WebhookFailure(enum.StrEnum):
    """Why an attempt got no HTTP answer (or was not made): an attempt's ``error``."""

    TIMEOUT = "timeout"
    CONNECTION_REFUSED = "connection_refused"
    HOST_NOT_FOUND = "host_not_found"
    #: The host name led to a private, loopback or link-local address (or the URL is no
    #: longer allowed at all): nothing was sent.
    UNSAFE_ADDRESS = "unsafe_address"
    TLS = "tls"
    CONNECTION = "connection"
    INVALID_ANSWER = "invalid_answer"
    #: The endpoint was disabled while the delivery waited: nothing was sent.
    ENDPOINT_DISABLED = "endpoint_disabled"


class EndpointDisabledReason(enum.StrEnum):
    """Why an endpoint is disabled."""

    #: An HR officer of the company disabled it.
    BY_HR = "by_hr"
    #: The receiver answered 410 Gone: it wants no more events.
    GONE = "gone"


class WebhookEndpoint(Model):
    __tablename__ = "webhook_endpoints"

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(sa.ForeignKey("partner_companies.id"), index=True)
    url: Mapped[str] = mapped_column(sa.String(2000))
    description: Mapped[str] = mapped_column(sa.String(200), default="")
    # The signing secret: kept as it is, since every delivery is signed with it.
    secret: Mapped[str] = mapped_column(sa.String(100))
    # The secret before the last rotation, which signs deliveries too until it expires, so
    # that the receiver has time to take the new one.
    previous_secret: Mapped[str | None] = mapped_column(sa.String(100))
    previous_secret_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The names of the events it wants (values of :data:`SUBSCRIBABLE_EVENTS`).
    event_types: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_reason: Mapped[EndpointDisabledReason | None] = mapped_column(
        enum_column(EndpointDisabledReason, "webhook_disabled_reason")
    )

    company: Mapped[PartnerCompany] = relationship()
    created_by: Mapped[User | None] = relationship()

    def __repr__(self) -> str:
        return f"<WebhookEndpoint {self.id} {self.url}>"


class WebhookDelivery(Model):
    """One event for one endpoint: written with the change, sent (and retried) after it."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        # An endpoint's deliveries, newest first.
        sa.Index("ix_webhook_deliveries_endpoint", "endpoint_id", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    endpoint_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_endpoints.id"))
    # The receiver's key to tell a retry from a new event: the same on every attempt.
    event_id: Mapped[str] = mapped_column(sa.String(32), unique=True)
    event_type: Mapped[str] = mapped_column(sa.String(60))
    # The exact JSON body sent, built once at the change.
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[WebhookDeliveryStatus] = mapped_column(
        enum_column(WebhookDeliveryStatus, "webhook_delivery_status"),
        default=WebhookDeliveryStatus.PENDING,
    )
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The claim of the run delivering it (as for the e-mail outbox: see
    # skillsup.services.outbox_claims).
    claim_token: Mapped[str | None] = mapped_column(sa.String(32))
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_status_code: Mapped[int | None]
    #: The last attempt's failure when it got no HTTP answer (a :class:`WebhookFailure`).
    last_error: Mapped[str | None] = mapped_column(sa.String(40))
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    endpoint: Mapped[WebhookEndpoint] = relationship()


class WebhookAttempt(Model):
    """One attempt at a delivery and what the receiver answered, or why there was no answer."""

    __tablename__ = "webhook_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    delivery_id: Mapped[int] = mapped_column(sa.ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    status_code: Mapped[int | None]
    #: The first characters of the answer's body.
    response_excerpt: Mapped[str | None] = mapped_column(sa.Text)
    error: Mapped[WebhookFailure | None] = mapped_column(
        enum_column(WebhookFailure, "webhook_failure")
    )
    #: The technical words of the failure (for the receiver's IT staff), in English.
    error_detail: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int] = mapped_column(default=0)
