"""English and Traditional Chinese: choosing the language, bilingual data, local formats."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime

import pytest
from flask_babel import force_locale

from skillsup import labels
from skillsup.extensions import db
from skillsup.labels import label
from skillsup.models import AttendanceStatus, EnrolmentStatus, SkillArea, User


def test_saved_preference_beats_session_and_browser(client, login_as, learner):
    db.session.get(User, learner.id).preferred_language = "zh_Hant_HK"
    db.session.commit()
    login_as(learner)
    page = client.get("/my-learning", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert '<html lang="zh-Hant-HK">' in page


def test_session_choice_beats_the_browser(client):
    client.post("/language", data={"lang": "en", "next": "/"})
    page = client.get("/", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert '<html lang="en">' in page


def test_unknown_browser_languages_fall_back_to_english(client):
    for header in ("fr-FR,de;q=0.8", "zh-CN", ""):
        page = client.get("/", headers={"Accept-Language": header}).get_data(as_text=True)
        assert '<html lang="en">' in page, header


def test_course_text_falls_back_to_english_marked_as_english(client, make):
    make.course(
        code="SU-LNG-101",
        title_en="Only In English",
        title_zh=None,
        summary_en="English summary",
        summary_zh=None,
    )
    make.course(code="SU-LNG-102", title_en="Both Languages", title_zh="雙語課程")
    page = client.get("/courses", headers={"Accept-Language": "zh-HK"}).get_data(as_text=True)
    assert '<span lang="en">Only In English</span>' in page
    assert "<span>雙語課程</span>" in page
    english = client.get("/courses", headers={"Accept-Language": "en"}).get_data(as_text=True)
    assert "Both Languages" in english and "雙語課程" not in english


def test_dates_times_and_money_follow_the_language_in_hong_kong_time(client, make):
    start = datetime(2031, 3, 4, 11, 0, tzinfo=UTC)  # 19:00 in Hong Kong
    course = make.course(code="SU-FMT-101")
    make.course_class(course=course, sessions=1, first_session=start)
    english = client.get("/courses/SU-FMT-101", headers={"Accept-Language": "en"})
    chinese = client.get("/courses/SU-FMT-101", headers={"Accept-Language": "zh-HK"})
    english_body, chinese_body = english.get_data(as_text=True), chinese.get_data(as_text=True)
    assert "4 Mar 2031" in english_body
    assert "2031年3月4日" in chinese_body
    assert "19:00–22:00" in english_body and "19:00–22:00" in chinese_body
    assert "HK$4,800.00" in english_body
    assert "HK$" in chinese_body


@pytest.mark.parametrize("order", [("en", "zh_Hant_HK"), ("zh_Hant_HK", "en")])
def test_enum_labels_follow_the_forced_locale_in_either_order(app, monkeypatch, order):
    # An empty cache, so that the first locale asked for is also the first one translated.
    monkeypatch.setattr(labels, "_TRANSLATED", {})
    expected = {
        "en": ("Confirmed", "Cloud computing"),
        "zh_Hant_HK": ("已確認", "雲端運算"),
    }
    for _ in range(2):
        for locale in order:
            with force_locale(locale):
                assert (label(EnrolmentStatus.CONFIRMED), label(SkillArea.CLOUD)) == expected[
                    locale
                ]
    # Outside any application (a script): English.
    assert contextvars.Context().run(label, EnrolmentStatus.CONFIRMED) == "Confirmed"
    assert label(None) == ""


def test_enum_labels_follow_each_request_and_force_locale_within_it(app, monkeypatch):
    monkeypatch.setattr(labels, "_TRANSLATED", {})

    def excused(language: str) -> tuple[str, str, str]:
        with app.test_request_context(headers={"Accept-Language": language}):
            before = label(AttendanceStatus.EXCUSED)
            with force_locale("en" if language == "zh-HK" else "zh_Hant_HK"):
                forced = label(AttendanceStatus.EXCUSED)
            return before, forced, label(AttendanceStatus.EXCUSED)

    # Each request in a context of its own, as a server runs it (Flask-Babel keeps the
    # request's locale on g).
    for _ in range(2):
        assert contextvars.Context().run(excused, "zh-HK") == ("已請假", "Excused", "已請假")
        assert contextvars.Context().run(excused, "en") == ("Excused", "已請假", "Excused")
