"""The audit log names the API token a change came through ("Hilda Ho via API token “Nightly
HR sync”") wherever it shows who made a change: the admins' and HR officers' audit pages and
their CSV files, an object's change history, the admin's recent changes and an employee's
account history; and an HR officer's part of the log holds their company's tokens."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import ApiToken, AuditEntry
from skillsup.services import api_tokens, audit
from skillsup.services.audit import API_TOKEN_KEY

from .queries import page_queries

ZH = "zh_Hant_HK"


@contextmanager
def through_api(token: ApiToken) -> Iterator[None]:
    """What the API does for a request that came with ``token`` (skillsup/api/core.py)."""
    db.session.info[API_TOKEN_KEY] = token.id
    try:
        yield
    finally:
        db.session.info.pop(API_TOKEN_KEY, None)


@pytest.fixture
def scene(make: Any) -> dict[str, Any]:
    company = make.company(name="Harbour IT", code="HBIT", domains=["harbour-it.test"])
    other = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    hr = make.user(role="hr", company=company, name="Hilda Ho", email="hr@harbour-it.test")
    hr_b = make.user(role="hr", company=other, name="Kit Kwok", email="hr@kowloon-data.test")
    admin = make.user(role="admin", name="Ada Admin", email="admin@skillsup.test")
    amy = make.user(company=company, name="Amy Chan", email="amy@harbour-it.test")
    token = api_tokens.create_token(hr, "Nightly HR sync", ["read", "staff:write"]).token
    db.session.flush()
    with through_api(token):
        entry = audit.record(
            hr, "account.changed", amy, "", {"department": {"old": None, "new": "Finance"}}
        )
    by_hand = audit.record(hr, "account.invited", amy)
    db.session.commit()
    return {
        "company": company,
        "hr": hr,
        "hr_b": hr_b,
        "admin": admin,
        "amy": amy,
        "token": token,
        "entry": entry,
        "by_hand": by_hand,
    }


def _rows(response: Any) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_a_change_through_the_api_names_its_token(scene):
    assert scene["entry"].api_token_id == scene["token"].id
    assert scene["by_hand"].api_token_id is None


@pytest.mark.parametrize(("who", "address"), [("admin", "/admin/audit"), ("hr", "/hr/audit")])
def test_the_audit_pages_say_which_token(scene, client, login_as, who, address):
    login_as(scene[who])
    page = client.get(f"{address}?action=account.changed").get_data(as_text=True)
    assert "Hilda Ho" in page
    assert "via API token “Nightly HR sync”" in page
    page = client.get(f"{address}?action=account.invited").get_data(as_text=True)
    assert "Hilda Ho" in page and "via API token" not in page


@pytest.mark.parametrize(("who", "address"), [("admin", "/admin/audit"), ("hr", "/hr/audit")])
def test_the_csv_says_which_token(scene, client, login_as, who, address):
    login_as(scene[who])
    header, *rows = _rows(client.get(f"{address}.csv?person=hilda", buffered=True))
    who_column = {row[-1]: row[header.index("Who")] for row in rows}
    assert who_column["account.changed"] == "Hilda Ho via API token “Nightly HR sync”"
    assert who_column["account.invited"] == "Hilda Ho"


def test_the_csv_says_which_token_in_chinese(scene, client, login_as):
    scene["hr"].preferred_language = ZH
    db.session.commit()
    login_as(scene["hr"])
    _header, *rows = _rows(client.get("/hr/audit.csv?action=account.changed", buffered=True))
    assert rows[0][1] == "Hilda Ho 經 API 權杖「Nightly HR sync」"


def test_the_pages_say_which_token_in_chinese(scene, client, login_as):
    scene["admin"].preferred_language = ZH
    db.session.commit()
    login_as(scene["admin"])
    page = client.get("/admin/audit?action=account.changed").get_data(as_text=True)
    assert "經 API 權杖「Nightly HR sync」" in page


def test_a_persons_change_history_and_the_admin_home_say_which_token(scene, client, login_as):
    login_as(scene["admin"])
    history = client.get(f"/admin/users/{scene['amy'].id}").get_data(as_text=True)
    assert "via API token “Nightly HR sync”" in history
    home = client.get("/admin/").get_data(as_text=True)
    assert "via API token “Nightly HR sync”" in home


def test_an_employees_account_history_says_which_token(scene, client, login_as):
    login_as(scene["hr"])
    page = client.get(f"/hr/staff/{scene['amy'].id}").get_data(as_text=True)
    history = page[page.index('id="account-history"') :]
    assert "Hilda Ho" in history
    assert "via API token “Nightly HR sync”" in history


@pytest.mark.parametrize(
    "address", ["/admin/audit", "/admin/audit.csv", "/admin/", "/admin/users/{amy}"]
)
def test_the_admins_pages_load_the_tokens_with_the_entries(scene, make, client, login_as, address):
    address = address.format(amy=scene["amy"].id)
    login_as(scene["admin"])
    _response, few = page_queries(client, address)
    for number in range(12):
        officer = make.user(role="hr", company=scene["company"])
        token = api_tokens.create_token(officer, f"Sync {number}", ["read"]).token
        db.session.flush()
        with through_api(token):
            audit.record(officer, "account.changed", scene["amy"], "", {"note": number})
    db.session.commit()
    response, many = page_queries(client, address)
    assert response.status_code == 200
    assert "Sync 11" in response.get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)


@pytest.mark.parametrize("address", ["/hr/audit", "/hr/audit.csv", "/hr/staff/{amy}"])
def test_the_hr_pages_load_the_tokens_with_the_entries(scene, make, client, login_as, address):
    address = address.format(amy=scene["amy"].id)
    login_as(scene["hr"])
    _response, few = page_queries(client, address)
    for number in range(12):
        token = api_tokens.create_token(scene["hr"], f"Sync {number}", ["read"]).token
        db.session.flush()
        with through_api(token):
            audit.record(scene["hr"], "account.changed", scene["amy"], "", {"note": number})
    db.session.commit()
    response, many = page_queries(client, address)
    assert response.status_code == 200
    assert "Sync 11" in response.get_data(as_text=True)
    assert len(many) == len(few), "\n".join(many)


def test_hr_reads_their_own_companys_tokens_in_the_log(scene, client, login_as):
    theirs = api_tokens.create_token(scene["hr_b"], "Kowloon sync", ["read"]).token
    institute = api_tokens.create_token(scene["admin"], "Institute sync", ["read"]).token
    api_tokens.revoke_token(scene["hr"], scene["token"])
    db.session.commit()
    login_as(scene["hr"])
    page = client.get("/hr/audit?object_type=api_tokens").get_data(as_text=True)
    assert page.count("Nightly HR sync") == 2
    assert "Created an API token" in page and "Revoked an API token" in page
    assert "Kowloon sync" not in page and "Institute sync" not in page
    for token in (theirs, institute):
        page = client.get(f"/hr/audit?object_type=api_tokens&object_id={token.id}")
        assert "No entries match these filters." in page.get_data(as_text=True)
    entries = select(func.count()).where(AuditEntry.object_type == "api_tokens")
    assert db.session.scalar(entries) == 4
