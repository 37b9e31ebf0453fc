"""Progress and attendance through the API: the HR pages' figures, the company's rows only,
filters, pages, refusals and the queries a page costs."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    ClassStatus,
    CourseClass,
    EnrolmentStatus,
    PartnerCompany,
    User,
    utcnow,
)
from skillsup.services import api_tokens, employee_records, staff_progress

from ..factories import Factory
from ..queries import recorded_statements

P, L, A, E = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)


#: Active tokens' names are unique per company: each test token gets its own.
_TOKEN_NUMBERS = itertools.count(1)


def token(user: User, scopes: tuple[str, ...] = ("read",)) -> dict[str, str]:
    name = f"{user.email} sync {next(_TOKEN_NUMBERS)}"
    secret = api_tokens.create_token(user, name, list(scopes)).secret
    db.session.commit()
    return {"Authorization": f"Bearer {secret}"}


def mark(enrolment: Any, course_class: CourseClass, statuses: list[AttendanceStatus]) -> None:
    sessions = sorted(course_class.sessions, key=lambda s: s.starts_at)
    for session, status in zip(sessions, statuses, strict=False):
        db.session.add(Attendance(enrolment=enrolment, session=session, status=status))
    db.session.commit()


@dataclass
class World:
    company_a: PartnerCompany
    company_b: PartnerCompany
    hr_a: User
    hr_b: User
    admin: User
    amy: User
    ben: User
    carol: User
    dan: User
    running: CourseClass
    finished: CourseClass
    other: CourseClass
    draft: CourseClass
    enrolments: dict[str, int]


def build_world(make: Factory) -> World:
    """Company A's staff in a running class of six weekly sessions (four held and marked,
    the fifth begun an hour ago and not marked, the last ahead): Amy present, late, absent
    and excused (below the minimum so far, still within reach), Ben absent three times (at
    risk); Carol pending; Amy's finished class with a result; B's Dan in the running class."""
    company_a = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    company_b = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    hr_a = make.user(role="hr", company=company_a, email="hr@harbour-it.test")
    hr_b = make.user(role="hr", company=company_b, email="hr@kowloon-data.test")
    admin = make.user(role="admin", email="admin@skillsup.test")
    amy = make.user(company=company_a, email="amy@harbour-it.test", name="Amy Chan")
    ben = make.user(company=company_a, email="ben@harbour-it.test", name="Ben Lau")
    carol = make.user(company=company_a, email="carol@harbour-it.test", name="Carol Lee")
    dan = make.user(company=company_b, email="dan@kowloon-data.test", name="Dan Ho")
    course = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    now = utcnow().replace(microsecond=0)
    running = make.course_class(
        course=course,
        code="SU-CLD-101-2026A",
        sessions=6,
        first_session=now - timedelta(days=28, hours=1),
        status=ClassStatus.RUNNING,
    )
    finished = make.course_class(
        course=course,
        code="SU-CLD-101-2025B",
        sessions=2,
        first_session=now - timedelta(days=90),
        status=ClassStatus.COMPLETED,
        assessment_required=True,
    )
    other = make.course_class(course=course, code="SU-CLD-101-2026C", sessions=2)
    draft = make.course_class(course=course, code="SU-CLD-101-2027D", status=ClassStatus.DRAFT)
    amy_running = make.enrolment(running, amy)
    ben_running = make.enrolment(running, ben)
    carol_pending = make.enrolment(running, carol, EnrolmentStatus.PENDING)
    dan_running = make.enrolment(running, dan)
    amy_finished = make.enrolment(
        finished,
        amy,
        EnrolmentStatus.COMPLETED,
        result_score=Decimal("86.50"),
        result_passed=True,
        ended_at=now - timedelta(days=80),
    )
    mark(amy_running, running, [P, L, A, E])
    mark(ben_running, running, [A, A, A])
    mark(amy_finished, finished, [P, P])
    return World(
        company_a,
        company_b,
        hr_a,
        hr_b,
        admin,
        amy,
        ben,
        carol,
        dan,
        running,
        finished,
        other,
        draft,
        {
            "amy_running": amy_running.id,
            "ben_running": ben_running.id,
            "carol_pending": carol_pending.id,
            "dan_running": dan_running.id,
            "amy_finished": amy_finished.id,
        },
    )


@pytest.fixture
def world(make: Factory) -> World:
    return build_world(make)


def get(client: FlaskClient, url: str, headers: dict[str, str], status: int = 200) -> Any:
    response = client.get(url, headers=headers)
    assert response.status_code == status, response.get_data(as_text=True)
    if status >= 400:
        assert response.mimetype == "application/problem+json"
    return response.get_json()


def by_enrolment(rows: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
    return {row["enrolment_id"]: row for row in rows}


def pct(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


# ---------------------------------------------------------------------------------------------
# The figures


def test_each_row_has_the_figures_of_the_employee_record(client, world):
    rows = by_enrolment(get(client, "/api/v1/progress", token(world.hr_a))["items"])
    assert set(rows) == {
        world.enrolments[name]
        for name in ("amy_running", "ben_running", "carol_pending", "amy_finished")
    }
    now = utcnow()
    for person in (world.amy, world.ben, world.carol):
        record = employee_records.employee_record(world.hr_a, person, now=now)
        for enrolment_record in record.enrolments:
            row = rows[enrolment_record.enrolment.id]
            assert row["status"] == enrolment_record.enrolment.status.value
            standing = enrolment_record.standing
            if standing is None:
                assert row["attendance"] is None
                continue
            attendance = row["attendance"]
            assert attendance["rate_pct"] == pct(enrolment_record.attendance_rate)
            assert attendance["can_reach_minimum"] == enrolment_record.can_reach_minimum
            assert attendance["falling_behind"] == enrolment_record.falling_behind
            assert attendance["minimum_pct"] == standing.minimum_pct
            assert attendance["sessions_total"] == standing.total_sessions
            assert attendance["attended"] == standing.attended_sessions
            assert attendance["late"] == standing.late_sessions
            assert attendance["absent"] == standing.absent_sessions
            assert attendance["excused"] == standing.excused_sessions
            marks = [mark["mark"] for mark in get_marks(client, world, row)]
            assert marks == [
                m.status.value if m.status is not None else "unmarked"
                for m in enrolment_record.sessions
            ]


def get_marks(client: FlaskClient, world: World, row: dict[str, Any]) -> list[dict[str, Any]]:
    detail = get(client, f"/api/v1/progress/employees/{row['employee']['id']}", token(world.hr_a))
    return by_enrolment(detail["items"])[row["enrolment_id"]]["sessions"]


def test_the_figures_say_what_happened_in_the_class(client, world):
    rows = by_enrolment(get(client, "/api/v1/progress", token(world.hr_a))["items"])
    amy = rows[world.enrolments["amy_running"]]
    assert amy["employee"] == {
        "id": world.amy.id,
        "email": "amy@harbour-it.test",
        "name": "Amy Chan",
        "staff_number": world.amy.staff_number,
    }
    assert amy["class"]["code"] == "SU-CLD-101-2026A"
    assert amy["course"] == {
        "code": "SU-CLD-101",
        "title_en": "Cloud Foundations",
        "title_zh": "雲端基礎",
    }
    # Present, late, absent, excused; the fifth session begun and not marked; one ahead.
    assert amy["attendance"] == {
        "sessions_total": 6,
        "sessions_held": 5,
        "attended": 2,
        "late": 1,
        "absent": 1,
        "excused": 1,
        "unmarked": 1,
        "rate_pct": 66.7,  # 6 of the 9 hours marked and counted
        "rate_basis": "so_far",
        "minimum_pct": 80,
        "can_reach_minimum": True,  # 12 of 15 counted hours if she attends the rest: 80 %
        "falling_behind": True,
    }
    assert amy["completed"] is None
    ben = rows[world.enrolments["ben_running"]]["attendance"]
    assert (ben["rate_pct"], ben["can_reach_minimum"], ben["falling_behind"]) == (0.0, False, False)
    carol = rows[world.enrolments["carol_pending"]]
    assert (carol["status"], carol["attendance"], carol["completed"]) == ("pending", None, None)
    finished = rows[world.enrolments["amy_finished"]]
    assert finished["attendance"]["rate_basis"] == "final"
    assert finished["attendance"]["rate_pct"] == 100.0
    assert finished["attendance"]["can_reach_minimum"] is True
    assert (finished["result_score"], finished["result_passed"]) == ("86.50", True)
    assert (finished["assessment_required"], finished["completed"]) == (True, True)


def test_the_at_risk_rows_and_rates_agree_with_the_staff_progress_page(client, world):
    rows = get(client, "/api/v1/progress", token(world.hr_a))["items"]
    page = {row.user_id: row for row in staff_progress.staff_progress(world.hr_a)}
    for person in (world.amy, world.ben, world.carol):
        mine = [row for row in rows if row["employee"]["id"] == person.id]
        at_risk = [
            row
            for row in mine
            if row["status"] == "confirmed" and row["attendance"]["can_reach_minimum"] is False
        ]
        assert len(at_risk) == page[person.id].at_risk_classes, person.name
    # Ben's only marks are in the running class: the page's rate so far is that class's.
    ben_row = next(row for row in rows if row["employee"]["id"] == world.ben.id)
    assert ben_row["attendance"]["rate_pct"] == pct(page[world.ben.id].attendance_rate)


def test_sessions_of_a_class_carry_each_mark_and_iso_times(client, world):
    url = f"/api/v1/progress/classes/{world.running.code.lower()}"
    body = get(client, url, token(world.hr_a))
    assert body["class"]["code"] == world.running.code
    assert body["status"] == "running"
    assert (body["min_attendance_pct"], body["assessment_required"]) == (80, False)
    assert len(body["sessions"]) == 6
    assert [row["employee"]["name"] for row in body["items"]] == [
        "Amy Chan",
        "Ben Lau",
        "Carol Lee",
    ]
    amy = body["items"][0]
    assert [s["mark"] for s in amy["sessions"]] == [
        "present",
        "late",
        "absent",
        "excused",
        "unmarked",
        "unmarked",
    ]
    first = sorted(world.running.sessions, key=lambda s: s.starts_at)[0]
    assert datetime.fromisoformat(amy["sessions"][0]["starts_at"]) == first.starts_at
    assert amy["sessions"][0]["starts_at"].endswith("+00:00")
    # Company B sees its own learner in the same class, and nobody of A's.
    other = get(client, url, token(world.hr_b))
    assert [row["employee"]["name"] for row in other["items"]] == ["Dan Ho"]


def test_a_class_without_the_companys_staff_is_empty_and_a_draft_or_unknown_one_404(client, world):
    headers = token(world.hr_a)
    assert get(client, f"/api/v1/progress/classes/{world.other.code}", headers)["items"] == []
    get(client, f"/api/v1/progress/classes/{world.draft.code}", headers, 404)
    get(client, "/api/v1/progress/classes/SU-NOPE-0000", headers, 404)


def test_an_employees_classes_latest_first_and_another_companys_employee_404(client, world):
    body = get(client, f"/api/v1/progress/employees/{world.amy.id}", token(world.hr_a))
    assert body["employee"]["id"] == world.amy.id
    # Her latest request first, as on her page.
    assert [row["enrolment_id"] for row in body["items"]] == [
        world.enrolments["amy_finished"],
        world.enrolments["amy_running"],
    ]
    get(client, f"/api/v1/progress/employees/{world.dan.id}", token(world.hr_a), 404)
    get(client, f"/api/v1/progress/employees/{world.amy.id}", token(world.hr_b), 404)
    # Not an employee at all: an HR officer, or no one.
    get(client, f"/api/v1/progress/employees/{world.hr_a.id}", token(world.hr_a), 404)
    get(client, "/api/v1/progress/employees/2147483647", token(world.hr_a), 404)
    get(client, "/api/v1/progress/employees/99999999999", token(world.hr_a), 404)


def test_someone_who_has_left_keeps_their_rows_without_their_staff_number(client, world):
    world.ben.company = world.company_b
    db.session.commit()
    rows = by_enrolment(get(client, "/api/v1/progress", token(world.hr_a))["items"])
    ben = rows[world.enrolments["ben_running"]]
    assert ben["employee"]["staff_number"] is None
    assert ben["attendance"]["can_reach_minimum"] is False
    # Their page is their new company's now, without the enrolments made under A.
    get(client, f"/api/v1/progress/employees/{world.ben.id}", token(world.hr_a), 404)
    body = get(client, f"/api/v1/progress/employees/{world.ben.id}", token(world.hr_b))
    assert body["items"] == []
    assert world.enrolments["ben_running"] not in by_enrolment(
        get(client, "/api/v1/progress", token(world.hr_b))["items"]
    )


# ---------------------------------------------------------------------------------------------
# Whose rows


def test_a_company_reads_its_own_rows_and_an_admin_every_companys(client, world):
    b_rows = get(client, "/api/v1/progress", token(world.hr_b))["items"]
    assert [row["enrolment_id"] for row in b_rows] == [world.enrolments["dan_running"]]
    admin = token(world.admin)
    every = get(client, "/api/v1/progress", admin)["items"]
    assert {row["enrolment_id"] for row in every} == set(world.enrolments.values())
    only_b = get(client, "/api/v1/progress?company=kldt", admin)["items"]
    assert [row["enrolment_id"] for row in only_b] == [world.enrolments["dan_running"]]
    get(client, "/api/v1/progress?company=NOPE", admin, 404)
    # A company's token naming its own company reads it; naming another is refused as absent.
    assert get(client, "/api/v1/progress?company=KLDT", token(world.hr_b))["items"] == b_rows
    get(client, "/api/v1/progress?company=KLDT", token(world.hr_a), 404)
    get(
        client,
        f"/api/v1/progress/classes/{world.running.code}?company=KLDT",
        token(world.hr_a),
        404,
    )
    # The admin's view of one class and of one employee spans every company.
    body = get(client, f"/api/v1/progress/classes/{world.running.code}", admin)
    assert len(body["items"]) == 4
    body = get(client, f"/api/v1/progress/employees/{world.dan.id}", admin)
    assert [row["enrolment_id"] for row in body["items"]] == [world.enrolments["dan_running"]]


def test_reading_progress_needs_the_read_scope(client, world):
    headers = token(world.hr_a, ("staff:write",))
    body = get(client, "/api/v1/progress", headers, 403)
    assert body["code"] == "missing_scope"
    get(client, "/api/v1/progress", {}, 401)


# ---------------------------------------------------------------------------------------------
# Filters and pages


def test_filters(client, world):
    headers = token(world.hr_a)

    def ids(query: str) -> set[int]:
        return {
            row["enrolment_id"]
            for row in get(client, f"/api/v1/progress?{query}", headers)["items"]
        }

    e = world.enrolments
    assert ids(f"employee_id={world.amy.id}") == {e["amy_running"], e["amy_finished"]}
    assert ids(f"employee_id={world.dan.id}") == set()
    assert ids(f"class={world.finished.code.lower()}") == {e["amy_finished"]}
    assert ids("status=pending") == {e["carol_pending"]}
    assert ids("status=completed") == {e["amy_finished"]}
    running_start = world.running.starts_on.isoformat()
    assert ids(f"starts_from={running_start}") == {
        e["amy_running"],
        e["ben_running"],
        e["carol_pending"],
    }
    assert ids(f"starts_until={world.finished.starts_on.isoformat()}") == {e["amy_finished"]}
    assert ids(f"starts_from={running_start}&starts_until={running_start}&status=confirmed") == {
        e["amy_running"],
        e["ben_running"],
    }
    assert ids("starts_from=9999-12-31") == set()
    assert ids("starts_until=0001-01-01") == set()


def test_pages_follow_one_another_without_gaps_or_repeats(client, world, make):
    for n in range(5):
        person = make.user(company=world.company_a, name=f"Zed {n}")
        make.enrolment(world.other, person, EnrolmentStatus.WAITLISTED)
    headers = token(world.hr_a)
    seen: list[int] = []
    url = "/api/v1/progress?limit=3"
    pages = 0
    while url:
        response = client.get(url, headers=headers)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 3
        seen.extend(row["enrolment_id"] for row in body["items"])
        pages += 1
        if body["next_cursor"]:
            assert body["next_cursor"] in response.headers["Link"]
            url = f"/api/v1/progress?limit=3&cursor={body['next_cursor']}"
        else:
            assert "Link" not in response.headers
            url = ""
    assert pages == 3
    assert seen == sorted(seen) and len(seen) == len(set(seen)) == 9
    waitlisted = get(client, "/api/v1/progress?status=waitlisted", headers)["items"]
    assert [row["waitlist_position"] for row in waitlisted] == [1, 2, 3, 4, 5]
    # A cursor is bound to its list's filters.
    first = get(client, "/api/v1/progress?limit=3", headers)
    body = get(
        client,
        f"/api/v1/progress?limit=3&status=confirmed&cursor={first['next_cursor']}",
        headers,
        400,
    )
    assert body["code"] == "invalid_cursor"


# ---------------------------------------------------------------------------------------------
# Refusals


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("status=graduated", "status"),
        ("starts_from=2026-02-30", "starts_from"),
        ("starts_until=yesterday", "starts_until"),
        ("employee_id=99999999999999999999", "employee_id"),
        ("employee_id=0", "employee_id"),
        ("employee_id=abc", "employee_id"),
        ("class=" + "X" * 10_000, "class"),
        ("company=" + "C" * 10_000, "company"),
        ("limit=0", "limit"),
        ("limit=201", "limit"),
    ],
)
def test_invalid_filters_are_refused_with_what_is_wrong(client, world, query, parameter):
    body = get(client, f"/api/v1/progress?{query}", token(world.hr_a), 422)
    assert [error["parameter"] for error in body["errors"]] == [parameter]


def test_control_characters_and_a_bad_cursor_are_refused(client, world):
    headers = token(world.hr_a)
    get(client, "/api/v1/progress?class=SU%00CLD", headers, 400)
    get(client, "/api/v1/progress/classes/SU-CLD%00", headers, 400)
    assert get(client, "/api/v1/progress?cursor=bm90LWEtY3Vyc29y", headers, 400)["code"] == (
        "invalid_cursor"
    )
    get(client, f"/api/v1/progress/classes/{'X' * 10_000}", headers, 404)


def test_problems_are_in_chinese_when_asked(client, world):
    headers = {**token(world.hr_a), "Accept-Language": "zh-HK"}
    body = get(client, "/api/v1/progress?starts_from=2026-02-30&limit=500", headers, 422)
    assert body["title"] == "請求的資料無效"
    details = {error["parameter"]: error["detail"] for error in body["errors"]}
    assert details == {
        "starts_from": "請以 YYYY-MM-DD 格式輸入日期。",
        "limit": "請輸入 1 至 200 之間的數字。",
    }
    body = get(client, f"/api/v1/progress/employees/{world.dan.id}", headers, 404)
    assert body["detail"] == "此網址沒有內容，或此權杖無權查看。"
    body = get(client, "/api/v1/progress?class=" + "X" * 41, headers, 422)
    assert body["errors"][0]["detail"] == "最多只可輸入 40 個字元。"


# ---------------------------------------------------------------------------------------------
# Queries


def _grow(make: Factory, world: World, count: int) -> None:
    """``count`` more of A's staff, each in the running and the other class, with marks, and
    as many more classes of Amy's."""
    for n in range(count):
        extra_class = make.course_class(
            sessions=2, first_session=utcnow() - timedelta(days=7), status=ClassStatus.RUNNING
        )
        mark(make.enrolment(extra_class, world.amy), extra_class, [L])
        person = make.user(company=world.company_a, name=f"Extra {n}")
        enrolment = make.enrolment(world.running, person)
        mark(enrolment, world.running, [P, A])
        make.enrolment(world.other, person, EnrolmentStatus.WAITLISTED)
        make.enrolment(world.finished, person, EnrolmentStatus.NOT_COMPLETED)


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/progress?limit=200",
        "/api/v1/progress/classes/SU-CLD-101-2026A",
        "/api/v1/progress/employees/{amy}",
    ],
)
def test_the_queries_do_not_grow_with_the_rows(client, world, make, url):
    headers = token(world.hr_a)
    url = url.format(amy=world.amy.id)
    _grow(make, world, 1)  # every kind of row there from the start (a waitlist, say)
    client.get(url, headers=headers)  # the token's first use is written down once

    def queries() -> int:
        with recorded_statements() as statements:
            assert client.get(url, headers=headers).status_code == 200
        return len(statements)

    few = queries()
    _grow(make, world, 2)
    some = queries()
    _grow(make, world, 12)
    assert queries() == some == few
    assert few <= 12
