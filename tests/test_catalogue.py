"""The public catalogue and a course's page."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from wtforms import SelectChoice

from skillsup.catalogue import forms as catalogue_forms
from skillsup.extensions import db
from skillsup.models import ClassStatus, CourseStatus, DeliveryMode, EnrolmentStatus, SkillArea
from skillsup.services import catalogue, funding_figures, funding_schemes

from .factories import hk_datetime
from .queries import recorded_statements

# Dates and deadlines: run again at several times of the Hong Kong day.
pytestmark = pytest.mark.hong_kong_day


def _courses(make, n: int, offset: int = 0) -> None:
    for i in range(n):
        course = make.course(code=f"SU-BLK-{offset + i:03d}")
        make.course_class(course=course, sessions=2)
        make.course_class(course=course, sessions=1, capacity=0)


def test_list_shows_published_courses_with_their_next_class(client, make):
    course = make.course(code="SU-CLD-101", title_en="Cloud Foundations", title_zh="雲端基礎")
    make.course(code="SU-DRF-001", title_en="Secret Draft", status=CourseStatus.DRAFT)
    first = make.course_class(course=course, sessions=2)
    body = client.get("/courses").get_data(as_text=True)
    assert "Cloud Foundations" in body
    assert "Secret Draft" not in body
    assert "Seats open" in body
    assert "1 course" in body
    chinese = client.get("/courses", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert "雲端基礎" in chinese
    assert first.code  # the class exists; its date shows as the next class
    assert "None scheduled" not in body


def test_search_matches_code_titles_summary_and_skills(client, make):
    make.course(
        code="SU-SEC-201",
        title_en="Ethical Hacking",
        title_zh="道德黑客",
        skills="penetration testing, kali",
    )
    make.course(code="SU-DAT-110", title_en="Data Analytics with Python")
    for term, expected in [
        ("sec-201", "Ethical Hacking"),
        ("道德", "Ethical Hacking"),
        ("kali", "Ethical Hacking"),
        ("python", "Data Analytics"),
    ]:
        body = client.get("/courses", query_string={"q": term}).get_data(as_text=True)
        assert expected in body, term


def test_filters_combine_and_live_in_the_url(client, make):
    make.course(
        code="SU-NET-101",
        title_en="Networking Basics",
        skill_area=SkillArea.NETWORKING,
        qf_level=3,
        delivery_mode=DeliveryMode.ONLINE_LIVE,
    )
    make.course(
        code="SU-NET-301", title_en="Advanced Routing", skill_area=SkillArea.NETWORKING, qf_level=5
    )
    make.course(code="SU-CLD-102", title_en="Cloud Storage", skill_area=SkillArea.CLOUD)
    body = client.get(
        "/courses?skill_area=networking&qf_level=3&delivery_mode=online_live"
    ).get_data(as_text=True)
    assert "Networking Basics" in body
    assert "Advanced Routing" not in body
    assert "Cloud Storage" not in body
    assert re.search(
        r'<option[^>]*selected[^>]*value="networking"|<option[^>]*value="networking"[^>]*selected',
        body,
    )


def test_open_seats_and_start_month_filters(client, make):
    start = datetime.now(UTC) + timedelta(days=40)
    full = make.course(code="SU-FUL-101", title_en="Full Course")
    make.course_class(course=full, capacity=0, sessions=1, first_session=start)
    free = make.course(code="SU-FRE-101", title_en="Free Course")
    free_class = make.course_class(course=free, capacity=3, sessions=1, first_session=start)
    body = client.get("/courses?open_seats=y").get_data(as_text=True)
    assert "Free Course" in body and "Full Course" not in body
    month = free_class.starts_on.strftime("%Y-%m")
    other_month = (free_class.starts_on + timedelta(days=70)).strftime("%Y-%m")
    assert "Free Course" in client.get(f"/courses?start_month={month}").get_data(as_text=True)
    assert "Free Course" not in client.get(f"/courses?start_month={other_month}").get_data(
        as_text=True
    )


def test_full_class_shows_waitlist_only(client, make):
    course = make.course(title_en="Popular Course")
    make.course_class(course=course, capacity=0, sessions=1)
    assert "Waitlist only" in client.get("/courses").get_data(as_text=True)


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "Enrolment opens 12 Jan 2030"), ("zh-HK", "報名於2030年1月12日開始")],
)
def test_a_course_whose_classes_open_later_says_when_on_its_card(client, make, language, expected):
    course = make.course(title_en="Later Course")
    make.course_class(
        course=course,
        sessions=1,
        first_session=datetime(2030, 4, 2, 11, 0, tzinfo=UTC),
        enrolment_opens_at=hk_datetime(2030, 1, 12, 9, 0),
    )
    body = client.get("/courses", headers={"Accept-Language": language}).get_data(as_text=True)
    assert "availability-opens_later" in body
    assert expected in body
    assert "Enrolment closed" not in body and "截止報名" not in body


def test_sorting_by_title_and_level(client, make):
    make.course(code="SU-B", title_en="Beta", qf_level=2)
    make.course(code="SU-A", title_en="Alpha", qf_level=6)
    by_title = client.get("/courses?sort=title").get_data(as_text=True)
    assert by_title.index("Alpha") < by_title.index("Beta")
    by_level = client.get("/courses?sort=level").get_data(as_text=True)
    assert by_level.index("Beta") < by_level.index("Alpha")


def test_pagination_reports_the_total(client, make):
    _courses(make, 14)
    page_one = client.get("/courses").get_data(as_text=True)
    assert "14 courses" in page_one
    assert "Page 1 of 2" in page_one
    page_two = client.get("/courses?page=2").get_data(as_text=True)
    assert "Page 2 of 2" in page_two
    assert page_two.count('class="course-card"') == 2


def test_an_empty_result_says_so_and_offers_to_clear(client, make):
    make.course()
    body = client.get("/courses?q=quantum+basket+weaving").get_data(as_text=True)
    assert "No courses match your search" in body
    assert "Clear all filters" in body


@pytest.mark.parametrize(
    "query",
    [
        "q=%27%3B+DROP+TABLE+courses%3B--",
        "q=%25%25%25",
        "qf_level=9",
        "qf_level=abc",
        "skill_area=nope",
        "start_month=2026-13",
        "sort=evil",
        "page=-4",
        "page=x",
        "q=" + "x" * 500,
    ],
)
def test_malformed_filters_never_fail(client, make, query):
    make.course(title_en="Still Here")
    response = client.get(f"/courses?{query}")
    assert response.status_code == 200
    assert client.get("/courses").status_code == 200


def test_catalogue_runs_the_same_number_of_queries_for_5_and_200_courses(client, make):
    _courses(make, 5)
    client.get("/courses")  # warm up
    with recorded_statements() as few:
        assert client.get("/courses?sort=start").status_code == 200
    _courses(make, 195, offset=5)
    with recorded_statements() as many:
        assert client.get("/courses?sort=start").status_code == 200
    assert len(few) == len(many) <= 4


def test_course_page_runs_the_same_number_of_queries_whatever_its_classes(
    client, make, login_as, learner
):
    trainer = make.user(role="trainer")
    course = make.course(code="SU-QRY-101")
    make.course_class(course=course, sessions=3, trainers=[trainer])
    login_as(learner)
    with recorded_statements() as few:
        assert client.get("/courses/SU-QRY-101").status_code == 200
    for _ in range(20):
        make.course_class(course=course, sessions=8, trainers=[trainer, make.user(role="trainer")])
    for i in range(5):
        prerequisite = make.course(code=f"SU-QRY-00{i}")
        course.prerequisites.append(prerequisite)
    db.session.commit()
    with recorded_statements() as many:
        assert client.get("/courses/SU-QRY-101").status_code == 200
    assert len(few) == len(many)


def test_course_page_shows_everything_a_learner_needs(client, make):
    trainer = make.user(role="trainer", name="Ms Ada Ho")
    prerequisite = make.course(code="SU-CLD-101", title_en="Cloud Foundations")
    course = make.course(
        code="SU-CLD-201",
        title_en="Cloud Architecture",
        description_en="Design systems.",
        outcomes_en="Design a landing zone\nPlan a migration",
        audience_en="Engineers.",
        funding_schemes=[funding_schemes.ensure_published_schemes()[funding_figures.CEF]],
    )
    course.prerequisites.append(prerequisite)
    db.session.commit()
    start = datetime(2031, 1, 7, 11, 0, tzinfo=UTC)  # Tuesday 19:00 in Hong Kong
    course_class = make.course_class(
        course=course, sessions=4, trainers=[trainer], first_session=start, capacity=12
    )
    body = client.get("/courses/su-cld-201").get_data(as_text=True)
    for expected in (
        "Cloud Architecture",
        "Design systems.",
        "Plan a migration",
        "Engineers.",
        'href="/courses/SU-CLD-101"',
        course_class.code,
        "Tue 19:00–22:00",
        "4 sessions",
        "Ms Ada Ho",
        "12 seats left",
        "Log in to enrol",
        # The log-in link leads back to the course.
        'href="/login?next=/courses/su-cld-201"',
        "HK$4,800.00",
        "Continuing Education Fund",
    ):
        assert expected in body, expected


def test_draft_and_archived_courses_are_hidden_except_from_admins(client, make, login_as, admin):
    make.course(code="SU-DRF-101", status=CourseStatus.DRAFT)
    make.course(code="SU-ARC-101", status=CourseStatus.ARCHIVED)
    assert client.get("/courses/SU-DRF-101").status_code == 404
    assert client.get("/courses/SU-ARC-101").status_code == 404
    assert client.get("/courses/NO-SUCH").status_code == 404
    login_as(admin)
    assert client.get("/courses/SU-DRF-101").status_code == 200


@pytest.mark.parametrize(
    ("requires_approval", "capacity", "button"),
    [(False, 3, "Enrol"), (False, 0, "Join the waitlist"), (True, 3, "Request approval")],
)
def test_course_page_offers_the_right_action(
    client, make, login_as, requires_approval, capacity, button
):
    company = make.company(requires_approval=requires_approval)
    learner = make.user(company=company)
    course = make.course(code="SU-ACT-101")
    make.course_class(course=course, capacity=capacity, sessions=1)
    login_as(learner)
    body = client.get("/courses/SU-ACT-101").get_data(as_text=True)
    assert re.search(r'class="button button-primary">\s*' + re.escape(button), body)


def test_course_page_shows_an_existing_enrolment_and_closed_classes(
    client, make, login_as, learner
):
    course = make.course(code="SU-ENR-101")
    mine = make.course_class(course=course, sessions=1)
    make.enrolment(mine, learner, EnrolmentStatus.WAITLISTED)
    make.course_class(course=course, sessions=1, status=ClassStatus.CLOSED)
    login_as(learner)
    body = client.get("/courses/SU-ENR-101").get_data(as_text=True)
    assert "You: On the waitlist" in body
    assert "Enrolment is closed for this class." in body


def test_schedule_summary_in_chinese(app, make):
    start = datetime(2031, 1, 7, 11, 0, tzinfo=UTC)
    course_class = make.course_class(sessions=2, first_session=start)
    with app.test_request_context(headers={"Accept-Language": "zh-HK"}):
        summary = catalogue.schedule_summary(course_class)
    assert "19:00–22:00" in summary
    assert "週二" in summary


@pytest.mark.parametrize("order", [("en", "zh-HK"), ("zh-HK", "en")])
def test_filter_options_are_in_each_readers_language_in_either_order(client, monkeypatch, order):
    # An empty cache, so that the first language asked for is also the first one built.
    monkeypatch.setattr(catalogue_forms, "_CHOICES", {})
    expected = {
        "en": ("Any", "Cloud computing", "Title", "Any time"),
        "zh-HK": ("不限", "雲端運算", "名稱", "不限時間"),
    }
    for _ in range(2):
        for language in order:
            any_, cloud, title, any_time = expected[language]
            body = client.get(
                "/courses?skill_area=cloud&sort=title", headers={"Accept-Language": language}
            ).get_data(as_text=True)
            assert f'<option value="">{any_}</option>' in body
            assert f'<option selected value="cloud">{cloud}</option>' in body
            assert f'<option selected value="title">{title}</option>' in body
            assert f'<option value="">{any_time}</option>' in body
            # The options are shared between requests, what is selected is not.
            plain = client.get("/courses", headers={"Accept-Language": language})
            assert f'<option value="cloud">{cloud}</option>' in plain.get_data(as_text=True)


def test_a_filter_forms_choices_are_its_own(app, monkeypatch):
    monkeypatch.setattr(catalogue_forms, "_CHOICES", {})
    with app.test_request_context("/courses"):
        changed = catalogue_forms.CatalogueFilterForm()
        changed.skill_area.choices.append(SelectChoice("mine", "Mine"))
        changed.set_month_choices([], [])
        other = catalogue_forms.CatalogueFilterForm()
        other.set_month_choices([], [])
        assert "mine" not in [choice.value for choice in other.skill_area.choices]
        assert [choice.value for choice in other.start_month.choices] == [""]


@pytest.mark.parametrize(
    ("language", "invalid"),
    [("en", "Not a valid choice."), ("zh-HK", "不是有效的選項")],
)
@pytest.mark.parametrize("query", ["", "q=cloud", "skill_area=cloud&page=1"])
def test_a_visit_without_a_sort_shows_no_error_and_sorts_by_start(
    client, make, query, language, invalid
):
    make.course(code="SU-CLD-101", title_en="Cloud Foundations")
    body = client.get(f"/courses?{query}", headers={"Accept-Language": language}).get_data(
        as_text=True
    )
    assert "field-error" not in body
    assert 'aria-invalid="true"' not in body
    assert invalid not in body
    assert re.search(r'<option selected value="start">|<option value="start" selected>', body)


def test_a_bad_sort_is_shown_as_invalid_and_falls_back_to_the_start_date(client, make):
    make.course(code="SU-B", title_en="Beta", qf_level=2)
    make.course(code="SU-A", title_en="Alpha", qf_level=6)
    response = client.get("/courses?sort=price")
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert "Not a valid choice." in body
    assert "Alpha" in body
    assert "Beta" in body


def _blocked_scene(make, learner):
    """A course with a prerequisite, three classes: one clashing with the learner's class,
    one whose enrolment opens on 12 Jan 2030 at 09:00 in Hong Kong, and one open."""
    from datetime import date as _date

    from .factories import hk_datetime

    prerequisite = make.course(code="SU-WHY-101", title_en="Why Basics", title_zh="原因基礎")
    course = make.course(code="SU-WHY-201", title_en="Why Advanced")
    course.prerequisites.append(prerequisite)
    db.session.commit()
    first = datetime(2030, 3, 5, 11, 0, tzinfo=UTC)
    mine = make.course_class(sessions=2, first_session=first, code="MINE-77")
    make.enrolment(mine, learner, EnrolmentStatus.CONFIRMED)
    make.course_class(course=course, sessions=2, first_session=first, code="WHY-CLASH")
    make.course_class(
        course=course,
        sessions=1,
        first_session=datetime(2030, 4, 2, 11, 0, tzinfo=UTC),
        enrolment_opens_at=hk_datetime(2030, 1, 12, 9, 0),
        code="WHY-LATER",
    )
    make.quota(learner.company, 1, _date(2000, 1, 1), _date(2999, 12, 31), label="2030")
    return course


def _offer_html(body: str, code: str) -> str:
    return (
        body.split(f"<h3>{code}</h3>")[1]
        .split("</li>\n      \n")[0]
        .split('class="class-offer"')[0]
    )


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        (
            "en",
            {
                "WHY-CLASH": [
                    "You cannot enrol in this class:",
                    "Complete this course first:",
                    '<a href="/courses/SU-WHY-101">SU-WHY-101 ',
                    "Why Basics",
                    "Its sessions clash with your class MINE-77.",
                    "Your company has used its quota of 1 seat for 2030.",
                ],
                "WHY-LATER": ["Enrolment opens on 12 Jan 2030 at 09:00."],
            },
        ),
        (
            "zh-HK",
            {
                "WHY-CLASH": [
                    "你未能報讀本班，原因如下：",
                    "請先完成以下課程：",
                    '<a href="/courses/SU-WHY-101">SU-WHY-101 ',
                    "原因基礎",
                    "此班別的課堂時間與你的班別MINE-77衝突。",
                    "你的公司已用盡2030配額的全部1個名額。",
                ],
                "WHY-LATER": ["報名將於2030年1月12日 09:00開始。"],
            },
        ),
    ],
)
def test_the_course_page_tells_a_learner_why_they_cannot_enrol_before_any_click(
    client, make, login_as, learner, language, expected
):
    course = _blocked_scene(make, learner)
    login_as(learner)
    body = client.get(f"/courses/{course.code}", headers={"Accept-Language": language}).get_data(
        as_text=True
    )
    for code, texts in expected.items():
        offer = _offer_html(body, code)
        for text in texts:
            assert text in offer, (code, text)
        assert "button-primary" not in offer
        assert f'action="/classes/{code}/enrol"' not in offer
    assert "button-primary" not in body
    assert "Enrolment closed" not in _offer_html(body, "WHY-LATER")


def test_the_course_page_tells_a_visitor_and_staff_when_enrolment_opens_and_offers_staff_nothing(
    client, make, login_as, learner, hr_officer
):
    course = _blocked_scene(make, learner)
    visitor = client.get(f"/courses/{course.code}").get_data(as_text=True)
    later = _offer_html(visitor, "WHY-LATER")
    assert "Enrolment opens on 12 Jan 2030 at 09:00." in later
    assert "Log in to enrol" not in later
    assert "Enrolment closed" not in later
    assert "Log in to enrol" in _offer_html(visitor, "WHY-CLASH")
    assert "You cannot enrol" not in visitor
    login_as(hr_officer)
    staff = client.get(f"/courses/{course.code}").get_data(as_text=True)
    assert "Enrolment opens on 12 Jan 2030 at 09:00." in staff
    assert "button-primary" not in staff
    assert "Log in to enrol" not in staff
    assert "You cannot enrol" not in staff
