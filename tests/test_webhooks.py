"""Webhook events written with the change (enrolments through the web, a class closing with
certificates, a revocation), only for the company's subscribed, active endpoints; the rules of
registering, changing, disabling and rotating endpoints; and the addresses refused."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    ClassStatus,
    Enrolment,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    WebhookFailure,
    utcnow,
)
from skillsup.services import (
    certificates,
    class_closing,
    enrolment_requests,
    webhook_events,
    webhook_urls,
    webhooks,
)
from skillsup.services.errors import NotFound, PermissionDenied, ValidationFailed
from skillsup.services.webhooks import WebhookRefused

from .queries import recorded_statements

ENROLMENT = "enrolment.status_changed"
ISSUED = "certificate.issued"
REVOKED = "certificate.revoked"
ALL_EVENTS = [ENROLMENT, ISSUED, REVOKED]


def _register(actor: Any, url: str, events: list[str] | None = None, **kw: Any) -> WebhookEndpoint:
    endpoint = webhooks.register(actor, url, kw.get("description", ""), events or ALL_EVENTS)
    db.session.commit()
    return endpoint


def _deliveries(endpoint: WebhookEndpoint | None = None) -> list[WebhookDelivery]:
    db.session.expire_all()
    statement = select(WebhookDelivery).order_by(WebhookDelivery.id)
    if endpoint is not None:
        statement = statement.where(WebhookDelivery.endpoint_id == endpoint.id)
    found = list(db.session.scalars(statement))
    db.session.commit()
    return found


def _payloads(endpoint: WebhookEndpoint, event: str | None = None) -> list[dict[str, Any]]:
    return [
        json.loads(d.body) for d in _deliveries(endpoint) if event is None or d.event_type == event
    ]


@pytest.fixture
def other_company(make):
    return make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])


@pytest.fixture
def other_hr(make, other_company):
    return make.user(role="hr", company=other_company, email="hr@kowloon-data.test")


@pytest.fixture
def endpoints(app, hr_officer, other_hr, make, company):
    """The learner's company: one endpoint for everything, one for certificates only, one
    disabled. Another company: one for everything."""
    everything = _register(hr_officer, "https://hr.harbour-it.example/all")
    certificates_only = _register(hr_officer, "https://hr.harbour-it.example/certs", [ISSUED])
    disabled = _register(hr_officer, "https://hr.harbour-it.example/old")
    webhooks.disable(hr_officer, disabled)
    other = _register(other_hr, "https://hr.kowloon-data.example/all")
    db.session.commit()
    return {
        "everything": everything,
        "certificates": certificates_only,
        "disabled": disabled,
        "other": other,
    }


# Written with the change -------------------------------------------------------------------


def test_enrolling_through_the_web_writes_one_event_per_subscribed_active_endpoint(
    app, client, login_as, make, learner, endpoints
):
    course_class = make.course_class(sessions=1)
    login_as(learner)
    assert client.post(f"/classes/{course_class.code}/enrol").status_code == 302

    [event] = _payloads(endpoints["everything"])
    assert _deliveries(endpoints["certificates"]) == []
    assert _deliveries(endpoints["disabled"]) == []
    assert _deliveries(endpoints["other"]) == []
    enrolment = db.session.scalar(select(Enrolment))
    assert event["type"] == ENROLMENT
    data = event["data"]
    assert data["id"] == enrolment.id
    assert (data["status"], data["from_status"]) == ("confirmed", None)
    assert data["class"] == {"id": course_class.id, "code": course_class.code}
    course = course_class.course
    assert data["course"] == {
        "code": course.code,
        "title_en": course.title_en,
        "title_zh": course.title_zh,
    }
    assert data["employee"] == {
        "id": learner.id,
        "email": learner.email,
        "staff_number": learner.staff_number,
        "name": learner.name,
    }
    assert data["reasons"] == []
    assert data["changed_at"].endswith("+00:00")
    assert event["created_at"] == data["changed_at"]
    delivery = _deliveries(endpoints["everything"])[0]
    assert event["id"] == delivery.event_id and len(delivery.event_id) == 32
    assert delivery.status == WebhookDeliveryStatus.PENDING
    assert delivery.next_attempt_at <= utcnow()


def test_a_request_for_approval_its_approval_and_a_withdrawal_each_write_an_event(
    app, client, login_as, make, hr_officer, endpoints, company
):
    company.requires_approval = True
    db.session.commit()
    learner = make.user(company=company, email="bo.lee@harbour-it.test")
    course_class = make.course_class(sessions=1)
    login_as(learner)
    client.post(f"/classes/{course_class.code}/enrol")
    enrolment = db.session.scalar(select(Enrolment))
    client.post("/logout")
    login_as(hr_officer)
    response = client.post(
        "/hr/approvals", data={"enrolment_ids": [enrolment.id], "decision": "approve"}
    )
    assert response.status_code in (200, 302)
    client.post("/logout")
    login_as(learner)
    client.post(f"/my-learning/enrolments/{enrolment.id}/withdraw")

    changes = [
        (p["data"]["from_status"], p["data"]["status"]) for p in _payloads(endpoints["everything"])
    ]
    assert changes == [(None, "pending"), ("pending", "confirmed"), ("confirmed", "withdrawn")]
    # Each event its own id.
    assert len({p["id"] for p in _payloads(endpoints["everything"])}) == 3
    assert _deliveries(endpoints["other"]) == []


def test_a_rolled_back_change_writes_no_event(app, make, learner, endpoints):
    course_class = make.course_class(sessions=1)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    assert db.session.scalar(select(func.count()).select_from(WebhookDelivery)) == 1
    db.session.rollback()
    assert _deliveries() == []
    # A rolled-back savepoint takes its events with it, and keeps the others.
    enrolment_requests.request_enrolment(learner, learner, course_class)
    savepoint = db.session.begin_nested()
    webhook_events.write_delivery(
        endpoints["everything"].id, webhook_events.WebhookEvent.PING, {}, utcnow()
    )
    savepoint.rollback()
    db.session.commit()
    assert [d.event_type for d in _deliveries()] == [ENROLMENT]


def test_a_refused_request_writes_no_event(app, client, login_as, make, learner, endpoints):
    course_class = make.course_class(sessions=1, status=ClassStatus.DRAFT)
    login_as(learner)
    client.post(f"/classes/{course_class.code}/enrol")
    assert _deliveries() == []


def _finished_class(make, trainer, learners, *, minimum_met: bool = True):
    start = (utcnow() - timedelta(days=27)).replace(microsecond=0)
    course_class = make.course_class(
        trainers=[trainer],
        sessions=2,
        first_session=start,
        status=ClassStatus.RUNNING,
        capacity=max(20, len(learners)),
    )
    for n, person in enumerate(learners):
        enrolment = make.enrolment(course_class, person)
        present = minimum_met or n % 2 == 0
        for session in course_class.sessions:
            db.session.add(
                Attendance(
                    enrolment_id=enrolment.id,
                    session_id=session.id,
                    status=AttendanceStatus.PRESENT if present else AttendanceStatus.ABSENT,
                )
            )
    db.session.commit()
    return course_class


def test_closing_a_class_writes_its_outcomes_and_certificates_for_each_company(
    app, client, login_as, make, trainer, company, other_company, endpoints
):
    ours = [make.user(company=company) for _ in range(3)]
    theirs = [make.user(company=other_company) for _ in range(2)]
    course_class = _finished_class(make, trainer, ours + theirs, minimum_met=False)
    login_as(trainer)
    response = client.post(f"/trainer/classes/{course_class.code}/close")
    assert response.status_code == 302

    ours_events = _payloads(endpoints["everything"])
    outcomes = sorted(
        (p["data"]["employee"]["id"], p["data"]["status"])
        for p in ours_events
        if p["type"] == ENROLMENT
    )
    assert outcomes == sorted(
        (person.id, "completed" if n % 2 == 0 else "not_completed") for n, person in enumerate(ours)
    )
    not_completed = next(
        p for p in ours_events if p["type"] == ENROLMENT and p["data"]["status"] == "not_completed"
    )
    assert not_completed["data"]["from_status"] == "confirmed"
    assert "attendance_below_minimum" in not_completed["data"]["reasons"]
    issued = [p for p in ours_events if p["type"] == ISSUED]
    assert sorted(p["data"]["employee"]["id"] for p in issued) == [ours[0].id, ours[2].id]
    certificate = issued[0]["data"]
    assert certificate["serial_number"].startswith("SU-")
    assert certificate["class"]["code"] == course_class.code
    assert certificate["revoked_at"] is None
    assert "verification_code" not in json.dumps(issued)
    # The endpoint for certificates only got the certificates.
    assert {p["type"] for p in _payloads(endpoints["certificates"])} == {ISSUED}
    assert len(_payloads(endpoints["certificates"])) == 2
    # The other company's endpoint got its own staff's events, and theirs only.
    theirs_events = _payloads(endpoints["other"])
    assert {p["data"]["employee"]["id"] for p in theirs_events} == {p.id for p in theirs}
    assert _deliveries(endpoints["disabled"]) == []


def test_a_class_of_many_learners_reads_each_companys_endpoints_once(
    app, make, trainer, company, other_company, endpoints
):
    learners = [make.user(company=company) for _ in range(12)] + [
        make.user(company=other_company) for _ in range(12)
    ]
    course_class = _finished_class(make, trainer, learners)
    with app.test_request_context("/"), recorded_statements() as statements:
        class_closing.close_class(trainer, course_class)
    db.session.commit()
    reads = [s for s in statements if "FROM webhook_endpoints" in s]
    assert len(reads) == 2  # one per company, whatever the number of learners
    assert len(_deliveries(endpoints["everything"])) == 24  # 12 outcomes, 12 certificates


def test_a_company_without_endpoints_pays_one_query_per_transaction(app, make, learner):
    course_class = make.course_class(sessions=1, capacity=5)
    with recorded_statements() as statements:
        enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.rollback()
    reads = [s for s in statements if "webhook" in s]
    assert len(reads) == 1 and "FROM webhook_endpoints" in reads[0]


def test_revoking_a_certificate_writes_an_event(app, make, trainer, admin, company, endpoints):
    person = make.user(company=company)
    course_class = _finished_class(make, trainer, [person])
    with app.test_request_context("/"):
        result = class_closing.close_class(trainer, course_class)
        db.session.commit()
        [certificate] = result.certificates
        certificates.revoke(admin, certificate, "Issued in error")
        db.session.commit()
    [revoked] = _payloads(endpoints["everything"], REVOKED)
    assert revoked["data"]["id"] == certificate.id
    assert revoked["data"]["revoked_at"] is not None
    assert revoked["data"]["employee"]["email"] == person.email


def test_an_enrolment_goes_to_the_company_it_was_made_under(
    app, make, learner, endpoints, other_company
):
    """A learner who moved to another company since: the change of an enrolment made under
    the old company is the old company's event, not the new one's."""
    course_class = make.course_class(sessions=1)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    learner.company = other_company
    db.session.commit()
    enrolment = db.session.scalar(select(Enrolment))
    enrolment_requests.withdraw(learner, enrolment)
    db.session.commit()
    statuses = [p["data"]["status"] for p in _payloads(endpoints["everything"])]
    assert statuses == ["confirmed", "withdrawn"]
    assert _deliveries(endpoints["other"]) == []


# Registering and changing endpoints ----------------------------------------------------------


def test_registering_makes_a_secret_kept_out_of_the_audit_log(app, hr_officer):
    endpoint = _register(hr_officer, "HTTPS://HR.Harbour-IT.example/Hooks?x=1", [ISSUED, ENROLMENT])
    assert endpoint.url == "https://hr.harbour-it.example/Hooks?x=1"
    assert endpoint.secret.startswith("whsec_") and len(endpoint.secret) > 40
    assert endpoint.event_types == [ENROLMENT, ISSUED]  # in the list's order
    assert endpoint.is_active and endpoint.company_id == hr_officer.company_id
    webhooks.rotate_secret(hr_officer, endpoint)
    db.session.commit()
    entries = list(db.session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    assert [e.action for e in entries] == ["webhook.registered", "webhook.secret_rotated"]
    assert all(e.company_id == hr_officer.company_id for e in entries)
    assert all(e.object_type == "webhook_endpoints" for e in entries)
    text = json.dumps([(e.summary, e.details) for e in entries])
    assert endpoint.secret not in text and (endpoint.previous_secret or "x") not in text
    assert "whsec_" not in text


def test_only_hr_officers_manage_endpoints_and_only_their_own(
    app, hr_officer, other_hr, learner, trainer, admin
):
    endpoint = _register(hr_officer, "https://hr.harbour-it.example/all")
    for someone in (learner, trainer, admin):
        with pytest.raises(PermissionDenied):
            webhooks.register(someone, "https://x.example/a", "", ALL_EVENTS)
        with pytest.raises(PermissionDenied):
            webhooks.endpoints(someone)
    with pytest.raises(NotFound):
        webhooks.find_endpoint(other_hr, endpoint.id)
    for change in (
        lambda: webhooks.disable(other_hr, endpoint),
        lambda: webhooks.rotate_secret(other_hr, endpoint),
        lambda: webhooks.send_test(other_hr, endpoint),
        lambda: webhooks.update_endpoint(other_hr, endpoint, endpoint.url, "", ALL_EVENTS),
    ):
        with pytest.raises(NotFound):
            change()
    assert webhooks.endpoints(other_hr) == []


def test_the_same_address_twice_and_too_many_endpoints_are_refused(app, hr_officer, other_hr):
    _register(hr_officer, "https://hr.harbour-it.example/all")
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register(hr_officer, "https://hr.harbour-it.example/all", "", ALL_EVENTS)
    assert refused.value.field == "url"
    # Another company may use the same address.
    _register(other_hr, "https://hr.harbour-it.example/all")
    for n in range(2, webhooks.MAX_ENDPOINTS + 1):
        _register(hr_officer, f"https://hr.harbour-it.example/{n}")
    with pytest.raises(WebhookRefused):
        webhooks.register(hr_officer, "https://hr.harbour-it.example/more", "", ALL_EVENTS)


def test_events_and_description_are_checked(app, hr_officer):
    for events in ([], ["enrolment.deleted"], ["ping"]):
        with pytest.raises(ValidationFailed) as refused:
            webhooks.register(hr_officer, "https://hr.example.com/a", "", events)
        assert refused.value.field == "events"
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register(hr_officer, "https://hr.example.com/a", "x" * 201, ALL_EVENTS)
    assert refused.value.field == "description"
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


def test_changing_an_endpoint_takes_effect_for_the_next_events(app, make, hr_officer, learner):
    endpoint = _register(hr_officer, "https://hr.harbour-it.example/all", [ISSUED])
    course_class = make.course_class(sessions=1, capacity=3)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert _deliveries() == []
    changed = webhooks.update_endpoint(
        hr_officer, endpoint, "https://hr.harbour-it.example/v2", "Workday", [ENROLMENT]
    )
    assert changed == ["url", "description", "events"]
    # In the same transaction, the next change already sees the new subscription.
    other = make.user(company=learner.company)
    enrolment_requests.request_enrolment(other, other, course_class)
    db.session.commit()
    assert [d.event_type for d in _deliveries()] == [ENROLMENT]
    assert (
        webhooks.update_endpoint(
            hr_officer, endpoint, "https://hr.harbour-it.example/v2", "Workday", [ENROLMENT]
        )
        == []
    )
    db.session.commit()
    actions = db.session.scalars(select(AuditEntry.action).order_by(AuditEntry.id)).all()
    assert actions.count("webhook.updated") == 1


def test_disabling_fails_the_waiting_events_and_stops_new_ones(app, make, hr_officer, learner):
    endpoint = _register(hr_officer, "https://hr.harbour-it.example/all")
    course_class = make.course_class(sessions=1, capacity=3)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    assert webhooks.waiting_deliveries(endpoint) == 1
    assert webhooks.disable(hr_officer, endpoint) == 1
    db.session.commit()
    [delivery] = _deliveries()
    assert delivery.status == WebhookDeliveryStatus.FAILED
    assert delivery.last_error == WebhookFailure.ENDPOINT_DISABLED
    with pytest.raises(WebhookRefused):
        webhooks.disable(hr_officer, endpoint)
    with pytest.raises(WebhookRefused):
        webhooks.send_test(hr_officer, endpoint)
    with pytest.raises(WebhookRefused):
        webhooks.redeliver(hr_officer, delivery)
    other = make.user(company=learner.company)
    enrolment_requests.request_enrolment(other, other, course_class)
    db.session.commit()
    assert len(_deliveries()) == 1
    webhooks.enable(hr_officer, endpoint)
    db.session.commit()
    with pytest.raises(WebhookRefused):
        webhooks.enable(hr_officer, endpoint)
    third = make.user(company=learner.company)
    enrolment_requests.request_enrolment(third, third, course_class)
    db.session.commit()
    assert len(_deliveries()) == 2


def test_a_delivery_being_sent_is_not_made_due_again(app, hr_officer):
    endpoint = _register(hr_officer, "https://hr.harbour-it.example/all")
    delivery = webhooks.send_test(hr_officer, endpoint)
    delivery.status = WebhookDeliveryStatus.SENDING
    db.session.commit()
    with pytest.raises(WebhookRefused):
        webhooks.redeliver(hr_officer, delivery)
    db.session.rollback()
    delivery = db.session.get(WebhookDelivery, delivery.id)
    delivery.status = WebhookDeliveryStatus.FAILED
    delivery.next_attempt_at = utcnow() + timedelta(days=1)
    db.session.commit()
    webhooks.redeliver(hr_officer, delivery)
    db.session.commit()
    [again] = _deliveries()
    assert again.status == WebhookDeliveryStatus.PENDING
    assert again.next_attempt_at <= utcnow()
    assert again.event_id == delivery.event_id


# Addresses -----------------------------------------------------------------------------------


@pytest.fixture
def strict(app, monkeypatch):
    """Production's rules: https only, public addresses only; names resolve as the test says."""
    app.config["WEBHOOKS_ALLOW_INSECURE"] = False
    addresses = {"hr.example.com": ["93.184.216.34", "2606:2800:220:1::1"]}
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: addresses.get(host, []))
    return addresses


REFUSED = [
    ("http://hr.example.com/hook", "https://"),
    ("ftp://hr.example.com/hook", "https://"),
    ("javascript:alert(1)", "https://"),
    ("https://user:secret@hr.example.com/hook", "user name and password"),
    ("https://hr.example.com@evil.example/hook", "user name and password"),
    ("https://hr.example.com/hook#part", "after #"),
    ("https://hr.example.com/" + "a" * 2000, "under 2000 characters"),
    ("https://127.0.0.1/hook", "not an IP address"),
    ("https://10.0.0.8/hook", "not an IP address"),
    ("https://[::1]/hook", "not an IP address"),
    ("https://169.254.169.254/latest/meta-data/", "not an IP address"),
    ("https://localhost/hook", "local network"),
    ("https://intranet/hook", "local network"),
    ("https://payroll.internal/hook", "local network"),
    ("https://printer.local/hook", "local network"),
    ("https://hr.example.com:22/hook", "port 443"),
    ("https://hr.example.com:99999/hook", "such as https://"),
    ("https://hr.example.com/a b", "no spaces"),
    ("https://hr.example.com/\x00", "no spaces"),
    ("https://hr.exämple.com/hook", "xn--"),
    ("https:///hook", "such as https://"),
    ("", "Enter the address"),
]


@pytest.mark.parametrize(("url", "says"), REFUSED)
def test_addresses_a_webhook_may_not_reach_are_refused(app, strict, hr_officer, url, says):
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register(hr_officer, url, "", ALL_EVENTS)
    assert refused.value.field == "url"
    assert says in str(refused.value.message)
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(WebhookEndpoint)) == 0


@pytest.mark.parametrize(
    "address",
    [
        "10.1.2.3",
        "192.168.0.10",
        "127.0.0.1",
        "169.254.169.254",
        "::1",
        "fd00::1",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 (an address refused, not bound)
        "::ffff:10.0.0.1",
        "224.0.0.1",
    ],
)
def test_a_name_leading_to_a_private_address_is_refused(app, strict, hr_officer, address):
    strict["rebind.example.com"] = ["93.184.216.34", address]
    with pytest.raises(ValidationFailed) as refused:
        webhooks.register(hr_officer, "https://rebind.example.com/hook", "", ALL_EVENTS)
    assert "private or local network" in str(refused.value.message)


def test_public_names_and_names_not_resolving_yet_are_accepted(app, strict, hr_officer):
    assert _register(hr_officer, "https://hr.example.com/hook").url == "https://hr.example.com/hook"
    assert _register(hr_officer, "https://hr.example.com:8443/hook").url.endswith(":8443/hook")
    # Not resolving now: accepted, and checked again at every delivery.
    assert _register(hr_officer, "https://hr.not-yet.example/hook")


def test_in_tests_a_local_http_receiver_is_allowed(app, hr_officer):
    assert app.config["WEBHOOKS_ALLOW_INSECURE"] is True
    assert _register(hr_officer, "http://127.0.0.1:8080/hook").url == "http://127.0.0.1:8080/hook"


def test_production_refuses_to_start_with_insecure_webhooks():
    from skillsup import create_app
    from skillsup.config import ConfigurationError

    with pytest.raises(ConfigurationError, match="WEBHOOKS_ALLOW_INSECURE"):
        create_app(
            {
                "SKILLSUP_ENV": "production",
                "SECRET_KEY": "a-long-enough-production-secret-key-for-the-test",
                "SQLALCHEMY_DATABASE_URI": "sqlite://",
                "WEBHOOKS_ALLOW_INSECURE": True,
            }
        )
