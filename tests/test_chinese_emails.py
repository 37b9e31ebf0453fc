"""Every e-mail, written in Chinese, punctuates as Chinese is written in Hong Kong (，、：
between the parts of a sentence, never a Latin comma after Chinese text or a date) and shows
its dates in the Chinese form, never as ISO dates."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from flask import render_template
from flask_babel import force_locale

from skillsup.models import EnrolmentStatus, FundingState
from skillsup.reasons import ATTENDANCE_OUT_OF_REACH, MUST_ATTEND_NEXT_SESSIONS, reason
from skillsup.services.funding_status import SessionToAttend
from skillsup.services.funding_warnings import WarnedScheme
from skillsup.services.progress import AttendanceStanding

from .factories import hk_datetime

ZH = "zh_Hant_HK"
EMAILS = Path(__file__).resolve().parent.parent / "templates" / "emails"

# A Chinese character, or the end of a Chinese date or time ("日", "星期二", "19:00").
_CJK = r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]"
LATIN_COMMA_AFTER_CHINESE = re.compile(rf"(?:{_CJK}|\d{{2}}:\d{{2}})\s*,")
LATIN_COLON_AFTER_CHINESE = re.compile(rf"{_CJK}\s*:(?!//)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def _scenes(make: Any, company: Any) -> list[tuple[str, dict[str, Any]]]:
    """Each e-mail template with sample data, every branch that words a sentence once."""
    course = make.course(title_zh="雲端運算基礎")
    evening = hk_datetime(2031, 3, 4, 19)
    course_class = make.course_class(
        course=course,
        sessions=2,
        first_session=evening,
        venue="青衣校園301室",
        online_url="https://meet.example/su",
    )
    learner = make.user(company=company, name="陳大文", department="資訊科技部")
    officer = make.user(role="hr", company=company, name="李小梅")
    enrolment = make.enrolment(course_class, learner)
    certificate = SimpleNamespace(serial_number="SU-2031-000123")
    link = "https://portal.example/x"
    common = {"user": learner, "course_class": course_class, "course": course, "link": link}
    times = SimpleNamespace(
        starts_at=evening, ends_at=evening.replace(hour=14), room="青衣校園302室"
    )
    moved = SimpleNamespace(
        starts_at=evening.replace(day=5), ends_at=evening.replace(day=5, hour=14), room=None
    )
    standing = AttendanceStanding(attended_sessions=1, marked_sessions=2, total_sessions=8)
    scenes: list[tuple[str, dict[str, Any]]] = [
        ("account_exists", {"user": learner, "reset_url": link}),
        ("approval_reminder", {"user": officer, "waiting": [enrolment], "link": link}),
        ("approval_requested", {**common, "user": officer, "learner": learner}),
        (
            "certificate_issued",
            {**common, "certificate": certificate, "download_link": link, "verify_link": link},
        ),
        (
            "certificate_revoked",
            {**common, "certificate": certificate, "reason": "證書資料有誤。", "verify_link": link},
        ),
        (
            "certificate_expiring",
            {
                "user": learner,
                "certificate": certificate,
                "course": course,
                "validity": SimpleNamespace(valid_until=date(2031, 5, 31)),
                "link": link,
                "my_learning": link,
            },
        ),
        (
            "certificates_expiring",
            {
                "user": officer,
                "rows": [
                    (
                        SimpleNamespace(serial_number="SU-2031-000123", enrolment=enrolment),
                        SimpleNamespace(valid_until=date(2031, 5, 31)),
                    )
                ],
                "link": link,
            },
        ),
        ("confirm_email", {"user": learner, "link": link}),
        ("confirm_email_change", {"user": learner, "new_email": "chan@partner.test", "link": link}),
        ("email_change_requested", {"user": learner, "new_email": "chan@partner.test"}),
        ("invitation", {"user": learner, "inviter": officer, "link": link}),
        ("password_reset", {"user": learner, "link": link}),
        (
            "two_factor_reset",
            {"user": officer, "reason": "遺失手機。", "login_url": link, "must_set_up": True},
        ),
        (
            "two_factor_reset",
            {"user": learner, "reason": "", "login_url": link, "must_set_up": False},
        ),
        ("session_reminder", {**common, "session": times}),
        ("schedule_changed", {**common, "change": SimpleNamespace(before=[times], after=[moved])}),
        ("schedule_changed", {**common, "change": SimpleNamespace(before=[times], after=[])}),
    ]
    for level in ("cannot_reach", "below"):
        for for_learner in (True, False):
            scenes.append(
                (
                    "attendance_warning",
                    {
                        **common,
                        "enrolment": enrolment,
                        "learner": learner,
                        "standing": standing,
                        "level": level,
                        "for_learner": for_learner,
                    },
                )
            )
    must_attend = (SessionToAttend(1, evening), SessionToAttend(2, evening.replace(day=11)))
    at_risk = WarnedScheme(
        name="持續進修基金",
        state=FundingState.AT_RISK,
        reasons=(reason(MUST_ATTEND_NEXT_SESSIONS, count=2, minimum=0.7),),
        must_attend=must_attend,
        amount=Decimal("6400.00"),
        estimate=True,
    )
    lost = WarnedScheme(
        name="新型工業化及科技培訓計劃",
        state=FundingState.LOST,
        reasons=(reason(ATTENDANCE_OUT_OF_REACH, best=0.6, minimum=0.7),),
        must_attend=(),
        amount=Decimal("5333.33"),
        estimate=False,
    )
    for schemes, is_lost in (([at_risk], False), ([lost, at_risk], True)):
        for for_learner in (True, False):
            scenes.append(
                (
                    "funding_warning",
                    {
                        **common,
                        "learner": learner,
                        "schemes": schemes,
                        "lost": is_lost,
                        "for_learner": for_learner,
                    },
                )
            )
    statuses: list[dict[str, Any]] = [
        {"status": status}
        for status in (
            EnrolmentStatus.CONFIRMED,
            EnrolmentStatus.WAITLISTED,
            EnrolmentStatus.PENDING,
            EnrolmentStatus.REJECTED,
            EnrolmentStatus.WITHDRAWN,
            EnrolmentStatus.CANCELLED,
        )
    ] + [
        {"status": EnrolmentStatus.CONFIRMED, "previous": EnrolmentStatus.PENDING},
        {
            "status": EnrolmentStatus.CONFIRMED,
            "previous": EnrolmentStatus.WAITLISTED,
            "promoted": True,
        },
        {
            "status": EnrolmentStatus.CONFIRMED,
            "previous": EnrolmentStatus.COMPLETED,
            "reopened": True,
        },
        {"status": EnrolmentStatus.NOT_COMPLETED, "reasons": ["出席率未達要求。", "未通過評核。"]},
        {
            "status": EnrolmentStatus.CANCELLED,
            "previous": EnrolmentStatus.WAITLISTED,
            "closed": True,
        },
        {"status": EnrolmentStatus.CANCELLED, "previous": EnrolmentStatus.PENDING, "closed": True},
    ]
    for status in statuses:
        scene = {**common, "reason": "班別人數不足。", "previous": None, "promoted": False}
        scene.update({"reopened": False, "closed": False, "reasons": [], **status})
        scenes.append(("enrolment_status", scene))
    return scenes


def _problems(text: str) -> list[str]:
    found = [f"Latin comma: {m.group()!r}" for m in LATIN_COMMA_AFTER_CHINESE.finditer(text)]
    found += [f"Latin colon: {m.group()!r}" for m in LATIN_COLON_AFTER_CHINESE.finditer(text)]
    found += [f"ISO date: {m.group()!r}" for m in ISO_DATE.finditer(text)]
    return found


def test_every_email_reads_as_chinese_is_written(app, make, company):
    scenes = _scenes(make, company)
    templates = {path.stem for path in EMAILS.glob("*.txt")}
    assert {name for name, _ in scenes} == templates, "an e-mail is missing from the scenes"
    problems = []
    with app.test_request_context(), force_locale(ZH):
        for name, context in scenes:
            for extension in ("txt", "html"):
                text = render_template(f"emails/{name}.{extension}", subject="主旨", **context)
                assert re.search(_CJK, text), (name, extension)
                problems += [(name, extension, p) for p in _problems(text)]
    assert not problems, "\n".join(" ".join(problem) for problem in problems)


@pytest.mark.parametrize(
    ("text", "bad"),
    [
        ("2031年3月4日星期二, 19:00–22:00", True),
        ("19:00–22:00, 青衣", True),
        ("你好 ,", True),
        ("班別: SU-1", True),
        ("開課日期 2031-03-04", True),
        ("2031年3月4日星期二，19:00–22:00", False),
        ("連結：https://portal.example/x", False),
        ("Hello Chan, see https://portal.example", False),
    ],
)
def test_the_checks_catch_latin_punctuation_and_iso_dates(text, bad):
    assert bool(_problems(text)) is bad


def _text(app: Any, scenes: list[tuple[str, dict[str, Any]]], name: str, locale: str) -> str:
    context = next(context for scene, context in scenes if scene == name)
    with app.test_request_context(), force_locale(locale):
        return render_template(f"emails/{name}.txt", subject="-", **context)


def test_the_english_emails_keep_their_latin_punctuation(app, make, company):
    scenes = _scenes(make, company)
    text = _text(app, scenes, "session_reminder", "en")
    assert "When: Tuesday, 4 March 2031, 19:00–22:00\n" in text
    text = _text(app, scenes, "approval_reminder", "en")
    assert "), starting 4 Mar 2031\n" in text


def test_the_plain_text_keeps_each_item_on_its_own_line(app, make, company):
    scenes = _scenes(make, company)
    for locale, now, reached in (("en", "Now:", "Attendance so far"), (ZH, "現時：", "目前出席")):
        lines = _text(app, scenes, "schedule_changed", locale).splitlines()
        assert lines[lines.index(now) - 1].endswith("302室"), locale
        text = _text(app, scenes, "attendance_warning", locale)
        assert f"。\n\n{reached}" in text or f".\n\n{reached}" in text, locale


def test_the_funding_warning_reads_in_both_languages(app, make, company):
    scenes = _scenes(make, company)
    lost_to_learner = next(c for n, c in scenes if n == "funding_warning" and c["lost"])
    with app.test_request_context():
        for locale, expected in (
            ("en", ("Sessions to attend:\n- ", "Subsidy at stake (an estimate): HK$6,400.00")),
            (ZH, ("須出席的課堂：\n- 2031年3月4日星期二 19:00", "可能失去的資助（估計）：")),
        ):
            with force_locale(locale):
                text = render_template("emails/funding_warning.txt", subject="-", **lost_to_learner)
            for part in expected:
                assert part in text, (locale, part, text)
