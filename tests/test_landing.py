"""The front page for visitors: a search box, the next classes with open seats and the
skill areas, kept like the catalogue's results."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import ClassStatus, CourseClass, CourseStatus, SkillArea, utcnow
from skillsup.services import catalogue

from .queries import page_queries, recorded_statements

# Enrolment windows and "upcoming": run again at several times of the Hong Kong day.
pytestmark = pytest.mark.hong_kong_day

KEPT = {"CATALOGUE_CACHE_SECONDS": 60}


def open_classes_section(body: str) -> str:
    match = re.search(r'<section aria-labelledby="open-classes".*?</section>', body, re.S)
    assert match, body
    return match.group(0)


def skill_areas_section(body: str) -> str:
    match = re.search(r'<section aria-labelledby="skill-areas".*?</section>', body, re.S)
    assert match, body
    return match.group(0)


def test_the_search_box_is_a_labelled_get_form_to_the_catalogues_search(client):
    body = client.get("/").get_data(as_text=True)
    form = re.search(r'<form method="get" action="([^"]+)"[^>]*role="search".*?</form>', body, re.S)
    assert form, body
    assert form.group(1) == "/courses"
    assert '<label for="landing-q">Search courses</label>' in form.group(0)
    assert 'id="landing-q" name="q"' in form.group(0)
    assert 'type="submit"' in form.group(0)
    # What it sends is what the catalogue searches for.
    assert client.get("/courses?q=cloud").status_code == 200


def test_the_calls_to_log_in_and_register_stay(client):
    body = client.get("/").get_data(as_text=True)
    assert 'href="/login"' in body and 'href="/register"' in body


def test_only_classes_taking_enrolments_now_with_a_seat_left_are_offered(client, make):
    now = utcnow()
    course = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    open_class = make.course_class(course=course, code="CLD-OPEN", sessions=3, capacity=12)
    open_class.seats_taken = 4
    make.course_class(course=course, code="CLD-FULL", sessions=1, capacity=0)
    make.course_class(course=course, code="CLD-CLOSED", sessions=1, status=ClassStatus.CLOSED)
    make.course_class(course=course, code="CLD-DRAFT", sessions=1, status=ClassStatus.DRAFT)
    make.course_class(
        course=course,
        code="CLD-LATER",
        sessions=1,
        enrolment_opens_at=now + timedelta(days=3),
    )
    make.course_class(
        course=course,
        code="CLD-SHUT",
        sessions=1,
        enrolment_closes_at=now - timedelta(hours=1),
    )
    make.course_class(
        course=course,
        code="CLD-PAST",
        first_session=now - timedelta(days=20),
        sessions=1,
        enrolment_closes_at=now + timedelta(days=1),
    )
    draft = make.course(code="SU-DRF-001", title_en="Secret Draft", status=CourseStatus.DRAFT)
    make.course_class(course=draft, code="DRF-OPEN", sessions=1)
    db.session.commit()

    section = open_classes_section(client.get("/").get_data(as_text=True))
    assert "CLD-OPEN" in section
    assert "Cloud Foundations" in section
    assert "8 seats left" in section
    assert 'href="/courses/SU-CLD-101"' in section
    assert "Tsing Yi campus, room 301" in section
    assert "On campus" in section
    for hidden in ("CLD-FULL", "CLD-CLOSED", "CLD-DRAFT", "CLD-LATER", "CLD-SHUT", "CLD-PAST"):
        assert hidden not in section, hidden
    assert "DRF-OPEN" not in section and "Secret Draft" not in section

    chinese = client.get("/", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    section = open_classes_section(chinese)
    assert "雲端基礎" in section and "尚餘8個名額" in section


def test_the_six_soonest_are_offered_soonest_first(client, make):
    now = utcnow()
    course = make.course()
    for days in (40, 10, 30, 20, 70, 60, 50):
        make.course_class(
            course=course, code=f"SOON-{days:02d}", first_session=now + timedelta(days=days)
        )
    section = open_classes_section(client.get("/").get_data(as_text=True))
    codes = re.findall(r"SOON-\d\d", section)
    assert codes == ["SOON-10", "SOON-20", "SOON-30", "SOON-40", "SOON-50", "SOON-60"]


def test_the_class_dates_are_in_hong_kong_format(client, make):
    make.course_class(code="DATE-1", first_session=utcnow() + timedelta(days=30), sessions=2)
    course_class = db.session.scalar(select(CourseClass).where(CourseClass.code == "DATE-1"))
    starts = course_class.starts_on
    english = open_classes_section(client.get("/").get_data(as_text=True))
    assert f"{starts.day} {starts:%b} {starts.year}" in english
    chinese = open_classes_section(
        client.get("/", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    )
    assert f"{starts.year}年{starts.month}月{starts.day}日" in chinese


def test_without_open_classes_the_page_says_where_to_look(client, make):
    make.course_class(capacity=0, sessions=1)
    section = open_classes_section(client.get("/").get_data(as_text=True))
    assert "No class is taking enrolments right now" in section
    assert 'href="/courses"' in section


def test_skill_areas_count_published_courses_and_link_to_the_filtered_catalogue(client, make):
    make.course(skill_area=SkillArea.CLOUD)
    make.course(skill_area=SkillArea.CLOUD)
    make.course(skill_area=SkillArea.CYBERSECURITY)
    make.course(skill_area=SkillArea.CYBERSECURITY, status=CourseStatus.DRAFT)
    make.course(skill_area=SkillArea.NETWORKING, status=CourseStatus.ARCHIVED)
    section = skill_areas_section(client.get("/").get_data(as_text=True))
    assert re.search(r'href="/courses\?skill_area=cloud">.*?Cloud.*?2 courses', section, re.S)
    assert re.search(
        r'href="/courses\?skill_area=cybersecurity">.*?Cybersecurity.*?1 course<', section, re.S
    )
    assert "networking" not in section
    # The count is what the catalogue finds behind the link.
    listing = client.get("/courses?skill_area=cloud").get_data(as_text=True)
    assert "2 courses" in listing

    chinese = skill_areas_section(
        client.get("/", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    )
    assert "雲端" in chinese and "2個課程" in chinese


def test_without_published_courses_the_skill_areas_say_so(client, make):
    make.course(status=CourseStatus.DRAFT)
    section = skill_areas_section(client.get("/").get_data(as_text=True))
    assert "No courses have been published yet" in section
    assert "skill_area=" not in section


def test_the_service_answers_the_catalogues_open_seats_rule(app, make):
    course = make.course()
    taking = make.course_class(course=course, capacity=1)
    make.course_class(course=course, capacity=1, status=ClassStatus.CLOSED)
    now = utcnow()
    offered = catalogue.next_open_classes(now=now)
    assert [o.course_class.id for o in offered] == [taking.id]
    assert catalogue.class_availability(taking, now) == catalogue.Availability.OPEN
    taking.seats_taken = 1
    db.session.commit()
    assert catalogue.next_open_classes(now=now) == []
    assert catalogue.class_availability(taking, now) == catalogue.Availability.WAITLIST


def test_the_front_page_runs_a_fixed_number_of_queries_whatever_the_data(client, make):
    def add(n: int, offset: int) -> None:
        for i in range(n):
            course = make.course(
                code=f"SU-QRY-{offset + i:03d}", skill_area=list(SkillArea)[i % len(SkillArea)]
            )
            make.course_class(course=course, sessions=4)

    add(2, 0)
    client.get("/")
    _response, few = page_queries(client, "/")
    add(30, 2)
    response, many = page_queries(client, "/")
    assert response.status_code == 200
    assert len(few) == len(many) <= 3, many


@pytest.mark.parametrize("app_config", [KEPT])
def test_a_second_visit_costs_one_query_and_a_change_to_a_class_shows_at_once(client, make):
    course = make.course(title_en="Cloud Foundations")
    course_class = make.course_class(course=course, code="CLD-KEPT", sessions=1, capacity=2)
    first = client.get("/").get_data(as_text=True)
    assert "2 seats left" in open_classes_section(first)
    with recorded_statements() as statements:
        second = client.get("/").get_data(as_text=True)
    assert open_classes_section(second) == open_classes_section(first)
    assert len(statements) == 1, statements  # the catalogue's last change, nothing else

    course_class.seats_taken = 1
    db.session.commit()
    assert "1 seat left" in open_classes_section(client.get("/").get_data(as_text=True))

    course_class.seats_taken = 2
    db.session.commit()
    assert "CLD-KEPT" not in open_classes_section(client.get("/").get_data(as_text=True))

    make.course(title_en="Data Literacy", skill_area=SkillArea.DATA_AI)
    db.session.commit()
    assert "Data and AI" in skill_areas_section(client.get("/").get_data(as_text=True))


@pytest.mark.parametrize("app_config", [KEPT])
def test_each_language_is_kept_apart(client, make):
    make.course_class(course=make.course(title_en="Cloud Foundations", title_zh="雲端基礎"))
    english = client.get("/").get_data(as_text=True)
    chinese = client.get("/", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert "Cloud Foundations" in english and "雲端基礎" not in english
    assert "雲端基礎" in chinese and "Next classes with open seats" not in chinese


@pytest.mark.parametrize(
    "app_config",
    [{**KEPT, "CACHE_URL": "redis://127.0.0.1:1/0"}],  # nothing listens there
)
def test_the_front_page_is_served_when_the_cache_is_unreachable(client, make, caplog):
    make.course_class(course=make.course(title_en="Cloud Foundations"))
    response = client.get("/")
    assert response.status_code == 200
    assert "Cloud Foundations" in response.get_data(as_text=True)
    assert "cache unavailable" in caplog.text


@pytest.mark.parametrize("role", ["learner", "hr", "trainer", "admin"])
def test_signed_in_people_still_go_to_their_own_home(client, make, login_as, role):
    homes = {"learner": "/my-learning", "hr": "/hr/", "trainer": "/trainer/", "admin": "/admin/"}
    login_as(make.user(role=role))
    response = client.get("/")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(homes[role])
