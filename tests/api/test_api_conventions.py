"""The API's conventions, whatever the resource: problem details in the caller's language,
tokens and scopes, cursor pagination, ETag and If-None-Match, the rate limit, the document.

(Idempotency-Key, which needs a change to make, is in ``test_api_idempotency.py``.)
"""

from __future__ import annotations

import itertools
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import ApiToken, utcnow
from skillsup.services import api_tokens

from ..queries import recorded_statements

#: Active tokens' names are unique per company: each test token gets its own.
_TOKEN_NUMBERS = itertools.count(1)


def token_for(user: Any, scopes: tuple[str, ...] = ("read",)) -> str:
    created = api_tokens.create_token(user, f"Nightly sync {next(_TOKEN_NUMBERS)}", list(scopes))
    db.session.commit()
    return created.secret


def bearer(secret: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}", **headers}


# Problem details --------------------------------------------------------------------------------


def test_an_unknown_address_is_a_problem_not_a_page(client):
    response = client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    problem = response.json
    assert problem["status"] == 404
    assert problem["title"] == "Not found"
    assert problem["instance"] == "/api/v1/no-such-thing"
    assert problem["type"] == "about:blank"
    assert response.headers["Content-Language"] == "en"


def test_problems_speak_the_language_the_caller_asks_for(client):
    response = client.get("/api/v1/no-such-thing", headers={"Accept-Language": "zh-HK,zh;q=0.9"})
    assert response.json["title"] == "找不到"
    assert response.headers["Content-Language"] == "zh-Hant-HK"
    # A signed-in browser's saved language does not decide for another system: only the header.
    response = client.get("/api/v1/courses?limit=0", headers={"Accept-Language": "zh-HK"})
    assert response.status_code == 422
    assert response.json["errors"] == [
        {"parameter": "limit", "detail": "請輸入 1 至 200 之間的數字。"}
    ]


def test_a_wrong_method_says_which_are_allowed(client):
    response = client.delete("/api/v1/courses")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"
    assert "GET" in response.headers["Allow"]


def test_invalid_input_names_each_field(client):
    response = client.get("/api/v1/courses?qf_level=9&skill_area=astrology&open_seats=perhaps")
    assert response.status_code == 422
    problem = response.json
    assert problem["title"] == "The request's data is not valid"
    by_parameter = {error["parameter"]: error["detail"] for error in problem["errors"]}
    assert set(by_parameter) == {"qf_level", "skill_area", "open_seats"}
    assert by_parameter["open_seats"] == "Enter true or false."
    assert by_parameter["skill_area"].startswith("Choose one of: ")


@pytest.mark.parametrize(
    "query",
    ["q=%00", "q=" + "x" * 10_000, "qf_level=99999999999999999999", "limit=-1", "cursor=%FF%FE"],
)
def test_hostile_query_strings_are_refused_with_a_reason(client, query):
    response = client.get(f"/api/v1/courses?{query}")
    assert 400 <= response.status_code < 500
    assert response.mimetype == "application/problem+json"
    assert response.json["detail"]


# Tokens and scopes ------------------------------------------------------------------------------


def test_a_request_without_a_usable_token_is_told_why(client, hr_officer):
    url = "/api/v1/enrolments"
    missing = client.get(url)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    secret = token_for(hr_officer)
    token = db.session.scalar(select(ApiToken))
    api_tokens.revoke_token(hr_officer, token)
    db.session.commit()
    revoked = client.get(url, headers=bearer(secret))
    assert revoked.status_code == 401
    assert revoked.json["detail"] == "This API token has been revoked."
    wrong = client.get(url, headers=bearer("su_" + "x" * 43))
    assert wrong.json["detail"] == "The API token is missing or not valid."


def test_the_time_a_token_was_last_used_is_kept_to_the_minute(client, hr_officer):
    secret = token_for(hr_officer)
    token = db.session.scalar(select(ApiToken))
    assert token.last_used_at is None
    first = api_tokens.authenticate(secret)
    db.session.commit()
    used_at = first.last_used_at
    assert used_at is not None
    # Within the minute: not written again.
    with recorded_statements() as statements:
        api_tokens.authenticate(secret, now=used_at + timedelta(seconds=30))
    assert not [s for s in statements if s.lstrip().upper().startswith("UPDATE")]
    later = api_tokens.authenticate(secret, now=used_at + timedelta(minutes=2))
    db.session.commit()
    assert later.last_used_at == used_at + timedelta(minutes=2)


def test_a_token_stops_when_its_creator_can_no_longer_act(client, make, hr_officer):
    secret = token_for(hr_officer)
    hr_officer.is_active = False
    db.session.commit()
    with pytest.raises(api_tokens.InvalidApiToken) as refused:
        api_tokens.authenticate(secret)
    assert "can no longer act" in str(refused.value.message)
    hr_officer.is_active = True
    hr_officer.company = make.company()
    db.session.commit()
    with pytest.raises(api_tokens.InvalidApiToken):
        api_tokens.authenticate(secret)


def test_an_expired_token_is_refused(client, hr_officer):
    secret = token_for(hr_officer)
    token = db.session.scalar(select(ApiToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    with pytest.raises(api_tokens.InvalidApiToken) as refused:
        api_tokens.authenticate(secret)
    assert str(refused.value.message) == "This API token has expired."


def test_only_a_hash_of_the_secret_is_kept(client, hr_officer):
    secret = token_for(hr_officer)
    token = db.session.scalar(select(ApiToken))
    assert secret not in (token.secret_hash, token.prefix)
    assert token.secret_hash == api_tokens.hash_secret(secret)
    assert secret.startswith(token.prefix) and len(token.prefix) == 10


# Pagination -------------------------------------------------------------------------------------


def _all_pages(client: Any, url: str, **headers: str) -> list[list[str]]:
    pages = []
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200, response.get_data(as_text=True)
        pages.append([item["code"] for item in response.json["items"]])
        cursor = response.json["next_cursor"]
        link = response.headers.get("Link")
        if cursor is None:
            assert link is None
            url = ""
        else:
            assert link.endswith('>; rel="next"') and f"cursor={cursor}" in link
            url = link[1 : link.index(">")].replace("http://skillsup.test", "")
    return pages


def test_a_list_is_read_page_by_page_with_cursors(client, make):
    codes = sorted(make.course(code=f"SU-PAG-{n:03d}").code for n in range(7))
    pages = _all_pages(client, "/api/v1/courses?limit=3&q=SU-PAG")
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [code for page in pages for code in page] == codes


def test_items_added_while_reading_are_neither_skipped_nor_repeated(client, make):
    for n in range(4):
        make.course(code=f"SU-PAG-{n:03d}")
    first = client.get("/api/v1/courses?limit=2&q=SU-PAG").json
    make.course(code="SU-PAG-999")
    second = client.get(f"/api/v1/courses?limit=10&q=SU-PAG&cursor={first['next_cursor']}").json
    seen = [item["code"] for item in first["items"] + second["items"]]
    assert len(seen) == len(set(seen)) == 5


def test_a_cursor_belongs_to_its_list_and_filters(client, make):
    for n in range(3):
        make.course(code=f"SU-PAG-{n:03d}")
    cursor = client.get("/api/v1/courses?limit=1&q=SU-PAG").json["next_cursor"]
    other_filters = client.get(f"/api/v1/courses?limit=1&q=SU-OTHER&cursor={cursor}")
    other_list = client.get(f"/api/v1/classes?limit=1&cursor={cursor}")
    forged = client.get("/api/v1/courses?limit=1&cursor=eyJhZnRlciI6LTF9")
    for response in (other_filters, other_list, forged):
        assert response.status_code == 400
        assert response.json["code"] == "invalid_cursor"


def test_a_page_costs_the_same_queries_whatever_its_size(client, make):
    for n in range(3):
        make.course(code=f"SU-QRY-{n:03d}")
    with recorded_statements() as few:
        client.get("/api/v1/classes?limit=50")
    for n in range(3, 30):
        course = make.course(code=f"SU-QRY-{n:03d}")
        make.course_class(course=course, sessions=1)
    with recorded_statements() as many:
        response = client.get("/api/v1/classes?limit=50")
    assert len(response.json["items"]) >= 27
    assert len(many) == len(few)


# ETag and If-None-Match -------------------------------------------------------------------------


def test_a_read_carries_an_etag_and_an_unchanged_one_is_not_sent_again(client, make):
    course = make.course(code="SU-ETG-001")
    url = f"/api/v1/courses/{course.code}"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert etag.startswith('"') and len(etag) > 20
    assert first.headers["Cache-Control"] == "private, no-cache"
    assert {"Authorization", "Accept-Language"} <= set(first.vary)
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    course.title_en = "Cloud Foundations, revised"
    db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.json["title_en"] == "Cloud Foundations, revised"


def test_problems_and_lists_in_another_language_have_their_own_etag(client, make):
    english = client.get("/api/v1/courses/NO-SUCH")
    assert "ETag" not in english.headers  # problems are not cached
    make.course(code="SU-ETG-002")
    first = client.get("/api/v1/courses").headers["ETag"]
    assert (
        client.get("/api/v1/courses", headers={"If-None-Match": f'W/"x", {first}'}).status_code
        == 304
    )


# The rate limit ---------------------------------------------------------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"API_RATE_LIMIT": "5 per minute", "RATELIMIT_ENABLED": True}


def test_requests_are_limited_per_caller(client, hr_officer, make):
    other_officer = make.user(role="hr", company=hr_officer.company)
    secret, other_secret = token_for(hr_officer), token_for(other_officer)
    answers = [client.get("/api/v1/courses", headers=bearer(secret)).status_code for _ in range(6)]
    assert answers == [200] * 5 + [429]
    limited = client.get("/api/v1/courses", headers=bearer(secret))
    assert limited.mimetype == "application/problem+json"
    assert limited.json["detail"] == "Too many requests. Wait a little and try again."
    assert int(limited.headers["Retry-After"]) > 0
    # Another token has its own allowance.
    assert client.get("/api/v1/courses", headers=bearer(other_secret)).status_code == 200


# The document -----------------------------------------------------------------------------------


def test_the_document_is_openapi_3_1_with_problem_details_and_token_security(client):
    document = client.get("/api/v1/openapi.json").json
    assert document["openapi"] == "3.1.0"
    assert document["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": document["components"]["securitySchemes"]["token"]["description"],
    }
    default = document["components"]["responses"]["DEFAULT_ERROR"]
    assert list(default["content"]) == ["application/problem+json"]
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":
                continue
            assert "security" in operation, f"{method} {path} says nothing of its security"
            assert "default" in operation["responses"], f"{method} {path}"
