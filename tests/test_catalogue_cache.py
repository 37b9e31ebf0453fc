"""The catalogue's results kept rendered for a while (CATALOGUE_CACHE_SECONDS)."""

from __future__ import annotations

import re

import pytest

from skillsup.extensions import db
from skillsup.services import caching, catalogue

from .queries import recorded_statements

KEPT = {"CATALOGUE_CACHE_SECONDS": 60}


@pytest.fixture
def app_config():
    return KEPT


def results(body: str) -> str:
    """The part of the page that is kept: from the heading to the end of the main content."""
    match = re.search(r"<h1>.*</main>", body, re.S)
    assert match, body
    return match.group(0)


def test_a_second_visit_is_served_from_the_cache_after_one_query(client, make):
    make.course_class(course=make.course(title_en="Cloud Foundations"), sessions=1)
    first = client.get("/courses").get_data(as_text=True)
    with recorded_statements() as statements:
        second = client.get("/courses").get_data(as_text=True)
    assert "Cloud Foundations" in second
    assert results(second) == results(first)
    assert len(statements) == 1, statements  # the catalogue's last change, nothing else


def test_a_change_to_a_course_or_a_class_shows_at_once(client, make):
    course = make.course(title_en="Cloud Foundations")
    course_class = make.course_class(course=course, sessions=1, capacity=2)
    assert "Seats open" in client.get("/courses").get_data(as_text=True)

    course_class.seats_taken = 2
    db.session.commit()
    assert "Waitlist only" in client.get("/courses").get_data(as_text=True)

    course.title_en = "Cloud Foundations, revised"
    db.session.commit()
    assert "Cloud Foundations, revised" in client.get("/courses").get_data(as_text=True)

    make.course(title_en="Data Literacy")
    db.session.commit()
    assert "Data Literacy" in client.get("/courses").get_data(as_text=True)


def test_each_language_and_each_query_is_kept_apart(client, make):
    make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    make.course(code="SU-DAT-101", title_en="Data Literacy", title_zh="數據素養")
    english = client.get("/courses").get_data(as_text=True)
    chinese = client.get("/courses", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert "Cloud Foundations" in english and "雲端基礎" not in english
    assert "雲端基礎" in chinese and "課程目錄" in chinese

    searched = client.get("/courses?q=data").get_data(as_text=True)
    assert "Data Literacy" in searched and "Cloud Foundations" not in searched
    assert 'value="data"' in searched
    assert "Cloud Foundations" in client.get("/courses").get_data(as_text=True)


def test_signed_in_visitors_share_the_results_but_not_the_page_around_them(
    client, make, login_as, learner
):
    make.course(title_en="Cloud Foundations")
    anonymous = client.get("/courses").get_data(as_text=True)
    login_as(learner)
    signed_in = client.get("/courses").get_data(as_text=True)
    assert results(signed_in) == results(anonymous)
    assert "My learning" in signed_in and "My learning" not in anonymous
    assert learner.name not in results(signed_in)


def test_pages_are_kept_for_the_configured_time(client, make, monkeypatch):
    kept: list[tuple[str, int]] = []
    original = caching.keep

    def spy(key, value, seconds):
        kept.append((key, seconds))
        original(key, value, seconds)

    monkeypatch.setattr(caching, "keep", spy)
    make.course(title_en="Cloud Foundations")
    client.get("/courses?page=1")
    client.get("/courses?page=1")
    client.get("/courses?page=2")
    assert [seconds for _key, seconds in kept] == [60, 60]
    assert kept[0][0] != kept[1][0]


@pytest.mark.parametrize(
    "app_config",
    [{**KEPT, "CACHE_URL": "redis://127.0.0.1:1/0"}],  # nothing listens there
)
def test_the_catalogue_is_rendered_when_the_cache_is_unreachable(client, make, caplog):
    make.course(title_en="Cloud Foundations")
    response = client.get("/courses")
    assert response.status_code == 200
    assert "Cloud Foundations" in response.get_data(as_text=True)
    assert "cache unavailable" in caplog.text


@pytest.mark.parametrize("app_config", [{"CATALOGUE_CACHE_SECONDS": 0}])
def test_with_no_cache_time_every_visit_searches(client, make):
    make.course(title_en="Cloud Foundations")
    client.get("/courses")
    with recorded_statements() as statements:
        client.get("/courses")
    assert len(statements) > 1
    assert not any("max(" in s.lower() for s in statements)


def test_the_last_change_moves_with_every_write_to_courses_and_classes(app, make):
    course = make.course()
    course_class = make.course_class(course=course)
    db.session.commit()
    seen = {catalogue.last_change()}
    course_class.seats_taken = 1
    db.session.commit()
    seen.add(catalogue.last_change())
    course.title_en = "Renamed"
    db.session.commit()
    seen.add(catalogue.last_change())
    assert len(seen) == 3


@pytest.mark.parametrize(
    "app_config",
    [{**KEPT, "HR_DASHBOARD_CACHE_SECONDS": 120, "CACHE_URL": None}],
)
def test_a_signed_in_course_page_shows_the_seats_left_as_they_are_now(
    client, make, login_as, learner
):
    course = make.course(title_en="Cloud Foundations")
    course_class = make.course_class(course=course, sessions=1, capacity=2)
    make.enrolment(course_class, make.user(company=learner.company))
    login_as(learner)
    assert "1 seat left" in client.get(f"/courses/{course.code}").get_data(as_text=True)

    make.enrolment(course_class, make.user(company=learner.company))
    db.session.commit()
    page = client.get(f"/courses/{course.code}").get_data(as_text=True)
    assert "1 seat left" not in page
    assert "Join the waitlist" in page
