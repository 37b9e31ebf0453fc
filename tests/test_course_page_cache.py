"""A course's page, kept as the catalogue's results are (CATALOGUE_CACHE_SECONDS), under
everything the page shows and until its classes' enrolment next opens or closes: whole for
visitors who are not signed in; for signed-in readers all but what each may do in each class,
which is worked out for them afresh."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine

from skillsup.extensions import db
from skillsup.models import (
    ClassSession,
    ClassStatus,
    CourseStatus,
    EnrolmentStatus,
    FundingPayee,
    FundingScheme,
    utcnow,
)
from skillsup.services import caching, catalogue, enrolment

from .queries import recorded_statements

KEPT = {"CATALOGUE_CACHE_SECONDS": 60}


@pytest.fixture
def app_config() -> dict[str, Any]:
    return KEPT


@pytest.fixture
def kept(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """The keys and times of what is kept."""
    seen: list[tuple[str, int]] = []
    original = caching.keep

    def spy(key: str, value: Any, seconds: int) -> None:
        seen.append((key, seconds))
        original(key, value, seconds)

    monkeypatch.setattr(caching, "keep", spy)
    return seen


@pytest.fixture(params=["visitor", "learner"])
def reader(request: pytest.FixtureRequest, login_as: Any, learner: Any) -> str:
    """Who reads the page: a visitor who is not signed in, or a signed-in learner."""
    if request.param == "learner":
        login_as(learner)
    return str(request.param)


def content(body: str) -> str:
    """The part of the page that is kept: from the breadcrumb to the end of the article."""
    match = re.search(r'<p class="breadcrumb">.*</article>', body, re.S)
    assert match, body
    return match.group(0)


def page(client: Any, code: str, **headers: str) -> str:
    response = client.get(f"/courses/{code}", headers=headers)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_second_visit_reads_the_course_and_the_version_of_its_page_only(client, make, kept):
    course = make.course(title_en="Cloud Foundations")
    make.course_class(course=course, sessions=3, trainers=[make.user(role="trainer")])
    code = course.code
    first = page(client, code)
    with recorded_statements() as statements:
        second = page(client, code)
    assert "Cloud Foundations" in second and "Log in to enrol" in second
    assert content(second) == content(first)
    assert len(statements) == 2, "\n\n".join(statements)  # the course, what its page shows
    assert len(kept) == 1 and kept[0][0].startswith("course-page:en:")


def test_what_the_page_shows_is_the_same_as_without_the_cache(app, client, make):
    course = make.course(title_en="Cloud Foundations")
    make.course_class(course=course, sessions=3, capacity=2)
    kept_body = page(client, course.code)
    app.config["CATALOGUE_CACHE_SECONDS"] = 0
    assert page(client, course.code) == kept_body


def test_a_change_to_the_course_or_a_class_shows_at_once(client, make, reader):
    course = make.course(title_en="Cloud Foundations")
    course_class = make.course_class(course=course, sessions=1, venue="Tsing Yi, room 301")
    page(client, course.code)

    course.title_en = "Cloud Foundations, revised"
    db.session.commit()
    assert "Cloud Foundations, revised" in page(client, course.code)

    course_class.venue = "Kwun Tong, room 12"
    db.session.commit()
    assert "Kwun Tong, room 12" in page(client, course.code)

    make.course_class(course=course, code="CLD-NEW", sessions=1)
    db.session.commit()
    assert "CLD-NEW" in page(client, course.code)


def test_a_seat_taken_shows_at_once(client, make, reader):
    course = make.course()
    course_class = make.course_class(course=course, sessions=1, capacity=2)
    assert "2 seats left" in page(client, course.code)

    # The enrolment service's own conditional UPDATE, as a request to enrol runs it.
    assert enrolment.take_seat(course_class.id) == 1
    db.session.commit()
    assert "1 seat left" in page(client, course.code)

    enrolment.take_seat(course_class.id)
    db.session.commit()
    assert "Full: waitlist open" in page(client, course.code)

    enrolment.give_back_seat(course_class.id)
    db.session.commit()
    assert "1 seat left" in page(client, course.code)


def test_a_change_to_a_session_shows_at_once(client, make, reader):
    course = make.course()
    course_class = make.course_class(course=course, sessions=2)
    assert "2 sessions" in page(client, course.code)

    begins = course_class.sessions[-1].starts_at + timedelta(days=7)
    course_class.sessions.append(
        ClassSession(starts_at=begins, ends_at=begins + timedelta(hours=3))
    )
    db.session.commit()
    assert "3 sessions" in page(client, course.code)

    course_class.sessions[0].is_cancelled = True
    db.session.commit()
    assert "2 sessions" in page(client, course.code)

    first = course_class.sessions[1]
    first.starts_at += timedelta(hours=8)
    first.ends_at += timedelta(hours=8)
    db.session.commit()
    assert "19:00" in page(client, course.code)


def test_a_change_to_trainers_schemes_or_prerequisites_shows_at_once(client, make, reader):
    course = make.course()
    course_class = make.course_class(course=course, sessions=1)
    body = page(client, course.code)
    assert "To be announced" in body

    trainer = make.user(role="trainer", name="Winnie Lau")
    course_class.trainers.append(trainer)
    db.session.commit()
    assert "Winnie Lau" in page(client, course.code)

    trainer.name = "Winnie Lau Wing-yan"
    db.session.commit()
    assert "Winnie Lau Wing-yan" in page(client, course.code)

    scheme = FundingScheme(
        code="CEF", name_en="Continuing Education Fund", paid_to=FundingPayee.LEARNER
    )
    course.funding_schemes.append(scheme)
    db.session.commit()
    assert "Continuing Education Fund" in page(client, course.code)

    scheme.name_en = "Continuing Education Fund (CEF)"
    db.session.commit()
    assert "Continuing Education Fund (CEF)" in page(client, course.code)

    prerequisite = make.course(code="SU-NET-101", title_en="Networking Basics")
    course.prerequisites.append(prerequisite)
    db.session.commit()
    assert "Networking Basics" in page(client, course.code)

    prerequisite.title_en = "Networking Essentials"
    db.session.commit()
    assert "Networking Essentials" in page(client, course.code)


@pytest.mark.hong_kong_day
def test_the_page_turns_when_enrolment_opens_and_closes(client, make, kept):
    now = utcnow().replace(microsecond=0)
    course = make.course()
    make.course_class(
        course=course,
        sessions=1,
        enrolment_opens_at=now + timedelta(seconds=20),
        enrolment_closes_at=now + timedelta(seconds=40),
    )
    db.session.commit()
    code = course.code
    with time_machine.travel(now, tick=False):
        body = page(client, code)
        assert "Enrolment opens on" in body and "Log in to enrol" not in body
    # Kept no longer than until it opens, though the setting says 60 seconds.
    assert kept[-1][1] == 20
    with time_machine.travel(now + timedelta(seconds=19), tick=False):
        assert "Enrolment opens on" in page(client, code)
    with time_machine.travel(now + timedelta(seconds=20), tick=False):
        body = page(client, code)
        assert "Log in to enrol" in body and "Enrolment opens on" not in body
    assert kept[-1][1] == 20
    with time_machine.travel(now + timedelta(seconds=41), tick=False):
        body = page(client, code)
        assert "Enrolment closed on" in body and "Log in to enrol" not in body
    # Nothing is to come for a closed class but its last session's end, a month away.
    assert kept[-1][1] == 60


def test_the_page_turns_when_the_last_session_ends(client, make):
    now = utcnow().replace(microsecond=0)
    course = make.course()
    make.course_class(
        course=course,
        sessions=1,
        code="CLD-RUNNING",
        first_session=now - timedelta(hours=1),
        # Running: shown whatever the day it started on.
        status=ClassStatus.RUNNING,
    )
    db.session.commit()
    with time_machine.travel(now, tick=False):
        body = page(client, course.code)
        assert "CLD-RUNNING" in body and "last session ended" not in body
    with time_machine.travel(now + timedelta(hours=2), tick=False):
        assert "last session ended" in page(client, course.code)


def test_each_language_is_kept_apart(client, make):
    course = make.course(title_en="Cloud Foundations", title_zh="雲端基礎")
    make.course_class(course=course, sessions=1)
    english = page(client, course.code)
    chinese = page(client, course.code, **{"Accept-Language": "zh-HK"})
    assert "Cloud Foundations" in content(english) and "登入以報名" not in english
    assert "雲端基礎" in content(chinese) and "登入以報名" in chinese
    assert content(page(client, course.code)) == content(english)


def test_signed_in_readers_never_get_the_visitors_page(client, make, kept, login_as, learner):
    course = make.course(title_en="Cloud Foundations")
    make.course_class(course=course, sessions=1)
    assert "Log in to enrol" in page(client, course.code)
    assert len(kept) == 1

    login_as(learner)
    body = page(client, course.code)
    assert "Log in to enrol" not in body
    assert 'name="csrf_token"' in content(body) and ">Enrol" in body
    # Kept under a key of its own, without the actions.
    assert len(kept) == 2 and kept[1][0].startswith("course-page-shared:en:")


def without_tokens(body: str) -> str:
    return re.sub(r'name="csrf[-_]token" (content|value)="[^"]*"', "", body)


def test_a_signed_in_reader_gets_the_same_page_as_without_the_cache(app, client, make, login_as):
    course = make.course(title_en="Cloud Foundations")
    prerequisite = make.course(code="SU-NET-101", title_en="Networking Basics")
    course.prerequisites.append(prerequisite)
    trainer = make.user(role="trainer", name="Winnie Lau")
    make.course_class(course=course, code="CLD-A", sessions=2, trainers=[trainer])
    make.course_class(course=course, code="CLD-B", sessions=2, capacity=1)
    taken = make.course_class(course=course, code="CLD-C", sessions=2)
    make.enrolment(learner=make.user(role="learner"), course_class=taken)
    completed = make.user(role="learner", name="Ada Completed")
    make.enrolment(
        learner=completed,
        course_class=make.course_class(course=prerequisite, code="NET-OLD", sessions=1),
        status=EnrolmentStatus.COMPLETED,
    )
    db.session.commit()
    for reader in (make.user(role="learner"), completed):
        login_as(reader)
        page(client, course.code)  # keeps the shared part
        kept_body = page(client, course.code)
        app.config["CATALOGUE_CACHE_SECONDS"] = 0
        assert without_tokens(page(client, course.code)) == without_tokens(kept_body)
        app.config["CATALOGUE_CACHE_SECONDS"] = 60
        client.post("/logout")


def test_a_signed_in_second_visit_reads_only_what_the_reader_may_do(client, make, login_as):
    course = make.course(title_en="Cloud Foundations")
    prerequisite = make.course(code="SU-NET-101", title_en="Networking Basics")
    course.prerequisites.append(prerequisite)
    trainer = make.user(role="trainer", name="Winnie Lau")
    make.course_class(course=course, sessions=3, trainers=[trainer])
    make.course_class(course=course, sessions=3)
    db.session.commit()
    login_as(make.user(role="learner"))
    code = course.code
    with recorded_statements() as first:
        page(client, code)
    with recorded_statements() as second:
        body = page(client, code)
    assert "Winnie Lau" in body and "Networking Basics" in body
    # Neither the trainers nor the course's schemes are read again, only the version of
    # what the page shows (one statement that names them all).
    read = [s for s in second if "union all" not in s.lower()]
    assert not any("class_trainers" in s or "course_funding_schemes" in s for s in read), (
        "\n\n".join(read)
    )
    assert len(second) <= len(first) - 3, "\n\n".join(second)


def test_each_signed_in_reader_gets_their_own_actions(client, make, login_as):
    course = make.course(title_en="Cloud Foundations")
    mine = make.course_class(course=course, code="CLD-MINE", sessions=1)
    make.course_class(course=course, code="CLD-OTHER", sessions=1)
    enrolled = make.user(role="learner", name="Ada Enrolled")
    make.enrolment(learner=enrolled, course_class=mine)
    db.session.commit()

    login_as(enrolled)
    first = page(client, course.code)
    client.post("/logout")
    login_as(make.user(role="learner", name="Ben Newcomer"))
    second = page(client, course.code)

    def action(body: str, code: str) -> str:
        match = re.search(
            rf"<h3>{code}</h3>.*?<div class=\"offer-action\">(.*?)</div>\s*</li>", body, re.S
        )
        assert match, body
        return match.group(1)

    def enrol_form(code: str) -> str:
        return f'action="/classes/{code}/enrol"'

    assert "You: Confirmed" in action(first, "CLD-MINE")
    assert enrol_form("CLD-MINE") not in first
    # The two classes meet at the same times: a clash for the one, nothing for the other.
    assert "clash with your class CLD-MINE" in action(first, "CLD-OTHER")
    assert "You:" not in second
    assert enrol_form("CLD-MINE") in action(second, "CLD-MINE")
    assert enrol_form("CLD-OTHER") in action(second, "CLD-OTHER")
    assert "<!--offer-action" not in first + second


def test_a_draft_or_unknown_course_is_not_found_and_never_kept(client, make, kept, login_as, admin):
    draft = make.course(title_en="Secret Plans", status=CourseStatus.DRAFT)
    make.course_class(course=draft, sessions=1)
    assert client.get(f"/courses/{draft.code}").status_code == 404
    assert client.get("/courses/SU-NOPE-999").status_code == 404
    assert kept == []

    login_as(admin)
    assert "Secret Plans" in page(client, draft.code)
    client.post("/logout")
    assert client.get(f"/courses/{draft.code}").status_code == 404

    draft.status = CourseStatus.PUBLISHED
    db.session.commit()
    assert "Secret Plans" in page(client, draft.code)
    draft.status = CourseStatus.DRAFT
    db.session.commit()
    assert client.get(f"/courses/{draft.code}").status_code == 404


@pytest.mark.parametrize(
    "app_config",
    [{**KEPT, "CACHE_URL": "redis://127.0.0.1:1/0"}],  # nothing listens there
)
def test_the_page_is_rendered_when_the_cache_is_unreachable(client, make, caplog):
    course = make.course(title_en="Cloud Foundations")
    assert "Cloud Foundations" in page(client, course.code)
    assert "cache unavailable" in caplog.text


@pytest.mark.parametrize("app_config", [{"CATALOGUE_CACHE_SECONDS": 0}])
def test_with_no_cache_time_nothing_is_kept(client, make, kept):
    course = make.course(title_en="Cloud Foundations")
    with recorded_statements() as statements:
        assert "Cloud Foundations" in page(client, course.code)
    assert kept == []
    assert not any("union all" in s.lower() for s in statements)


def test_the_version_moves_with_a_seat_and_keeps_still_otherwise(app, make):
    course = make.course()
    course_class = make.course_class(course=course, sessions=2)
    db.session.commit()
    before = catalogue.course_page_version(course)
    assert catalogue.course_page_version(course) == before
    enrolment.take_seat(course_class.id)
    db.session.commit()
    assert catalogue.course_page_version(course) != before


def test_text_kept_until_a_moment_is_served_only_before_it(app):
    now = utcnow()
    made: list[str] = []

    def make_text() -> tuple[str, Any]:
        made.append("again")
        return f"text {len(made)}", now + timedelta(seconds=30)

    assert caching.kept_text_until(lambda: "k", 60, make_text, now=now) == "text 1"
    assert caching.kept_text_until(lambda: "k", 60, make_text, now=now) == "text 1"
    later = now + timedelta(seconds=30)
    assert caching.kept_text_until(lambda: "k", 60, make_text, now=later) == "text 2"
    # Text that no longer holds when it is made is not kept.
    assert caching.kept_text_until(lambda: "k2", 60, lambda: ("past", now), now=later) == "past"
    assert caching.cached("k2") is None
