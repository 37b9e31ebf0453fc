"""The HR officer's webhook pages, through HTTP: registering an endpoint (its secret shown
once), its page with the deliveries and their answers, sending a test event and an event again,
changing, disabling, enabling and rotating; refused addresses as form errors; another
company's endpoint not found; other roles turned away; the pages in Chinese."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    WebhookAttempt,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    utcnow,
)
from skillsup.services import enrolment_requests, webhook_urls, webhooks

from .queries import page_queries
from .webhook_receiver import Receiver, receiver

ALL_EVENTS = [event.value for event in webhooks.SUBSCRIBABLE_EVENTS]


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"WEBHOOKS_TIMEOUT": 2}


@pytest.fixture
def other_hr(make):
    company = make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])
    return make.user(role="hr", company=company, email="hr@kowloon-data.test")


def _endpoint(actor: Any, url: str, description: str = "Payroll") -> WebhookEndpoint:
    endpoint = webhooks.register(actor, url, description, ALL_EVENTS)
    db.session.commit()
    return endpoint


def _count(model: Any) -> int:
    count = db.session.scalar(select(func.count()).select_from(model))
    db.session.commit()
    return int(count or 0)


def _text(response: Any) -> str:
    return response.get_data(as_text=True)


# Registering -------------------------------------------------------------------------------


def test_registering_shows_the_secret_once_and_lists_the_endpoint(
    client, login_as, hr_officer, hook
):
    login_as(hr_officer)
    form = client.get("/hr/webhooks/new")
    assert form.status_code == 200
    page = _text(form)
    # Every event is offered, and ticked to begin with.
    assert page.count('type="checkbox"') == 3 and page.count("checked") == 3
    response = client.post(
        "/hr/webhooks/new",
        data={"url": hook.url(), "description": "Workday", "events": ALL_EVENTS[:2]},
    )
    assert response.status_code == 302
    endpoint = db.session.scalar(select(WebhookEndpoint))
    assert response.headers["Location"].endswith(f"/hr/webhooks/{endpoint.id}")
    assert endpoint.event_types == ALL_EVENTS[:2]

    shown = client.get(f"/hr/webhooks/{endpoint.id}")
    body = _text(shown)
    assert endpoint.secret in body
    assert "Copy it into your HR system now" in body
    assert shown.headers["Cache-Control"] == "no-store"
    # Once: not on the next visit.
    assert endpoint.secret not in _text(client.get(f"/hr/webhooks/{endpoint.id}"))

    listed = _text(client.get("/hr/webhooks"))
    assert hook.url() in listed and "Workday" in listed
    assert "None yet" in listed
    assert endpoint.secret not in listed


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"url": "http://hr.example.com/hook"}, "url", "must begin with https://"),
        ({"url": "https://10.0.0.1/hook"}, "url", "not an IP address"),
        ({"url": "https://user:pw@hr.example.com/hook"}, "url", "user name and password"),
        ({"url": "https://hr.example.com/" + "a" * 2000}, "url", "under 2000 characters"),
        ({"url": "https://private.example.com/hook"}, "url", "private or local network"),
        ({"url": ""}, "url", "Enter the address of your endpoint."),
        ({"url": "https://hr.example.com/hook", "events": []}, "events", "at least one event"),
        ({"url": "https://hr.example.com/hook", "events": ["ping"]}, "events", "valid choice"),
        (
            {"url": "https://hr.example.com/hook", "description": "x" * 201},
            "description",
            "under 200 characters",
        ),
    ],
)
def test_refused_input_is_a_form_error_and_saves_nothing(
    app, client, login_as, hr_officer, monkeypatch, data, field, message
):
    app.config["WEBHOOKS_ALLOW_INSECURE"] = False
    resolved = {"hr.example.com": ["93.184.216.34"], "private.example.com": ["192.168.1.20"]}
    monkeypatch.setattr(webhook_urls, "resolve", lambda host, port: resolved.get(host, []))
    login_as(hr_officer)
    posted = {"events": ALL_EVENTS, **data}
    response = client.post("/hr/webhooks/new", data=posted)
    assert response.status_code == 400
    body = _text(response)
    assert 'class="form-errors error-summary"' in body
    assert re.search(rf'id="{field}-error"[^>]*>[^<]*{re.escape(message)}', body), body
    assert _count(WebhookEndpoint) == 0
    assert _count(AuditEntry) == 0 or not db.session.scalar(
        select(AuditEntry).where(AuditEntry.action.like("webhook.%"))
    )


def test_a_nul_byte_in_the_address_is_refused_before_anything_is_saved(
    client, login_as, hr_officer
):
    login_as(hr_officer)
    response = client.post(
        "/hr/webhooks/new", data={"url": "https://hr.example.com/\x00", "events": ALL_EVENTS}
    )
    assert response.status_code == 400
    assert "control character" in _text(response)
    assert _count(WebhookEndpoint) == 0


# An endpoint's page ------------------------------------------------------------------------


def test_the_endpoint_page_shows_deliveries_with_their_answers(
    app, client, login_as, hr_officer, make, learner, hook
):
    endpoint = _endpoint(hr_officer, hook.url())
    course_class = make.course_class(sessions=1)
    enrolment_requests.request_enrolment(learner, learner, course_class)
    db.session.commit()
    hook.answer(500, body=b"<h1>Upstream broke</h1>")
    from skillsup.services import webhook_delivery

    webhook_delivery.deliver_due()
    login_as(hr_officer)
    body = _text(client.get(f"/hr/webhooks/{endpoint.id}"))
    assert "Enrolment status changed" in body
    assert f"{learner.name} · {course_class.code} · New → Confirmed" in body
    assert "Waiting to be sent" in body  # a retry is scheduled
    assert "HTTP 500" in body
    # The answer's excerpt, escaped.
    assert "&lt;h1&gt;Upstream broke&lt;/h1&gt;" in body
    assert "<h1>Upstream broke" not in body
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.event_id in body
    assert "Send now" in body and "Resend" not in body and "Send a test event" in body
    listed = _text(client.get("/hr/webhooks"))
    assert "HTTP 500" in listed and "1 event waiting" in listed


def test_the_page_runs_the_same_queries_whatever_the_number_of_deliveries(
    app, client, login_as, hr_officer
):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    for _ in range(2):
        webhooks.send_test(hr_officer, endpoint)
    db.session.commit()
    login_as(hr_officer)
    client.get(f"/hr/webhooks/{endpoint.id}")
    _, few = page_queries(client, f"/hr/webhooks/{endpoint.id}")
    for _ in range(15):
        delivery = webhooks.send_test(hr_officer, endpoint)
        db.session.add(WebhookAttempt(delivery_id=delivery.id, status_code=500))
    db.session.commit()
    _, many = page_queries(client, f"/hr/webhooks/{endpoint.id}")
    assert len(many) == len(few)
    _, listed = page_queries(client, "/hr/webhooks")
    assert len(listed) <= len(few) + 2


def test_the_deliveries_are_paginated_newest_first(app, client, login_as, hr_officer):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    ids = [webhooks.send_test(hr_officer, endpoint).event_id for _ in range(23)]
    db.session.commit()
    login_as(hr_officer)
    first = _text(client.get(f"/hr/webhooks/{endpoint.id}"))
    assert ids[-1] in first and ids[2] not in first
    second = _text(client.get(f"/hr/webhooks/{endpoint.id}?page=2"))
    assert ids[0] in second and ids[-1] not in second
    assert client.get(f"/hr/webhooks/{endpoint.id}?page=abc").status_code == 200


def test_a_test_event_is_sent_at_once_and_its_answer_said(app, client, login_as, hr_officer, hook):
    endpoint = _endpoint(hr_officer, hook.url())
    login_as(hr_officer)
    response = client.post(f"/hr/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "Delivered: your endpoint answered" in _text(response)
    [got] = hook.received
    assert got.headers["SkillsUp-Event-Type"] == "ping"
    hook.answer(503)
    response = client.post(f"/hr/webhooks/{endpoint.id}/test", follow_redirects=True)
    assert "Not delivered (HTTP 503)." in _text(response)
    assert [
        d.status for d in db.session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.id))
    ] == [
        WebhookDeliveryStatus.DELIVERED,
        WebhookDeliveryStatus.FAILED,
    ]


def test_an_event_is_sent_again_with_the_same_id(app, client, login_as, hr_officer, hook):
    endpoint = _endpoint(hr_officer, hook.url())
    delivery = webhooks.send_test(hr_officer, endpoint)
    delivery.status = WebhookDeliveryStatus.FAILED
    delivery.attempts = 1
    db.session.commit()
    login_as(hr_officer)
    response = client.post(
        f"/hr/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver",
        data={"next": f"/hr/webhooks/{endpoint.id}?page=1"},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/hr/webhooks/{endpoint.id}?page=1")
    [got] = hook.received
    assert got.headers["SkillsUp-Event-Id"] == delivery.event_id
    assert got.headers["SkillsUp-Delivery-Attempt"] == "2"
    db.session.expire_all()
    assert db.session.get(WebhookDelivery, delivery.id).status == WebhookDeliveryStatus.DELIVERED
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "webhook.redelivered"))
    # A redirect elsewhere is not followed.
    response = client.post(
        f"/hr/webhooks/{endpoint.id}/deliveries/{delivery.id}/redeliver",
        data={"next": "https://evil.example/"},
    )
    assert response.headers["Location"].endswith(f"/hr/webhooks/{endpoint.id}")


def test_changing_an_endpoint(app, client, login_as, hr_officer):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    login_as(hr_officer)
    form = _text(client.get(f"/hr/webhooks/{endpoint.id}/edit"))
    assert 'value="https://hr.example.com/hook"' in form
    response = client.post(
        f"/hr/webhooks/{endpoint.id}/edit",
        data={"url": "https://hr.example.com/v2", "description": "", "events": ALL_EVENTS[2:]},
        follow_redirects=True,
    )
    assert "The endpoint is saved." in _text(response)
    db.session.expire_all()
    changed = db.session.get(WebhookEndpoint, endpoint.id)
    assert (changed.url, changed.description, changed.event_types) == (
        "https://hr.example.com/v2",
        "",
        ALL_EVENTS[2:],
    )
    response = client.post(
        f"/hr/webhooks/{endpoint.id}/edit",
        data={"url": "ftp://hr.example.com/", "events": ALL_EVENTS},
    )
    assert response.status_code == 400
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).url == "https://hr.example.com/v2"


def test_disabling_asks_first_then_enabling_again(app, client, login_as, hr_officer):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    login_as(hr_officer)
    page = _text(client.get(f"/hr/webhooks/{endpoint.id}/disable"))
    assert "No more events are written for https://hr.example.com/hook" in page
    response = client.post(f"/hr/webhooks/{endpoint.id}/disable", follow_redirects=True)
    assert "The endpoint is disabled" in _text(response)
    db.session.expire_all()
    assert not db.session.get(WebhookEndpoint, endpoint.id).is_active
    body = _text(client.get(f"/hr/webhooks/{endpoint.id}"))
    assert "Send a test event" not in body and "Enable" in body
    # Disabling again: the page says it is disabled already.
    assert "disabled already" in _text(client.get(f"/hr/webhooks/{endpoint.id}/disable"))
    response = client.post(f"/hr/webhooks/{endpoint.id}/enable", follow_redirects=True)
    assert "The endpoint is enabled" in _text(response)
    db.session.expire_all()
    assert db.session.get(WebhookEndpoint, endpoint.id).is_active


def test_rotating_asks_first_and_shows_the_new_secret_once(app, client, login_as, hr_officer):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    old = endpoint.secret
    login_as(hr_officer)
    page = _text(client.get(f"/hr/webhooks/{endpoint.id}/rotate"))
    assert "For 24 hours, every event is signed with the new secret and the current one" in page
    response = client.post(f"/hr/webhooks/{endpoint.id}/rotate")
    assert response.status_code == 302
    db.session.expire_all()
    rotated = db.session.get(WebhookEndpoint, endpoint.id)
    assert rotated.secret != old and rotated.previous_secret == old
    body = _text(client.get(f"/hr/webhooks/{endpoint.id}"))
    assert rotated.secret in body and old not in body
    assert "events are signed with the new secret and the previous one" in body
    assert rotated.secret not in _text(client.get(f"/hr/webhooks/{endpoint.id}"))
    # A second rotation within the day says that the oldest secret stops at once.
    assert "stops at once" in _text(client.get(f"/hr/webhooks/{endpoint.id}/rotate"))


def test_a_stale_form_is_refused(app, client, login_as, hr_officer):
    endpoint = _endpoint(hr_officer, "https://hr.example.com/hook")
    login_as(hr_officer)
    app.config["WTF_CSRF_ENABLED"] = True
    for path in ("test", "enable", "rotate", "disable"):
        assert client.post(f"/hr/webhooks/{endpoint.id}/{path}").status_code == 400
    assert client.post("/hr/webhooks/new", data={"url": "https://a.example/"}).status_code == 400
    assert _count(WebhookDelivery) == 0
    assert _count(WebhookEndpoint) == 1


# Who sees what -----------------------------------------------------------------------------


def test_another_companys_endpoint_is_not_found(app, client, login_as, hr_officer, other_hr):
    theirs = _endpoint(other_hr, "https://hr.kowloon-data.example/hook")
    delivery = webhooks.send_test(other_hr, theirs)
    db.session.commit()
    login_as(hr_officer)
    for path in ("", "/edit", "/disable", "/rotate"):
        assert client.get(f"/hr/webhooks/{theirs.id}{path}").status_code == 404
    for path in ("/edit", "/disable", "/enable", "/rotate", "/test"):
        assert client.post(f"/hr/webhooks/{theirs.id}{path}").status_code == 404
    assert (
        client.post(f"/hr/webhooks/{theirs.id}/deliveries/{delivery.id}/redeliver").status_code
        == 404
    )
    # Nor through one's own endpoint.
    mine = _endpoint(hr_officer, "https://hr.example.com/hook")
    assert (
        client.post(f"/hr/webhooks/{mine.id}/deliveries/{delivery.id}/redeliver").status_code == 404
    )
    assert "kowloon" not in _text(client.get("/hr/webhooks"))


def test_learners_trainers_and_admins_are_turned_away(client, login_as, learner, trainer, admin):
    for person in (learner, trainer, admin):
        login_as(person)
        assert client.get("/hr/webhooks").status_code == 403
        assert (
            client.post("/hr/webhooks/new", data={"url": "https://x.example/"}).status_code == 403
        )
        client.post("/logout")
    assert client.get("/hr/webhooks").status_code == 302  # anonymous: to the login page


def test_the_reports_page_links_to_the_webhooks_and_the_menu_marks_reports(
    client, login_as, hr_officer
):
    login_as(hr_officer)
    assert 'href="/hr/webhooks"' in _text(client.get("/hr/reports"))
    page = _text(client.get("/hr/webhooks"))
    assert re.search(r'<a href="/hr/reports" aria-current="page">', page)


def test_the_company_audit_log_shows_the_webhook_changes(
    app, client, login_as, hr_officer, other_hr
):
    _endpoint(hr_officer, "https://hr.example.com/hook")
    _endpoint(other_hr, "https://hr.kowloon-data.example/hook")
    login_as(hr_officer)
    body = _text(client.get("/hr/audit?action=webhook.registered"))
    assert "Registered a webhook endpoint" in body
    assert "https://hr.example.com/hook" in body
    assert "kowloon-data" not in body


# In Chinese ----------------------------------------------------------------------------------


def test_the_pages_read_in_chinese(app, client, login_as, hr_officer, hook):
    endpoint = _endpoint(hr_officer, hook.url())
    webhooks.send_test(hr_officer, endpoint)
    db.session.commit()
    login_as(hr_officer)
    client.post("/language", data={"lang": "zh_Hant_HK"})
    for path in (
        "/hr/webhooks",
        "/hr/webhooks/new",
        f"/hr/webhooks/{endpoint.id}",
        f"/hr/webhooks/{endpoint.id}/edit",
        f"/hr/webhooks/{endpoint.id}/disable",
        f"/hr/webhooks/{endpoint.id}/rotate",
    ):
        body = _text(client.get(path))
        assert '<html lang="zh-Hant-HK"' in body, path
        for english in (
            "Webhooks",
            "Endpoint address",
            "Deliveries",
            "Signing secret",
            "What will happen",
        ):
            assert f">{english}<" not in body, (path, english)


def test_delivering_right_after_the_commit_sees_the_change(app, client, login_as, hr_officer, hook):
    """The test event is committed before it is sent: a receiver that calls back at once
    finds it (and a later page shows its answer)."""
    endpoint = _endpoint(hr_officer, hook.url())
    login_as(hr_officer)
    client.post(f"/hr/webhooks/{endpoint.id}/test")
    delivery = db.session.scalar(select(WebhookDelivery))
    assert delivery.attempts == 1 and delivery.last_attempt_at is not None
    assert delivery.last_attempt_at <= utcnow() + timedelta(seconds=1)
