"""Delivering webhooks: ``flask send-webhooks`` posts what the changes wrote to the webhook
outbox, signed, and retries with back-off.

Each delivery is claimed on its own, in a short transaction, by the first run to reach it, as
e-mail is (:mod:`.outbox_claims`): two runs at once never send one delivery twice, and a run
that dies leaves its delivery to the next. The delivery is posted as it was written (its body,
its event id) with the headers ``SkillsUp-Event-Id``, ``SkillsUp-Event-Type``,
``SkillsUp-Timestamp``, ``SkillsUp-Signature`` (:mod:`.webhook_signing`) and
``SkillsUp-Delivery-Attempt``, to the address checked again at that moment and pinned for the
connection (:func:`.webhook_urls.delivery_target`), with a time limit
(``WEBHOOKS_TIMEOUT`` seconds to connect, and again for the answer). Redirects are not
followed: a 3xx answer is a failure, as is any answer outside 2xx.

Every attempt is kept with what the receiver answered (its status and the first
:data:`EXCERPT_LENGTH` characters of its body) or why there was no answer (a
:class:`WebhookFailure`) and how long it took. A 2xx answer delivers it; any other outcome is
retried after :data:`BACKOFF` (1 minute, 5 minutes, 30 minutes, 2, 6, 12 and 24 hours, each
spread by up to a tenth either way so that the retries of many deliveries do not arrive
together), and after the last the delivery has failed. A test event (``ping``) is tried once.
A receiver that answers 410 Gone wants no more events: the delivery fails at once and the
endpoint is disabled, its other waiting deliveries failed with it (an HR officer may enable it
again).
"""

from __future__ import annotations

import http.client
import logging
import random
import socket
import ssl
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Literal

from flask import current_app
from sqlalchemy import insert, select, update
from sqlalchemy.engine import Connection

from ..extensions import db
from ..models import (
    AuditEntry,
    EndpointDisabledReason,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookEvent,
    WebhookFailure,
    utcnow,
)
from . import outbox_claims, webhook_signing, webhook_urls

log = logging.getLogger(__name__)

#: How long to wait after the first, second, ... failed attempt.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=30),
    timedelta(hours=2),
    timedelta(hours=6),
    timedelta(hours=12),
    timedelta(hours=24),
)
MAX_ATTEMPTS = len(BACKOFF) + 1
#: How far each wait is spread either way, as a share of it.
JITTER = 0.1
#: How long after a rotation the old secret signs deliveries too.
ROTATION_OVERLAP = timedelta(hours=24)
#: How much of the receiver's answer is kept, in characters (and read, in bytes).
EXCERPT_LENGTH = 500
_READ_LIMIT = 4 * EXCERPT_LENGTH
USER_AGENT = "SkillsUp-Webhooks/1.0"

# Spreads retries over time; not a secret.
_jitter = random.Random()  # noqa: S311

#: The webhook outbox's rows as the runs of delivery claim them.
DELIVERIES = outbox_claims.ClaimedTable(
    model=WebhookDelivery,
    pending=WebhookDeliveryStatus.PENDING,
    sending=WebhookDeliveryStatus.SENDING,
    returning=(
        WebhookDelivery.id,
        WebhookDelivery.endpoint_id,
        WebhookDelivery.event_id,
        WebhookDelivery.event_type,
        WebhookDelivery.body,
        WebhookDelivery.attempts,
    ),
    what="webhook delivery",
)


# ---------------------------------------------------------------------------------------------
# One attempt


@dataclass(frozen=True)
class Answer:
    """What one attempt got: the receiver's status and the start of its body, or the
    failure that left it without an answer; and how long it took."""

    status_code: int | None = None
    excerpt: str | None = None
    error: WebhookFailure | None = None
    error_detail: str | None = None
    duration_ms: int = 0

    @property
    def delivered(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def signing_secrets(endpoint: Any, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the endpoint's, and its previous one for
    :data:`ROTATION_OVERLAP` after a rotation."""
    found = [endpoint.secret]
    expires = endpoint.previous_secret_expires_at
    if endpoint.previous_secret and expires is not None and expires > now:
        found.append(endpoint.previous_secret)
    return found


def headers(
    event_id: str, event_type: str, body: bytes, signing: Iterable[str], attempt: int, sent: int
) -> dict[str, str]:
    """The headers of a delivery sent at the Unix time ``sent``."""
    return {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "SkillsUp-Event-Id": event_id,
        "SkillsUp-Event-Type": event_type,
        "SkillsUp-Timestamp": str(sent),
        "SkillsUp-Signature": webhook_signing.signature_header(signing, sent, body),
        "SkillsUp-Delivery-Attempt": str(attempt),
    }


class _PinnedHTTPConnection(http.client.HTTPConnection):
    """A connection to ``address``, the checked address of its host (tests only: plain HTTP
    is allowed where ``WEBHOOKS_ALLOW_INSECURE`` is set)."""

    def __init__(self, target: webhook_urls.Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPSConnection(http.client.HTTPSConnection):
    """A TLS connection to ``address``, the checked address of its host, verifying the
    certificate of the host by its name."""

    def __init__(self, target: webhook_urls.Target, timeout: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(target.host, target.port, timeout=timeout, context=self._tls)
        self._address = target.address

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        try:
            self.sock = self._tls.wrap_socket(sock, server_hostname=self.host)
        except BaseException:
            sock.close()
            raise


def _clean(text: str) -> str:
    """Text the database can keep: without NUL or other control characters but line breaks
    and tabs."""
    return "".join(c for c in text if c.isprintable() or c in "\n\t")


def post(url: str, body: bytes, request_headers: dict[str, str], timeout: float) -> Answer:
    """POST ``body`` to ``url`` once, after checking the address again; never raises for
    what the network or the receiver does: the failure is in the answer."""
    started = time.monotonic()

    def answer(**values: Any) -> Answer:
        return Answer(duration_ms=int((time.monotonic() - started) * 1000), **values)

    try:
        target = webhook_urls.delivery_target(url)
    except webhook_urls.UndeliverableAddress as refusal:
        failure = (
            WebhookFailure.HOST_NOT_FOUND if refusal.not_found else WebhookFailure.UNSAFE_ADDRESS
        )
        return answer(error=failure, error_detail=str(refusal))
    connection: http.client.HTTPConnection
    if target.scheme == "https":
        connection = _PinnedHTTPSConnection(target, timeout)
    else:
        connection = _PinnedHTTPConnection(target, timeout)
    try:
        connection.request("POST", target.path, body=body, headers=request_headers)
        response = connection.getresponse()
        data = b""
        deadline = time.monotonic() + timeout
        while len(data) < _READ_LIMIT and time.monotonic() < deadline:
            chunk = response.read1(_READ_LIMIT - len(data))
            if not chunk:
                break
            data += chunk
        excerpt = _clean(data.decode("utf-8", errors="replace"))[:EXCERPT_LENGTH]
        return answer(status_code=response.status, excerpt=excerpt)
    except TimeoutError:
        return answer(
            error=WebhookFailure.TIMEOUT, error_detail=f"no answer within {timeout:g} seconds"
        )
    except ConnectionRefusedError as error:
        return answer(error=WebhookFailure.CONNECTION_REFUSED, error_detail=str(error))
    except ssl.SSLError as error:
        return answer(error=WebhookFailure.TLS, error_detail=str(error))
    except http.client.HTTPException as error:
        return answer(error=WebhookFailure.INVALID_ANSWER, error_detail=repr(error))
    except OSError as error:
        return answer(error=WebhookFailure.CONNECTION, error_detail=str(error))
    finally:
        connection.close()


# ---------------------------------------------------------------------------------------------
# What an answer means


@dataclass(frozen=True)
class Outcome:
    """What becomes of a delivery after an attempt."""

    status: WebhookDeliveryStatus
    next_attempt_at: datetime | None
    #: The receiver answered 410 Gone: its endpoint is to be disabled.
    gone: bool = False


def outcome(
    event_type: str,
    attempts: int,
    answer: Answer,
    moment: datetime,
    spread: random.Random | None = None,
) -> Outcome:
    """The rule of retries: what becomes of a delivery whose attempt number ``attempts``
    (counting this one) got ``answer`` at ``moment``; the waits are spread with ``spread``
    (by default a random source of the process)."""
    if answer.delivered:
        return Outcome(WebhookDeliveryStatus.DELIVERED, None)
    if answer.status_code == 410:
        return Outcome(WebhookDeliveryStatus.FAILED, None, gone=True)
    if event_type == WebhookEvent.PING or attempts >= MAX_ATTEMPTS:
        return Outcome(WebhookDeliveryStatus.FAILED, None)
    wait = BACKOFF[max(attempts, 1) - 1]
    shift = wait * (spread or _jitter).uniform(-JITTER, JITTER)
    return Outcome(WebhookDeliveryStatus.PENDING, moment + wait + shift)


def _delivery_values(answer: Answer, result: Outcome, moment: datetime) -> dict[str, Any]:
    values: dict[str, Any] = {
        "last_attempt_at": moment,
        "last_status_code": answer.status_code,
    }
    if result.next_attempt_at is not None:
        values["next_attempt_at"] = result.next_attempt_at
    if result.status == WebhookDeliveryStatus.DELIVERED:
        values["delivered_at"] = moment
    return values


def _attempt_values(delivery_id: int, answer: Answer, moment: datetime) -> dict[str, Any]:
    return {
        "delivery_id": delivery_id,
        "attempted_at": moment,
        "status_code": answer.status_code,
        "response_excerpt": answer.excerpt,
        "error": answer.error,
        "error_detail": answer.error_detail,
        "duration_ms": answer.duration_ms,
    }


def record_answer(
    delivery: WebhookDelivery,
    answer: Answer,
    moment: datetime,
    spread: random.Random | None = None,
) -> Outcome:
    """Record an attempt at ``delivery`` made at ``moment`` in the session, as the delivery
    run does on its own connection, under the same rule (:func:`outcome`); the caller has
    counted the attempt in ``delivery.attempts``. For an attempt made outside a run (the
    demo's history)."""
    result = outcome(delivery.event_type, delivery.attempts, answer, moment, spread)
    db.session.add(WebhookAttempt(**_attempt_values(delivery.id, answer, moment)))
    for name, value in _delivery_values(answer, result, moment).items():
        setattr(delivery, name, value)
    delivery.status = result.status
    delivery.last_error = answer.error.value if answer.error else None
    return result


# ---------------------------------------------------------------------------------------------
# A run of delivery


Outcomes = Literal["delivered", "retrying", "failed", "lost"]


@dataclass
class DeliveryReport:
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    #: Given up to another run, which had taken the delivery over from this one.
    lost: int = 0
    #: What each delivery attempted in the run got, and what became of it, by id.
    results: dict[int, tuple[Answer, Outcome]] = field(default_factory=dict)

    def add(self, result: Outcomes) -> None:
        setattr(self, result, getattr(self, result) + 1)

    def summary(self) -> str:
        summary = f"{self.delivered} delivered, {self.retrying} to retry, {self.failed} failed"
        if self.lost:
            summary += f", {self.lost} left to another run"
        return summary


def deliver_due(
    *, ids: Iterable[int] | None = None, limit: int = 500, now: datetime | None = None
) -> DeliveryReport:
    """Send the webhook deliveries that are due (at ``now``; by default at the moment each is
    claimed), or those of ``ids`` that are, each at most once in the run.

    Each is claimed on its own in a short transaction, as e-mail is (:mod:`.outbox_claims`),
    posted (:func:`post`) and its outcome recorded with the attempt (:func:`outcome`), each
    delivery's committed on its own. Runs on a connection of its own: call it outside a
    transaction of the session (after the commit of a request).
    """
    report = DeliveryReport()
    with (
        db.engine.connect() as connection,
        outbox_claims.ClaimKeeper(db.engine) as keeper,
    ):
        for claim in DELIVERIES.claims_in_turn(
            connection, keeper, limit=limit, due_at=now, ids=ids
        ):
            report.add(_deliver_claimed(connection, claim, report))
    return report


def send_now(delivery_id: int) -> tuple[Answer, Outcome] | None:
    """Send one delivery now (an HR officer's test event or redelivery, just committed), if
    it is due and no run has taken it: what it got and what became of it, else ``None``.

    Call it after the commit, with no transaction open in the session: it claims and records
    on a connection of its own, which on SQLite would wait for the session's write lock.
    """
    if db.session().in_transaction():
        raise RuntimeError("send_now() is called after the commit, outside a transaction")
    return deliver_due(ids=[delivery_id]).results.get(delivery_id)


def _deliver_claimed(
    connection: Connection, claim: outbox_claims.Claim, report: DeliveryReport
) -> Outcomes:
    row = claim.row
    endpoint = connection.execute(
        select(
            WebhookEndpoint.id,
            WebhookEndpoint.company_id,
            WebhookEndpoint.url,
            WebhookEndpoint.secret,
            WebhookEndpoint.previous_secret,
            WebhookEndpoint.previous_secret_expires_at,
            WebhookEndpoint.is_active,
        ).where(WebhookEndpoint.id == row.endpoint_id)
    ).one()
    if not endpoint.is_active:
        # Disabled after the delivery was written and before a run reached it.
        return _finish(
            connection,
            claim,
            WebhookDeliveryStatus.FAILED,
            "failed",
            WebhookFailure.ENDPOINT_DISABLED.value,
        )
    # It leaves only under a claim that is still this run's.
    if not outbox_claims.renew(connection, claim):
        log.warning("webhook delivery %s: another run has taken it over; not sent", claim.id)
        return "lost"
    moment = utcnow()
    body = row.body.encode("utf-8")
    request_headers = headers(
        row.event_id,
        row.event_type,
        body,
        signing_secrets(endpoint, moment),
        row.attempts,
        int(moment.timestamp()),
    )
    answer = post(endpoint.url, body, request_headers, _timeout())
    done = utcnow()
    result = outcome(row.event_type, row.attempts, answer, done)
    report.results[claim.id] = (answer, result)
    # The attempt happened: it is kept even if the claim was lost meanwhile.
    connection.execute(insert(WebhookAttempt).values(**_attempt_values(claim.id, answer, done)))
    if result.gone:
        _disable_gone(connection, endpoint, claim.id, done)
    if answer.error is not None or not answer.delivered:
        log.info(
            "webhook delivery %s to %s (attempt %s): %s",
            claim.id,
            endpoint.url,
            row.attempts,
            answer.error or answer.status_code,
        )
    counted: Outcomes = (
        "delivered"
        if result.status == WebhookDeliveryStatus.DELIVERED
        else "retrying"
        if result.status == WebhookDeliveryStatus.PENDING
        else "failed"
    )
    return _finish(
        connection,
        claim,
        result.status,
        counted,
        answer.error.value if answer.error else None,
        **_delivery_values(answer, result, done),
    )


def _finish(
    connection: Connection,
    claim: outbox_claims.Claim,
    status: WebhookDeliveryStatus,
    counted: Outcomes,
    error: str | None,
    **values: Any,
) -> Outcomes:
    if outbox_claims.finish(connection, claim, status, error, **values):
        return counted
    log.warning(
        "webhook delivery %s: another run took it over before its outcome (%s) was recorded",
        claim.id,
        status.value,
    )
    return "lost"


def _disable_gone(
    connection: Connection, endpoint: Any, delivery_id: int, moment: datetime
) -> None:
    """Disable an endpoint whose receiver answered 410 Gone, and fail its other waiting
    deliveries; recorded in the audit log, on the company's part."""
    disabled = connection.execute(
        update(WebhookEndpoint)
        .where(WebhookEndpoint.id == endpoint.id, WebhookEndpoint.is_active)
        .values(
            is_active=False,
            disabled_at=moment,
            disabled_reason=EndpointDisabledReason.GONE,
        )
    )
    if disabled.rowcount != 1:
        return
    connection.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.endpoint_id == endpoint.id,
            WebhookDelivery.status == WebhookDeliveryStatus.PENDING,
            WebhookDelivery.id != delivery_id,
        )
        .values(status=WebhookDeliveryStatus.FAILED, last_error=WebhookFailure.ENDPOINT_DISABLED)
    )
    connection.execute(
        insert(AuditEntry).values(
            occurred_at=moment,
            actor_id=None,
            action="webhook.disabled",
            object_type=WebhookEndpoint.__tablename__,
            object_id=endpoint.id,
            summary=f"{endpoint.url}: the receiver answered 410 Gone",
            details={"url": endpoint.url, "reason": EndpointDisabledReason.GONE.value},
            company_id=endpoint.company_id,
        )
    )


def _timeout() -> float:
    return float(current_app.config.get("WEBHOOKS_TIMEOUT", 10))
