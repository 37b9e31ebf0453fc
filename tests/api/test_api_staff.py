"""The staff resource through the API, with real tokens, on SQLite and PostgreSQL: a company's
HR system listing its learners and keeping them in step every night."""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select, text

from skillsup.extensions import db
from skillsup.models import (
    AuditEntry,
    ClassStatus,
    EnrolmentStatus,
    OutboxMessage,
    User,
    utcnow,
)
from skillsup.services import api_tokens, mail

from ..factories import Factory
from ..queries import recorded_statements

ALL_SCOPES = ["read", "staff:write", "enrolments:write"]


#: Active tokens' names are unique per company: each test token gets its own.
_TOKEN_NUMBERS = itertools.count(1)


def _token(user: User, scopes: list[str] | None = None) -> str:
    name = f"HR system sync {next(_TOKEN_NUMBERS)}"
    secret = api_tokens.create_token(user, name, scopes or ALL_SCOPES).secret
    db.session.commit()
    return secret


def _auth(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def world(make: Factory) -> dict[str, Any]:
    """Two companies, A's HR officer and three of A's learners (active, invited, deactivated),
    B's HR officer and a learner of B's, an admin; tokens for each of the three callers."""
    company_a = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])
    hr_a = make.user(role="hr", company=company_a, email="hr@harbour-it.test", staff_number="HR-1")
    hr_b = make.user(role="hr", company=company_b, email="hr@kowloon-data.test")
    admin = make.user(role="admin", email="admin@skillsup.test", name="Ada Admin")
    amy = make.user(
        company=company_a,
        email="amy.chan@harbour-it.test",
        name="Amy Chan",
        staff_number="HB-001",
        department="Cloud Operations",
        job_title="Engineer",
    )
    dora = make.user(
        company=company_a,
        email="dora.ng@harbour-it.test",
        name="Dora Ng",
        staff_number="HB-002",
        department="Finance",
        password=None,
        email_confirmed_at=None,
        invited_at=utcnow(),
    )
    gus = make.user(
        company=company_a,
        email="gus.ho@harbour-it.test",
        name="Gus Ho",
        staff_number="HB-003",
        department="Cloud Operations",
        is_active=False,
        deactivated_at=utcnow(),
    )
    ben = make.user(
        company=company_b, email="ben.wong@kowloon-data.test", name="Ben Wong", staff_number="KD-1"
    )
    return {
        "a": company_a,
        "b": company_b,
        "hr_a": hr_a,
        "amy": amy,
        "dora": dora,
        "gus": gus,
        "ben": ben,
        "token_a": _token(hr_a),
        "token_b": _token(hr_b),
        "token_admin": _token(admin),
    }


def _ids(response: Any) -> list[int]:
    assert response.status_code == 200, response.get_data(as_text=True)
    return [item["id"] for item in response.json["items"]]


# ---------------------------------------------------------------------------------------------
# Reading


def test_a_company_token_lists_its_own_learners_only(client: FlaskClient, world: dict) -> None:
    response = client.get("/api/v1/staff", headers=_auth(world["token_a"]))
    assert _ids(response) == [world["amy"].id, world["dora"].id, world["gus"].id]
    amy = response.json["items"][0]
    assert amy == {
        "id": world["amy"].id,
        "email": "amy.chan@harbour-it.test",
        "name": "Amy Chan",
        "staff_number": "HB-001",
        "department": "Cloud Operations",
        "job_title": "Engineer",
        "status": "active",
        "company": "HBIT",
        "invited_at": None,
        "created_at": amy["created_at"],
        "deactivated_at": None,
    }
    # What HR pages do not show in the directory stays out: no last log-in, no password.
    assert "last_login_at" not in amy
    statuses = {item["email"]: item["status"] for item in response.json["items"]}
    assert statuses == {
        "amy.chan@harbour-it.test": "active",
        "dora.ng@harbour-it.test": "invited",
        "gus.ho@harbour-it.test": "deactivated",
    }
    b = client.get("/api/v1/staff", headers=_auth(world["token_b"]))
    assert _ids(b) == [world["ben"].id]


def test_the_list_filters(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])

    def ids(query: str) -> list[int]:
        return _ids(client.get(f"/api/v1/staff?{query}", headers=headers))

    assert ids("status=active") == [world["amy"].id]
    assert ids("status=invited") == [world["dora"].id]
    assert ids("status=deactivated") == [world["gus"].id]
    assert ids("department=Cloud%20Operations") == [world["amy"].id, world["gus"].id]
    assert ids("department=Cloud") == []
    assert ids("email=AMY.Chan@Harbour-IT.test") == [world["amy"].id]
    assert ids("email=amy.chan") == []
    assert ids("staff_number=HB-002") == [world["dora"].id]
    assert ids("staff_number=HB-00") == []
    assert ids("status=active&department=Finance") == []
    # Another company's learner is not found by its address either.
    assert ids("email=ben.wong@kowloon-data.test") == []
    # A misspelt filter is refused, not ignored (which would list everyone).
    response = client.get("/api/v1/staff?departmnet=Finance", headers=headers)
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"parameter": "departmnet", "detail": "This field is not known."}
    ]
    response = client.get("/api/v1/staff?status=gone", headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["parameter"] == "status"


def test_an_institute_wide_token_lists_every_company_or_the_one_named(
    client: FlaskClient, world: dict
) -> None:
    headers = _auth(world["token_admin"])
    everyone = _ids(client.get("/api/v1/staff", headers=headers))
    assert everyone == sorted([world[name].id for name in ("amy", "dora", "gus", "ben")])
    companies = {
        item["email"]: item["company"]
        for item in client.get("/api/v1/staff", headers=headers).json["items"]
    }
    assert companies["ben.wong@kowloon-data.test"] == "KLDT"
    assert _ids(client.get("/api/v1/staff?company=kldt", headers=headers)) == [world["ben"].id]
    assert client.get("/api/v1/staff?company=NOPE", headers=headers).status_code == 404


def test_a_company_token_naming_another_company_gets_404(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    assert _ids(client.get("/api/v1/staff?company=HBIT", headers=headers)) == [
        world["amy"].id,
        world["dora"].id,
        world["gus"].id,
    ]
    response = client.get("/api/v1/staff?company=KLDT", headers=headers)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_pages_follow_the_cursor(client: FlaskClient, world: dict, make: Factory) -> None:
    for n in range(5):
        make.user(company=world["a"], email=f"staff{n}@harbour-it.test")
    headers = _auth(world["token_a"])
    seen: list[int] = []
    url = "/api/v1/staff?limit=3&status=active"
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        seen += _ids(response)
        pages += 1
        cursor = response.json["next_cursor"]
        if cursor is None:
            assert "Link" not in response.headers
            break
        assert response.headers["Link"].endswith('>; rel="next"')
        url = f"/api/v1/staff?limit=3&status=active&cursor={cursor}"
    assert pages == 2
    assert seen == sorted(seen) and len(seen) == 6
    # A cursor belongs to its filters.
    first = client.get("/api/v1/staff?limit=3&status=active", headers=headers).json
    response = client.get(
        f"/api/v1/staff?limit=3&status=invited&cursor={first['next_cursor']}", headers=headers
    )
    assert response.status_code == 400
    assert response.json["code"] == "invalid_cursor"


def test_the_list_runs_the_same_queries_however_many_staff(
    client: FlaskClient, world: dict, make: Factory
) -> None:
    headers = _auth(world["token_admin"])
    # The token's "last used" time is written at most once a minute: the first request's.
    client.get("/api/v1/staff", headers=headers)
    response, few = _queries(client, "/api/v1/staff", headers)
    assert len(response.json["items"]) == 4
    for n in range(16):
        company = world["a"] if n % 2 else world["b"]
        make.user(company=company, email=f"more{n}@{company.domains[0].domain}")
    response, many = _queries(client, "/api/v1/staff", headers)
    assert len(response.json["items"]) == 20
    assert len(many) == len(few), many
    response, one_company = _queries(client, "/api/v1/staff?company=HBIT", headers)
    assert len(response.json["items"]) == 11
    # Looking the company up is the one more.
    assert len(one_company) == len(few) + 1, one_company


def _queries(client: FlaskClient, url: str, headers: dict[str, str]) -> tuple[Any, list[str]]:
    with recorded_statements() as statements:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response, statements


def test_one_employee_and_404_for_anyone_else(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    response = client.get(f"/api/v1/staff/{world['amy'].id}", headers=headers)
    assert response.status_code == 200
    assert response.json["email"] == "amy.chan@harbour-it.test"
    assert response.headers["ETag"]
    for other in (world["ben"].id, world["hr_a"].id, 999_999, 2**31 - 1):
        response = client.get(f"/api/v1/staff/{other}", headers=headers)
        assert response.status_code == 404, other
        assert response.mimetype == "application/problem+json"
    assert client.get("/api/v1/staff/99999999999999", headers=headers).status_code == 404
    admin = client.get(f"/api/v1/staff/{world['ben'].id}", headers=_auth(world["token_admin"]))
    assert admin.status_code == 200 and admin.json["company"] == "KLDT"
    # An HR officer is not one of the staff, even for an admin.
    hr = client.get(f"/api/v1/staff/{world['hr_a'].id}", headers=_auth(world["token_admin"]))
    assert hr.status_code == 404


def test_reading_needs_the_read_scope(client: FlaskClient, world: dict) -> None:
    writer = _token(world["hr_a"], ["staff:write"])
    response = client.get("/api/v1/staff", headers=_auth(writer))
    assert response.status_code == 403
    assert response.json["code"] == "missing_scope"
    reader = _token(world["hr_a"], ["read"])
    response = client.post(
        "/api/v1/staff",
        json={"email": "new@harbour-it.test", "name": "New Person"},
        headers=_auth(reader),
    )
    assert response.status_code == 403
    assert client.get("/api/v1/staff").status_code == 401


# ---------------------------------------------------------------------------------------------
# Keeping in step


PEOPLE = [
    {
        "email": "fay.tam@harbour-it.test",
        "name": "Fay Tam",
        "staff_number": "HB-101",
        "department": "Service Desk",
        "job_title": "Analyst",
    },
    {"email": "Ivy.Lam@Harbour-IT.test", "name": "Ivy Lam", "staff_number": "HB-102"},
    {"email": "joe.so@harbour-it.test", "name": "Joe So", "department": "Security"},
]


def test_syncing_the_same_people_twice_creates_each_once(
    client: FlaskClient, world: dict, outbox: list[mail.Message]
) -> None:
    headers = _auth(world["token_a"])
    audit_before = _count(AuditEntry)
    created = []
    for person in PEOPLE:
        response = client.post("/api/v1/staff", json=person, headers=headers)
        assert response.status_code == 201, response.get_data(as_text=True)
        assert response.headers["Location"].endswith(f"/api/v1/staff/{response.json['id']}")
        assert response.json["status"] == "invited"
        assert response.json["company"] == "HBIT"
        assert response.json["invited_at"] is not None
        created.append(response.json)
    assert created[1]["email"] == "ivy.lam@harbour-it.test"
    assert created[2]["staff_number"] is None
    assert sorted(message.to for message in outbox) == [
        "fay.tam@harbour-it.test",
        "ivy.lam@harbour-it.test",
        "joe.so@harbour-it.test",
    ]
    for message in outbox:
        assert "http://skillsup.test/invitation/" in message.text
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.id > 0)).all()
    invited = [e for e in entries if e.action == "account.invited"]
    assert len(invited) == 3
    assert _count(AuditEntry) == audit_before + 3
    outbox_rows = _count(OutboxMessage)

    for person, first in zip(PEOPLE, created, strict=True):
        response = client.post("/api/v1/staff", json=person, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        assert "Location" not in response.headers
        assert response.json == first
    assert _count(AuditEntry) == audit_before + 3
    assert _count(OutboxMessage) == outbox_rows
    assert len(outbox) == 3
    listed = client.get("/api/v1/staff?status=invited", headers=headers)
    assert len(listed.json["items"]) == 4


def test_the_invitation_leaves_after_the_commit_only(
    client: FlaskClient, world: dict, outbox: list[mail.Message]
) -> None:
    seen_committed: list[bool] = []

    def check(_sender: Any, message: mail.Message, **_kwargs: Any) -> None:
        # Another connection sees the new learner: the change was committed before the mail.
        with db.engine.connect() as connection:
            found = connection.execute(
                text("SELECT count(*) FROM users WHERE email = :email"), {"email": message.to}
            ).scalar()
        seen_committed.append(found == 1)

    mail.message_sent.connect(check)
    try:
        response = client.post("/api/v1/staff", json=PEOPLE[0], headers=_auth(world["token_a"]))
    finally:
        mail.message_sent.disconnect(check)
    assert response.status_code == 201
    assert seen_committed == [True]
    # A refused request queues nothing.
    rows = _count(OutboxMessage)
    response = client.post(
        "/api/v1/staff",
        json={**PEOPLE[1], "staff_number": "HR-1"},
        headers=_auth(world["token_a"]),
    )
    assert response.status_code == 409
    assert _count(OutboxMessage) == rows
    assert len(outbox) == 1


def test_someone_new_may_be_added_without_an_invitation(
    client: FlaskClient, world: dict, outbox: list[mail.Message]
) -> None:
    response = client.post(
        "/api/v1/staff",
        json={**PEOPLE[0], "send_invitation": False},
        headers=_auth(world["token_a"]),
    )
    assert response.status_code == 201
    assert response.json["invited_at"] is None
    assert response.json["status"] == "invited"
    assert outbox == []
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry is not None and entry.action == "account.created"


def test_a_sync_updates_the_details_given_and_names_the_token(
    client: FlaskClient, world: dict
) -> None:
    token = api_tokens.create_token(world["hr_a"], "Workday", ALL_SCOPES)
    db.session.commit()
    response = client.post(
        "/api/v1/staff",
        json={
            "email": "amy.chan@harbour-it.test",
            "name": "Amy Chan Wing-yan",
            "staff_number": "HB-001",
            "department": "Platform",
        },
        headers=_auth(token.secret),
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    body = response.json
    assert (body["name"], body["department"], body["job_title"]) == (
        "Amy Chan Wing-yan",
        "Platform",
        # Left out: kept.
        "Engineer",
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "account.changed")
    ).one()
    assert entry.api_token_id == token.token.id
    assert entry.actor_id == world["hr_a"].id
    assert entry.company_id == world["a"].id
    assert entry.details == {
        "department": {"before": "Cloud Operations", "after": "Platform"},
        "name": {"before": "Amy Chan", "after": "Amy Chan Wing-yan"},
    }
    # Null or empty clears a detail.
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.chan@harbour-it.test", "name": "Amy Chan Wing-yan", "job_title": None},
        headers=_auth(token.secret),
    )
    assert response.status_code == 200
    assert response.json["job_title"] is None
    assert response.json["staff_number"] == "HB-001"


def test_the_staff_number_finds_someone_before_the_address(
    client: FlaskClient, world: dict
) -> None:
    headers = _auth(world["token_a"])
    # The same staff number with another address: only the institute changes an address.
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.c@harbour-it.test", "name": "Amy Chan", "staff_number": "HB-001"},
        headers=headers,
    )
    assert response.status_code == 409
    assert response.json["code"] == "email_does_not_match"
    assert response.json["detail"] == (
        "Staff number HB-001 is Amy Chan's, whose e-mail address on the portal is "
        "amy.chan@harbour-it.test. Only the institute's admins change an e-mail address (its "
        "owner confirms the new one): ask them, or send the address on the portal."
    )
    assert response.json["errors"][0]["pointer"] == "#/email"
    assert db.session.scalar(select(User).where(User.email == "amy.c@harbour-it.test")) is None
    # Another learner's address with Amy's number: the same refusal, nothing changed.
    response = client.post(
        "/api/v1/staff",
        json={"email": "dora.ng@harbour-it.test", "name": "Dora Ng", "staff_number": "HB-001"},
        headers=headers,
    )
    assert response.status_code == 409
    db.session.refresh(world["dora"])
    assert world["dora"].staff_number == "HB-002"
    # Once an admin has asked for the new address, the sync may send it while it waits.
    world["amy"].pending_email = "amy.c@harbour-it.test"
    db.session.commit()
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.c@harbour-it.test", "name": "Amy Chan", "staff_number": "HB-001"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["email"] == "amy.chan@harbour-it.test"
    # A staff number nobody has, with Amy's address: her staff number is the new one.
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.chan@harbour-it.test", "name": "Amy Chan", "staff_number": "HB-901"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["id"] == world["amy"].id
    assert response.json["staff_number"] == "HB-901"


@pytest.mark.parametrize(
    ("body", "code", "detail"),
    [
        (
            {"email": "fay@gmail.example", "name": "Fay Tam"},
            "not_at_company_domain",
            "The address is not at your company's e-mail domain (harbour-it.test).",
        ),
        (
            {"email": "ben.wong@kowloon-data.test", "name": "Ben Wong"},
            "not_at_company_domain",
            "The address is not at your company's e-mail domain (harbour-it.test).",
        ),
        (
            # Someone of another company's at this company's domain (moved there, say).
            {"email": "ken.lo@harbour-it.test", "name": "Ken Lo"},
            "email_taken",
            "Someone with this e-mail address already has an account.",
        ),
        (
            {"email": "hr@harbour-it.test", "name": "HR Officer"},
            "email_taken",
            "Someone with this e-mail address already has an account.",
        ),
        (
            {"email": "fay.tam@harbour-it.test", "name": "Fay Tam", "staff_number": "HR-1"},
            "staff_number_taken",
            "Another employee has this staff number.",
        ),
        (
            {"email": "gus.ho@harbour-it.test", "name": "Gus Ho"},
            "employee_deactivated",
            "Gus Ho is deactivated: reactivate them first, then send their details again.",
        ),
        (
            {"email": "someone@harbour-it.test", "name": "Gus Ho", "staff_number": "HB-003"},
            "email_does_not_match",
            None,
        ),
    ],
)
def test_the_rules_refuse_with_the_pages_words(
    client: FlaskClient,
    world: dict,
    make: Factory,
    outbox: list[mail.Message],
    body: dict,
    code: str,
    detail: str,
) -> None:
    make.user(company=world["b"], email="ken.lo@harbour-it.test", name="Ken Lo")
    users = _count(User)
    entries = _count(AuditEntry)
    response = client.post("/api/v1/staff", json=body, headers=_auth(world["token_a"]))
    assert response.status_code == 409, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert response.json["code"] == code
    if detail is not None:
        assert response.json["detail"] == detail
    assert (_count(User), _count(AuditEntry), outbox) == (users, entries, [])


def test_refusals_speak_chinese(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"], **{"Accept-Language": "zh-HK"})
    response = client.post(
        "/api/v1/staff", json={"email": "gus.ho@harbour-it.test", "name": "Gus Ho"}, headers=headers
    )
    assert response.status_code == 409
    assert response.headers["Content-Language"].startswith("zh")
    assert "Gus Ho" in response.json["detail"]
    assert "重新啟用" in response.json["detail"]
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.c@harbour-it.test", "name": "Amy Chan", "staff_number": "HB-001"},
        headers=headers,
    )
    assert "amy.chan@harbour-it.test" in response.json["detail"]
    assert "電郵" in response.json["detail"]
    response = client.post(
        "/api/v1/staff", json={"email": "x@harbour-it.test", "name": " "}, headers=headers
    )
    assert response.status_code == 422
    assert response.json["errors"] == [{"pointer": "#/name", "detail": "請輸入該人士的全名。"}]


def test_an_institute_wide_token_names_the_company(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_admin"])
    response = client.post("/api/v1/staff", json=PEOPLE[0], headers=headers)
    assert response.status_code == 422
    assert response.json["errors"][0]["pointer"] == "#/company"
    response = client.post("/api/v1/staff", json={**PEOPLE[0], "company": "NOPE"}, headers=headers)
    assert response.status_code == 404
    response = client.post("/api/v1/staff", json={**PEOPLE[0], "company": "hbit"}, headers=headers)
    assert response.status_code == 201
    assert response.json["company"] == "HBIT"
    response = client.post(
        "/api/v1/staff",
        json={"email": "ben.wong@kowloon-data.test", "name": "Ben Wong", "company": "KLDT"},
        headers=headers,
    )
    assert response.status_code == 200
    assert response.json["id"] == world["ben"].id


def test_a_company_token_naming_another_company_creates_nothing(
    client: FlaskClient, world: dict
) -> None:
    users = _count(User)
    response = client.post(
        "/api/v1/staff",
        json={"email": "kim@kowloon-data.test", "name": "Kim Lo", "company": "KLDT"},
        headers=_auth(world["token_a"]),
    )
    assert response.status_code == 404
    response = client.post(
        "/api/v1/staff",
        json={**PEOPLE[0], "company": "HBIT"},
        headers=_auth(world["token_b"]),
    )
    assert response.status_code == 404
    assert _count(User) == users


def test_an_idempotency_key_gives_the_first_answer_again(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"], **{"Idempotency-Key": "sync-2026-01-05-fay"})
    first = client.post("/api/v1/staff", json=PEOPLE[0], headers=headers)
    assert first.status_code == 201
    again = client.post("/api/v1/staff", json=PEOPLE[0], headers=headers)
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    other = client.post("/api/v1/staff", json=PEOPLE[1], headers=headers)
    assert other.status_code == 422
    assert other.json["code"] == "idempotency_key_reused"


# ---------------------------------------------------------------------------------------------
# Changing one employee


def test_changing_an_employees_details(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    url = f"/api/v1/staff/{world['amy'].id}"
    response = client.patch(
        url, json={"name": "Amy C. Chan", "job_title": "Lead Engineer"}, headers=headers
    )
    assert response.status_code == 200
    assert (response.json["name"], response.json["job_title"]) == ("Amy C. Chan", "Lead Engineer")
    assert response.json["department"] == "Cloud Operations"
    entries = _count(AuditEntry)
    # The same again: nothing to record.
    response = client.patch(
        url, json={"name": "Amy C. Chan", "job_title": "Lead Engineer"}, headers=headers
    )
    assert response.status_code == 200
    assert _count(AuditEntry) == entries
    response = client.patch(url, json={"department": None, "staff_number": ""}, headers=headers)
    assert (response.json["department"], response.json["staff_number"]) == (None, None)
    response = client.patch(url, json={"staff_number": "HB-002"}, headers=headers)
    assert response.status_code == 409
    assert response.json["detail"] == "Another employee has this staff number."
    assert response.json["errors"] == [
        {"pointer": "#/staff_number", "detail": "Another employee has this staff number."}
    ]
    # The address is the institute's to change: not a field here.
    response = client.patch(url, json={"email": "amy@harbour-it.test"}, headers=headers)
    assert response.status_code == 422
    assert response.json["errors"] == [{"pointer": "#/email", "detail": "This field is not known."}]
    db.session.refresh(world["amy"])
    assert world["amy"].email == "amy.chan@harbour-it.test"


def test_changing_someone_else_or_someone_deactivated(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    for other in (world["ben"].id, world["hr_a"].id):
        response = client.patch(f"/api/v1/staff/{other}", json={"name": "X"}, headers=headers)
        assert response.status_code == 404
    response = client.patch(
        f"/api/v1/staff/{world['gus'].id}", json={"job_title": "Manager"}, headers=headers
    )
    assert response.status_code == 409
    assert response.json["code"] == "employee_deactivated"
    admin = client.patch(
        f"/api/v1/staff/{world['ben'].id}",
        json={"department": "Data"},
        headers=_auth(world["token_admin"]),
    )
    assert admin.status_code == 200 and admin.json["department"] == "Data"


# ---------------------------------------------------------------------------------------------
# Deactivating and reactivating


def test_deactivating_withdraws_enrolments_in_classes_to_come(
    client: FlaskClient, world: dict, make: Factory, outbox: list[mail.Message]
) -> None:
    amy = world["amy"]
    to_come = make.course_class(code="SU-CLD-101-2027A", capacity=1)
    under_way = make.course_class(
        code="SU-CLD-101-2026C",
        sessions=3,
        first_session=utcnow() - timedelta(days=8),
        status=ClassStatus.RUNNING,
    )
    upcoming = make.enrolment(to_come, amy, EnrolmentStatus.CONFIRMED)
    running = make.enrolment(under_way, amy, EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(to_come, world["dora"], EnrolmentStatus.WAITLISTED)
    headers = _auth(world["token_a"])
    url = f"/api/v1/staff/{amy.id}/deactivate"

    response = client.post(url, json={"reason": "Left the company"}, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.json["employee"]["status"] == "deactivated"
    assert response.json["employee"]["deactivated_at"] is not None
    assert response.json["withdrawn"] == [
        {
            "id": upcoming.id,
            "class": {
                "id": to_come.id,
                "code": "SU-CLD-101-2027A",
                "starts_on": to_come.starts_on.isoformat(),
                "ends_on": to_come.ends_on.isoformat(),
            },
            "course": {
                "code": to_come.course.code,
                "title_en": to_come.course.title_en,
                "title_zh": to_come.course.title_zh,
            },
        }
    ]
    for enrolment in (upcoming, running, waiting):
        db.session.refresh(enrolment)
    assert upcoming.status == EnrolmentStatus.WITHDRAWN
    assert running.status == EnrolmentStatus.CONFIRMED
    # The freed seat went to the waitlist.
    assert waiting.status == EnrolmentStatus.CONFIRMED
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "staff.deactivated")
    ).one()
    assert entry.details["reason"] == "Left the company"
    assert entry.api_token_id is not None

    entries, sent = _count(AuditEntry), len(outbox)
    again = client.post(url, json={"reason": "Left the company"}, headers=headers)
    assert again.status_code == 200
    assert again.json["withdrawn"] == []
    assert again.json["employee"] == response.json["employee"]
    assert (_count(AuditEntry), len(outbox)) == (entries, sent)


def test_reactivating(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    url = f"/api/v1/staff/{world['gus'].id}/reactivate"
    response = client.post(url, json={"reason": "Rejoined"}, headers=headers)
    assert response.status_code == 200
    assert response.json["status"] == "active"
    assert response.json["deactivated_at"] is None
    entries = _count(AuditEntry)
    assert client.post(url, json={}, headers=headers).status_code == 200
    assert _count(AuditEntry) == entries
    # And the details may change again.
    response = client.patch(
        f"/api/v1/staff/{world['gus'].id}", json={"job_title": "Manager"}, headers=headers
    )
    assert response.status_code == 200


def test_deactivation_needs_a_reason_and_an_employee_of_ones_own(
    client: FlaskClient, world: dict
) -> None:
    headers = _auth(world["token_a"])
    url = f"/api/v1/staff/{world['amy'].id}/deactivate"
    for body, pointer in (({}, "#/reason"), ({"reason": "  \n "}, "#/reason")):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code == 422
        assert response.json["errors"][0]["pointer"] == pointer
    response = client.post(url, json={"reason": "x" * 501}, headers=headers)
    assert response.status_code == 422
    response = client.post(
        f"/api/v1/staff/{world['ben'].id}/deactivate", json={"reason": "Left"}, headers=headers
    )
    assert response.status_code == 404
    response = client.post(f"/api/v1/staff/{world['ben'].id}/reactivate", json={}, headers=headers)
    assert response.status_code == 404
    db.session.refresh(world["amy"])
    db.session.refresh(world["ben"])
    assert world["amy"].is_active and world["ben"].is_active
    admin = client.post(
        f"/api/v1/staff/{world['ben'].id}/deactivate",
        json={"reason": "Contract ended"},
        headers=_auth(world["token_admin"]),
    )
    assert admin.status_code == 200
    assert admin.json["employee"]["status"] == "deactivated"


# ---------------------------------------------------------------------------------------------
# Hostile input


@pytest.mark.parametrize(
    ("body", "pointer"),
    [
        ({"email": "long@harbour-it.test", "name": "F" * 10_000}, "#/name"),
        (
            {"email": "dept@harbour-it.test", "name": "Fay", "department": "D" * 10_000},
            "#/department",
        ),
        ({"email": "not-an-address", "name": "Fay"}, "#/email"),
        ({"email": "a" * 250 + "@harbour-it.test", "name": "Fay"}, "#/email"),
        ({"email": "fay@harbour-it.test"}, "#/name"),
        ({"email": "fay@harbour-it.test", "name": 12}, "#/name"),
        (
            {"email": "fay@harbour-it.test", "name": "Fay", "send_invitation": "maybe"},
            "#/send_invitation",
        ),
        ({"email": "fay@harbour-it.test", "name": "Fay", "password": "x"}, "#/password"),
    ],
)
def test_hostile_bodies_are_refused_and_change_nothing(
    client: FlaskClient, world: dict, body: dict, pointer: str
) -> None:
    users = _count(User)
    response = client.post("/api/v1/staff", json=body, headers=_auth(world["token_a"]))
    assert response.status_code == 422, response.get_data(as_text=True)
    assert response.mimetype == "application/problem+json"
    assert pointer in [error.get("pointer") for error in response.json["errors"]]
    assert _count(User) == users


@pytest.mark.parametrize(
    "body",
    [
        {"email": "nul@harbour-it.test", "name": "Fay\x00Tam"},
        {"email": "esc@harbour-it.test", "name": "Fay", "staff_number": "\x1b[31m"},
        {"email": "nul\x00@harbour-it.test", "name": "Fay"},
    ],
)
def test_control_characters_are_refused_before_anything_is_read(
    client: FlaskClient, world: dict, body: dict
) -> None:
    users = _count(User)
    response = client.post("/api/v1/staff", json=body, headers=_auth(world["token_a"]))
    assert response.status_code == 400
    assert response.mimetype == "application/problem+json"
    assert "control character" in response.json["detail"]
    assert _count(User) == users


def test_hostile_requests_get_problems_not_errors(client: FlaskClient, world: dict) -> None:
    headers = _auth(world["token_a"])
    for url in (
        "/api/v1/staff?limit=99999999999999999999",
        "/api/v1/staff?limit=0",
        "/api/v1/staff?email=%00",
        "/api/v1/staff?department=" + "d" * 10_000,
        "/api/v1/staff?cursor=not-a-cursor",
        "/api/v1/staff?company=" + "C" * 500,
    ):
        response = client.get(url, headers=headers)
        assert 400 <= response.status_code < 500, (url, response.status_code)
        assert response.mimetype == "application/problem+json"
    for data, content_type in (
        ("not json", "application/json"),
        ("[1, 2]", "application/json"),
        ('{"email": "x@harbour-it.test", "name": "X"', "application/json"),
    ):
        response = client.post(
            "/api/v1/staff", data=data, content_type=content_type, headers=headers
        )
        assert 400 <= response.status_code < 500, (data, response.status_code)
    url = f"/api/v1/staff/{world['amy'].id}"
    for body in ({"name": "\x00"}, {"name": ""}, {"name": None}, {"job_title": "j" * 121}):
        response = client.patch(url, json=body, headers=headers)
        assert response.status_code in (400, 422), body
        assert response.mimetype == "application/problem+json"
    db.session.refresh(world["amy"])
    assert (world["amy"].name, world["amy"].job_title) == ("Amy Chan", "Engineer")


def test_the_same_person_saved_at_once_is_refused_not_a_server_error(
    world: dict, app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two syncs adding the same person at the same moment: the second's insert clashes in
    the database after its checks found nobody; it is told to send again (and finds them
    then), and nothing of it is kept."""
    from skillsup.links import PortalLinks
    from skillsup.services import accounts, staff_details

    # As if the other sync's row had been committed just after this one looked.
    monkeypatch.setattr(accounts, "find_user_by_email", lambda email: None)
    users = _count(User)
    with app.test_request_context():
        with pytest.raises(staff_details.SavedMeanwhile):
            staff_details.sync_employee(
                world["hr_a"],
                world["a"],
                email="amy.chan@harbour-it.test",
                details={"name": "Amy Chan"},
                links=PortalLinks(),
            )
        db.session.rollback()
    assert _count(User) == users


def test_a_staff_number_given_to_two_at_once_is_refused_not_a_server_error(
    client: FlaskClient, world: dict, monkeypatch: pytest.MonkeyPatch
) -> None:
    from skillsup.services import accounts

    # As if another request had given Dora's number away just after this one looked.
    monkeypatch.setattr(accounts, "check_staff_number_free", lambda *args, **kwargs: None)
    response = client.patch(
        f"/api/v1/staff/{world['amy'].id}",
        json={"staff_number": "HB-002", "job_title": "Lead"},
        headers=_auth(world["token_a"]),
    )
    assert response.status_code == 409
    assert response.json["code"] == "saved_meanwhile"
    db.session.refresh(world["amy"])
    assert (world["amy"].staff_number, world["amy"].job_title) == ("HB-001", "Engineer")


def test_the_address_waiting_for_confirmation_finds_its_owner(
    client: FlaskClient, world: dict
) -> None:
    world["amy"].pending_email = "amy.c@harbour-it.test"
    db.session.commit()
    users = _count(User)
    response = client.post(
        "/api/v1/staff",
        json={"email": "amy.c@harbour-it.test", "name": "Amy Chan", "job_title": "Lead"},
        headers=_auth(world["token_a"]),
    )
    assert response.status_code == 200
    assert (response.json["id"], response.json["job_title"]) == (world["amy"].id, "Lead")
    assert _count(User) == users
