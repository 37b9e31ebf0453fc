"""Dates and times as read in Hong Kong: the day before the month in English, the Chinese
forms in Chinese, and one 24-hour clock everywhere."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from flask_babel import force_locale

from skillsup import i18n
from skillsup.extensions import db

from .test_reminders import DAY_BEFORE, SESSION_START, _run

ZH = "zh_Hant_HK"
# Monday 7 December 2026, 19:05 in Hong Kong (11:05 UTC); 02:21 UTC is 10:21 the same day.
EVENING = datetime(2026, 12, 7, 11, 5, tzinfo=UTC)
DAY = date(2026, 12, 7)

FILTERS = [
    ("{{ day|date }}", "7 Dec 2026", "2026年12月7日"),
    ('{{ day|date("short") }}', "07/12/2026", "2026年12月7日"),
    ('{{ day|date("long") }}', "7 December 2026", "2026年12月7日"),
    ('{{ day|date("full") }}', "Monday, 7 December 2026", "2026年12月7日星期一"),
    ("{{ at|date }}", "7 Dec 2026", "2026年12月7日"),
    ("{{ at|time }}", "19:05", "19:05"),
    ("{{ morning|time }}", "10:21", "10:21"),
    ("{{ clock|time }}", "09:30", "09:30"),
    ("{{ at|datetime }}", "7 Dec 2026 19:05", "2026年12月7日 19:05"),
    ('{{ at|datetime("short") }}', "07/12/2026 19:05", "2026年12月7日 19:05"),
    ("{{ day|month }}", "Dec 2026", "2026年12月"),
    ("{{ nothing|date }}{{ nothing|time }}{{ nothing|datetime }}", "", ""),
]


@pytest.mark.parametrize(("source", "english", "chinese"), FILTERS)
def test_each_filter_in_english_and_in_chinese(app, source, english, chinese):
    values = {
        "day": DAY,
        "at": EVENING,
        "morning": datetime(2026, 12, 7, 2, 21, tzinfo=UTC),
        "clock": time(9, 30),
        "nothing": None,
    }
    template = app.jinja_env.from_string(source)
    with app.test_request_context(), force_locale("en"):
        assert template.render(**values) == english
    with app.test_request_context(), force_locale(ZH):
        assert template.render(**values) == chinese


def test_a_naive_instant_is_read_as_utc_and_shown_in_hong_kong(app):
    naive = datetime(2026, 12, 7, 16, 30)  # noqa: DTZ001 - as SQLite may return it
    with app.test_request_context(), force_locale("en"):
        assert i18n.fmt_datetime(naive, "short") == "08/12/2026 00:30"
        assert i18n.fmt_date(naive) == "8 Dec 2026"


def test_a_locale_can_be_named_outside_a_request(app):
    with app.app_context():
        assert i18n.fmt_date(DAY, "long", "en") == "7 December 2026"
        assert i18n.fmt_date(DAY, "long", ZH) == "2026年12月7日"
        assert i18n.fmt_month(DAY, "long_month", "en") == "December 2026"


def test_the_session_reminder_shows_the_hong_kong_format_in_each_language(make, company, outbox):
    course_class = make.course_class(sessions=1, first_session=SESSION_START)
    english = make.user(company=company, preferred_language="en")
    chinese = make.user(company=company, preferred_language=ZH)
    make.enrolment(course_class, english)
    make.enrolment(course_class, chinese)
    _run(DAY_BEFORE)
    texts = {message.to: message.text + (message.html or "") for message in outbox}
    assert "Tuesday, 4 March 2031, 19:00–22:00" in texts[english.email]
    assert "2031年3月4日星期二，19:00–22:00" in texts[chinese.email]
    for text in texts.values():
        assert not any(mark in text for mark in ("AM", "PM", "上午", "下午"))


@pytest.mark.parametrize("language", ["en", "zh-HK"])
def test_no_am_or_pm_on_a_sample_of_pages(
    client, make, login_as, company, learner, hr_officer, trainer, admin, language
):
    # Sessions in the morning and the evening, so that either half of a 12-hour clock shows.
    course_class = make.course_class(
        sessions=2, first_session=datetime(2031, 3, 4, 1, 30, tzinfo=UTC), trainers=[trainer]
    )
    evening = course_class.sessions[1]
    evening.starts_at = datetime(2031, 3, 11, 11, 0, tzinfo=UTC)
    evening.ends_at = datetime(2031, 3, 11, 14, 0, tzinfo=UTC)
    enrolment = make.enrolment(course_class, learner)
    enrolment.confirmed_at = datetime(2026, 12, 1, 13, 45, tzinfo=UTC)
    db.session.commit()
    pages = {
        learner: ["/my-learning", f"/courses/{course_class.course.code}"],
        hr_officer: ["/hr/", f"/hr/staff/{learner.id}", f"/hr/classes/{course_class.code}"],
        trainer: ["/trainer/", f"/trainer/classes/{course_class.code}"],
        admin: [
            f"/admin/classes/{course_class.id}",
            f"/admin/users/{learner.id}",
            "/admin/audit",
        ],
    }
    headers = {"Accept-Language": language}
    shown = 0
    for person, urls in pages.items():
        person.preferred_language = None
        db.session.commit()
        login_as(person)
        for url in urls:
            response = client.get(url, headers=headers)
            assert response.status_code == 200, url
            body = response.get_data(as_text=True)
            for mark in (" AM", " PM", "\u202fAM", "\u202fPM", "上午", "下午"):
                assert mark not in body, (url, mark)
            shown += ("09:30" in body) + ("19:00" in body)
        client.post("/logout")
    assert shown >= 4  # the session times are on the pages checked
