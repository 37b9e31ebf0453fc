"""Idempotency-Key under a crowd and over time: the same change sent at once, twice, by one
token makes one change; a key is its token's own; a kept answer lasts 24 hours.

(The single retry, a key reused for another request, a refused request keeping no answer, and
keys the document does not allow are in ``test_api_enrolments.py``.)
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import Enrolment, IdempotentAnswer, PartnerCompany, utcnow
from skillsup.services import api_tokens

URL = "/api/v1/enrolments"


@pytest.fixture
def scene(make: Any) -> dict[str, Any]:
    company = make.company(code="HBIT", domains=["harbour-it.test"])
    officer = make.user(role="hr", company=company)
    colleague = make.user(role="hr", company=company)
    employee = make.user(company=company, email="amy.chan@harbour-it.test")
    course_class = make.course_class(capacity=5, sessions=1)
    secrets = {
        name: api_tokens.create_token(person, name, ["enrolments:write", "read"]).secret
        for name, person in (("sync", officer), ("other", colleague))
    }
    db.session.commit()
    return {
        "body": {"class_code": course_class.code, "email": employee.email},
        "secrets": secrets,
    }


def _headers(secret: str, key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", "Idempotency-Key": key}


def _enrolments() -> int:
    return db.session.scalar(select(func.count(Enrolment.id))) or 0


@pytest.mark.slow
def test_the_same_change_sent_twice_at_once_is_made_once(app: Flask, scene: dict[str, Any]):
    barrier = threading.Barrier(2)
    answers: list[tuple[int, dict[str, Any], str | None]] = []
    lock = threading.Lock()

    def send() -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        # Each request in its own application context, as in a server.
        with app.app_context():
            response = client.post(
                URL, json=scene["body"], headers=_headers(scene["secrets"]["sync"], "crowd-1")
            )
        with lock:
            answers.append(
                (response.status_code, response.json, response.headers.get("Idempotent-Replayed"))
            )

    db.session.commit()
    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert _enrolments() == 1
    statuses = sorted(status for status, _body, _replayed in answers)
    # The second either waited for the first and got its answer again, or arrived while the
    # first was still being carried out and was told so: never a second enrolment, never 5xx.
    assert statuses in ([201, 201], [201, 409]), answers
    created = [body for status, body, replayed in answers if status == 201 and not replayed]
    assert len(created) == 1
    for status, body, replayed in answers:
        if status == 201 and replayed:
            assert body == created[0]
        if status == 409:
            assert body["code"] == "idempotency_key_in_use"


def test_a_key_is_its_tokens_own(client, scene):
    first = client.post(URL, json=scene["body"], headers=_headers(scene["secrets"]["sync"], "k-1"))
    assert first.status_code == 201
    # Another token's request with the same key is another request: the rules decide it.
    other = client.post(URL, json=scene["body"], headers=_headers(scene["secrets"]["other"], "k-1"))
    assert other.status_code == 409
    assert other.json["code"] == "already_enrolled"
    assert "Idempotent-Replayed" not in other.headers
    assert _enrolments() == 1


def test_a_kept_answer_lasts_a_day_and_then_the_key_is_fresh(client, scene):
    headers = _headers(scene["secrets"]["sync"], "nightly-2026-12-07")
    first = client.post(URL, json=scene["body"], headers=headers)
    assert first.status_code == 201
    with time_machine.travel(utcnow() + timedelta(hours=23), tick=False):
        replay = client.post(URL, json=scene["body"], headers=headers)
    assert replay.headers["Idempotent-Replayed"] == "true"
    assert replay.json == first.json
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        fresh = client.post(URL, json=scene["body"], headers=headers)
    # Past its day the key is forgotten: the request is decided afresh (already enrolled).
    assert fresh.status_code == 409
    assert "Idempotent-Replayed" not in fresh.headers
    assert db.session.scalar(select(func.count(IdempotentAnswer.id))) == 0


def test_a_tokens_answers_past_their_day_go_as_new_ones_come(client, scene, make):
    headers = _headers(scene["secrets"]["sync"], "first-night")
    assert client.post(URL, json=scene["body"], headers=headers).status_code == 201
    company = db.session.scalars(select(PartnerCompany).where(PartnerCompany.code == "HBIT")).one()
    colleague = make.user(company=company, email="ben.ho@harbour-it.test")
    body = {**scene["body"], "email": colleague.email}
    with time_machine.travel(utcnow() + timedelta(hours=25), tick=False):
        second = client.post(URL, json=body, headers=_headers(scene["secrets"]["sync"], "next"))
    assert second.status_code == 201
    kept = db.session.scalars(select(IdempotentAnswer.key)).all()
    assert kept == ["next"]
