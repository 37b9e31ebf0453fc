"""The API token pages: HR officers manage their company's tokens at /hr/api-tokens, admins
the institute-wide ones at /admin/api-tokens. A token's secret is shown once, on the page
that answers the form, never again and nowhere else; revoking asks first."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import ApiToken, AuditEntry, utcnow
from skillsup.services import api_tokens
from skillsup.timeutil import start_of_hk_day_utc, today_hk

from .queries import page_queries

ZH = "zh_Hant_HK"


@pytest.fixture
def people(make: Any) -> dict[str, Any]:
    company_a = make.company(name="Harbour IT", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    return {
        "hr": make.user(role="hr", company=company_a, name="Hilda Ho"),
        "hr2": make.user(role="hr", company=company_a, name="Harry Hui"),
        "hr_b": make.user(role="hr", company=company_b, name="Kit Kwok"),
        "admin": make.user(role="admin", name="Ada Admin"),
        "admin2": make.user(role="admin", name="Alan Au"),
        "learner": make.user(company=company_a),
        "company_a": company_a,
    }


def _token(actor: Any, name: str, scopes: tuple[str, ...] = ("read",), **options: Any) -> Any:
    created = api_tokens.create_token(actor, name, list(scopes), **options)
    db.session.commit()
    return created


def _count(model: Any) -> int:
    return int(db.session.scalar(select(func.count()).select_from(model)) or 0)


def _create(client: Any, address: str, **fields: Any) -> Any:
    data = {
        "token-name": fields.get("name", "Nightly HR sync"),
        "token-scopes": fields.get("scopes", ["read", "staff:write"]),
        "token-expires_on": fields.get("expires_on", ""),
    }
    return client.post(address, data=data)


# The lists -------------------------------------------------------------------------------------


def test_hr_sees_their_companys_tokens_with_what_each_may_do(people, client, login_as):
    active = _token(people["hr"], "Nightly HR sync", ("read", "staff:write")).token
    _token(people["hr2"], "Old payroll link", expires_on=today_hk() + timedelta(days=1))
    revoked = _token(people["hr"], "Retired sync").token
    api_tokens.revoke_token(people["hr2"], revoked)
    _token(people["hr_b"], "Kowloon sync")
    _token(people["admin"], "Institute sync")
    db.session.execute(
        ApiToken.__table__.update()
        .where(ApiToken.name == "Old payroll link")
        .values(expires_at=utcnow() - timedelta(minutes=1))
    )
    db.session.commit()
    login_as(people["hr"])
    page = client.get("/hr/api-tokens").get_data(as_text=True)
    table = page[page.index('class="token-table') : page.index("</table>")]

    # Newest first, the revoked last.
    assert [name for name in re.findall(r'<th scope="row">([^<]+) <span', table)] == [
        "Old payroll link",
        "Nightly HR sync",
        "Retired sync",
    ]
    assert f"<code>{active.prefix}…</code>" in table
    assert re.fullmatch(r"su_[A-Za-z0-9_-]{7}", active.prefix)
    assert "Read <code>read</code>" in table and "Manage staff <code>staff:write</code>" in table
    assert "by Hilda Ho" in table and "by Harry Hui" in table
    assert "Does not expire" in table and "Not yet" in table
    assert table.count("badge-ok") == 1 and table.count("badge-ended") == 1
    assert table.count("badge-bad") == 1 and "by Harry Hui</span>" in table
    # The revoked token offers nothing more; the others may be revoked.
    assert table.count(">Revoke<") == 2
    assert f"/hr/api-tokens/{revoked.id}/revoke" not in table
    assert "Kowloon sync" not in page and "Institute sync" not in page


def test_the_time_a_token_was_last_used_is_shown(people, client, login_as):
    created = _token(people["hr"], "Nightly HR sync")
    api_tokens.authenticate(created.secret)
    db.session.commit()
    login_as(people["hr"])
    page = client.get("/hr/api-tokens").get_data(as_text=True)
    row = page[page.index("Nightly HR sync") : page.index("</tr>", page.index("Nightly HR sync"))]
    assert "Not yet" not in row and "<time datetime=" in row


def test_an_admin_sees_the_institute_wide_tokens_only(people, client, login_as):
    _token(people["admin2"], "Institute sync")
    _token(people["hr"], "Harbour sync")
    login_as(people["admin"])
    page = client.get("/admin/api-tokens").get_data(as_text=True)
    assert "Institute sync" in page and "by Alan Au" in page
    assert "Harbour sync" not in page


def test_with_no_token_the_list_says_so(people, client, login_as):
    login_as(people["hr"])
    page = client.get("/hr/api-tokens").get_data(as_text=True)
    assert "No token yet." in page and "token-table" not in page


@pytest.mark.parametrize(
    ("who", "address"), [("hr", "/hr/api-tokens"), ("admin", "/admin/api-tokens")]
)
def test_the_list_runs_the_same_queries_however_many_tokens(
    people, make, client, login_as, who, address
):
    login_as(people[who])
    _token(people[who], "First")
    _response, few = page_queries(client, address)
    creators = [
        people[who],
        *(make.user(role=people[who].role, company=people[who].company) for _ in range(4)),
    ]
    for number in range(20):
        created = _token(creators[number % len(creators)], f"Sync {number}")
        if number % 3 == 0:
            api_tokens.revoke_token(creators[(number + 1) % len(creators)], created.token)
    db.session.commit()
    response, many = page_queries(client, address)
    assert response.status_code == 200
    assert "Sync 19" in response.get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)


def test_the_lists_are_paged(people, client, login_as):
    for number in range(30):
        _token(people["hr"], f"Sync {number:02d}")
    login_as(people["hr"])
    first = client.get("/hr/api-tokens").get_data(as_text=True)
    second = client.get("/hr/api-tokens?page=2").get_data(as_text=True)
    assert "Sync 29" in first and "Sync 00" not in first
    assert "Sync 00" in second and 'rel="prev"' in second


# Creating ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("who", "address"), [("hr", "/hr/api-tokens"), ("admin", "/admin/api-tokens")]
)
def test_a_token_created_is_shown_once_on_a_page_no_cache_keeps(
    people, client, login_as, who, address
):
    login_as(people[who])
    response = _create(client, address)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    token = db.session.scalars(select(ApiToken)).one()
    secret = re.search(r'id="token-secret" type="text" readonly value="(su_[^"]+)"', page)[1]
    assert api_tokens.hash_secret(secret) == token.secret_hash
    assert page.count(secret) == 1
    assert "You will not see it again." in page
    assert 'data-copy="token-secret" hidden' in page and "js/copy.js" in page
    assert token.name == "Nightly HR sync" and token.scopes == ["read", "staff:write"]
    assert token.company_id == (people["company_a"].id if who == "hr" else None)
    # Not in a header (a cookie's flash), the address, the list, nor the audit log.
    assert secret not in repr(response.headers)
    assert secret[10:] not in client.get(address).get_data(as_text=True)
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_token.created")
    ).one()
    assert secret[10:] not in repr((entry.summary, entry.details))


def test_a_token_may_be_given_a_day_to_expire(people, client, login_as):
    login_as(people["hr"])
    day = today_hk() + timedelta(days=90)
    response = _create(
        client, "/hr/api-tokens", expires_on=day.isoformat(), scopes=["enrolments:write"]
    )
    assert response.status_code == 200
    token = db.session.scalars(select(ApiToken)).one()
    assert token.scopes == ["enrolments:write"]
    assert token.expires_at == start_of_hk_day_utc(day)


def test_the_date_picker_offers_the_days_a_token_may_expire_on(people, client, login_as):
    login_as(people["hr"])
    page = client.get("/hr/api-tokens").get_data(as_text=True)
    tomorrow = today_hk() + timedelta(days=1)
    latest = api_tokens.latest_expiry(today_hk())
    assert f'min="{tomorrow.isoformat()}"' in page and f'max="{latest.isoformat()}"' in page


@pytest.mark.parametrize(
    ("fields", "messages"),
    [
        (
            {"name": "", "scopes": [], "expires_on": "2020-01-01"},
            ["Give the token a name.", "Choose at least one scope.", "Choose a day after today."],
        ),
        ({"name": "x" * 10_000}, ["Use at most 100 characters."]),
        ({"scopes": ["read", "admin"]}, ["not a valid choice"]),
        ({"expires_on": "2026-02-30"}, ["Enter a date such as 2025-09-01."]),
        ({"expires_on": "99999-01-01"}, ["Enter a date such as 2025-09-01."]),
        (
            {"expires_on": (today_hk() + timedelta(days=3 * 366)).isoformat()},
            ["A token may live at most two years."],
        ),
    ],
)
def test_wrong_input_is_shown_on_the_form_and_nothing_is_saved(
    people, client, login_as, fields, messages
):
    login_as(people["hr"])
    response = _create(client, "/hr/api-tokens", **fields)
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert "There is a problem" in page
    for message in messages:
        assert message in page
    assert _count(ApiToken) == 0
    assert _count(AuditEntry) == 1  # the sign-in


def test_control_characters_are_refused_before_anything(people, client, login_as):
    login_as(people["hr"])
    response = _create(client, "/hr/api-tokens", name="Nightly\x00sync")
    assert response.status_code == 400
    assert _count(ApiToken) == 0


def test_sending_the_form_again_does_not_make_a_second_token(people, client, login_as):
    """A reload of the page that shows the secret posts the form again: the name is taken."""
    login_as(people["hr"])
    assert _create(client, "/hr/api-tokens").status_code == 200
    again = _create(client, "/hr/api-tokens")
    assert again.status_code == 400
    assert "An active token already has this name." in again.get_data(as_text=True)
    assert _count(ApiToken) == 1


def test_the_pages_read_in_chinese(people, client, login_as):
    people["hr"].preferred_language = ZH
    db.session.commit()
    _token(people["hr"], "Nightly HR sync")
    login_as(people["hr"])
    page = client.get("/hr/api-tokens").get_data(as_text=True)
    assert "API 權杖" in page and "建立權杖" in page and "啟用中" in page
    assert "讀取" in page
    created = _create(client, "/hr/api-tokens", name="夜間同步").get_data(as_text=True)
    assert "你將不會再看到它。" in created
    refused = _create(client, "/hr/api-tokens", name="").get_data(as_text=True)
    assert "請為權杖命名。" in refused


# Revoking ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("who", "prefix"), [("hr", "/hr"), ("admin", "/admin")])
def test_revoking_asks_first_then_revokes_at_once(people, client, login_as, who, prefix):
    created = _token(people[who], "Nightly HR sync")
    token_id = created.token.id
    login_as(people[who])
    page = client.get(f"{prefix}/api-tokens/{token_id}/revoke").get_data(as_text=True)
    assert "Revoke the API token “Nightly HR sync”" in page
    assert f"{created.token.prefix}…" in page
    assert "It cannot be undone." in page
    assert f'action="{prefix}/api-tokens/{token_id}/revoke"' in page
    assert db.session.get(ApiToken, token_id).revoked_at is None

    response = client.post(f"{prefix}/api-tokens/{token_id}/revoke")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"{prefix}/api-tokens")
    token = db.session.get(ApiToken, token_id)
    assert token.revoked_at is not None and token.revoked_by_id == people[who].id
    listing = client.get(f"{prefix}/api-tokens").get_data(as_text=True)
    assert "has been revoked: its next request will be refused." in listing
    with pytest.raises(api_tokens.InvalidApiToken):
        api_tokens.authenticate(created.secret)

    again = client.get(f"{prefix}/api-tokens/{token_id}/revoke").get_data(as_text=True)
    assert "This token was revoked on" in again and "Revoke the token</button>" not in again
    client.post(f"{prefix}/api-tokens/{token_id}/revoke")
    assert "This token had already been revoked." in client.get(f"{prefix}/api-tokens").get_data(
        as_text=True
    )
    revocations = select(func.count()).where(AuditEntry.action == "api_token.revoked")
    assert db.session.scalar(revocations) == 1


def test_a_colleague_may_revoke_a_token(people, client, login_as):
    token = _token(people["hr"], "Nightly HR sync").token
    login_as(people["hr2"])
    assert client.post(f"/hr/api-tokens/{token.id}/revoke").status_code == 302
    assert db.session.get(ApiToken, token.id).revoked_by_id == people["hr2"].id


@pytest.mark.parametrize(
    ("who", "owner", "address"),
    [
        ("hr_b", "hr", "/hr/api-tokens/{id}/revoke"),
        ("hr", "admin", "/hr/api-tokens/{id}/revoke"),
        ("admin", "hr", "/admin/api-tokens/{id}/revoke"),
    ],
)
def test_a_token_of_someone_else_is_not_there(people, client, login_as, who, owner, address):
    token = _token(people[owner], "Nightly HR sync").token
    login_as(people[who])
    url = address.format(id=token.id)
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert db.session.get(ApiToken, token.id).revoked_at is None
    assert client.get(address.format(id=2**31 - 1)).status_code == 404


@pytest.mark.parametrize("address", ["/hr/api-tokens", "/admin/api-tokens"])
def test_learners_are_turned_away(people, client, login_as, address):
    login_as(people["learner"])
    assert client.get(address).status_code == 403
    assert _create(client, address).status_code == 403
    assert _count(ApiToken) == 0


# Where the pages are linked from ---------------------------------------------------------------


def test_the_pages_are_linked_from_the_dashboard_reports_and_admin_home(people, client, login_as):
    login_as(people["hr"])
    assert 'href="/hr/api-tokens"' in client.get("/hr/").get_data(as_text=True)
    reports = client.get("/hr/reports").get_data(as_text=True)
    assert 'href="/hr/api-tokens"' in reports and 'href="/api/v1/docs"' in reports
    tokens = client.get("/hr/api-tokens").get_data(as_text=True)
    assert 'href="/api/v1/docs"' in tokens
    client.post("/logout")
    login_as(people["admin"])
    home = client.get("/admin/").get_data(as_text=True)
    assert 'href="/admin/api-tokens"' in home and 'href="/api/v1/docs"' in home


def test_every_page_links_to_the_api_reference_in_its_footer(client):
    page = client.get("/courses").get_data(as_text=True)
    footer = page[page.index('<footer class="site-footer">') :]
    assert 'href="/api/v1/docs"' in footer
