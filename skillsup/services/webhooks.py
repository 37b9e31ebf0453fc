"""Webhook endpoints: a partner company's HR officers register the HTTPS endpoints of their HR
system, choose the events each receives, and follow the deliveries.

Rules:

- Only an HR officer acts, on their own company's endpoints
  (:func:`skillsup.permissions.can_manage_webhooks`); every query here is limited to that
  company, so another company's endpoint or delivery is simply not found (:class:`NotFound`).
- An endpoint's address is one a webhook may be sent to (:mod:`.webhook_urls`); a company
  registers one address once, and at most :data:`MAX_ENDPOINTS` endpoints.
- An endpoint wants at least one event of :data:`SUBSCRIBABLE_EVENTS`.
- Its signing secret is made here, shown to the HR officer once (after registering and after
  each rotation) and never written to the audit log. A rotation keeps the old secret signing
  beside the new one for a day (:data:`.webhook_delivery.ROTATION_OVERLAP`); rotating again
  within that day ends the older secret at once.
- Disabling an endpoint stops its events: its waiting deliveries fail, and no new ones are
  written until it is enabled again.
- A delivery that is not being sent right now may be sent again (one attempt now, then the
  retries it has left); a test event (``ping``) may be sent to an active endpoint.

Every change is recorded in the audit log, on the company's part. Functions flush but never
commit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    SUBSCRIBABLE_EVENTS,
    EndpointDisabledReason,
    User,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookFailure,
    utcnow,
)
from . import audit, webhook_events, webhook_signing, webhook_urls
from .errors import DomainError, NotFound, PermissionDenied, ValidationFailed
from .webhook_delivery import ROTATION_OVERLAP

MAX_ENDPOINTS = 10
DESCRIPTION_MAX_LENGTH = 200
#: How many of a delivery's latest attempts its page shows.
ATTEMPTS_SHOWN = 5


class WebhookRefused(DomainError):
    """A rule about webhooks refuses the action; the message says which."""


def _company_id(actor: User) -> int:
    """The acting HR officer's company. Raises :class:`PermissionDenied` for anyone else."""
    if not permissions.can_manage_webhooks(actor) or actor.company_id is None:
        raise PermissionDenied()
    return actor.company_id


# ---------------------------------------------------------------------------------------------
# Reading


@dataclass(frozen=True)
class EndpointSummary:
    """An endpoint as the list shows it, with its latest delivery (if any)."""

    endpoint: WebhookEndpoint
    latest: WebhookDelivery | None
    waiting: int


def endpoints(actor: User) -> list[EndpointSummary]:
    """The company's endpoints, oldest first, each with its latest delivery and how many of
    its deliveries wait to be sent; three queries whatever their number."""
    company_id = _company_id(actor)
    found = list(
        db.session.scalars(
            select(WebhookEndpoint)
            .where(WebhookEndpoint.company_id == company_id)
            .order_by(WebhookEndpoint.id)
        )
    )
    ids = [endpoint.id for endpoint in found]
    latest: dict[int, WebhookDelivery] = {}
    waiting: dict[int, int] = {}
    if ids:
        newest = (
            select(func.max(WebhookDelivery.id))
            .where(WebhookDelivery.endpoint_id.in_(ids))
            .group_by(WebhookDelivery.endpoint_id)
        )
        for delivery in db.session.scalars(
            select(WebhookDelivery).where(WebhookDelivery.id.in_(newest))
        ):
            latest[delivery.endpoint_id] = delivery
        waiting = {
            endpoint_id: int(count)
            for endpoint_id, count in db.session.execute(
                select(WebhookDelivery.endpoint_id, func.count())
                .where(
                    WebhookDelivery.endpoint_id.in_(ids),
                    WebhookDelivery.status.in_(
                        (WebhookDeliveryStatus.PENDING, WebhookDeliveryStatus.SENDING)
                    ),
                )
                .group_by(WebhookDelivery.endpoint_id)
            )
        }
    return [
        EndpointSummary(endpoint, latest.get(endpoint.id), waiting.get(endpoint.id, 0))
        for endpoint in found
    ]


def waiting_deliveries(endpoint: WebhookEndpoint) -> int:
    """How many of the endpoint's deliveries wait to be sent (what disabling it stops)."""
    return int(
        db.session.scalar(
            select(func.count()).where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
            )
        )
        or 0
    )


def find_endpoint(actor: User, endpoint_id: int) -> WebhookEndpoint:
    """The company's endpoint ``endpoint_id``. Raises :class:`NotFound` for another
    company's (or none), :class:`PermissionDenied` for anyone but an HR officer."""
    endpoint = db.session.scalar(
        select(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint_id, WebhookEndpoint.company_id == _company_id(actor))
        .options(joinedload(WebhookEndpoint.created_by))
    )
    if endpoint is None:
        raise NotFound()
    return endpoint


def deliveries(endpoint: WebhookEndpoint) -> Select[WebhookDelivery]:
    """The endpoint's deliveries, newest first: a statement to paginate. The endpoint comes
    from :func:`find_endpoint`, which kept to the actor's company."""
    return (
        select(WebhookDelivery)
        .where(WebhookDelivery.endpoint_id == endpoint.id)
        .order_by(WebhookDelivery.id.desc())
    )


def latest_attempts(delivery_ids: Sequence[int]) -> dict[int, list[WebhookAttempt]]:
    """The latest :data:`ATTEMPTS_SHOWN` attempts of each delivery, newest first; one query."""
    if not delivery_ids:
        return {}
    attempts: dict[int, list[WebhookAttempt]] = {}
    for attempt in db.session.scalars(
        select(WebhookAttempt)
        .where(WebhookAttempt.delivery_id.in_(delivery_ids))
        .order_by(WebhookAttempt.delivery_id, WebhookAttempt.id.desc())
    ):
        kept = attempts.setdefault(attempt.delivery_id, [])
        if len(kept) < ATTEMPTS_SHOWN:
            kept.append(attempt)
    return attempts


def find_delivery(actor: User, endpoint: WebhookEndpoint, delivery_id: int) -> WebhookDelivery:
    """The endpoint's delivery ``delivery_id``. Raises :class:`NotFound` for another
    endpoint's (or another company's)."""
    _company_id(actor)
    delivery = db.session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.endpoint.has(WebhookEndpoint.company_id == actor.company_id),
        )
    )
    if delivery is None:
        raise NotFound()
    return delivery


def signing_overlap_ends(endpoint: WebhookEndpoint, now: datetime | None = None) -> datetime | None:
    """Until when the secret before the last rotation signs deliveries too, if it still does."""
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > (now or utcnow()):
        return expires
    return None


# ---------------------------------------------------------------------------------------------
# Registering and changing


def _description(description: str | None) -> str:
    text = (description or "").strip()
    if len(text) > DESCRIPTION_MAX_LENGTH:
        raise ValidationFailed(
            _l("Keep the description under %(max)d characters.", max=DESCRIPTION_MAX_LENGTH),
            field="description",
        )
    return text


def _events(events: Sequence[str]) -> list[str]:
    wanted = set(events or ())
    known = {event.value for event in SUBSCRIBABLE_EVENTS}
    if not wanted:
        raise ValidationFailed(_l("Choose at least one event to receive."), field="events")
    if not wanted <= known:
        raise ValidationFailed(_l("Choose events from the list."), field="events")
    return [event.value for event in SUBSCRIBABLE_EVENTS if event.value in wanted]


def _check_unique(company_id: int, url: str, endpoint_id: int | None = None) -> None:
    taken = select(WebhookEndpoint.id).where(
        WebhookEndpoint.company_id == company_id, WebhookEndpoint.url == url
    )
    if endpoint_id is not None:
        taken = taken.where(WebhookEndpoint.id != endpoint_id)
    if db.session.scalar(taken.limit(1)) is not None:
        raise ValidationFailed(_l("Your company has registered this address already."), field="url")


def _details(endpoint: WebhookEndpoint) -> dict[str, Any]:
    """What the audit log keeps of an endpoint: never its secret."""
    return {
        "url": endpoint.url,
        "description": endpoint.description,
        "events": list(endpoint.event_types),
    }


def _record(actor: User | None, action: str, endpoint: WebhookEndpoint, **details: Any) -> None:
    audit.record(
        actor,
        action,
        endpoint,
        endpoint.url,
        {**_details(endpoint), **details},
        company=endpoint.company,
    )


def register(
    actor: User,
    url: str,
    description: str | None,
    events: Sequence[str],
    *,
    now: datetime | None = None,
) -> WebhookEndpoint:
    """Register an endpoint of the actor's company at ``url`` for ``events``, with a new
    signing secret; audited without it.

    Raises :class:`PermissionDenied`, :class:`ValidationFailed` naming the field
    (``url``: an address a webhook may not be sent to, or one the company has registered
    already; ``description``: too long; ``events``: none, or one not offered) or
    :class:`WebhookRefused` when the company has :data:`MAX_ENDPOINTS` endpoints already.
    """
    now = now or utcnow()
    company_id = _company_id(actor)
    url = webhook_urls.check_url(url)
    description = _description(description)
    event_types = _events(events)
    _check_unique(company_id, url)
    count = db.session.scalar(select(func.count()).where(WebhookEndpoint.company_id == company_id))
    if (count or 0) >= MAX_ENDPOINTS:
        raise WebhookRefused(
            _l(
                "Your company has %(max)d endpoints, the most it may have: disable one you no "
                "longer use and change its address instead.",
                max=MAX_ENDPOINTS,
            )
        )
    endpoint = WebhookEndpoint(
        company_id=company_id,
        url=url,
        description=description,
        secret=webhook_signing.new_secret(),
        event_types=event_types,
        created_by_id=actor.id,
        created_at=now,
    )
    db.session.add(endpoint)
    db.session.flush()
    webhook_events.forget_endpoints(db.session())
    _record(actor, "webhook.registered", endpoint)
    return endpoint


def update_endpoint(
    actor: User,
    endpoint: WebhookEndpoint,
    url: str,
    description: str | None,
    events: Sequence[str],
) -> list[str]:
    """Change an endpoint's address, description and events; the changes take effect for the
    events written from now on (those written already go where they were addressed). Returns
    the names of the fields changed (none: nothing is recorded).

    Raises what :func:`register` raises for the fields, and :class:`NotFound` for another
    company's endpoint.
    """
    endpoint = find_endpoint(actor, endpoint.id)
    url = webhook_urls.check_url(url)
    description = _description(description)
    event_types = _events(events)
    _check_unique(endpoint.company_id, url, endpoint.id)
    before = _details(endpoint)
    endpoint.url = url
    endpoint.description = description
    endpoint.event_types = event_types
    changed = [name for name, value in _details(endpoint).items() if before[name] != value]
    if changed:
        db.session.flush()
        webhook_events.forget_endpoints(db.session())
        _record(actor, "webhook.updated", endpoint, changed=changed)
    return changed


def disable(actor: User, endpoint: WebhookEndpoint, *, now: datetime | None = None) -> int:
    """Disable an endpoint: no more events are written for it, and its waiting deliveries
    fail. Returns how many were waiting.

    Raises :class:`NotFound` for another company's endpoint and :class:`WebhookRefused` when
    it is disabled already.
    """
    now = now or utcnow()
    endpoint = find_endpoint(actor, endpoint.id)
    if not endpoint.is_active:
        raise WebhookRefused(_l("This endpoint is disabled already."))
    endpoint.is_active = False
    endpoint.disabled_at = now
    endpoint.disabled_reason = EndpointDisabledReason.BY_HR
    stopped = len(
        db.session.scalars(
            update(WebhookDelivery)
            .where(
                WebhookDelivery.endpoint_id == endpoint.id,
                WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
            )
            .values(
                status=WebhookDeliveryStatus.FAILED,
                last_error=WebhookFailure.ENDPOINT_DISABLED.value,
            )
            .returning(WebhookDelivery.id)
            .execution_options(synchronize_session=False)
        ).all()
    )
    db.session.flush()
    webhook_events.forget_endpoints(db.session())
    _record(actor, "webhook.disabled", endpoint, deliveries_stopped=stopped)
    return stopped


def enable(actor: User, endpoint: WebhookEndpoint) -> None:
    """Enable a disabled endpoint again: events written from now on are sent to it (those
    that failed while it was disabled may be sent again one by one).

    Raises :class:`NotFound` for another company's endpoint and :class:`WebhookRefused` when
    it is active already.
    """
    endpoint = find_endpoint(actor, endpoint.id)
    if endpoint.is_active:
        raise WebhookRefused(_l("This endpoint is active already."))
    endpoint.is_active = True
    endpoint.disabled_at = None
    endpoint.disabled_reason = None
    db.session.flush()
    webhook_events.forget_endpoints(db.session())
    _record(actor, "webhook.enabled", endpoint)


def rotate_secret(actor: User, endpoint: WebhookEndpoint, *, now: datetime | None = None) -> None:
    """Give an endpoint a new signing secret; the old one signs deliveries too for
    :data:`ROTATION_OVERLAP` (a secret from an earlier rotation stops at once). Audited
    without either secret.

    Raises :class:`NotFound` for another company's endpoint.
    """
    now = now or utcnow()
    endpoint = find_endpoint(actor, endpoint.id)
    endpoint.previous_secret = endpoint.secret
    endpoint.previous_secret_expires_at = now + ROTATION_OVERLAP
    endpoint.secret = webhook_signing.new_secret()
    db.session.flush()
    _record(
        actor,
        "webhook.secret_rotated",
        endpoint,
        old_secret_until=endpoint.previous_secret_expires_at.isoformat(),
    )


# ---------------------------------------------------------------------------------------------
# Sending again, and testing


def _active(endpoint: WebhookEndpoint) -> None:
    if not endpoint.is_active:
        raise WebhookRefused(_l("Enable the endpoint first: a disabled endpoint gets no events."))


def redeliver(actor: User, delivery: WebhookDelivery, *, now: datetime | None = None) -> None:
    """Make a delivery due now, to be sent again as it was (same event id and body): one more
    attempt, then the retries it has left. The caller sends it after the commit
    (:func:`.webhook_delivery.deliver_due`).

    Raises :class:`NotFound` for another company's delivery, and :class:`WebhookRefused` when
    its endpoint is disabled or it is being sent at this moment.
    """
    now = now or utcnow()
    endpoint = find_endpoint(actor, delivery.endpoint_id)
    _active(endpoint)
    made_due = db.session.scalar(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery.id,
            WebhookDelivery.status != WebhookDeliveryStatus.SENDING,
        )
        .values(status=WebhookDeliveryStatus.PENDING, next_attempt_at=now)
        .returning(WebhookDelivery.id)
        .execution_options(synchronize_session=False)
    )
    if made_due is None:
        raise WebhookRefused(_l("This event is being sent at this moment: wait a little."))
    audit.record(
        actor,
        "webhook.redelivered",
        endpoint,
        f"{delivery.event_type} {delivery.event_id}",
        {"event_id": delivery.event_id, "event": delivery.event_type, "url": endpoint.url},
        company=endpoint.company,
    )


def send_test(
    actor: User, endpoint: WebhookEndpoint, *, now: datetime | None = None
) -> WebhookDelivery:
    """Write a test event (``ping``) for an active endpoint, due now; the caller sends it
    after the commit. It is tried once.

    Raises :class:`NotFound` for another company's endpoint and :class:`WebhookRefused` for
    a disabled one.
    """
    now = now or utcnow()
    endpoint = find_endpoint(actor, endpoint.id)
    _active(endpoint)
    data = {
        "endpoint": {"id": endpoint.id, "url": endpoint.url},
        "company": {"code": endpoint.company.code},
        "sent_by": {"id": actor.id, "email": actor.email},
    }
    delivery = webhook_events.write_delivery(endpoint.id, WebhookEvent.PING, data, now)
    db.session.flush()
    audit.record(
        actor,
        "webhook.test_sent",
        endpoint,
        endpoint.url,
        {"event_id": delivery.event_id, "url": endpoint.url},
        company=endpoint.company,
    )
    return delivery
