"""Webhook events: what each change tells a partner company's HR system, written to the webhook
outbox in the transaction of the change.

Every change of an enrolment's status (a new enrolment included, with no ``from_status``) is
recorded in one place (:func:`skillsup.services.enrolment._record`), and certificates are
issued and revoked in :mod:`.certificates`: those call :func:`enrolment_changed`,
:func:`certificate_issued` and :func:`certificate_revoked`, which write one delivery
(:class:`WebhookDelivery`) per active endpoint of the company the enrolment was made under
that subscribes to the event. A rollback (or a rolled-back savepoint) takes the deliveries
with it; a commit makes them certain to be sent (:mod:`.webhook_delivery`). The body is built
once, here, and sent as it is on every attempt.

The company's endpoints are read once per transaction (:func:`_endpoints_of`): closing a class
of a hundred learners reads them once per company, not once per learner, and a company without
endpoints costs that one query and nothing more. Unlike e-mail, the deliveries are written in a
dry run too (:func:`skillsup.services.mail.dry_run`): a preview rolls them back with the rest,
and the demo's history, played in a dry run for mail, gives its webhook endpoint deliveries.

The representations (:func:`enrolment_representation`, :func:`certificate_representation`)
are the one home of what the portal tells other systems about an enrolment or a certificate.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import (
    Certificate,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from ..reasons import Reason

_CACHE_KEY = "skillsup.webhook_endpoints"

#: An active endpoint as the events read it: its id and the events it wants.
_Subscriber = tuple[int, frozenset[str]]


# ---------------------------------------------------------------------------------------------
# What an event says


def timestamp(moment: datetime) -> str:
    """A moment as the payloads write it: ISO 8601 in UTC, to the second, with its offset."""
    return moment.isoformat(timespec="seconds")


def class_representation(course_class: CourseClass) -> dict[str, Any]:
    return {"id": course_class.id, "code": course_class.code}


def course_representation(course: Course) -> dict[str, Any]:
    return {"code": course.code, "title_en": course.title_en, "title_zh": course.title_zh}


def employee_representation(learner: User) -> dict[str, Any]:
    return {
        "id": learner.id,
        "email": learner.email,
        "staff_number": learner.staff_number,
        "name": learner.name,
    }


def enrolment_representation(enrolment: Enrolment) -> dict[str, Any]:
    """An enrolment as the portal tells other systems of it: its id and status, the class,
    the course and the employee."""
    course_class = enrolment.course_class
    return {
        "id": enrolment.id,
        "status": enrolment.status.value,
        "class": class_representation(course_class),
        "course": course_representation(course_class.course),
        "employee": employee_representation(enrolment.learner),
    }


def certificate_representation(certificate: Certificate, enrolment: Enrolment) -> dict[str, Any]:
    """A certificate as the portal tells other systems of it. Its verification code is left
    out: it is the learner's to hand to whom they choose."""
    course_class = enrolment.course_class
    return {
        "id": certificate.id,
        "serial_number": certificate.serial_number,
        "issued_at": timestamp(certificate.issued_at),
        "expires_on": certificate.expires_on.isoformat() if certificate.expires_on else None,
        "revoked_at": timestamp(certificate.revoked_at) if certificate.revoked_at else None,
        "enrolment_id": enrolment.id,
        "class": class_representation(course_class),
        "course": course_representation(course_class.course),
        "employee": employee_representation(enrolment.learner),
    }


def event_body(event_id: str, event_type: str, created_at: datetime, data: Any) -> str:
    """The JSON body of an event, as it is sent."""
    envelope = {
        "id": event_id,
        "type": event_type,
        "created_at": timestamp(created_at),
        "data": data,
    }
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"))


def new_event_id() -> str:
    return uuid.uuid4().hex


# ---------------------------------------------------------------------------------------------
# Writing deliveries


def _endpoints_of(session: Session, company_id: int) -> list[_Subscriber]:
    """The company's active endpoints and the events each wants, read once per transaction
    of ``session``."""
    transaction = session.get_transaction()
    kept = session.info.get(_CACHE_KEY)
    if kept is None or kept[0] is not transaction:
        kept = (transaction, {})
        session.info[_CACHE_KEY] = kept
    endpoints: dict[int, list[_Subscriber]] = kept[1]
    if company_id not in endpoints:
        endpoints[company_id] = [
            (endpoint_id, frozenset(event_types or ()))
            for endpoint_id, event_types in session.execute(
                _endpoints_statement(), {"company_id": company_id}
            )
        ]
    return endpoints[company_id]


@functools.cache
def _endpoints_statement() -> Select[int, list[str] | None]:
    # Built once: every enrolment change reads its company's endpoints.
    return (
        select(WebhookEndpoint.id, WebhookEndpoint.event_types)
        .where(WebhookEndpoint.company_id == bindparam("company_id"), WebhookEndpoint.is_active)
        .order_by(WebhookEndpoint.id)
    )


def read_endpoints(company_id: int | None) -> None:
    """Read the company's endpoints now, for the events that the transaction will write later:
    a change that writes its events under a lock others queue for (a request for a place,
    under its class's lock) reads them before it takes the lock. Costs nothing more: they are
    read once per transaction anyway."""
    if company_id is not None:
        _endpoints_of(db.session(), company_id)


def forget_endpoints(session: Session) -> None:
    """Read the endpoints again at the next event: for a change to them in the transaction."""
    session.info.pop(_CACHE_KEY, None)


def _subscribers(company_id: int | None, event: WebhookEvent) -> list[int]:
    if company_id is None:
        return []
    return [
        endpoint_id
        for endpoint_id, events in _endpoints_of(db.session(), company_id)
        if event.value in events
    ]


def write_delivery(
    endpoint_id: int, event: WebhookEvent, data: Any, now: datetime
) -> WebhookDelivery:
    """Write one delivery of ``event`` (with its ``data``) to the endpoint, due at once."""
    event_id = new_event_id()
    delivery = WebhookDelivery(
        endpoint_id=endpoint_id,
        event_id=event_id,
        event_type=event.value,
        body=event_body(event_id, event.value, now, data),
        next_attempt_at=now,
        created_at=now,
    )
    db.session.add(delivery)
    return delivery


def _write_all(subscribers: list[int], event: WebhookEvent, data: Any, now: datetime) -> None:
    for endpoint_id in subscribers:
        # Each endpoint's delivery is an event of its own, with an id of its own: the
        # receivers are different systems.
        write_delivery(endpoint_id, event, data, now)


def enrolment_changed(
    enrolment: Enrolment,
    previous: EnrolmentStatus | None,
    reasons: Sequence[Reason] | None,
    now: datetime,
) -> None:
    """Write ``enrolment.status_changed`` for the enrolment's change from ``previous`` (none
    for a new enrolment) to its status now, with the codes of its ``reasons``, to the
    endpoints of the company it was made under that want it."""
    event = WebhookEvent.ENROLMENT_STATUS_CHANGED
    subscribers = _subscribers(enrolment.company_id, event)
    if subscribers:
        data = {
            **enrolment_representation(enrolment),
            "from_status": previous.value if previous is not None else None,
            "changed_at": timestamp(now),
            "reasons": [reason.get("code") for reason in reasons or ()],
        }
        _write_all(subscribers, event, data, now)


def certificate_issued(certificate: Certificate, enrolment: Enrolment, now: datetime) -> None:
    """Write ``certificate.issued`` to the endpoints of the company the enrolment was made
    under that want it."""
    event = WebhookEvent.CERTIFICATE_ISSUED
    subscribers = _subscribers(enrolment.company_id, event)
    if subscribers:
        _write_all(subscribers, event, certificate_representation(certificate, enrolment), now)


def certificate_revoked(certificate: Certificate, now: datetime) -> None:
    """Write ``certificate.revoked`` to the endpoints of the company the certificate's
    enrolment was made under that want it."""
    enrolment = certificate.enrolment
    event = WebhookEvent.CERTIFICATE_REVOKED
    subscribers = _subscribers(enrolment.company_id, event)
    if subscribers:
        _write_all(subscribers, event, certificate_representation(certificate, enrolment), now)
