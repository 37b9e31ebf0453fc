"""English and Traditional Chinese: choosing the language, bilingual data, local formats."""

from __future__ import annotations

import contextvars
from datetime import UTC, datetime, time

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


def test_template_translations_follow_force_locale_within_a_request(app):
    # The request keeps its locale and translations, and must notice a forced one (an e-mail
    # in its recipient's language) and the request's own again after it.
    template = app.jinja_env.from_string("{{ _('Courses') }}|{{ date|date('medium') }}")
    day = datetime(2031, 3, 4, 12, tzinfo=UTC)

    def render(language: str) -> tuple[str, str, str]:
        with app.test_request_context(headers={"Accept-Language": language}):
            before = template.render(date=day)
            with force_locale("en" if language == "zh-HK" else "zh_Hant_HK"):
                forced = template.render(date=day)
            return before, forced, template.render(date=day)

    chinese, english = "課程|2031年3月4日", "Courses|4 Mar 2031"
    for _ in range(2):
        assert contextvars.Context().run(render, "zh-HK") == (chinese, english, chinese)
        assert contextvars.Context().run(render, "en") == (english, chinese, english)


def test_template_translations_format_escape_and_count_as_jinja_does(app):
    template = app.jinja_env.from_string(
        "{{ _('Hello %(name)s', name=name) }}|{{ _('100%% sure') }}|"
        "{% trans count=n %}{{ count }} seat{% pluralize %}{{ count }} seats{% endtrans %}|"
        "{{ ngettext('%(num)d class', '%(num)d classes', n) }}"
    )
    with app.test_request_context(headers={"Accept-Language": "en"}):
        rendered = template.render(name="<b>Ann</b>", n=3)
    assert rendered == "Hello &lt;b&gt;Ann&lt;/b&gt;|100% sure|3 seats|3 classes"


@pytest.mark.parametrize("locale", ["en", "zh_Hant_HK"])
def test_the_quick_formats_agree_with_babel(app, locale):
    from babel import dates, numbers

    from skillsup import i18n

    with app.test_request_context(), force_locale(locale):
        for minute in range(0, 24 * 60, 7):
            moment = time(minute // 60, minute % 60)
            assert i18n.fmt_time(moment) == dates.format_time(
                moment, i18n.TIME_PATTERN, locale=locale
            )
        for value in (0, 7, 1234, 1115.5, 12.25):
            assert i18n.fmt_number(value) == numbers.format_decimal(value, locale=locale)
            assert i18n.fmt_hours(value) == numbers.format_decimal(
                round(value, 1), format="#,##0.#", locale=locale
            )
        assert i18n.fmt_money(4800) == numbers.format_currency(4800, "HKD", locale=locale)
        assert i18n.percent(0.8) == numbers.format_percent(0.8, locale=locale)


def test_bilingual_text_is_the_readers_language_or_english_marked_as_english(app):
    from types import SimpleNamespace

    from skillsup.i18n import localized

    both = SimpleNamespace(title_en="Cloud <Basics>", title_zh="雲端基礎")
    english_only = SimpleNamespace(title_en="Cloud <Basics>", title_zh=None)
    with app.test_request_context(), force_locale("en"):
        assert localized(both, "title") == "<span>Cloud &lt;Basics&gt;</span>"
        assert localized(both, "title", "p") == "<p>Cloud &lt;Basics&gt;</p>"
    with app.test_request_context(), force_locale("zh_Hant_HK"):
        assert localized(both, "title") == "<span>雲端基礎</span>"
        assert localized(english_only, "title", "p") == '<p lang="en">Cloud &lt;Basics&gt;</p>'
        rendered = app.jinja_env.from_string(
            '{% from "macros/i18n.html" import localized %}{{ localized(record, "title") }}'
        ).render(record=english_only)
        assert rendered == '<span lang="en">Cloud &lt;Basics&gt;</span>'


def test_bilingual_lines_and_paragraphs_follow_the_same_rule(app):
    from types import SimpleNamespace

    from skillsup.i18n import localized_lines, localized_paragraphs

    both = SimpleNamespace(
        outcomes_en="Plan <a> budget\n\n  Read a report  \n",
        outcomes_zh="編製預算\n閱讀報告",
        description_en="First & one.\n\n\nSecond.",
        description_zh="第一段。\n\n第二段。",
    )
    english_only = SimpleNamespace(
        outcomes_en="Plan a budget", outcomes_zh="", description_en=None, description_zh=None
    )
    with app.test_request_context(), force_locale("en"):
        assert localized_lines(both, "outcomes") == (
            "<ul><li>Plan &lt;a&gt; budget</li><li>Read a report</li></ul>"
        )
        assert localized_paragraphs(both, "description") == (
            "<div><p>First &amp; one.</p><p>Second.</p></div>"
        )
    with app.test_request_context(), force_locale("zh_Hant_HK"):
        assert localized_lines(both, "outcomes") == "<ul><li>編製預算</li><li>閱讀報告</li></ul>"
        assert (
            localized_paragraphs(both, "description") == "<div><p>第一段。</p><p>第二段。</p></div>"
        )
        assert localized_lines(english_only, "outcomes") == (
            '<ul lang="en"><li>Plan a budget</li></ul>'
        )
        # No text in either language: an empty element, still marked as English.
        assert localized_paragraphs(english_only, "description") == '<div lang="en"></div>'
        rendered = app.jinja_env.from_string(
            '{% from "macros/i18n.html" import localized_lines %}'
            '{{ localized_lines(record, "outcomes") }}'
        ).render(record=english_only)
        assert rendered == '<ul lang="en"><li>Plan a budget</li></ul>'
