"""Delivering webhooks, against a real HTTP receiver on this machine: what is sent (body,
headers, signature), what an answer or its absence does (retries with back-off, failure, a 410
that disables the endpoint), and that two runs at once send each delivery once."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
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
from skillsup.services import (
    webhook_delivery,
    webhook_events,
    webhook_signing,
    webhook_urls,
    webhooks,
)
from skillsup.services.webhook_signing import verify_signature

from .webhook_receiver import Receiver, closed_port, receiver

ALL_EVENTS = [event.value for event in webhooks.SUBSCRIBABLE_EVENTS]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOKS_TIMEOUT": 2}


def _endpoint(actor: Any, url: str, events: list[str] | None = None) -> WebhookEndpoint:
    endpoint = webhooks.register(actor, url, "Payroll", events or ALL_EVENTS)
    db.session.commit()
    return endpoint


def _event(endpoint: WebhookEndpoint, data: Any = None) -> WebhookDelivery:
    delivery = webhook_events.write_delivery(
        endpoint.id, WebhookEvent.ENROLMENT_STATUS_CHANGED, data or {"n": 1}, utcnow()
    )
    db.session.commit()
    return delivery


def _delivery(delivery_id: int) -> WebhookDelivery:
    db.session.expire_all()
    delivery = db.session.get(WebhookDelivery, delivery_id)
    assert delivery is not None
    return delivery


def _attempts(delivery_id: int) -> list[WebhookAttempt]:
    attempts = list(
        db.session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id == delivery_id)
            .order_by(WebhookAttempt.id)
        )
    )
    db.session.commit()  # hold no lock while a run works (SQLite)
    return attempts


def _run(now: Any = None) -> webhook_delivery.DeliveryReport:
    db.session.commit()
    return webhook_delivery.deliver_due(now=now)


# What is sent ------------------------------------------------------------------------------


def test_a_delivery_is_posted_as_written_signed_and_delivered_on_2xx(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url("/skillsup/events?source=portal"))
    delivery = _event(endpoint, {"enrolment": 7, "name": "陳大文"})
    hook.answer(202, body=b"accepted \x00 with a NUL")

    report = _run()

    assert (report.delivered, report.retrying, report.failed) == (1, 0, 0)
    [got] = hook.received
    assert got.path == "/skillsup/events?source=portal"
    assert got.body == delivery.body.encode("utf-8")
    payload = json.loads(got.body)
    assert payload["id"] == delivery.event_id
    assert payload["type"] == "enrolment.status_changed"
    assert payload["data"] == {"enrolment": 7, "name": "陳大文"}
    assert payload["created_at"].endswith("+00:00")
    headers = got.headers
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert headers["SkillsUp-Event-Id"] == delivery.event_id
    assert headers["SkillsUp-Event-Type"] == "enrolment.status_changed"
    assert headers["SkillsUp-Delivery-Attempt"] == "1"
    timestamp = headers["SkillsUp-Timestamp"]
    signature = headers["SkillsUp-Signature"]
    assert signature.startswith("v1=") and "," not in signature
    assert verify_signature(endpoint.secret, timestamp, got.body, signature)

    done = _delivery(delivery.id)
    assert done.status == WebhookDeliveryStatus.DELIVERED
    assert done.delivered_at is not None and done.last_status_code == 202
    [attempt] = _attempts(delivery.id)
    assert attempt.status_code == 202 and attempt.error is None
    # What the database keeps of the answer holds no NUL (PostgreSQL refuses it).
    assert attempt.response_excerpt == "accepted  with a NUL"
    assert attempt.duration_ms >= 0

    # Delivered once: the next run has nothing to send.
    assert _run().delivered == 0
    assert len(hook.received) == 1


def test_the_signature_fails_with_another_secret_a_changed_body_or_an_old_timestamp(
    app, hook, hr_officer
):
    endpoint = _endpoint(hr_officer, hook.url())
    _event(endpoint)
    _run()
    [got] = hook.received
    timestamp, signature = got.headers["SkillsUp-Timestamp"], got.headers["SkillsUp-Signature"]
    assert verify_signature(endpoint.secret, timestamp, got.body, signature)
    assert verify_signature(endpoint.secret, timestamp, got.body.decode(), signature)
    assert not verify_signature(webhook_signing.new_secret(), timestamp, got.body, signature)
    assert not verify_signature(endpoint.secret, timestamp, got.body + b" ", signature)
    assert not verify_signature(endpoint.secret, str(int(timestamp) + 1), got.body, signature)
    # A delivery recorded and played again later is refused for its age.
    later = int(timestamp) + 301
    assert not verify_signature(endpoint.secret, timestamp, got.body, signature, now=later)
    assert verify_signature(
        endpoint.secret, timestamp, got.body, signature, tolerance=400, now=later
    )
    for bad_header in ("", "v1=", "v0=" + signature[3:], signature.upper(), "garbage"):
        assert not verify_signature(endpoint.secret, timestamp, got.body, bad_header)
    for bad_timestamp in ("", "abc", "-1", "1e9", " "):
        assert not verify_signature(endpoint.secret, bad_timestamp, got.body, signature)


def test_the_signing_helpers_agree_with_the_documented_formula():
    import hashlib
    import hmac

    secret, timestamp, body = "whsec_test", 1767225600, '{"id":"x"}'
    expected = hmac.new(secret.encode(), f"{timestamp}.{body}".encode(), hashlib.sha256).hexdigest()
    assert webhook_signing.signature(secret, timestamp, body) == expected
    header = webhook_signing.signature_header([secret, "whsec_old"], timestamp, body)
    assert header.split(",")[0] == f"v1={expected}"
    assert verify_signature("whsec_old", timestamp, body, header, now=timestamp)
    assert webhook_signing.new_secret().startswith("whsec_")
    assert webhook_signing.new_secret() != webhook_signing.new_secret()


# Retries -----------------------------------------------------------------------------------


def test_a_500_is_retried_with_back_off_under_the_same_event_id_until_it_fails(
    app, hook, hr_officer
):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = _event(endpoint)
    hook.default = (500, b"Internal error: database down", {})
    moment = utcnow()
    waits = []
    for attempt in range(1, webhook_delivery.MAX_ATTEMPTS + 1):
        with time_machine.travel(moment, tick=False):
            report = _run()
        row = _delivery(delivery.id)
        assert row.attempts == attempt
        assert row.last_status_code == 500 and row.last_error is None
        if attempt < webhook_delivery.MAX_ATTEMPTS:
            assert report.retrying == 1
            assert row.status == WebhookDeliveryStatus.PENDING
            wait = row.next_attempt_at - moment
            expected = webhook_delivery.BACKOFF[attempt - 1]
            assert expected * 0.9 <= wait <= expected * 1.1
            waits.append(wait)
            # Not due before then.
            with time_machine.travel(row.next_attempt_at - timedelta(seconds=1), tick=False):
                assert _run().retrying == 0
            moment = row.next_attempt_at
        else:
            assert report.failed == 1
            assert row.status == WebhookDeliveryStatus.FAILED
    assert waits == sorted(waits)
    assert len(hook.received) == webhook_delivery.MAX_ATTEMPTS
    assert {got.headers["SkillsUp-Event-Id"] for got in hook.received} == {delivery.event_id}
    assert {got.body for got in hook.received} == {delivery.body.encode()}
    assert [got.headers["SkillsUp-Delivery-Attempt"] for got in hook.received] == [
        str(n) for n in range(1, webhook_delivery.MAX_ATTEMPTS + 1)
    ]
    attempts = _attempts(delivery.id)
    assert [a.status_code for a in attempts] == [500] * webhook_delivery.MAX_ATTEMPTS
    assert attempts[0].response_excerpt == "Internal error: database down"
    # A failed delivery is not sent again by the runs.
    with time_machine.travel(moment + timedelta(days=3), tick=False):
        assert _run().failed == 0


def test_a_retry_that_succeeds_delivers(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = _event(endpoint)
    hook.answer(503)
    assert _run().retrying == 1
    with time_machine.travel(utcnow() + timedelta(minutes=2), tick=False):
        assert _run().delivered == 1
    row = _delivery(delivery.id)
    assert (row.status, row.attempts, row.last_status_code) == (
        WebhookDeliveryStatus.DELIVERED,
        2,
        200,
    )
    assert [a.status_code for a in _attempts(delivery.id)] == [503, 200]


def test_a_redirect_is_not_followed_and_counts_as_a_failure(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = _event(endpoint)
    hook.answer(302, headers={"Location": "http://169.254.169.254/latest/meta-data/"})
    assert _run().retrying == 1
    assert len(hook.received) == 1
    assert _delivery(delivery.id).last_status_code == 302


def test_no_answer_in_time_is_a_timeout_and_is_retried(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = _event(endpoint)
    hook.delay = 3  # the time limit is 2 seconds
    assert _run().retrying == 1
    row = _delivery(delivery.id)
    assert row.status == WebhookDeliveryStatus.PENDING
    assert row.last_error == WebhookFailure.TIMEOUT and row.last_status_code is None
    [attempt] = _attempts(delivery.id)
    assert attempt.error == WebhookFailure.TIMEOUT and attempt.status_code is None
    assert attempt.duration_ms >= 1500


def test_a_refused_connection_is_recorded_and_retried(app, hr_officer):
    endpoint = _endpoint(hr_officer, f"http://127.0.0.1:{closed_port()}/hook")
    delivery = _event(endpoint)
    assert _run().retrying == 1
    row = _delivery(delivery.id)
    assert row.last_error == WebhookFailure.CONNECTION_REFUSED
    assert row.next_attempt_at > utcnow()
    [attempt] = _attempts(delivery.id)
    assert attempt.error == WebhookFailure.CONNECTION_REFUSED and attempt.error_detail


def test_a_host_that_does_not_resolve_is_retried(app, hr_officer, monkeypatch):
    endpoint = _endpoint(hr_officer, "http://hr.example/hook")
    delivery = _event(endpoint)
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: [])
    assert _run().retrying == 1
    assert _delivery(delivery.id).last_error == WebhookFailure.HOST_NOT_FOUND


def test_the_address_is_checked_again_at_delivery(app, hook, hr_officer, monkeypatch):
    """Registered while it resolved to a public address; by the time it is sent, the name
    leads to the cloud's metadata address: nothing is sent, and it is retried later."""
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: ["93.184.216.34"])
    app.config["WEBHOOKS_ALLOW_INSECURE"] = False
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    delivery = _event(endpoint)
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: ["169.254.169.254"])
    assert _run().retrying == 1
    row = _delivery(delivery.id)
    assert row.last_error == WebhookFailure.UNSAFE_ADDRESS
    [attempt] = _attempts(delivery.id)
    assert "169.254.169.254" in (attempt.error_detail or "")
    assert hook.received == []


def test_a_delivery_goes_to_the_address_that_was_checked(app, hook, hr_officer, monkeypatch):
    """The connection is made to the address the check resolved, not to whatever the name
    resolves to a moment later: here the name is made up and only the check knows it."""
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: ["127.0.0.1"])
    endpoint = _endpoint(hr_officer, f"http://hooks.invalid:{hook.port}/pinned")
    _event(endpoint)
    assert _run().delivered == 1
    [got] = hook.received
    assert got.path == "/pinned"
    assert got.headers["Host"] == f"hooks.invalid:{hook.port}"


def test_a_410_gone_fails_the_delivery_and_disables_the_endpoint(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    first, second = _event(endpoint), _event(endpoint)
    hook.answer(410)
    report = _run()
    assert report.failed == 1  # the second fails with its endpoint, unsent and uncounted
    assert len(hook.received) == 1
    assert _delivery(first.id).status == WebhookDeliveryStatus.FAILED
    waiting = _delivery(second.id)
    assert waiting.status == WebhookDeliveryStatus.FAILED
    assert waiting.last_error == WebhookFailure.ENDPOINT_DISABLED
    db.session.expire_all()
    gone = db.session.get(WebhookEndpoint, endpoint.id)
    assert not gone.is_active and gone.disabled_reason == EndpointDisabledReason.GONE
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.disabled"))
    assert entry.actor_id is None and entry.company_id == hr_officer.company_id


def test_a_test_event_is_tried_once(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    ping = webhooks.send_test(hr_officer, endpoint)
    hook.answer(500)
    report = _run()
    assert report.failed == 1
    assert _delivery(ping.id).status == WebhookDeliveryStatus.FAILED
    payload = json.loads(hook.received[0].body)
    assert payload["type"] == "ping"
    assert payload["data"]["endpoint"] == {"id": endpoint.id, "url": endpoint.url}


# Secrets -----------------------------------------------------------------------------------


def test_after_a_rotation_both_secrets_sign_for_a_day(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    old = endpoint.secret
    webhooks.rotate_secret(hr_officer, endpoint)
    db.session.commit()
    new = endpoint.secret
    assert new != old
    _event(endpoint)
    _run()
    got = hook.received[-1]
    timestamp, header = got.headers["SkillsUp-Timestamp"], got.headers["SkillsUp-Signature"]
    assert header.count("v1=") == 2
    assert verify_signature(new, timestamp, got.body, header)
    assert verify_signature(old, timestamp, got.body, header)

    with time_machine.travel(utcnow() + timedelta(hours=24, minutes=1), tick=False):
        _event(endpoint)
        _run()
        got = hook.received[-1]
        timestamp, header = got.headers["SkillsUp-Timestamp"], got.headers["SkillsUp-Signature"]
        assert header.count("v1=") == 1
        assert verify_signature(new, timestamp, got.body, header)
        assert not verify_signature(old, timestamp, got.body, header)


# Runs --------------------------------------------------------------------------------------


def test_send_webhooks_reports_what_it_did(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    for _ in range(3):
        _event(endpoint)
    hook.answer(200, 500, 200)
    result = app.test_cli_runner().invoke(args=["send-webhooks"])
    assert result.exit_code == 0, result.output
    assert "2 delivered, 1 to retry, 0 failed" in result.output
    result = app.test_cli_runner().invoke(args=["send-webhooks", "--limit", "5"])
    assert "0 delivered, 0 to retry, 0 failed" in result.output


def test_two_runs_at_once_deliver_each_event_once(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    events = {_event(endpoint).event_id for _ in range(24)}
    db.session.commit()  # hold no lock while the runs work (SQLite)
    hook.delay = 0.01
    reports: list[webhook_delivery.DeliveryReport] = []

    def run() -> None:
        with app.app_context():
            reports.append(webhook_delivery.deliver_due())

    threads = [threading.Thread(target=run) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive()
    sent = [got.headers["SkillsUp-Event-Id"] for got in hook.received]
    assert sorted(sent) == sorted(events)  # each once
    assert sum(report.delivered for report in reports) == 24
    assert (
        db.session.scalar(
            select(func.count()).where(WebhookDelivery.status == WebhookDeliveryStatus.DELIVERED)
        )
        == 24
    )
    assert db.session.scalar(select(func.count()).select_from(WebhookAttempt)) == 24


def test_a_delivery_whose_endpoint_was_disabled_meanwhile_is_not_sent(app, hook, hr_officer):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = _event(endpoint)
    # Disabled behind the service's back (as if between the write and the claim).
    db.session.execute(
        WebhookEndpoint.__table__.update()
        .where(WebhookEndpoint.id == endpoint.id)
        .values(is_active=False)
    )
    assert _run().failed == 1
    assert hook.received == []
    assert _delivery(delivery.id).last_error == WebhookFailure.ENDPOINT_DISABLED


def test_send_now_refuses_to_run_inside_a_transaction(app, hr_officer):
    db.session.get(WebhookEndpoint, 1)  # a transaction is open
    with pytest.raises(RuntimeError):
        webhook_delivery.send_now(1)
    db.session.rollback()


def test_the_outcome_rule(app):
    moment = utcnow()
    ok = webhook_delivery.Answer(status_code=204)
    assert webhook_delivery.outcome("enrolment.status_changed", 1, ok, moment).status == (
        WebhookDeliveryStatus.DELIVERED
    )
    refused = webhook_delivery.Answer(error=WebhookFailure.CONNECTION_REFUSED)
    later = webhook_delivery.outcome("enrolment.status_changed", 3, refused, moment)
    assert later.status == WebhookDeliveryStatus.PENDING
    assert timedelta(minutes=27) <= later.next_attempt_at - moment <= timedelta(minutes=33)
    last = webhook_delivery.outcome(
        "enrolment.status_changed", webhook_delivery.MAX_ATTEMPTS, refused, moment
    )
    assert last.status == WebhookDeliveryStatus.FAILED
    # A delivery sent again by hand past its last retry fails after that one attempt.
    assert (
        webhook_delivery.outcome("certificate.issued", 12, refused, moment).status
        == WebhookDeliveryStatus.FAILED
    )
    assert webhook_delivery.outcome("ping", 1, refused, moment).status == (
        WebhookDeliveryStatus.FAILED
    )


def test_the_readmes_receiver_snippet_accepts_a_real_delivery(app, hook, hr_officer):
    """The few lines of Python the README gives receivers check a real delivery."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme[readme.index("### Webhooks") :]
    snippet = section[
        section.index("```python") + len("```python") : section.index(
            "```\n", section.index("```python")
        )
    ]
    namespace: dict[str, Any] = {}
    exec(compile(snippet, "README.md", "exec"), namespace)  # noqa: S102 (the README's own code)
    is_genuine = namespace["is_genuine"]
    endpoint = _endpoint(hr_officer, hook.url())
    _event(endpoint)
    _run()
    [got] = hook.received
    timestamp, header = got.headers["SkillsUp-Timestamp"], got.headers["SkillsUp-Signature"]
    assert is_genuine(endpoint.secret, timestamp, got.body, header)
    assert not is_genuine(endpoint.secret, timestamp, got.body + b"x", header)
    assert not is_genuine("whsec_other", timestamp, got.body, header)
    assert not is_genuine(endpoint.secret, str(int(timestamp) - 600), got.body, header)
