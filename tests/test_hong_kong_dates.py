"""Dates and times as read in Hong Kong: the day before the month in English, the Chinese
forms in Chinese, and one 24-hour clock everywhere."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta

import pytest
from flask_babel import force_locale

from skillsup import i18n
from skillsup.extensions import db
from skillsup.models import ClassStatus
from skillsup.services import class_reopening, class_sessions, classes, eligibility, seat_quotas
from skillsup.services.class_sessions import SeriesSpec, SessionData
from skillsup.services.classes import ClassData
from skillsup.services.errors import DomainError

from .factories import hk_datetime
from .test_admin_classes import field_error
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


#: A Latin comma or colon straight after a Chinese character, as in "星期二, 19:00".
LATIN_AFTER_CHINESE = re.compile(r"[\u4e00-\u9fff][,:] ")


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
        trainer: [
            "/trainer/",
            f"/trainer/classes/{course_class.code}",
            f"/trainer/classes/{course_class.code}/sessions/{evening.id}/attendance",
            f"/trainer/classes/{course_class.code}/sessions/{evening.id}/sign-in",
        ],
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
            # Chinese text takes Chinese punctuation: "2031年3月11日星期二，19:00".
            assert not LATIN_AFTER_CHINESE.search(body), (url, LATIN_AFTER_CHINESE.search(body))
            shown += ("09:30" in body) + ("19:00" in body)
        client.post("/logout")
    assert shown >= 4  # the session times are on the pages checked


# Refusals that name a day or a time word it in the reader's language: the class below runs
# from Monday 3 March to Monday 31 March 2031, with one session on 3 March, 19:00-22:00.
FIRST_DAY = date(2031, 3, 3)
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _spring_class(make, **fields):
    fields.setdefault("first_session", hk_datetime(2031, 3, 3, 19))
    fields.setdefault("starts_on", FIRST_DAY)
    fields.setdefault("ends_on", date(2031, 3, 31))
    fields.setdefault("enrolment_opens_at", hk_datetime(2031, 1, 1, 9))
    fields.setdefault("enrolment_closes_at", hk_datetime(2031, 2, 20, 23, 59))
    fields.setdefault("withdrawal_deadline_at", hk_datetime(2031, 2, 24, 18))
    return make.course_class(sessions=1, **fields)


def _class_data(course_class, **overrides):
    fields = {
        "course_id": course_class.course_id,
        "code": course_class.code,
        "capacity": course_class.capacity,
        "starts_on": course_class.starts_on,
        "ends_on": course_class.ends_on,
        "enrolment_opens_at": course_class.enrolment_opens_at,
        "enrolment_closes_at": course_class.enrolment_closes_at,
        "withdrawal_deadline_at": course_class.withdrawal_deadline_at,
        "trainer_ids": [t.id for t in course_class.trainers],
        "venue": course_class.venue,
        "online_url": None,
        "min_attendance_pct": 80,
        "assessment_required": False,
    }
    fields.update(overrides)
    return ClassData(**fields)


def _deadline_after_the_first_day(admin, make):
    spring = _spring_class(make)
    late = hk_datetime(2031, 3, 3, 0, 1)
    classes.update_class(admin, spring, _class_data(spring, withdrawal_deadline_at=late))


def _start_after_a_session(admin, make):
    spring = _spring_class(make)
    classes.update_class(admin, spring, _class_data(spring, starts_on=date(2031, 3, 4)))


def _end_before_a_session(admin, make):
    spring = _spring_class(make, ends_on=date(2031, 4, 30))
    class_sessions.add_session(admin, spring, SessionData(date(2031, 4, 14), time(19), time(22)))
    classes.update_class(admin, spring, _class_data(spring, ends_on=date(2031, 3, 31)))


def _series_before_the_class(admin, make):
    spring = _spring_class(make)
    spec = SeriesSpec(frozenset({1}), time(19), time(22), date(2031, 2, 24), 2)
    class_sessions.generate_sessions(admin, spring, spec)


def _series_past_the_class(admin, make):
    spring = _spring_class(make)
    spec = SeriesSpec(frozenset({2}), time(19), time(22), date(2031, 3, 10), 5)
    class_sessions.generate_sessions(admin, spring, spec)


def _session_outside_the_class(admin, make):
    spring = _spring_class(make)
    class_sessions.add_session(admin, spring, SessionData(date(2031, 4, 1), time(19), time(22)))


def _session_over_another(admin, make):
    spring = _spring_class(make)
    class_sessions.add_session(admin, spring, SessionData(FIRST_DAY, time(20), time(21)))


def _session_in_the_past(admin, make):
    spring = _spring_class(make)
    now = hk_datetime(2031, 3, 20, 12)
    data = SessionData(date(2031, 3, 17), time(19), time(22))
    class_sessions.add_session(admin, spring, data, now=now)


def _trainer_booked(admin, make):
    trainer = make.user(role="trainer", name="Ada Lau")
    _spring_class(make, trainers=[trainer])
    ours = _spring_class(make, trainers=[trainer], first_session=hk_datetime(2031, 3, 5, 19))
    class_sessions.add_session(admin, ours, SessionData(FIRST_DAY, time(20), time(21), "Room 9"))


def _room_booked(admin, make):
    other = _spring_class(make)
    other.sessions[0].room = "Room 301"
    ours = _spring_class(make, first_session=hk_datetime(2031, 3, 5, 19))
    class_sessions.add_session(admin, ours, SessionData(FIRST_DAY, time(20), time(21), "Room 301"))


def _class_over_for_a_learner(admin, make):
    spring = _spring_class(make)
    eligibility.check_not_over(spring, hk_datetime(2031, 3, 4, 9), by_admin=False)


def _class_over_for_an_admin(admin, make):
    spring = _spring_class(make)
    eligibility.check_not_over(spring, hk_datetime(2031, 3, 4, 9), by_admin=True)


def _reopened_too_late(admin, make):
    spring = _spring_class(make, status=ClassStatus.COMPLETED)
    spring.completed_at = datetime(2031, 4, 1, 17, 0, tzinfo=UTC)  # 2 April in Hong Kong
    later = hk_datetime(2031, 5, 15, 9)
    refusal = class_reopening.reopen_refusal(spring, timedelta(days=30), later)
    assert refusal is not None
    raise refusal


def _overlapping_quota(admin, make):
    company = make.company()
    make.quota(company, 10, date(2031, 1, 1), date(2031, 6, 30), label="2031 H1")
    data = seat_quotas.QuotaData("Spring", date(2031, 3, 1), date(2031, 3, 31), 5)
    seat_quotas.add_quota(admin, company, data)


REFUSALS = [
    pytest.param(
        _deadline_after_the_first_day, "(3 Mar 2031)", "2031年3月3日", id="withdrawal-deadline"
    ),
    pytest.param(_start_after_a_session, "session on 3 Mar 2031", "2031年3月3日", id="start"),
    pytest.param(_end_before_a_session, "session on 14 Apr 2031", "2031年4月14日", id="end"),
    pytest.param(
        _series_before_the_class, "starts on 3 Mar 2031", "2031年3月3日", id="series-start"
    ),
    pytest.param(
        _series_past_the_class,
        "run to 9 Apr 2031, after the class ends on 31 Mar 2031",
        "2031年3月31日",
        id="series-end",
    ),
    pytest.param(
        _session_outside_the_class,
        "from 3 Mar 2031 to 31 Mar 2031",
        "2031年3月3日",
        id="session-day",
    ),
    pytest.param(
        _session_over_another,
        "session on 3 Mar 2031 from 19:00 to 22:00",
        "2031年3月3日",
        id="session-overlap",
    ),
    pytest.param(
        _session_in_the_past, "on 17 Mar 2031 at 19:00", "2031年3月17日", id="session-late"
    ),
    pytest.param(
        _trainer_booked, "on 3 Mar 2031 from 19:00 to 22:00", "2031年3月3日", id="trainer"
    ),
    pytest.param(_room_booked, "on 3 Mar 2031 from 19:00 to 22:00", "2031年3月3日", id="room"),
    pytest.param(
        _class_over_for_a_learner, "ended on 3 Mar 2031:", "2031年3月3日", id="class-over"
    ),
    pytest.param(
        _class_over_for_an_admin,
        "ended on 3 Mar 2031 at 22:00",
        "2031年3月3日",
        id="class-over-admin",
    ),
    pytest.param(_reopened_too_late, "closed on 2 Apr 2031", "2031年4月2日", id="reopen"),
    pytest.param(
        _overlapping_quota, "(1 Jan 2031 to 30 Jun 2031)", "2031年1月1日", id="quota-overlap"
    ),
]


@pytest.mark.parametrize(("refuse", "english", "chinese"), REFUSALS)
def test_a_refusal_names_its_days_in_the_readers_language(
    app, make, admin, refuse, english, chinese
):
    said = {}
    for locale in ("en", ZH):
        with app.test_request_context(), force_locale(locale):
            with pytest.raises(DomainError) as refused:
                refuse(admin, make)
            said[locale] = str(refused.value.message)
        db.session.rollback()
    assert english in said["en"]
    assert chinese in said[ZH] and re.search(r"[\u4e00-\u9fff]", said[ZH].replace(chinese, ""))
    for text in said.values():
        assert not ISO_DATE.search(text), text
        assert not any(mark in text for mark in ("AM", "PM", "上午", "下午")), text


def test_a_form_error_from_a_service_is_in_the_admins_language(make, admin, login_as):
    spring = _spring_class(make)
    admin.preferred_language = ZH
    db.session.commit()
    response = login_as(admin).post(
        f"/admin/classes/{spring.id}/sessions",
        data={
            "session-day": "2031-03-03",
            "session-start_time": "20:00",
            "session-end_time": "21:00",
            "session-room": "",
        },
    )
    assert response.status_code == 200
    error = field_error(response.get_data(as_text=True), "session-start_time") or ""
    assert "2031年3月3日" in error and "19:00" in error and "22:00" in error, error
    assert not ISO_DATE.search(error)
