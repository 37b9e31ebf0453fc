"""The demo's webhook endpoint: Lion Rock's HR system hears of its staff's enrolments and
certificates.

Lion Rock's HR officer registers the endpoint through the webhooks service some days before the
reference day; every change of the history after that writes its events, as any change does.
Nobody receives them at ``hr.example`` (a domain kept for examples), so the answers of its
receiver are played back instead (:meth:`WebhookSeeding.answer_webhooks`), each recorded under
the delivery rules (:func:`skillsup.services.webhook_delivery.record_answer`): most events
delivered at once, those of a few hours when the receiver was down for maintenance delivered on
a retry, one it refused every time failed, one caught in an outage that is still on, and the
latest not tried yet.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ...extensions import db
from ...models import (
    SUBSCRIBABLE_EVENTS,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookFailure,
)
from ...services import webhook_delivery, webhooks
from .state import SeedState, Step

WEBHOOK_COMPANY = "partner-b.test"
WEBHOOK_URL = "https://hr.example/skillsup-hook"
WEBHOOK_DESCRIPTION = "Lion Rock HR system (Workday integration)"
#: When the endpoint is registered, in days before the reference day.
REGISTERED_DAYS_AGO = 10


class WebhookSeeding(SeedState):
    """Seeds the webhook endpoint and the answers its events got."""

    def _hr_officer_email(self) -> str:
        return f"hr@{WEBHOOK_COMPANY}"

    def _endpoint(self) -> WebhookEndpoint | None:
        hr = self.users[self._hr_officer_email()]
        return db.session.scalar(
            select(WebhookEndpoint).where(
                WebhookEndpoint.company_id == hr.company_id, WebhookEndpoint.url == WEBHOOK_URL
            )
        )

    def plan_webhooks(self) -> None:
        """The HR officer registers the endpoint :data:`REGISTERED_DAYS_AGO` days before the
        reference day (unless an earlier run did)."""
        if self._endpoint() is None:
            self.schedule(
                self.days_ago(REGISTERED_DAYS_AGO) + timedelta(hours=10), self._register()
            )

    def _register(self) -> Step:
        def register() -> None:
            webhooks.register(
                self.users[self._hr_officer_email()],
                WEBHOOK_URL,
                WEBHOOK_DESCRIPTION,
                [event.value for event in SUBSCRIBABLE_EVENTS],
                now=self.clock.now,
            )

        return register

    def answer_webhooks(self) -> None:
        """Play the receiver's answers to the endpoint's deliveries not tried yet, every
        attempt until the reference day under the delivery rules: it refused the first event
        every time, was down for maintenance for a few hours midway (those events went on a
        retry), has not answered since the event before the last (retries go on), and the last
        event waits for the next run of delivery."""
        endpoint = self._endpoint()
        if endpoint is None:
            return
        deliveries = list(
            db.session.scalars(
                select(WebhookDelivery)
                .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.attempts == 0)
                .order_by(WebhookDelivery.id)
            )
        )
        if len(deliveries) < 4:
            return
        refused = deliveries[0]
        maintenance_from = deliveries[len(deliveries) // 2].created_at
        maintenance = (maintenance_from, maintenance_from + timedelta(hours=5))
        down_since = deliveries[-2].created_at
        for delivery in deliveries[:-1]:
            moment = delivery.created_at + timedelta(seconds=self.rng.uniform(2, 40))
            while delivery.status == WebhookDeliveryStatus.PENDING and moment < self.day_start:
                delivery.attempts += 1
                if moment >= down_since:
                    answer = _timed_out()
                elif maintenance[0] <= moment < maintenance[1]:
                    answer = _unavailable(self._duration())
                elif delivery is refused:
                    answer = _unknown_employee(self._duration())
                else:
                    answer = webhook_delivery.Answer(
                        status_code=200, excerpt='{"received":true}', duration_ms=self._duration()
                    )
                result = webhook_delivery.record_answer(delivery, answer, moment, self.rng)
                moment = result.next_attempt_at or moment
        db.session.flush()

    def _duration(self) -> int:
        return int(self.rng.uniform(80, 450))


def _timed_out() -> webhook_delivery.Answer:
    return webhook_delivery.Answer(
        error=WebhookFailure.TIMEOUT,
        error_detail="no answer within 10 seconds",
        duration_ms=10_000,
    )


def _unavailable(duration: int) -> webhook_delivery.Answer:
    return webhook_delivery.Answer(
        status_code=503,
        excerpt="<html><body><h1>503 Service Unavailable</h1>Planned maintenance.</body></html>",
        duration_ms=duration,
    )


def _unknown_employee(duration: int) -> webhook_delivery.Answer:
    return webhook_delivery.Answer(
        status_code=422,
        excerpt='{"error":"unknown_employee","message":"No worker with this staff number."}',
        duration_ms=duration,
    )
