"""Certificates through the API: the company's own, each in the state the pages give it, the
filters and pages, and the public check that says what the verification page says."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from flask import url_for
from flask.testing import FlaskClient

from skillsup.extensions import db
from skillsup.models import (
    Certificate,
    ClassStatus,
    Course,
    EnrolmentStatus,
    PartnerCompany,
    User,
)
from skillsup.services import api_tokens, certificate_expiry, employee_records
from skillsup.timeutil import today_hk

from ..factories import Factory, hk_datetime
from ..queries import recorded_statements


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    return getattr(request, "param", {})


#: Active tokens' names are unique per company: each test token gets its own.
_TOKEN_NUMBERS = itertools.count(1)


def token(user: User, scopes: tuple[str, ...] = ("read",)) -> dict[str, str]:
    name = f"{user.email} sync {next(_TOKEN_NUMBERS)}"
    secret = api_tokens.create_token(user, name, list(scopes)).secret
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def get(
    client: FlaskClient, url: str, headers: dict[str, str] | None = None, status: int = 200
) -> Any:
    response = client.get(url, headers=headers or {})
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == "application/problem+json"
    return response.get_json()


_serials = iter(range(1, 10_000))


def certificate(
    make: Factory,
    learner: User,
    course: Course,
    *,
    issued_at: datetime,
    expires_on: date | None = None,
    revoked_at: datetime | None = None,
) -> Certificate:
    course_class = make.course_class(course=course, status=ClassStatus.COMPLETED)
    enrolment = make.enrolment(course_class, learner, EnrolmentStatus.COMPLETED)
    made = Certificate(
        enrolment_id=enrolment.id,
        serial_number=f"SU-2030-{next(_serials):06d}",
        verification_code=secrets.token_urlsafe(24),
        issued_at=issued_at,
        expires_on=expires_on,
        revoked_at=revoked_at,
    )
    db.session.add(made)
    db.session.commit()
    return made


@dataclass
class World:
    company_a: PartnerCompany
    company_b: PartnerCompany
    hr_a: User
    hr_b: User
    admin: User
    amy: User
    ben: User
    dan: User
    cloud: Course
    privacy: Course
    certificates: dict[str, Certificate]


def build_world(make: Factory) -> World:
    """Amy (A) holds a cloud certificate that never expires, issued late on 1 March 2030 (Hong
    Kong), and privacy ones issued just after midnight on 2 March: one expiring, one expired,
    one revoked and one valid for long. Ben (A) has one and has since moved to B; Dan (B) has
    one."""
    company_a = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    hr_a = make.user(role="hr", company=company_a, email="hr@harbour-it.test")
    hr_b = make.user(role="hr", company=company_b, email="hr@kowloon-data.test")
    admin = make.user(role="admin", email="admin@skillsup.test")
    amy = make.user(company=company_a, email="amy@harbour-it.test", name="Amy Chan")
    ben = make.user(company=company_a, email="ben@harbour-it.test", name="Ben Lau")
    dan = make.user(company=company_b, email="dan@kowloon-data.test", name="Dan Ho")
    cloud = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    privacy = make.course(
        code="SU-PRV-201", title_en="Data Privacy Compliance", certificate_valid_months=12
    )
    today = today_hk()
    late_on_1_march = hk_datetime(2030, 3, 1, 23, 30)
    early_on_2_march = hk_datetime(2030, 3, 2, 0, 30)
    made = {
        "never": certificate(make, amy, cloud, issued_at=late_on_1_march),
        "expiring": certificate(
            make, amy, privacy, issued_at=early_on_2_march, expires_on=today + timedelta(days=30)
        ),
        "expired": certificate(
            make, amy, privacy, issued_at=early_on_2_march, expires_on=today - timedelta(days=3)
        ),
        "revoked": certificate(
            make,
            amy,
            privacy,
            issued_at=early_on_2_march,
            expires_on=today + timedelta(days=200),
            revoked_at=datetime(2030, 6, 1, 4, 0, tzinfo=UTC),
        ),
        "long": certificate(
            make, amy, privacy, issued_at=early_on_2_march, expires_on=today + timedelta(days=400)
        ),
        "ben": certificate(make, ben, cloud, issued_at=early_on_2_march),
        "dan": certificate(make, dan, cloud, issued_at=early_on_2_march),
    }
    ben.company = company_b
    db.session.commit()
    return World(company_a, company_b, hr_a, hr_b, admin, amy, ben, dan, cloud, privacy, made)


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def ids(rows: list[dict[str, Any]]) -> list[int]:
    return [row["id"] for row in rows]


def named(world: World, *names: str) -> list[int]:
    return sorted(world.certificates[name].id for name in names)


A_CERTIFICATES = ("never", "expiring", "expired", "revoked", "long", "ben")


# ---------------------------------------------------------------------------------------------
# The list and one certificate


def test_each_certificate_stands_as_the_pages_say(client, world):
    rows = get(client, "/api/v1/certificates", token(world.hr_a))["items"]
    assert ids(rows) == named(world, *A_CERTIFICATES)
    by_id = {row["id"]: row for row in rows}
    # Amy's page gives each of her certificates the same state and days.
    record = employee_records.employee_record(world.hr_a, world.amy)
    held = [r.certificate for r in record.enrolments if r.certificate is not None]
    page_validities = certificate_expiry.validities(held)
    assert set(page_validities) == {
        world.certificates[name].id for name in ("never", "expiring", "expired", "revoked", "long")
    }
    for certificate_id, validity in page_validities.items():
        row = by_id[certificate_id]
        assert row["state"] == validity.state.value
        assert row["expires_on"] == (
            validity.expires_on.isoformat() if validity.expires_on else None
        )
        assert row["valid_until"] == (
            validity.valid_until.isoformat() if validity.valid_until else None
        )
    assert {row["state"] for row in rows} == {"valid", "expiring", "expired", "revoked"}
    # The certificates to renew page lists those of its staff that are expiring or expired.
    to_renew = certificate_expiry.certificates_to_renew(world.hr_a)
    assert sorted(row.certificate.id for row in to_renew) == sorted(
        row["id"] for row in rows if row["state"] in ("expiring", "expired")
    )


def test_a_certificate_says_who_what_when_and_where_to_check_it(client, world):
    expiring = world.certificates["expiring"]
    body = get(client, f"/api/v1/certificates/{expiring.id}", token(world.hr_a))
    assert body == {
        "id": expiring.id,
        "serial_number": expiring.serial_number,
        "issued_at": "2030-03-01T16:30:00+00:00",
        "revoked_at": None,
        "expires_on": (today_hk() + timedelta(days=30)).isoformat(),
        "valid_until": (today_hk() + timedelta(days=29)).isoformat(),
        "state": "expiring",
        "employee": {
            "id": world.amy.id,
            "email": "amy@harbour-it.test",
            "name": "Amy Chan",
            "staff_number": world.amy.staff_number,
        },
        "class": body["class"],
        "course": {
            "code": "SU-PRV-201",
            "title_en": "Data Privacy Compliance",
            "title_zh": body["course"]["title_zh"],
        },
        "verification_url": url_for(
            "certificates.verify", code=expiring.verification_code, _external=True
        ),
    }
    assert body["class"]["code"] == expiring.enrolment.course_class.code
    revoked = get(
        client, f"/api/v1/certificates/{world.certificates['revoked'].id}", token(world.hr_a)
    )
    assert (revoked["state"], revoked["revoked_at"]) == ("revoked", "2030-06-01T04:00:00+00:00")
    # The address leads to the public page of that certificate.
    page = client.get(body["verification_url"].removeprefix("http://skillsup.test"))
    assert page.status_code == 200
    assert expiring.serial_number in page.get_data(as_text=True)


def test_another_companys_certificate_is_not_there(client, world):
    dan, amys = world.certificates["dan"], world.certificates["never"]
    get(client, f"/api/v1/certificates/{dan.id}", token(world.hr_a), status=404)
    get(client, f"/api/v1/certificates/{amys.id}", token(world.hr_b), status=404)
    get(client, "/api/v1/certificates/2147483647", token(world.hr_a), status=404)
    get(client, "/api/v1/certificates/99999999999", token(world.hr_a), status=404)
    # Ben's certificate stays with the company he earned it under, not the one he works for.
    get(
        client,
        f"/api/v1/certificates/{world.certificates['ben'].id}",
        token(world.hr_b),
        status=404,
    )
    ben = get(client, f"/api/v1/certificates/{world.certificates['ben'].id}", token(world.hr_a))
    assert ben["employee"]["staff_number"] is None
    assert ids(get(client, "/api/v1/certificates", token(world.hr_b))["items"]) == named(
        world, "dan"
    )


def test_an_admin_reads_every_companys_or_one(client, world):
    admin = token(world.admin)
    assert ids(get(client, "/api/v1/certificates", admin)["items"]) == sorted(
        c.id for c in world.certificates.values()
    )
    assert ids(get(client, "/api/v1/certificates?company=KLDT", admin)["items"]) == named(
        world, "dan"
    )
    get(client, "/api/v1/certificates?company=NOPE", admin, status=404)
    get(client, "/api/v1/certificates?company=KLDT", token(world.hr_a), status=404)
    body = get(client, f"/api/v1/certificates/{world.certificates['dan'].id}", admin)
    assert body["verification_url"].endswith(world.certificates["dan"].verification_code)


def test_reading_certificates_needs_the_read_scope(client, world):
    body = get(client, "/api/v1/certificates", token(world.hr_a, ("enrolments:write",)), status=403)
    assert body["code"] == "missing_scope"
    get(client, "/api/v1/certificates", status=401)
    get(client, f"/api/v1/certificates/{world.certificates['never'].id}", status=401)


# ---------------------------------------------------------------------------------------------
# Filters and pages


def test_filters(client, world):
    headers = token(world.hr_a)

    def found(query: str) -> list[int]:
        return ids(get(client, f"/api/v1/certificates?{query}", headers)["items"])

    assert found(f"employee_id={world.amy.id}") == named(
        world, "never", "expiring", "expired", "revoked", "long"
    )
    assert found(f"employee_id={world.dan.id}") == []
    assert found("course=su-cld-101") == named(world, "never", "ben")
    assert found("course=SU-NOPE-999") == []
    assert found("state=valid") == named(world, "never", "long", "ben")
    assert found("state=expiring") == named(world, "expiring")
    assert found("state=expired") == named(world, "expired")
    assert found("state=revoked") == named(world, "revoked")
    # Days are Hong Kong days: 23:30 on 1 March is 1 March, 00:30 on 2 March is 2 March.
    assert found("issued_until=2030-03-01") == named(world, "never")
    assert found("issued_from=2030-03-02") == named(
        world, "expiring", "expired", "revoked", "long", "ben"
    )
    assert found("issued_from=2030-03-01&issued_until=2030-03-01") == named(world, "never")
    assert found("issued_from=2030-03-03") == []
    assert found("issued_from=0001-01-01&issued_until=9999-12-31") == named(world, *A_CERTIFICATES)
    assert found("issued_from=9999-12-31") == []
    assert found("issued_until=0001-01-01") == []
    assert found(f"state=valid&course=SU-PRV-201&employee_id={world.amy.id}") == named(
        world, "long"
    )


def test_pages_follow_one_another_and_a_cursor_keeps_to_its_filters(client, world):
    headers = token(world.hr_a)
    seen: list[int] = []
    url = "/api/v1/certificates?limit=4"
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        seen.extend(ids(body["items"]))
        url = (
            f"/api/v1/certificates?limit=4&cursor={body['next_cursor']}"
            if body["next_cursor"]
            else ""
        )
        assert ("Link" in response.headers) == bool(url)
    assert seen == named(world, *A_CERTIFICATES)
    first = get(client, "/api/v1/certificates?limit=2", headers)
    body = get(
        client,
        f"/api/v1/certificates?limit=2&state=valid&cursor={first['next_cursor']}",
        headers,
        400,
    )
    assert body["code"] == "invalid_cursor"


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("state=lapsed", "state"),
        ("issued_from=2030-02-30", "issued_from"),
        ("issued_until=10000-01-01", "issued_until"),
        ("employee_id=99999999999999999999", "employee_id"),
        ("employee_id=-1", "employee_id"),
        ("course=" + "C" * 10_000, "course"),
        ("limit=1000", "limit"),
    ],
)
def test_invalid_filters_are_refused_with_what_is_wrong(client, world, query, parameter):
    body = get(client, f"/api/v1/certificates?{query}", token(world.hr_a), status=422)
    assert [error["parameter"] for error in body["errors"]] == [parameter]


def test_control_characters_are_refused_and_problems_come_in_chinese(client, world):
    headers = {**token(world.hr_a), "Accept-Language": "zh-HK"}
    body = get(client, "/api/v1/certificates?course=SU%00CLD", headers, status=400)
    assert "NUL" in body["detail"]
    body = get(client, "/api/v1/certificates?state=lapsed", headers, status=422)
    assert body["title"] == "請求的資料無效"
    assert body["errors"][0]["detail"].startswith("請從以下選項中選擇")
    body = get(client, f"/api/v1/certificates/{world.certificates['dan'].id}", headers, status=404)
    assert body["detail"] == "此網址沒有內容，或此權杖無權查看。"


def test_the_queries_do_not_grow_with_the_certificates(client, world, make):
    headers = token(world.hr_a)
    url = "/api/v1/certificates?limit=200"
    client.get(url, headers=headers)  # the token's first use is written down once

    def queries() -> int:
        with recorded_statements() as statements:
            assert client.get(url, headers=headers).status_code == 200
        return len(statements)

    few = queries()
    for n in range(15):
        person = make.user(company=world.company_a, name=f"Extra {n}")
        certificate(
            make, person, world.privacy, issued_at=hk_datetime(2030, 4, 1), expires_on=today_hk()
        )
    assert queries() == few <= 4


# ---------------------------------------------------------------------------------------------
# The public check


CHECK_FIELDS = {
    "state",
    "serial_number",
    "holder_name",
    "course",
    "qf_level",
    "qf_credits",
    "completed_on",
    "valid_until",
    "expires_on",
    "revoked_on",
}


def test_anyone_checks_a_certificate_and_learns_what_its_public_page_says(client, world):
    expiring = world.certificates["expiring"]
    body = get(client, f"/api/v1/certificates/verify/{expiring.verification_code}")
    assert set(body) == CHECK_FIELDS
    assert body == {
        "state": "valid",  # expiring soon is the company's business, not the public's
        "serial_number": expiring.serial_number,
        "holder_name": "Amy Chan",
        "course": {
            "code": "SU-PRV-201",
            "title_en": "Data Privacy Compliance",
            "title_zh": world.privacy.title_zh,
        },
        "qf_level": world.privacy.qf_level,
        "qf_credits": world.privacy.qf_credits,
        "completed_on": "2030-03-02",
        "valid_until": (today_hk() + timedelta(days=29)).isoformat(),
        "expires_on": (today_hk() + timedelta(days=30)).isoformat(),
        "revoked_on": None,
    }
    page = client.get(f"/verify/{expiring.verification_code}").get_data(as_text=True)
    for shown in (expiring.serial_number, "Amy Chan", "Data Privacy Compliance"):
        assert shown in page
    # Nothing about the holder beyond their name: no address, staff number or id.
    text = str(body)
    for private in ("amy@harbour-it.test", world.amy.staff_number or "-", "employee", "'id'"):
        assert private not in text


def test_an_expired_or_withdrawn_certificate_says_so(client, world):
    expired = get(
        client, f"/api/v1/certificates/verify/{world.certificates['expired'].verification_code}"
    )
    assert expired["state"] == "expired"
    assert expired["expires_on"] == (today_hk() - timedelta(days=3)).isoformat()
    revoked = get(
        client,
        f"/api/v1/certificates/verify/{world.certificates['revoked'].verification_code}",
        token(world.hr_b),
    )
    assert (revoked["state"], revoked["revoked_on"]) == ("revoked", "2030-06-01")
    never = get(
        client, f"/api/v1/certificates/verify/{world.certificates['never'].verification_code}"
    )
    assert (never["state"], never["valid_until"], never["expires_on"]) == ("valid", None, None)


@pytest.mark.parametrize(
    "code",
    ["A" * 32, "short", "X" * 10_000, "not.a-code-at-all-but-long-enough", "%E9%9B%B2" * 8],
)
def test_an_unknown_or_impossible_code_is_not_there(client, world, code):
    body = get(client, f"/api/v1/certificates/verify/{code}", status=404)
    assert body["status"] == 404


def test_a_code_with_control_characters_is_refused(client, world):
    get(client, "/api/v1/certificates/verify/abc%00defghijklmnopq", status=400)


@pytest.mark.parametrize("app_config", [{"API_RATE_LIMIT": "3 per minute"}], indirect=True)
def test_the_public_check_is_rate_limited_like_the_rest(client, world):
    url = f"/api/v1/certificates/verify/{world.certificates['never'].verification_code}"
    for _attempt in range(3):
        get(client, url)
    body = get(client, url, status=429)
    assert body["status"] == 429
