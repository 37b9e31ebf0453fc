"""The enrolments resource of the API, through the test client with real tokens, on SQLite
and PostgreSQL: a company's HR system lists and syncs its enrolments, reads one with its
history, nominates, withdraws, approves and rejects, under the pages' own rules."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select, update

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    IdempotentAnswer,
    PartnerCompany,
    User,
    utcnow,
)
from skillsup.services import api_tokens
from skillsup.timeutil import today_hk

from ..factories import Factory
from ..queries import recorded_statements

URL = "/api/v1/enrolments"
ALL_SCOPES = ["read", "staff:write", "enrolments:write"]


@dataclass
class World:
    """Two companies (A approves its staff's requests, B does not), their HR officers and
    learners, an admin, a course with an open class, and a token for each caller."""

    company_a: PartnerCompany
    company_b: PartnerCompany
    hr_a: User
    hr_b: User
    admin: User
    amy: User
    carol: User
    ben: User
    open_class: CourseClass
    tokens: dict[str, str]

    def headers(self, caller: str = "hr_a", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[caller]}", **extra}


def _token(user: User, scopes: list[str] = ALL_SCOPES, name: str = "HR system") -> str:
    secret = api_tokens.create_token(user, name, scopes).secret
    db.session.commit()
    return secret


@pytest.fixture
def world(make: Factory) -> World:
    company_a = make.company(
        name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"], requires_approval=True
    )
    company_b = make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])
    hr_a = make.user(role="hr", company=company_a, email="hr@harbour-it.test", name="Hana Ho")
    hr_b = make.user(role="hr", company=company_b, email="hr@kowloon-data.test")
    admin = make.user(role="admin", email="admin@skillsup.test", name="Ada Admin")
    amy = make.user(
        company=company_a, email="amy.chan@harbour-it.test", name="Amy Chan", staff_number="A-001"
    )
    carol = make.user(
        company=company_a, email="carol.lee@harbour-it.test", name="Carol Lee", staff_number="A-002"
    )
    ben = make.user(company=company_b, email="ben.wong@kowloon-data.test", name="Ben Wong")
    course = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    open_class = make.course_class(course=course, code="SU-CLD-101-2026B", capacity=5, sessions=2)
    tokens = {
        "hr_a": _token(hr_a),
        "hr_a_read": _token(hr_a, ["read"], "reports"),
        "hr_b": _token(hr_b),
        "admin": _token(admin),
    }
    return World(company_a, company_b, hr_a, hr_b, admin, amy, carol, ben, open_class, tokens)


def _nominate(client: Any, world: World, caller: str = "hr_a", **body: Any) -> Any:
    body.setdefault("class_code", world.open_class.code)
    headers = body.pop("headers", None) or world.headers(caller)
    return client.post(URL, json=body, headers=headers)


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    return response.json


def _enrolment_count() -> int:
    return db.session.scalar(select(func.count(Enrolment.id))) or 0


# ---------------------------------------------------------------------------------------------
# Reading


def test_the_list_shows_the_companys_enrolments_with_their_details(client, make, world):
    mine = make.enrolment(world.open_class, world.amy, EnrolmentStatus.CONFIRMED)
    make.enrolment(world.open_class, world.ben, EnrolmentStatus.CONFIRMED)

    response = client.get(URL, headers=world.headers())

    assert response.status_code == 200
    assert response.headers["ETag"]
    [item] = response.json["items"]
    assert response.json["next_cursor"] is None
    assert item["id"] == mine.id
    assert item["status"] == "confirmed"
    assert item["source"] == "self"
    assert item["company"] == "HBIT"
    assert item["waitlist_position"] is None
    assert item["status_reasons"] == [] and item["status_reasons_text"] == ""
    assert item["employee"] == {
        "id": world.amy.id,
        "email": "amy.chan@harbour-it.test",
        "name": "Amy Chan",
        "staff_number": "A-001",
    }
    assert item["class"]["code"] == "SU-CLD-101-2026B"
    assert item["class"]["starts_on"] == world.open_class.starts_on.isoformat()
    assert item["course"] == {
        "code": "SU-CLD-101",
        "title_en": "Cloud Foundations",
        "title_zh": "雲端基礎",
    }
    assert datetime.fromisoformat(item["requested_at"]).tzinfo is not None
    assert datetime.fromisoformat(item["changed_at"]).tzinfo is not None


def test_an_institute_wide_token_lists_every_company_or_the_one_it_names(client, make, world):
    make.enrolment(world.open_class, world.amy)
    theirs = make.enrolment(world.open_class, world.ben)

    everyone = client.get(URL, headers=world.headers("admin")).json["items"]
    assert {item["company"] for item in everyone} == {"HBIT", "KLDT"}
    named = client.get(f"{URL}?company=kldt", headers=world.headers("admin")).json["items"]
    assert [item["id"] for item in named] == [theirs.id]
    _problem(client.get(f"{URL}?company=NOPE", headers=world.headers("admin")), 404)


def test_a_company_token_naming_another_company_gets_404(client, world):
    assert client.get(f"{URL}?company=HBIT", headers=world.headers()).status_code == 200
    _problem(client.get(f"{URL}?company=KLDT", headers=world.headers()), 404)


def test_the_staff_number_of_someone_who_has_left_is_not_shown(client, make, world):
    make.enrolment(world.open_class, world.amy)
    world.amy.company = world.company_b
    db.session.commit()

    [item] = client.get(URL, headers=world.headers()).json["items"]
    assert item["employee"]["name"] == "Amy Chan"
    assert item["employee"]["staff_number"] is None


def test_filters(client, make, world):
    later_course = make.course(code="SU-SEC-201")
    later = make.course_class(
        course=later_course,
        code="SU-SEC-201-2026A",
        sessions=1,
        first_session=utcnow() + timedelta(days=90),
    )
    confirmed = make.enrolment(world.open_class, world.amy, EnrolmentStatus.CONFIRMED)
    pending = make.enrolment(world.open_class, world.carol, EnrolmentStatus.PENDING)
    withdrawn = make.enrolment(later, world.amy, EnrolmentStatus.WITHDRAWN)

    def ids(query: str) -> list[int]:
        response = client.get(f"{URL}?{query}", headers=world.headers())
        assert response.status_code == 200, response.get_data(as_text=True)
        return [item["id"] for item in response.json["items"]]

    assert ids("status=confirmed") == [confirmed.id]
    assert ids("status=confirmed&status=withdrawn") == [confirmed.id, withdrawn.id]
    assert ids("class=su-sec-201-2026a") == [withdrawn.id]
    assert ids("course=SU-CLD-101") == [confirmed.id, pending.id]
    assert ids(f"employee_id={world.carol.id}") == [pending.id]
    assert ids(f"employee_id={world.ben.id}") == []
    assert ids(f"starts_from={later.starts_on.isoformat()}") == [withdrawn.id]
    assert ids(f"starts_until={world.open_class.starts_on.isoformat()}") == [
        confirmed.id,
        pending.id,
    ]
    assert ids("class=NO-SUCH-CLASS") == []


def test_changed_since_picks_up_a_withdrawal_made_after(client, make, world):
    kept = make.enrolment(world.open_class, world.amy, EnrolmentStatus.CONFIRMED)
    left = make.enrolment(world.open_class, world.carol, EnrolmentStatus.CONFIRMED)
    an_hour_ago = utcnow() - timedelta(hours=1)
    db.session.execute(update(Enrolment).values(updated_at=an_hour_ago))
    db.session.commit()
    since = (utcnow() - timedelta(minutes=1)).isoformat()

    before = client.get(URL, query_string={"changed_since": since}, headers=world.headers())
    assert before.json["items"] == []
    withdrawal = client.post(
        f"{URL}/{left.id}/withdraw", json={"reason": "Moved team"}, headers=world.headers()
    )
    assert withdrawal.status_code == 200, withdrawal.get_data(as_text=True)
    after = client.get(URL, query_string={"changed_since": since}, headers=world.headers())

    [item] = after.json["items"]
    assert item["id"] == left.id and item["status"] == "withdrawn"
    assert datetime.fromisoformat(item["changed_at"]) >= datetime.fromisoformat(since)
    # In another zone, the same moment.
    in_hong_kong = datetime.fromisoformat(since).astimezone(UTC) + timedelta(hours=8)
    hk_since = in_hong_kong.replace(tzinfo=None).isoformat() + "+08:00"
    again = client.get(URL, query_string={"changed_since": hk_since}, headers=world.headers())
    assert [i["id"] for i in again.json["items"]] == [left.id]
    assert kept.id not in [i["id"] for i in again.json["items"]]


def test_pagination_follows_the_cursor_across_pages(client, make, world):
    people = [make.user(company=world.company_a) for _ in range(5)]
    made = [make.enrolment(world.open_class, person).id for person in people]
    seen: list[int] = []
    query: dict[str, Any] = {"limit": 2, "status": "confirmed"}
    pages = 0
    while True:
        response = client.get(URL, query_string=query, headers=world.headers())
        assert response.status_code == 200
        page = response.json
        seen += [item["id"] for item in page["items"]]
        pages += 1
        if page["next_cursor"] is None:
            assert "Link" not in response.headers
            break
        assert 'rel="next"' in response.headers["Link"]
        query = {**query, "cursor": page["next_cursor"]}
    assert seen == made
    assert pages == 3
    # A cursor belongs to its filters.
    first = client.get(URL, query_string={"limit": 2}, headers=world.headers()).json
    other = client.get(
        URL,
        query_string={"limit": 2, "status": "pending", "cursor": first["next_cursor"]},
        headers=world.headers(),
    )
    assert _problem(other, 400)["code"] == "invalid_cursor"


def test_a_waitlisted_enrolment_says_its_place_in_line(client, make, world):
    full = make.course_class(capacity=1, sessions=1)
    make.enrolment(full, make.user(company=world.company_b))
    make.enrolment(full, make.user(company=world.company_b), EnrolmentStatus.WAITLISTED)
    second = make.enrolment(full, world.amy, EnrolmentStatus.WAITLISTED)

    [item] = client.get(URL, headers=world.headers()).json["items"]
    assert item["id"] == second.id and item["waitlist_position"] == 2
    detail = client.get(f"{URL}/{second.id}", headers=world.headers()).json
    assert detail["waitlist_position"] == 2


def test_the_list_runs_the_same_queries_however_many_enrolments(client, make, world):
    big = make.course_class(capacity=50, sessions=1)
    other = make.course_class(capacity=1, sessions=1)

    def count() -> int:
        with recorded_statements() as statements:
            response = client.get(URL, headers=world.headers())
        assert response.status_code == 200
        return len(statements)

    make.enrolment(big, world.amy)
    make.enrolment(other, world.carol, EnrolmentStatus.WAITLISTED)
    count()  # the token's first use of the minute also records when it was used
    few = count()
    for _ in range(10):
        person = make.user(company=world.company_a)
        make.enrolment(big, person)
        make.enrolment(other, person, EnrolmentStatus.WAITLISTED)
    assert count() == few


def test_one_enrolment_with_its_history_naming_who_made_each_change(client, make, world):
    # Carol asks; her request waits for A's approval; HR approves it through the API.
    from skillsup.services import enrolment_requests

    outcome = enrolment_requests.request_enrolment(world.carol, world.carol, world.open_class)
    db.session.commit()
    enrolment_id = outcome.enrolment.id
    approved = client.post(f"{URL}/{enrolment_id}/approve", headers=world.headers())
    assert approved.status_code == 200, approved.get_data(as_text=True)
    withdrawn = client.post(
        f"{URL}/{enrolment_id}/withdraw",
        json={"reason": "Project deadline"},
        headers=world.headers("admin"),
    )
    assert withdrawn.status_code == 200, withdrawn.get_data(as_text=True)

    detail = client.get(f"{URL}/{enrolment_id}", headers=world.headers()).json
    assert detail["status"] == "withdrawn"
    steps = [
        (step["from_status"], step["to_status"], step["by"]["kind"], step["by"]["name"])
        for step in detail["history"]
    ]
    assert steps == [
        (None, "pending", "learner", "Carol Lee"),
        ("pending", "confirmed", "hr", "Hana Ho"),
        ("confirmed", "withdrawn", "institute", "Ada Admin"),
    ]
    last = detail["history"][-1]
    assert last["reasons"] == [
        {"code": "free_text", "args": {"text": "Project deadline"}, "text": "Project deadline"}
    ]
    assert last["reasons_text"] == "Project deadline"
    assert detail["status_reasons_text"] == "Project deadline"
    assert "id" not in last["by"]


def test_a_change_the_portal_made_is_told_as_the_portals(client, make, world):
    enrolment = make.enrolment(world.open_class, world.amy, EnrolmentStatus.CONFIRMED)
    db.session.add(
        EnrolmentStatusChange(
            enrolment_id=enrolment.id,
            from_status=EnrolmentStatus.WAITLISTED,
            to_status=EnrolmentStatus.CONFIRMED,
            actor_id=None,
            reasons=[{"code": "promoted_from_waitlist", "args": {}}],
            changed_at=utcnow(),
        )
    )
    db.session.commit()

    [step] = client.get(f"{URL}/{enrolment.id}", headers=world.headers()).json["history"]
    assert step["by"] == {"kind": "portal", "name": None}
    assert step["reasons"][0]["code"] == "promoted_from_waitlist"
    assert step["reasons_text"] == "A seat became free: moved up from the waitlist."
    chinese = client.get(
        f"{URL}/{enrolment.id}", headers=world.headers(**{"Accept-Language": "zh-HK"})
    ).json
    assert chinese["history"][0]["reasons_text"] == "有學位空出：已由候補名單轉為確認。"


# ---------------------------------------------------------------------------------------------
# Nominations


def test_a_nomination_confirms_the_employee_and_answers_where_it_is(client, world, outbox):
    response = _nominate(client, world, email="Amy.Chan@harbour-it.test", note="Team plan")

    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.json
    assert body["status"] == "confirmed"
    assert body["source"] == "nominated"
    assert body["employee"]["id"] == world.amy.id
    assert response.headers["Location"] == f"{URL}/{body['id']}"
    assert client.get(response.headers["Location"], headers=world.headers()).json == body
    [step] = body["history"]
    assert step["to_status"] == "confirmed" and step["by"]["kind"] == "hr"
    assert step["reasons_text"] == "Team plan"
    enrolment = db.session.get(Enrolment, body["id"])
    assert enrolment.source == EnrolmentSource.NOMINATED
    assert db.session.get(CourseClass, world.open_class.id).seats_taken == 1
    assert [message.to for message in outbox] == ["amy.chan@harbour-it.test"]


def test_the_employee_is_named_by_id_or_staff_number(client, world):
    by_number = _nominate(client, world, staff_number="A-002")
    assert by_number.status_code == 201 and by_number.json["employee"]["id"] == world.carol.id
    by_id = _nominate(client, world, employee_id=world.amy.id)
    assert by_id.status_code == 201 and by_id.json["employee"]["id"] == world.amy.id


def test_a_nomination_into_a_full_class_joins_its_waitlist(client, make, world):
    full = make.course_class(capacity=1, sessions=1)
    make.enrolment(full, world.ben)

    response = _nominate(client, world, class_code=full.code, email=world.amy.email)

    assert response.status_code == 201
    assert response.json["status"] == "waitlisted"
    assert response.json["waitlist_position"] == 1


def test_a_nomination_past_the_quota_is_refused_with_the_pages_message(client, make, world):
    today = today_hk()
    make.quota(
        world.company_a,
        seats=1,
        starts_on=today - timedelta(days=10),
        ends_on=today + timedelta(days=200),
        label="2026 Term 1",
    )
    assert _nominate(client, world, email=world.amy.email).status_code == 201

    refused = _problem(_nominate(client, world, email=world.carol.email), 409)
    assert refused["code"] == "quota_exceeded"
    assert refused["detail"] == (
        "Your company has used all 1 seats of its quota for 2026 Term 1 (0 left)."
    )
    chinese = _problem(
        _nominate(
            client,
            world,
            email=world.carol.email,
            headers=world.headers(**{"Accept-Language": "zh-HK"}),
        ),
        409,
    )
    assert chinese["detail"] == "貴公司已用盡2026 Term 1配額的全部1個名額（尚餘0個）。"
    assert _enrolment_count() == 1


def test_the_enrolment_rules_refuse_with_their_messages(client, make, world):
    assert _nominate(client, world, email=world.amy.email).status_code == 201
    again = _problem(_nominate(client, world, email=world.amy.email), 409)
    assert again["code"] == "already_enrolled"
    assert "Amy Chan" in again["detail"]

    closed = make.course_class(status=ClassStatus.CLOSED, sessions=1)
    not_open = _problem(
        _nominate(client, world, class_code=closed.code, email=world.carol.email), 409
    )
    assert not_open["code"] == "class_not_open"

    advanced = make.course(code="SU-CLD-301", prerequisites=[world.open_class.course])
    needs_more = make.course_class(course=advanced, sessions=1)
    missing = _problem(
        _nominate(client, world, class_code=needs_more.code, email=world.carol.email), 409
    )
    assert missing["code"] == "prerequisites_missing"
    assert "SU-CLD-101" in missing["detail"]
    assert _enrolment_count() == 1


def test_what_the_token_may_not_see_is_not_found(client, make, world):
    draft = make.course_class(status=ClassStatus.DRAFT)

    unknown_class = _problem(
        _nominate(client, world, class_code="NO-SUCH", email=world.amy.email), 404
    )
    assert unknown_class["code"] == "class_not_found"
    assert unknown_class["errors"] == [
        {"pointer": "#/class_code", "detail": "No class has the code NO-SUCH."}
    ]
    assert (
        _problem(_nominate(client, world, class_code=draft.code, email=world.amy.email), 404)[
            "code"
        ]
        == "class_not_found"
    )
    # B's learner, named any way, is not one of A's staff.
    for named in (
        {"email": world.ben.email},
        {"employee_id": world.ben.id},
        {"staff_number": world.ben.staff_number},
        {"employee_id": world.hr_a.id},
    ):
        problem = _problem(_nominate(client, world, **named), 404)
        assert problem["code"] == "employee_not_found"
        assert problem["detail"].startswith("Not one of your staff")
    assert _enrolment_count() == 0


def test_the_employee_is_named_exactly_once(client, world):
    none = _problem(_nominate(client, world), 422)
    assert none["errors"][0]["pointer"] == "#/employee_id"
    both = _problem(_nominate(client, world, email=world.amy.email, staff_number="A-001"), 422)
    assert "one of employee_id, email and staff_number" in both["errors"][0]["detail"]
    unknown = _problem(_nominate(client, world, email=world.amy.email, learner="amy"), 422)
    assert unknown["errors"][0]["pointer"] == "#/learner"
    assert _enrolment_count() == 0


def test_an_institute_wide_token_places_as_an_admin_does(client, make, world):
    # A approves its staff's enrolments: an admin places one of them only with a reason.
    without = _problem(_nominate(client, world, "admin", email=world.amy.email), 422)
    assert without["code"] == "enrolment_refused"
    assert without["errors"][0]["pointer"] == "#/note"
    assert "Harbour IT Services approves its staff's enrolments" in without["detail"]

    placed = _nominate(client, world, "admin", email=world.amy.email, note="Agreed by phone")
    assert placed.status_code == 201, placed.get_data(as_text=True)
    assert placed.json["source"] == "admin"
    assert placed.json["status"] == "confirmed"
    assert [reason["code"] for reason in placed.json["status_reasons"]] == [
        "placed_without_approval",
        "free_text",
    ]
    assert placed.json["status_reasons_text"] == (
        "Placed by an admin without the company's HR approval. Agreed by phone"
    )
    # B needs no approval; staff numbers are unique only within a company.
    assert _nominate(client, world, "admin", employee_id=world.ben.id).status_code == 201
    number = _problem(_nominate(client, world, "admin", staff_number="A-002"), 422)
    assert number["code"] == "staff_number_needs_company"
    nobody = _problem(_nominate(client, world, "admin", email="nobody@harbour-it.test"), 404)
    assert nobody["detail"] == "No learner has the e-mail address nobody@harbour-it.test."


def test_a_token_without_the_scope_may_not_nominate(client, world):
    refused = _problem(_nominate(client, world, "hr_a_read", email=world.amy.email), 403)
    assert refused["code"] == "missing_scope"
    assert _enrolment_count() == 0


# ---------------------------------------------------------------------------------------------
# Withdrawals, approvals and rejections


def test_a_withdrawal_frees_the_seat_for_the_first_on_the_waitlist(client, make, world):
    full = make.course_class(capacity=1, sessions=1)
    seated = make.enrolment(full, world.amy)
    waiting = make.enrolment(full, world.ben, EnrolmentStatus.WAITLISTED)

    response = client.post(
        f"{URL}/{seated.id}/withdraw", json={"reason": "Left the project"}, headers=world.headers()
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "withdrawn"
    assert response.json["history"][-1]["reasons_text"] == "Left the project"
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.CONFIRMED
    assert db.session.get(CourseClass, full.id).seats_taken == 1

    again = _problem(
        client.post(f"{URL}/{seated.id}/withdraw", json={"reason": "x"}, headers=world.headers()),
        409,
    )
    assert again["detail"] == "This enrolment is no longer active."


def test_a_withdrawal_needs_a_reason(client, make, world):
    seated = make.enrolment(world.open_class, world.amy)
    for body in ({}, {"reason": ""}, {"reason": "   \n "}):
        problem = _problem(
            client.post(f"{URL}/{seated.id}/withdraw", json=body, headers=world.headers()), 422
        )
        assert problem["errors"][0]["pointer"] == "#/reason"
    assert db.session.get(Enrolment, seated.id).status == EnrolmentStatus.CONFIRMED


def test_approving_confirms_a_request_and_approving_twice_is_refused(client, make, world):
    pending = make.enrolment(world.open_class, world.carol, EnrolmentStatus.PENDING)

    first = client.post(f"{URL}/{pending.id}/approve", headers=world.headers())
    assert first.status_code == 200, first.get_data(as_text=True)
    assert first.json["status"] == "confirmed"

    second = _problem(client.post(f"{URL}/{pending.id}/approve", headers=world.headers()), 409)
    assert second["code"] == "invalid_transition"
    assert second["detail"] == (
        "This request is no longer waiting for approval: it has been decided."
    )
    chinese = _problem(
        client.post(
            f"{URL}/{pending.id}/approve", headers=world.headers(**{"Accept-Language": "zh-HK"})
        ),
        409,
    )
    assert chinese["detail"] == "此申請已有決定，不再等待審批。"
    assert db.session.get(CourseClass, world.open_class.id).seats_taken == 1


def test_approving_into_a_full_class_waitlists(client, make, world):
    full = make.course_class(capacity=1, sessions=1)
    make.enrolment(full, world.ben)
    pending = make.enrolment(full, world.carol, EnrolmentStatus.PENDING)

    response = client.post(f"{URL}/{pending.id}/approve", headers=world.headers())

    assert response.json["status"] == "waitlisted"
    assert response.json["waitlist_position"] == 1


def test_at_a_company_that_does_not_approve_there_is_nothing_to_approve(client, make, world):
    confirmed = _nominate(client, world, "hr_b", email=world.ben.email).json
    refused = _problem(
        client.post(f"{URL}/{confirmed['id']}/approve", headers=world.headers("hr_b")), 409
    )
    assert refused["detail"] == (
        "This request is no longer waiting for approval: it has been decided."
    )


def test_rejecting_a_request_keeps_the_reason(client, make, world, outbox):
    pending = make.enrolment(world.open_class, world.carol, EnrolmentStatus.PENDING)

    response = client.post(
        f"{URL}/{pending.id}/reject", json={"reason": "Not this term"}, headers=world.headers()
    )

    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["status"] == "rejected"
    assert response.json["status_reasons_text"] == "Not this term"
    assert [message.to for message in outbox] == ["carol.lee@harbour-it.test"]
    # A confirmed place is not a request: it is withdrawn, never rejected.
    seated = make.enrolment(world.open_class, world.amy)
    refused = _problem(
        client.post(f"{URL}/{seated.id}/reject", json={"reason": "No"}, headers=world.headers()),
        409,
    )
    assert refused["code"] == "invalid_transition"
    assert (
        _problem(client.post(f"{URL}/{pending.id}/reject", json={}, headers=world.headers()), 422)[
            "errors"
        ][0]["pointer"]
        == "#/reason"
    )


def test_another_companys_enrolment_is_not_found_for_every_operation(client, make, world):
    theirs = make.enrolment(world.open_class, world.ben, EnrolmentStatus.PENDING)
    seats = db.session.get(CourseClass, world.open_class.id).seats_taken
    calls = [
        ("get", f"{URL}/{theirs.id}", None),
        ("post", f"{URL}/{theirs.id}/withdraw", {"reason": "x"}),
        ("post", f"{URL}/{theirs.id}/approve", None),
        ("post", f"{URL}/{theirs.id}/reject", {"reason": "x"}),
    ]
    for method, path, body in calls:
        response = getattr(client, method)(path, json=body, headers=world.headers())
        _problem(response, 404)
    assert db.session.get(Enrolment, theirs.id).status == EnrolmentStatus.PENDING
    assert db.session.get(CourseClass, world.open_class.id).seats_taken == seats
    assert client.get(f"{URL}/{theirs.id}", headers=world.headers("admin")).status_code == 200


# ---------------------------------------------------------------------------------------------
# Idempotency, audit, hostile input


def test_the_same_nomination_with_one_key_makes_one_enrolment(client, world):
    headers = world.headers(**{"Idempotency-Key": "5f1c2d9e-7a41-4c1e-9b1a-3f0e2a6d8c11"})
    body = {"class_code": world.open_class.code, "email": world.amy.email}

    first = client.post(URL, json=body, headers=headers)
    second = client.post(URL, json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.json == first.json
    assert second.headers["Location"] == first.headers["Location"]
    assert second.headers["Idempotent-Replayed"] == "true"
    assert _enrolment_count() == 1
    other = client.post(URL, json={**body, "email": world.carol.email}, headers=headers)
    assert _problem(other, 422)["code"] == "idempotency_key_reused"
    spaced = world.headers(**{"Idempotency-Key": "key with spaces"})
    assert _problem(client.post(URL, json=body, headers=spaced), 400)["code"] == (
        "invalid_idempotency_key"
    )


def test_a_refused_nomination_keeps_no_answer_for_its_key(client, make, world):
    closed = make.course_class(status=ClassStatus.CLOSED)
    headers = world.headers(**{"Idempotency-Key": "retry-me"})
    body = {"class_code": closed.code, "email": world.amy.email}
    _problem(client.post(URL, json=body, headers=headers), 409)
    assert db.session.scalar(select(func.count(IdempotentAnswer.id))) == 0


def test_the_audit_log_names_the_token(client, make, world):
    nominated = _nominate(client, world, email=world.amy.email).json
    client.post(
        f"{URL}/{nominated['id']}/withdraw",
        json={"reason": "Changed plans"},
        headers=world.headers(),
    )
    token_id = db.session.scalar(
        select(AuditEntry.api_token_id).where(
            AuditEntry.object_type == "enrolments", AuditEntry.action == "enrolment.created"
        )
    )
    entries = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.object_type == "enrolments", AuditEntry.object_id == nominated["id"]
        )
    ).all()
    assert [entry.action for entry in entries] == ["enrolment.created", "enrolment.status_changed"]
    assert token_id is not None
    assert {entry.api_token_id for entry in entries} == {token_id}
    assert {entry.actor_id for entry in entries} == {world.hr_a.id}


HOSTILE_QUERIES = [
    "class=SU%00CLD",
    "course=" + "X" * 10_000,
    "employee_id=99999999999999999999",
    "employee_id=-1",
    "starts_from=2026-02-30",
    "starts_until=not-a-date",
    "changed_since=2026-01-01T00:00:00",
    "changed_since=0001-01-01T00:00:00%2B05:00",
    "changed_since=9999-12-31T23:00:00-05:00",
    "status=lost",
    "limit=0",
    "limit=100000",
    "colour=blue",
]


@pytest.mark.parametrize("query", HOSTILE_QUERIES)
def test_hostile_list_queries_are_refused(client, world, query):
    response = client.get(f"{URL}?{query}", headers=world.headers())
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"


HOSTILE_BODIES = [
    {"class_code": "SU\x00CLD", "email": "amy.chan@harbour-it.test"},
    {"class_code": "X" * 10_000, "email": "amy.chan@harbour-it.test"},
    {"class_code": "SU-CLD-101-2026B", "employee_id": 2**40},
    {"class_code": "SU-CLD-101-2026B", "employee_id": "1; DROP TABLE users"},
    {"class_code": "SU-CLD-101-2026B", "email": "amy.chan@harbour-it.test\x00"},
    {"class_code": "SU-CLD-101-2026B", "staff_number": "A" * 10_000},
    {"class_code": "SU-CLD-101-2026B", "email": "amy.chan@harbour-it.test", "note": "N" * 10_000},
    {"class_code": "SU-CLD-101-2026B", "email": "amy.chan@harbour-it.test", "note": "a\x00b"},
    {"class_code": None, "email": "amy.chan@harbour-it.test"},
    ["not", "an", "object"],
]


@pytest.mark.parametrize("body", HOSTILE_BODIES)
def test_hostile_nominations_are_refused_and_change_nothing(client, world, body):
    response = client.post(URL, json=body, headers=world.headers())
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert _enrolment_count() == 0
    assert (
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.object_type == "enrolments")
        )
        == 0
    )


def test_hostile_changes_are_refused_and_change_nothing(client, make, world):
    seated = make.enrolment(world.open_class, world.amy)
    bad = [
        (f"{URL}/{seated.id}/withdraw", {"reason": "R" * 10_000}),
        (f"{URL}/{seated.id}/withdraw", {"reason": "a\x00b"}),
        (f"{URL}/{seated.id}/reject", {"reason": "\x1b[31m"}),
        (f"{URL}/99999999999999999999/withdraw", {"reason": "x"}),
        (f"{URL}/0/approve", None),
        (f"{URL}/{seated.id}/withdraw", {"reason": "x", "extra": 1}),
    ]
    for path, body in bad:
        response = client.post(path, json=body, headers=world.headers())
        assert 400 <= response.status_code < 500, (path, response.get_data(as_text=True))
    assert db.session.get(Enrolment, seated.id).status == EnrolmentStatus.CONFIRMED
    assert client.get(f"{URL}/99999999999999999999", headers=world.headers()).status_code == 404


# ---------------------------------------------------------------------------------------------
# Many nominations at once


@pytest.mark.slow
def test_ten_nominations_at_once_for_the_last_three_seats_confirm_three(app: Flask, make, world):
    course_class = make.course_class(capacity=5, sessions=1)
    for _ in range(2):
        make.enrolment(course_class, make.user(company=world.company_b))
    emails = [make.user(company=world.company_b).email for _ in range(10)]
    code, class_id, headers = course_class.code, course_class.id, world.headers("hr_b")
    db.session.commit()
    barrier = threading.Barrier(len(emails))
    statuses: list[int] = []
    outcomes: list[str] = []
    lock = threading.Lock()

    def nominate(email: str) -> None:
        client = app.test_client()
        barrier.wait(timeout=30)
        response = client.post(URL, json={"class_code": code, "email": email}, headers=headers)
        with lock:
            statuses.append(response.status_code)
            if response.status_code == 201:
                outcomes.append(response.json["status"])

    threads = [threading.Thread(target=nominate, args=(email,)) for email in emails]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert statuses == [201] * 10
    assert sorted(outcomes) == ["confirmed"] * 3 + ["waitlisted"] * 7
    db.session.expire_all()
    assert db.session.get(CourseClass, class_id).seats_taken == 5
    confirmed = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.CONFIRMED
        )
    )
    assert confirmed == 5
    positions = sorted(
        db.session.scalars(
            select(Enrolment.waitlisted_at).where(
                Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED
            )
        )
    )
    assert len(positions) == 7
