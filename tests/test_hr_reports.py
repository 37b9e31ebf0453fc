"""HR reports: the dashboard's figures and charts, the staff progress table, and the exports.

Service tests call ``skillsup.services.hr_dashboard``, ``staff_progress`` and ``exports`` inside
a request context (for translations and formatting); view tests go through the client as an HR
officer. Every scene has a second
company whose staff sit in the same classes, so that each test also checks that nothing of it
leaks into the first company's figures, rows or files.
"""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import flask_babel
import openpyxl
import pytest
import time_machine
from flask_login import login_user
from sqlalchemy import func, insert, select, text

from skillsup.extensions import db
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    Role,
    SkillArea,
    User,
)
from skillsup.reasons import ASSESSMENT_FAILED, ATTENDANCE_BELOW_MINIMUM, free_text, reason
from skillsup.services import exports, hr_dashboard, staff, staff_progress, user_sessions
from skillsup.services.errors import PermissionDenied
from skillsup.services.exports import ExportCriteria, escape_cell
from skillsup.services.hr_dashboard import Period
from skillsup.services.seat_quotas import seats_used
from skillsup.web import remember_session

from .factories import hk_datetime
from .queries import page_queries, recorded_statements

PRESENT, LATE, ABSENT, EXCUSED = (
    AttendanceStatus.PRESENT,
    AttendanceStatus.LATE,
    AttendanceStatus.ABSENT,
    AttendanceStatus.EXCUSED,
)
YEAR_2025 = ExportCriteria(date(2025, 1, 1), date(2025, 12, 31))
EVIL = '=HYPERLINK("http://evil.example","Click")'


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    """Run each test in a request, as the views call the services (messages are translated)."""
    with app.test_request_context("/"):
        yield


# A scene -----------------------------------------------------------------------------------


@dataclass
class Scene:
    company: Any
    hr: Any
    other_company: Any
    other_hr: Any
    amy: Any
    ben: Any
    cat: Any
    dan: Any
    outsider: Any
    cloud_class: Any
    security_class: Any
    network_class: Any
    quota_all: Any
    quota_security: Any
    other_quota: Any
    amy_security: Any


def mark(enrolment: Enrolment, session: Any, status: AttendanceStatus) -> None:
    db.session.add(Attendance(enrolment=enrolment, session=session, status=status))


@pytest.fixture
def scene(make: Any) -> Scene:
    """Harbour IT's staff in three classes of 2025 (one began in December 2024), and one
    employee of Kowloon Data in the same classes, with much larger numbers.

    Every session lasts three hours. What the figures for 2025 should be is worked out in
    ``test_dashboard_figures_for_a_calendar_year``.
    """
    company = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
    other = make.company(name="Kowloon Data", code="KLDT", domains=["kowloon-data.test"])
    hr = make.user(role="hr", company=company, email="hr@harbour-it.test", name="Helen Ho")
    other_hr = make.user(role="hr", company=other, email="hr@kowloon-data.test")
    amy = make.user(company=company, name="Amy Chan", department="Cloud team")
    ben = make.user(company=company, name="Ben Lau", department="Security")
    cat = make.user(company=company, name="Cat Wong", department=None)
    dan = make.user(company=company, name="Dan Yip", department="Security", is_active=False)
    outsider = make.user(company=other, name="Olivia Outsider", department="Kowloon only")

    cloud = make.course(code="SU-CLD-101", skill_area=SkillArea.CLOUD, qf_credits=3)
    security = make.course(code="SU-SEC-101", skill_area=SkillArea.CYBERSECURITY, qf_credits=5)
    network = make.course(code="SU-NET-101", skill_area=SkillArea.NETWORKING, qf_credits=2)
    # 3, 10, 17 and 24 March 2025 (the last cancelled), 7-10 pm Hong Kong time.
    cloud_class = make.course_class(
        course=cloud,
        code="SU-CLD-101-2503",
        sessions=4,
        first_session=hk_datetime(2025, 3, 3, 19),
        status=ClassStatus.COMPLETED,
    )
    cloud_class.sessions[3].is_cancelled = True
    # 5 and 12 May 2025.
    security_class = make.course_class(
        course=security,
        code="SU-SEC-101-2505",
        sessions=2,
        first_session=hk_datetime(2025, 5, 5, 19),
        status=ClassStatus.RUNNING,
    )
    # 30 December 2024 and 6 January 2025.
    network_class = make.course_class(
        course=network,
        code="SU-NET-101-2412",
        sessions=2,
        first_session=hk_datetime(2024, 12, 30, 19),
        status=ClassStatus.COMPLETED,
    )

    amy_cloud = make.enrolment(cloud_class, amy, EnrolmentStatus.COMPLETED)
    ben_cloud = make.enrolment(cloud_class, ben, EnrolmentStatus.NOT_COMPLETED)
    amy_security = make.enrolment(security_class, amy, EnrolmentStatus.CONFIRMED)
    make.enrolment(security_class, cat, EnrolmentStatus.PENDING)
    make.enrolment(security_class, dan, EnrolmentStatus.WAITLISTED)
    ben_network = make.enrolment(network_class, ben, EnrolmentStatus.COMPLETED)
    outsider_cloud = make.enrolment(cloud_class, outsider, EnrolmentStatus.COMPLETED)

    c = cloud_class.sessions
    for session, status in zip(c, [PRESENT, LATE, PRESENT, PRESENT], strict=True):
        mark(amy_cloud, session, status)  # the cancelled fourth session does not count
    for session, status in zip(c, [PRESENT, ABSENT, EXCUSED], strict=False):
        mark(ben_cloud, session, status)
    mark(amy_security, security_class.sessions[0], ABSENT)
    for session in network_class.sessions:
        mark(ben_network, session, PRESENT)
    for session in c:
        mark(outsider_cloud, session, PRESENT)
    db.session.add(
        Certificate(enrolment=amy_cloud, serial_number="SU-2025-000001", verification_code="v" * 40)
    )
    db.session.commit()

    quota_all = make.quota(
        company, 10, date(2025, 1, 1), date(2025, 12, 31), label="2025 all courses"
    )
    quota_security = make.quota(
        company, 2, date(2025, 1, 1), date(2025, 12, 31), label="2025 security", course=security
    )
    other_quota = make.quota(other, 99, date(2025, 1, 1), date(2025, 12, 31), label="Kowloon 2025")
    return Scene(
        company=company,
        hr=hr,
        other_company=other,
        other_hr=other_hr,
        amy=amy,
        ben=ben,
        cat=cat,
        dan=dan,
        outsider=outsider,
        cloud_class=cloud_class,
        security_class=security_class,
        network_class=network_class,
        quota_all=quota_all,
        quota_security=quota_security,
        other_quota=other_quota,
        amy_security=amy_security,
    )


def year(value: int) -> Period:
    return hr_dashboard.year_period(value)


# Escaping cells ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ('=HYPERLINK("http://evil.example","x")', '\'=HYPERLINK("http://evil.example","x")'),
        ("+SUM(1)", "'+SUM(1)"),
        ("-2", "'-2"),
        ("@cmd", "'@cmd"),
        ("\t=1+1", "'\t=1+1"),
        ("\r=1+1", "'\r=1+1"),
        ("Amy Chan", "Amy Chan"),
        ("陳美美", "陳美美"),
        ("a=b", "a=b"),
        ("", ""),
        (-2, -2),
        (1.5, 1.5),
        (None, None),
    ],
)
def test_escape_cell_makes_formulas_plain_text_and_leaves_the_rest(value, expected):
    assert escape_cell(value) == expected


# Periods -----------------------------------------------------------------------------------


def test_periods_are_the_quota_periods_then_every_year_with_classes(scene):
    periods = hr_dashboard.company_periods(scene.hr, today=date(2025, 6, 1))
    keys = [period.key for period in periods]
    # Two quotas over the same dates are one period, named after the one for all courses.
    assert keys == [f"q{scene.quota_all.id}", "y2025", "y2024"]
    assert periods[0].label == "2025 all courses"
    assert periods[0].is_quota_period
    assert (periods[2].starts_on, periods[2].ends_on) == (date(2024, 1, 1), date(2024, 12, 31))
    assert f"q{scene.other_quota.id}" not in keys


def test_the_default_period_is_the_quota_period_of_today_else_this_year(scene):
    periods = hr_dashboard.company_periods(scene.hr, today=date(2025, 6, 1))
    assert (
        hr_dashboard.default_period(periods, today=date(2025, 6, 1)).key == f"q{scene.quota_all.id}"
    )
    later = hr_dashboard.company_periods(scene.hr, today=date(2027, 2, 1))
    assert [p.key for p in later][-4:] == ["y2027", "y2026", "y2025", "y2024"]
    assert hr_dashboard.default_period(later, today=date(2027, 2, 1)).key == "y2027"


def test_a_company_without_data_still_has_the_current_year(make):
    hr = make.user(role="hr")
    periods = hr_dashboard.company_periods(hr, today=date(2026, 3, 1))
    assert [p.key for p in periods] == ["y2026"]
    assert (
        hr_dashboard.default_period(periods, today=date(2026, 3, 1)).label == "Calendar year 2026"
    )


def test_months_of_a_period():
    period = Period("x", "x", date(2025, 9, 15), date(2026, 1, 10))
    assert period.months == [date(2025, 9, 1), date(2025, 10, 1), date(2025, 11, 1),
                             date(2025, 12, 1), date(2026, 1, 1)]  # fmt: skip
    assert len(year(2024).months) == 12


# The dashboard -----------------------------------------------------------------------------


def test_dashboard_figures_for_a_calendar_year(scene):
    figures = hr_dashboard.company_dashboard(scene.hr, year(2025))
    # Amy (completed and confirmed) and Ben (not completed, and completed the network class
    # that ended in January); Cat's request is pending and Dan is on the waitlist.
    assert figures.staff_in_training == 2
    assert figures.by_status[EnrolmentStatus.COMPLETED] == 2
    assert figures.by_status[EnrolmentStatus.NOT_COMPLETED] == 1
    assert figures.by_status[EnrolmentStatus.CONFIRMED] == 1
    assert figures.by_status[EnrolmentStatus.PENDING] == 1
    assert figures.by_status[EnrolmentStatus.WAITLISTED] == 1
    assert figures.enrolments == 6
    # Amy's cloud class (March) and Ben's network class (January): 3 + 2 credits.
    assert figures.completions == 2
    assert figures.qf_credits == 5
    # Attended in 2025: Amy 9 h (cloud), Ben 3 h (cloud) and 3 h (network, 6 January).
    assert figures.training_hours == pytest.approx(15)
    # Marked and not excused: Amy 9 + 3 absent (security), Ben 3 + 3 absent + 3 (network).
    assert figures.attendance_rate == pytest.approx(15 / 21)
    by_month = {m.month.month: (m.completions, m.training_hours) for m in figures.months}
    assert len(by_month) == 12
    assert by_month[1] == (1, pytest.approx(3))
    assert by_month[3] == (1, pytest.approx(12))
    assert by_month[5] == (0, 0)
    assert figures.hours_by_skill_area == [
        (SkillArea.CLOUD, pytest.approx(12)),
        (SkillArea.NETWORKING, pytest.approx(3)),
    ]


def test_dashboard_of_the_year_before_counts_only_what_happened_in_it(scene):
    figures = hr_dashboard.company_dashboard(scene.hr, year(2024))
    assert figures.staff_in_training == 1  # Ben, in the network class from 30 December
    assert figures.enrolments == 1
    assert figures.completions == 0  # it ended in 2025
    assert figures.training_hours == pytest.approx(3)
    assert figures.attendance_rate == 1.0
    assert figures.quotas == []


def test_quota_use_is_counted_as_the_enrolment_rules_count_it(scene):
    figures = hr_dashboard.company_dashboard(scene.hr, year(2025))
    uses = {use.quota.id: use for use in figures.quotas}
    assert set(uses) == {scene.quota_all.id, scene.quota_security.id}
    # Completed and not completed in the cloud class, confirmed and pending in security;
    # the waitlist place takes no seat and the network class started in 2024.
    assert uses[scene.quota_all.id].used == 4 == seats_used(scene.quota_all)
    assert uses[scene.quota_all.id].left == 6
    assert uses[scene.quota_security.id].used == 2 == seats_used(scene.quota_security)
    assert uses[scene.quota_security.id].left == 0


def test_the_other_company_sees_only_its_own_figures(scene):
    figures = hr_dashboard.company_dashboard(scene.other_hr, year(2025))
    assert figures.staff_in_training == 1
    assert figures.enrolments == 1
    assert figures.completions == 1
    assert figures.training_hours == pytest.approx(9)  # three sessions; the cancelled one not
    assert [use.quota.label for use in figures.quotas] == ["Kowloon 2025"]


def test_dashboard_counts_each_status_in_each_of_two_periods(make, company, hr_officer):
    """Places, statuses and completions of the same learners over two periods that split a
    month: each period counts the classes running in it, and completions in the period their
    class ends in."""
    first = Period("first", "First half", date(2025, 1, 15), date(2025, 6, 14))
    second = Period("second", "Second half", date(2025, 6, 15), date(2025, 12, 31))

    def course_class(starts_on: date, ends_on: date, credits: int) -> Any:
        course = make.course(qf_credits=credits)
        return make.course_class(course=course, starts_on=starts_on, ends_on=ends_on)

    early = course_class(date(2025, 1, 20), date(2025, 2, 10), 4)
    split = course_class(date(2025, 6, 10), date(2025, 6, 20), 2)  # in both, ends in the second
    autumn = course_class(date(2025, 9, 1), date(2025, 9, 30), 1)
    before = course_class(date(2025, 1, 1), date(2025, 1, 14), 8)  # ends the day before
    pat, quinn, rita = (make.user(company=company, name=name) for name in ("Pat", "Quinn", "Rita"))
    for course_class_, learner, status in [
        (early, pat, EnrolmentStatus.COMPLETED),
        (split, pat, EnrolmentStatus.COMPLETED),
        (autumn, pat, EnrolmentStatus.WITHDRAWN),
        (early, quinn, EnrolmentStatus.NOT_COMPLETED),
        (split, quinn, EnrolmentStatus.CONFIRMED),
        (autumn, quinn, EnrolmentStatus.REJECTED),
        (early, rita, EnrolmentStatus.PENDING),
        (split, rita, EnrolmentStatus.WAITLISTED),
        (autumn, rita, EnrolmentStatus.COMPLETED),
        (before, rita, EnrolmentStatus.COMPLETED),
        (early, make.user(), EnrolmentStatus.COMPLETED),  # of another company
    ]:
        make.enrolment(course_class_, learner, status)
    db.session.commit()

    figures = hr_dashboard.company_dashboard(hr_officer, first)
    assert figures.by_status == {
        **dict.fromkeys(EnrolmentStatus, 0),
        EnrolmentStatus.COMPLETED: 2,
        EnrolmentStatus.NOT_COMPLETED: 1,
        EnrolmentStatus.CONFIRMED: 1,
        EnrolmentStatus.PENDING: 1,
        EnrolmentStatus.WAITLISTED: 1,
    }
    assert figures.staff_in_training == 2  # Pat (two places) and Quinn; Rita has none
    assert (figures.completions, figures.qf_credits) == (1, 4)  # the split class ends later
    assert [m.completions for m in figures.months] == [0, 1, 0, 0, 0, 0]  # January to June

    figures = hr_dashboard.company_dashboard(hr_officer, second)
    assert figures.by_status == {
        **dict.fromkeys(EnrolmentStatus, 0),
        EnrolmentStatus.COMPLETED: 2,
        EnrolmentStatus.CONFIRMED: 1,
        EnrolmentStatus.WAITLISTED: 1,
        EnrolmentStatus.WITHDRAWN: 1,
        EnrolmentStatus.REJECTED: 1,
    }
    assert figures.staff_in_training == 3
    assert (figures.completions, figures.qf_credits) == (2, 3)
    assert {m.month.month: m.completions for m in figures.months if m.completions} == {6: 1, 9: 1}


def test_the_dashboard_runs_three_queries_whatever_the_company_size(make, company, hr_officer):
    classes = [
        make.course_class(sessions=2, first_session=hk_datetime(2025, 5, 5, 19), capacity=100),
        make.course_class(sessions=2, first_session=hk_datetime(2025, 2, 3, 19), capacity=100),
    ]
    make.quota(company, 200, date(2025, 1, 1), date(2025, 12, 31))

    def dashboard_queries() -> list[str]:
        assert hr_officer.company_id is not None  # loaded before counting
        with recorded_statements() as statements:
            figures = hr_dashboard.company_dashboard(hr_officer, year(2025))
        assert figures.staff_in_training == figures.completions
        return statements

    add_staff_with_training(make, company, classes, 2)
    few = dashboard_queries()
    add_staff_with_training(make, company, classes, 30)
    many = dashboard_queries()
    assert len(few) == len(many) <= 3, many


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
def test_only_hr_officers_get_reports(make, company, role):
    user = make.user(role=role, company=company if role == "learner" else None)
    with pytest.raises(PermissionDenied):
        hr_dashboard.company_periods(user)
    with pytest.raises(PermissionDenied):
        hr_dashboard.company_dashboard(user, year(2025))
    with pytest.raises(PermissionDenied):
        staff_progress.staff_progress(user)
    with pytest.raises(PermissionDenied):
        staff.departments(user)
    with pytest.raises(PermissionDenied):
        exports.enrolments_export(user, YEAR_2025)
    with pytest.raises(PermissionDenied):
        exports.progress_export(user, YEAR_2025)


# Charts ------------------------------------------------------------------------------------
#
# The service returns the figures; the page draws them (templates/macros/charts.html).


def charts_of(page: str) -> str:
    return page[page.index('<section aria-labelledby="charts-heading">') :]


def svg_of(charts: str, key: str) -> str:
    start = charts.index(f'aria-labelledby="chart-{key}-title chart-{key}-desc"')
    return charts[start : charts.index("</svg>", start)]


def bar_widths(svg: str) -> list[float]:
    return [float(w) for w in re.findall(r'<rect x="0" y="[0-9.]+" width="([0-9.]+)"', svg)]


def test_the_dashboard_charts_every_month_and_the_skill_areas_with_hours(
    client, login_as, scene, frozen_2025
):
    login_as(scene.hr)
    page = body(client.get("/hr/?period=y2025"))
    charts = charts_of(page)
    assert charts.count('<figure class="chart"') == 3
    assert charts.count('role="img"') == 3
    assert charts.count("Show the data as a table") == 3
    assert "Jan 2025: 1; Feb 2025: 0; Mar 2025: 1;" in svg_of(charts, "completions")
    hours = svg_of(charts, "hours")
    assert '<title id="chart-hours-title">Training hours per month</title>' in hours
    assert '<desc id="chart-hours-desc">Jan 2025: 3; Feb 2025: 0; Mar 2025: 12;' in hours
    assert ">Mar 2025</text>" in hours and ">12</text>" in hours
    # Bars scale to the largest, leaving room for the value written at each bar's end.
    assert bar_widths(hours)[:3] == [82.0, 0.0, 328.0]
    areas = svg_of(charts, "skill-areas")
    assert '<desc id="chart-skill-areas-desc">Cloud computing: 12; Networking: 3</desc>' in areas
    # The same data as a table.
    assert '<caption class="visually-hidden">Training hours by skill area</caption>' in charts
    assert '<tr><th scope="row">Cloud computing</th><td class="numeric">12</td></tr>' in charts
    assert '<tr><th scope="row">Mar 2025</th><td class="numeric">12</td></tr>' in charts
    assert "style=" not in page and "<script" not in page


def test_charts_and_exports_follow_the_readers_language(app, client, login_as, scene, frozen_2025):
    login_as(scene.hr)
    page = body(client.get("/hr/?period=y2025", headers={"Accept-Language": "zh-HK"}))
    assert "2025年1月: 1; 2025年2月: 0;" in svg_of(charts_of(page), "completions")
    with app.test_request_context("/", headers={"Accept-Language": "zh-HK"}):
        flask_babel.refresh()
        rows = list(exports.enrolments_export(scene.hr, YEAR_2025).rows)
        assert rows[0][5] == scene.cloud_class.course.title_zh
    flask_babel.refresh()


def test_a_period_without_training_draws_no_chart_but_says_what_to_do(
    client, login_as, make, frozen_2025
):
    hr = make.user(role="hr")
    login_as(hr)
    charts = charts_of(body(client.get("/hr/?period=y2025")))
    assert '<figure class="chart"' not in charts and "<svg" not in charts
    assert "Nothing to chart yet" in charts
    assert '<a href="/hr/classes">Nominate staff into a class</a>' in charts


def test_an_empty_chart_says_so_beside_one_with_bars(client, login_as, make, frozen_2025):
    hr = make.user(role="hr")
    learner = make.user(company=hr.company)
    course_class = make.course_class(sessions=1, first_session=hk_datetime(2025, 3, 3, 19))
    enrolment = make.enrolment(course_class, learner)
    db.session.add(
        Attendance(
            enrolment=enrolment,
            session=course_class.sessions[0],
            status=AttendanceStatus.PRESENT,
        )
    )
    db.session.commit()
    login_as(hr)
    charts = charts_of(body(client.get("/hr/?period=y2025")))
    assert charts.count('<figure class="chart"') == 3
    assert charts.count('<p class="chart-empty">') == 1
    assert "No class of your staff finished in this period." in charts
    assert charts.count('role="img"') == 2


def test_chart_bars_scale_to_the_largest_and_labels_are_escaped(app):
    bars = [
        {"label": "<script>alert(1)</script>", "value": 10, "text": "10"},
        {"label": "Half", "value": 5, "text": "5"},
        {"label": "A sliver", "value": 0.01, "text": "0"},
        {"label": "None", "value": 0, "text": "0"},
    ]
    chart = app.jinja_env.from_string(
        '{% from "macros/charts.html" import bar_chart %}'
        '{{ bar_chart("c", "Hours <b>", "Label", "Value", "Nothing", bars) }}'
    ).render(bars=bars)
    assert "<script>" not in chart
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in chart
    assert '<title id="chart-c-title">Hours &lt;b&gt;</title>' in chart
    # The largest fills the room left of the values; a bar with a value is never too thin to
    # see; a bar of nought is not drawn.
    assert bar_widths(chart) == [328.0, 164.0, 2.0, 0.0]


# Staff progress ----------------------------------------------------------------------------


def progress_by_name(rows: Any) -> dict[str, Any]:
    return {row.name: row for row in rows}


def test_staff_progress_counts_each_employee(scene):
    rows = progress_by_name(staff_progress.staff_progress(scene.hr))
    assert list(rows) == ["Amy Chan", "Ben Lau", "Cat Wong", "Dan Yip"]  # by name, no HR
    amy, ben, cat, dan = rows.values()
    assert (amy.active, amy.completed, amy.qf_credits) == (1, 1, 3)
    assert amy.attended_hours == pytest.approx(9)
    assert amy.attendance_rate == pytest.approx(9 / 12)
    # Absent from the first of two sessions: 50 % at best, below the 80 % minimum.
    assert (amy.at_risk_classes, amy.at_risk) == (1, True)
    assert (ben.active, ben.completed, ben.enrolments) == (0, 1, 2)
    assert ben.attended_hours == pytest.approx(9)
    assert ben.attendance_rate == pytest.approx(9 / 12)
    assert not ben.at_risk
    assert (cat.active, cat.attendance_rate, cat.department) == (1, None, None)
    assert (dan.active, dan.is_active) == (1, False)


def test_staff_progress_by_department_and_by_class_start(scene):
    rows = list(staff_progress.staff_progress(scene.hr, department="Security"))
    assert [row.name for row in rows] == ["Ben Lau", "Dan Yip"]
    in_2025 = progress_by_name(staff_progress.staff_progress(scene.hr, starts_on=date(2025, 1, 1)))
    assert in_2025["Ben Lau"].completed == 0  # the network class started in 2024
    assert in_2025["Ben Lau"].attended_hours == pytest.approx(3)
    until_april = progress_by_name(
        staff_progress.staff_progress(scene.hr, ends_on=date(2025, 4, 30))
    )
    assert until_april["Amy Chan"].at_risk_classes == 0  # the security class starts in May
    assert until_april["Amy Chan"].active == 0
    assert list(staff_progress.staff_progress(scene.hr, department="Kowloon only")) == []


def test_departments_are_the_companys_own(scene):
    assert staff.departments(scene.hr) == ["Cloud team", "Security"]
    assert staff.departments(scene.other_hr) == ["Kowloon only"]


def test_sorting_staff_progress_keeps_rows_without_a_value_last(scene):
    rows = list(staff_progress.staff_progress(scene.hr))

    def names(sort: str, descending: bool = False) -> list[str]:
        return [
            r.name for r in staff_progress.sort_staff_progress(rows, sort, descending=descending)
        ]

    assert names("name", True) == ["Dan Yip", "Cat Wong", "Ben Lau", "Amy Chan"]
    assert names("department") == ["Amy Chan", "Ben Lau", "Dan Yip", "Cat Wong"]
    assert names("department", True) == ["Ben Lau", "Dan Yip", "Amy Chan", "Cat Wong"]
    assert names("attendance") == ["Amy Chan", "Ben Lau", "Cat Wong", "Dan Yip"]
    assert names("attendance", True) == ["Amy Chan", "Ben Lau", "Cat Wong", "Dan Yip"]
    assert names("at_risk", True)[0] == "Amy Chan"
    assert names("completed") == ["Cat Wong", "Dan Yip", "Amy Chan", "Ben Lau"]
    assert names("active", True) == ["Amy Chan", "Cat Wong", "Dan Yip", "Ben Lau"]
    assert names("hours", True)[:2] == ["Amy Chan", "Ben Lau"]


# Exports: rows, CSV and XLSX ---------------------------------------------------------------


def test_enrolment_export_rows(scene):
    export = exports.enrolments_export(scene.hr, YEAR_2025)
    assert export.header[:5] == ["Staff number", "Name", "E-mail address", "Department",
                                 "Course code"]  # fmt: skip
    rows = list(export.rows)
    # Classes starting in 2025 only: not the network class of December 2024.
    assert [(row[1], row[7]) for row in rows] == [
        ("Amy Chan", "SU-CLD-101-2503"),
        ("Ben Lau", "SU-CLD-101-2503"),
        ("Amy Chan", "SU-SEC-101-2505"),
        ("Cat Wong", "SU-SEC-101-2505"),
        ("Dan Yip", "SU-SEC-101-2505"),
    ]
    amy = dict(zip(export.header, rows[0], strict=True))
    assert amy["Status"] == "Completed"
    assert amy["Skill area"] == "Cloud computing"
    assert amy["How enrolled"] == "Own request"
    assert amy["Class starts"] == date(2025, 3, 3)
    assert amy["Training hours"] == 9.0
    assert amy["Attendance (%)"] == 100.0
    assert amy["QF credits earned"] == 3
    assert amy["Certificate"] == "SU-2025-000001"
    ben = dict(zip(export.header, rows[1], strict=True))
    assert (ben["Attendance (%)"], ben["QF credits earned"], ben["Certificate"]) == (50.0, 0, None)
    cat = dict(zip(export.header, rows[3], strict=True))
    assert (cat["Training hours"], cat["Attendance (%)"]) == (0.0, None)
    security = list(
        exports.enrolments_export(
            scene.hr, ExportCriteria(date(2024, 1, 1), date(2025, 12, 31), "Security")
        ).rows
    )
    assert [(row[1], row[7]) for row in security] == [
        ("Ben Lau", "SU-NET-101-2412"),
        ("Ben Lau", "SU-CLD-101-2503"),
        ("Dan Yip", "SU-SEC-101-2505"),
    ]


def test_progress_export_rows(scene):
    export = exports.progress_export(scene.hr, YEAR_2025)
    rows = {row[1]: dict(zip(export.header, row, strict=True)) for row in export.rows}
    assert list(rows) == ["Amy Chan", "Ben Lau", "Cat Wong", "Dan Yip"]
    amy = rows["Amy Chan"]
    assert amy["Enrolments"] == 2
    assert amy["Training hours"] == 9.0
    assert amy["Attendance (%)"] == 75.0
    assert amy["Classes at risk"] == 1
    assert amy["QF credits earned"] == 3
    assert amy["Account active"] is True
    assert rows["Dan Yip"]["Account active"] is False
    assert rows["Ben Lau"]["Completed"] == 0  # the network class started in 2024


def read_csv(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text)))


def test_csv_starts_with_a_byte_order_mark_and_escapes_formulas(make, scene):
    scene.amy.department = EVIL
    scene.ben.name = "+SUM(1)"
    scene.cat.name = "@cmd"
    scene.dan.name = "-2"
    scene.dan.staff_number = "\t=1"
    make.user(company=scene.company, name="陳大文", department="資訊科技部")
    db.session.commit()
    text = "".join(exports.csv_chunks(exports.progress_export(scene.hr, YEAR_2025)))
    assert text.startswith("\ufeffStaff number,Name,")
    rows = read_csv(text.removeprefix("\ufeff"))
    by_email = {row[2]: row for row in rows[1:]}
    assert len(by_email) == 5
    assert by_email[scene.ben.email][1] == "'+SUM(1)"
    assert by_email[scene.cat.email][1] == "'@cmd"
    assert by_email[scene.dan.email][1] == "'-2"
    assert by_email[scene.dan.email][0] == "'\t=1"
    amy = by_email[scene.amy.email]
    assert amy[3] == "'" + EVIL
    assert amy[5:] == ["Yes", "2", "1", "1", "9.0", "75.0", "1", "3"]
    chinese = next(row for row in rows if row[1] == "陳大文")
    assert chinese[3] == "資訊科技部"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t")) for row in rows for cell in row)


def test_csv_of_enrolments_has_hong_kong_times(scene):
    scene.amy_security.confirmed_at = datetime(2025, 4, 30, 16, 30, tzinfo=UTC)
    db.session.commit()
    rows = read_csv("".join(exports.csv_chunks(exports.enrolments_export(scene.hr, YEAR_2025)))[1:])
    header, amy_security = rows[0], rows[3]
    record = dict(zip(header, amy_security, strict=True))
    assert record["Confirmed at"] == "2025-05-01 00:30"
    assert record["Class starts"] == "2025-05-05"
    assert record["Status"] == "Confirmed"
    assert record["Passed"] == ""


def test_exports_keep_real_dates_whatever_the_readers_language(app, scene):
    """The portal's displayed date formats never reach an export: ISO 8601 in CSV, date
    cells in XLSX, in Chinese as in English."""
    scene.amy_security.confirmed_at = datetime(2025, 4, 30, 16, 30, tzinfo=UTC)
    db.session.commit()
    with app.test_request_context(), flask_babel.force_locale("zh_Hant_HK"):
        export = exports.enrolments_export(scene.hr, YEAR_2025)
        rows = read_csv("".join(exports.csv_chunks(export))[1:])
        file = exports.xlsx_file(exports.enrolments_export(scene.hr, YEAR_2025))
        sheet = open_xlsx(b"".join(exports.file_chunks(file)))
    amy_security = rows[3]
    assert "2025-05-01 00:30" in amy_security and "2025-05-05" in amy_security
    assert not any("年" in cell for row in rows[1:] for cell in row)
    cells = [cell for row in sheet.iter_rows(min_row=2) for cell in row]
    dated = [cell for cell in cells if cell.is_date]
    assert dated and all(isinstance(cell.value, datetime) for cell in dated)
    assert datetime(2025, 5, 1, 0, 30) in [cell.value for cell in dated]  # noqa: DTZ001
    assert not any(isinstance(cell.value, str) and "年" in cell.value for cell in cells)


def test_csv_comes_in_chunks_for_large_exports(scene, monkeypatch):
    monkeypatch.setattr(exports, "CSV_CHUNK_CHARACTERS", 200)
    chunks = list(exports.csv_chunks(exports.enrolments_export(scene.hr, YEAR_2025)))
    assert len(chunks) > 2
    assert len(read_csv("".join(chunks)[1:])) == 6


def open_xlsx(data: bytes) -> Any:
    return openpyxl.load_workbook(io.BytesIO(data)).active


def test_xlsx_has_the_header_rows_and_no_formulas(scene):
    scene.amy.department = EVIL
    scene.ben.name = "+SUM(1)\x07"  # a control character no spreadsheet file can hold
    scene.cat.name = "@cmd"
    scene.dan.name = "-2"
    db.session.commit()
    file = exports.xlsx_file(exports.enrolments_export(scene.hr, YEAR_2025))
    sheet = open_xlsx(b"".join(exports.file_chunks(file)))
    assert file.closed
    assert sheet.title == "Enrolments"
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:4] == ("Staff number", "Name", "E-mail address", "Department")
    assert len(rows) == 6
    by_email = {(row[2], row[7]): row for row in rows[1:]}
    amy = by_email[(scene.amy.email, "SU-CLD-101-2503")]
    assert amy[1] == "Amy Chan"
    assert amy[3] == "'" + EVIL
    assert amy[8].date() == date(2025, 3, 3)  # a date cell
    assert amy[15] == 9  # a number cell
    assert by_email[(scene.ben.email, "SU-CLD-101-2503")][1] == "'+SUM(1)"
    assert by_email[(scene.cat.email, "SU-SEC-101-2505")][1] == "'@cmd"
    assert by_email[(scene.dan.email, "SU-SEC-101-2505")][1] == "'-2"
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)


def test_xlsx_cells_keep_their_types(scene):
    scene.amy_security.confirmed_at = datetime(2025, 4, 30, 16, 30, 45, 123456, tzinfo=UTC)
    scene.amy_security.result_score = Decimal("85.50")
    scene.amy_security.result_passed = True
    scene.cat.name = "=cmd()"
    scene.dan.name = "陳大文"
    scene.dan.department = "資訊科技部"
    db.session.commit()
    file = exports.xlsx_file(exports.enrolments_export(scene.hr, YEAR_2025))
    sheet = open_xlsx(b"".join(exports.file_chunks(file)))
    header = [cell.value for cell in sheet[1]]
    assert header[:3] == ["Staff number", "Name", "E-mail address"]
    assert all(cell.font.b for cell in sheet[1])
    assert sheet.freeze_panes == "A2"
    rows = sheet.iter_rows(min_row=4, max_row=6)
    cells = {row[1].value: dict(zip(header, row, strict=True)) for row in rows}
    amy = cells["Amy Chan"]
    # Hong Kong time, without a time zone, shown to the minute.
    assert amy["Confirmed at"].value == datetime(2025, 5, 1, 0, 30, 45)  # noqa: DTZ001
    assert amy["Confirmed at"].value.tzinfo is None
    assert amy["Confirmed at"].number_format == "yyyy-mm-dd hh:mm"
    assert amy["Class starts"].is_date
    assert amy["Class starts"].value == datetime(2025, 5, 5)  # noqa: DTZ001
    assert amy["Class starts"].number_format == "yyyy-mm-dd"
    assert (amy["Result"].data_type, amy["Result"].value) == ("n", 85.5)
    assert (amy["Training hours"].data_type, amy["Training hours"].value) == ("n", 0)
    assert amy["Passed"].value == "Yes"
    assert amy["Certificate"].value is None
    cat = cells["'=cmd()"]
    assert cat["Name"].data_type == "s"
    dan = cells["陳大文"]
    assert dan["Department"].value == "資訊科技部"


def test_xlsx_text_is_never_read_as_a_formula_a_link_or_a_number(app):
    # Not caught by escape_cell: an array formula, a link and a number written as text.
    export = exports.Export(
        report="enrolments",
        sheet_title="Odd: [names]?",
        header=["A", "B", "C", "D"],
        rows=iter([["{=1+1}", "https://evil.example", "0123", "line\x0bbreak"]]),
        company_code="HBIT",
        criteria=YEAR_2025,
    )
    sheet = open_xlsx(b"".join(exports.file_chunks(exports.xlsx_file(export))))
    assert sheet.title == "Odd   names  "
    (row,) = sheet.iter_rows(min_row=2)
    assert [cell.value for cell in row] == ["{=1+1}", "https://evil.example", "0123", "linebreak"]
    assert {cell.data_type for cell in row} == {"s"}
    assert all(cell.hyperlink is None for cell in row)


def test_exports_translate_each_name_and_yes_or_no_once_per_file(scene, monkeypatch):
    names: Counter[Any] = Counter()
    files = Counter()
    real_label, real_yes_no = exports.label, exports._yes_no

    def label(value: Any) -> str:
        names[value] += 1
        return real_label(value)

    def yes_no() -> dict[bool, str]:
        files["yes_no"] += 1
        return real_yes_no()

    monkeypatch.setattr(exports, "label", label)
    monkeypatch.setattr(exports, "_yes_no", yes_no)
    text = "".join(exports.csv_chunks(exports.enrolments_export(scene.hr, YEAR_2025)))
    # Five rows: one completed, three in the security course.
    assert text.count(",Completed,") == 1 and text.count(",Cybersecurity,") == 3
    assert names[EnrolmentStatus.COMPLETED] == names[SkillArea.CYBERSECURITY] == 1
    assert max(names.values()) == 1
    assert files["yes_no"] == 1
    exports.xlsx_file(exports.progress_export(scene.hr, YEAR_2025)).close()
    assert files["yes_no"] == 2


def test_export_file_names_carry_the_company_code_and_dates(scene):
    export = exports.progress_export(scene.hr, YEAR_2025)
    assert exports.export_filename(export, "csv") == (
        "skillsup-HBIT-progress-2025-01-01-to-2025-12-31.csv"
    )
    export.company_code = "A/B C\"'"
    assert exports.export_filename(export, "xlsx").startswith("skillsup-ABC-progress-")


# Views -------------------------------------------------------------------------------------

HR_PAGES = [
    "/hr/",
    "/hr/progress",
    "/hr/reports",
    "/hr/reports/progress.csv",
    "/hr/reports/progress.xlsx",
    "/hr/reports/enrolments.csv",
    "/hr/reports/enrolments.xlsx",
]


@pytest.mark.parametrize("path", HR_PAGES)
def test_anonymous_visitors_are_sent_to_log_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.parametrize("role", ["learner", "trainer", "admin"])
def test_other_roles_are_refused(client, make, company, login_as, role):
    login_as(make.user(role=role, company=company if role == "learner" else None))
    for path in HR_PAGES:
        assert client.get(path).status_code == 403, path


def body(response: Any) -> str:
    return response.get_data(as_text=True)


@pytest.fixture
def frozen_2025() -> Iterator[None]:
    with time_machine.travel(datetime(2025, 6, 1, 4, tzinfo=UTC), tick=False):
        yield


def test_dashboard_shows_the_current_quota_period(client, login_as, scene, frozen_2025):
    login_as(scene.hr)
    response = client.get("/hr/")
    page = body(response)
    assert response.status_code == 200
    assert f'<option selected value="q{scene.quota_all.id}">' in page
    assert "2025 all courses" in page
    assert '<optgroup label="Calendar years">' in page
    assert '<span class="stat-value">15</span> <span class="stat-label">training hours' in page
    assert '<span class="stat-value">71%</span>' in page  # 15 of 21 hours
    assert '<span class="stat-value">2</span> <span class="stat-label">staff in training' in page
    assert "1 request waits for your approval" in page
    # Quotas: used and left.
    assert '<th scope="row">2025 security</th>' in page
    assert re.search(r"<td[^>]*>SU-SEC-101</td>", page)
    assert re.search(r"<td[^>]*>All courses</td>", page)
    assert re.search(r'<td class="numeric"[^>]*>4 <meter', page)
    # Charts, accessible and allowed by the content security policy.
    assert page.count('role="img"') == 3
    assert page.count("Show the data as a table") == 3
    assert "style=" not in page
    assert "<script" not in page
    # Nothing of the other company.
    assert "Kowloon" not in page
    assert "Olivia" not in page


def test_dashboard_for_a_chosen_year(client, login_as, scene, frozen_2025):
    login_as(scene.hr)
    page = body(client.get("/hr/?period=y2024"))
    assert '<option selected value="y2024">' in page
    assert (
        "Your company has no seat quota for this period: your staff may fill any number of seats."
        in page
    )
    assert '<span class="stat-value">3</span> <span class="stat-label">training hours' in page
    assert "No class of your staff finished in this period." in page


@pytest.mark.parametrize("key", ["y1999", "nonsense", ""])
def test_dashboard_refuses_an_unknown_period_clearly(client, login_as, scene, key):
    login_as(scene.hr)
    response = client.get(f"/hr/?period={key}")
    assert response.status_code == 400
    assert "Choose a period from the list." in body(response)


def test_dashboard_refuses_another_companys_quota_period(client, login_as, scene):
    login_as(scene.hr)
    response = client.get(f"/hr/?period=q{scene.other_quota.id}")
    assert response.status_code == 400
    assert "Kowloon 2025" not in body(response)


CACHED = {"HR_DASHBOARD_CACHE_SECONDS": 120}


@pytest.mark.parametrize("app_config", [CACHED])
def test_dashboard_figures_are_reused_for_a_while_and_say_when_they_were_worked_out(
    client, login_as, scene, make
):
    staff_in_training = '<span class="stat-value">{}</span> <span class="stat-label">staff in'
    with time_machine.travel(datetime(2025, 6, 1, 4, tzinfo=UTC), tick=False) as traveller:
        login_as(scene.hr)
        first = body(client.get("/hr/?period=y2025"))
        assert "Figures as of 01/06/2025 12:00" in first
        assert staff_in_training.format(2) in first
        traveller.shift(timedelta(minutes=1))
        assert "Figures as of 01/06/2025 12:00" in body(client.get("/hr/?period=y2025"))
        traveller.shift(timedelta(minutes=2))
        later = body(client.get("/hr/?period=y2025"))
        assert "Figures as of 01/06/2025 12:03" in later
        assert staff_in_training.format(2) in later


@pytest.mark.parametrize("app_config", [CACHED])
def test_a_change_to_the_companys_enrolments_shows_on_the_dashboard_at_once(
    client, login_as, scene, make
):
    staff_in_training = '<span class="stat-value">{}</span> <span class="stat-label">staff in'
    login_as(scene.hr)
    assert staff_in_training.format(2) in body(client.get("/hr/?period=y2025"))
    # A new enrolment, stamped before the latest change (as a transaction that commits late).
    newcomer = make.user(company=scene.company, name="Nina Ng")
    enrolment = make.enrolment(scene.cloud_class, newcomer)
    enrolment.updated_at = datetime(2000, 1, 1, tzinfo=UTC)
    assert staff_in_training.format(3) in body(client.get("/hr/?period=y2025"))
    # A decision on an enrolment.
    enrolment.status = EnrolmentStatus.WITHDRAWN
    assert staff_in_training.format(2) in body(client.get("/hr/?period=y2025"))


@pytest.mark.parametrize("app_config", [CACHED])
def test_the_years_on_offer_come_from_the_cache_for_a_while(app, scene, make):
    def years(**kwargs: Any) -> list[str]:
        with app.test_request_context():
            periods = hr_dashboard.company_periods(scene.hr, today=date(2025, 6, 1), **kwargs)
            return [p.key for p in periods if not p.is_quota_period]

    assert years(max_age=120) == ["y2025", "y2024"]
    make.enrolment(
        make.course_class(starts_on=date(2027, 3, 1), ends_on=date(2027, 3, 2)), scene.amy
    )
    assert years(max_age=120) == ["y2025", "y2024"]
    assert years() == ["y2027", "y2026", "y2025", "y2024"]


@pytest.mark.parametrize("app_config", [CACHED])
def test_cached_figures_keep_each_company_to_itself_and_quotas_current(app, scene):
    with app.test_request_context():
        ours = hr_dashboard.company_dashboard(scene.hr, year(2025), max_age=120)
        theirs = hr_dashboard.company_dashboard(scene.other_hr, year(2025), max_age=120)
        assert ours.staff_in_training == 2
        assert theirs.staff_in_training != ours.staff_in_training
        assert hr_dashboard.company_dashboard(scene.hr, year(2025), max_age=120) == replace(
            ours, quotas=hr_dashboard.quota_uses_in_period(scene.hr.company_id, year(2025))
        )


@pytest.mark.parametrize(
    "app_config",
    [{**CACHED, "CACHE_URL": "redis://127.0.0.1:1/0"}],  # nothing listens there
)
def test_dashboard_works_out_its_figures_when_the_cache_is_unreachable(
    client, login_as, scene, caplog
):
    login_as(scene.hr)
    response = client.get("/hr/?period=y2025")
    assert response.status_code == 200
    assert '<span class="stat-value">2</span> <span class="stat-label">staff in training' in (
        body(response)
    )
    assert "cache unavailable" in caplog.text


def test_without_a_cache_the_dashboard_says_nothing_of_its_age(client, login_as, scene):
    login_as(scene.hr)
    assert "Figures as of" not in body(client.get("/hr/?period=y2025"))


def test_progress_page_lists_sorts_and_filters(client, login_as, scene):
    login_as(scene.hr)
    page = body(client.get("/hr/progress"))
    assert "4 employees" in page
    assert page.index("Amy Chan") < page.index("Ben Lau") < page.index("Dan Yip")
    assert 'aria-sort="ascending"' in page
    assert 'href="/hr/progress?sort=name&amp;dir=desc"' in page
    assert 'href="/hr/progress?sort=hours&amp;dir=desc"' in page
    assert re.search(r'class="badge badge-bad"><svg [^>]*>.*?</svg><span>1 class</span>', page)
    assert "Olivia" not in page

    page = body(client.get("/hr/progress?sort=completed&dir=asc"))
    assert page.index("Cat Wong") < page.index("Amy Chan") < page.index("Ben Lau")
    assert 'aria-sort="ascending"' in page
    assert 'href="/hr/progress?sort=completed&amp;dir=desc"' in page

    page = body(client.get("/hr/progress?department=Security&sort=hours&dir=desc"))
    assert "2 employees" in page
    assert "Amy Chan" not in page
    assert page.index("Ben Lau") < page.index("Dan Yip")
    assert 'href="/hr/progress?department=Security&amp;sort=name&amp;dir=asc"' in page


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("sort=password", "The table cannot be sorted that way"),
        ("sort=name&dir=sideways", "Sort in the order asc"),
    ],
)
def test_progress_page_refuses_bad_sorting(client, login_as, scene, query, message):
    login_as(scene.hr)
    response = client.get(f"/hr/progress?{query}")
    assert response.status_code == 400
    assert message in body(response)


def test_progress_page_refuses_another_companys_department(client, login_as, scene):
    login_as(scene.hr)
    response = client.get("/hr/progress?department=Kowloon+only")
    assert response.status_code == 400
    page = body(response)
    assert "Choose a department from the list." in page
    assert "Olivia" not in page


@pytest.mark.parametrize("page", ["x", "-3", "0"])
def test_progress_page_answers_a_bad_page_number_with_the_first_page(client, login_as, scene, page):
    login_as(scene.hr)
    response = client.get(f"/hr/progress?page={page}")
    assert response.status_code == 200
    assert "Amy Chan" in body(response) and "Ben Lau" in body(response)


def test_progress_page_beyond_the_last_answers_an_empty_page(client, login_as, scene):
    login_as(scene.hr)
    response = client.get("/hr/progress?page=99")
    assert response.status_code == 200
    assert "Amy Chan" in body(client.get("/hr/progress"))
    assert "Amy Chan" not in body(response)


def test_reports_page_offers_the_current_period(client, login_as, scene, frozen_2025):
    login_as(scene.hr)
    page = body(client.get("/hr/reports"))
    assert 'value="2025-01-01"' in page and 'value="2025-12-31"' in page
    assert 'formaction="/hr/reports/enrolments.xlsx"' in page
    assert '<option value="Security">Security</option>' in page
    assert "Kowloon only" not in page


def download(client: Any, url: str) -> Any:
    # Read the whole body inside the request, as a server would stream it.
    return client.get(url, buffered=True)


def test_csv_download(client, login_as, scene):
    login_as(scene.hr)
    response = download(
        client, "/hr/reports/enrolments.csv?starts_on=2025-01-01&ends_on=2025-12-31"
    )
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.mimetype_params["charset"] == "utf-8"
    assert response.headers["Content-Disposition"] == (
        "attachment; filename=skillsup-HBIT-enrolments-2025-01-01-to-2025-12-31.csv"
    )
    raw = response.get_data()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = read_csv(raw.decode("utf-8-sig"))
    assert rows[0][:2] == ["Staff number", "Name"]
    assert [row[1] for row in rows[1:]] == ["Amy Chan", "Ben Lau", "Amy Chan", "Cat Wong",
                                            "Dan Yip"]  # fmt: skip
    assert "Olivia" not in raw.decode("utf-8-sig")


def reasons_scene(scene: Scene, cancelled_reason: str) -> None:
    """Ben did not complete the cloud class (attendance and assessment); Cat's request for the
    security class was cancelled with the reason an admin typed."""
    ben_cloud = db.session.scalar(
        select(Enrolment).where(
            Enrolment.learner_id == scene.ben.id, Enrolment.class_id == scene.cloud_class.id
        )
    )
    assert ben_cloud is not None
    ben_cloud.status_reasons = [
        reason(ATTENDANCE_BELOW_MINIMUM, rate=0.5, minimum=0.8),
        reason(ASSESSMENT_FAILED),
    ]
    cat_security = db.session.scalar(select(Enrolment).where(Enrolment.learner_id == scene.cat.id))
    assert cat_security is not None
    cat_security.status = EnrolmentStatus.CANCELLED
    cat_security.status_reasons = free_text(cancelled_reason)
    db.session.commit()


REASON_QUERY = "starts_on=2025-01-01&ends_on=2025-12-31"


def export_records(client: Any, file_format: str, language: str) -> dict[str, dict[str, Any]]:
    """The enrolments export downloaded in ``language``: each row by learner name and class
    code, as a mapping of its headings to its cells."""
    url = f"/hr/reports/enrolments.{file_format}?{REASON_QUERY}"
    response = client.get(url, headers={"Accept-Language": language}, buffered=True)
    assert response.status_code == 200
    if file_format == "csv":
        rows: list[Any] = read_csv(response.get_data().decode("utf-8-sig"))
    else:
        rows = list(open_xlsx(response.get_data()).iter_rows(values_only=True))
    header = list(rows[0])
    return {f"{row[1]} {row[7]}": dict(zip(header, row, strict=True)) for row in rows[1:]}


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
@pytest.mark.parametrize(
    ("language", "words"),
    [
        (
            "en",
            {
                "reason": "Reason",
                "status": "Status",
                "not_completed": "Not completed",
                "cancelled": "Cancelled",
                "why_not": "Attendance 50% is below the 80% minimum. Assessment failed.",
            },
        ),
        (
            "zh-HK",
            {
                "reason": "原因",
                "status": "狀態",
                "not_completed": "未完成",
                "cancelled": "已取消",
                "why_not": "出席率50%，低於80%的最低要求。評核不合格。",
            },
        ),
    ],
)
def test_the_enrolments_export_words_each_status_reason_in_the_readers_language(
    client, login_as, scene, file_format, language, words
):
    reasons_scene(scene, "The trainer is unavailable.")
    login_as(scene.hr)
    records = export_records(client, file_format, language)
    ben = records["Ben Lau SU-CLD-101-2503"]
    assert ben[words["status"]] == words["not_completed"]
    assert ben[words["reason"]] == words["why_not"]
    cat = records["Cat Wong SU-SEC-101-2505"]
    assert cat[words["status"]] == words["cancelled"]
    assert cat[words["reason"]] == "The trainer is unavailable."
    amy = records["Amy Chan SU-CLD-101-2503"]
    assert amy[words["reason"]] in ("", None)  # completed: nothing to explain


@pytest.mark.parametrize("file_format", ["csv", "xlsx"])
def test_a_typed_reason_that_looks_like_a_formula_is_exported_as_text(
    client, login_as, scene, file_format
):
    reasons_scene(scene, EVIL)
    login_as(scene.hr)
    cat = export_records(client, file_format, "en")["Cat Wong SU-SEC-101-2505"]
    assert cat["Reason"] == "'" + EVIL


def test_csv_is_streamed_in_chunks(app, scene, monkeypatch):
    # Called directly: the test client would read a streamed body outside the request.
    from skillsup.hr.reports import enrolments_csv

    monkeypatch.setattr(exports, "CSV_CHUNK_CHARACTERS", 300)
    with app.test_request_context(
        "/hr/reports/enrolments.csv?starts_on=2025-01-01&ends_on=2025-12-31"
    ):
        started = user_sessions.start(scene.hr)
        remember_session(started.record, started.secret)
        login_user(scene.hr)
        response = enrolments_csv()
        assert response.is_streamed
        assert "Content-Length" not in response.headers
        chunks = list(response.iter_encoded())
    assert len(chunks) > 2
    rows = read_csv(b"".join(chunks).decode("utf-8-sig"))
    assert len(rows) == 6


def test_xlsx_download(client, login_as, scene):
    login_as(scene.hr)
    query = "starts_on=2025-01-01&ends_on=2025-12-31&department=Security"
    response = download(client, f"/hr/reports/progress.xlsx?{query}")
    assert response.status_code == 200
    assert response.mimetype == reports_view_xlsx_mimetype()
    assert response.headers["Content-Disposition"].endswith(
        "filename=skillsup-HBIT-progress-2025-01-01-to-2025-12-31.xlsx"
    )
    assert int(response.headers["Content-Length"]) == len(response.get_data())
    sheet = open_xlsx(response.get_data())
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("Staff number", "Name", "E-mail address")
    assert [row[1] for row in rows[1:]] == ["Ben Lau", "Dan Yip"]


def reports_view_xlsx_mimetype() -> str:
    from skillsup.hr.reports import XLSX_MIMETYPE

    return XLSX_MIMETYPE


def test_a_download_is_recorded_in_the_audit_log(client, login_as, scene):
    login_as(scene.hr)
    download(client, "/hr/reports/enrolments.xlsx?starts_on=2025-01-01&ends_on=2025-03-31")
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report_exported"))
    assert entry is not None
    assert entry.actor_id == scene.hr.id
    assert (entry.object_type, entry.object_id) == ("partner_companies", scene.company.id)
    assert entry.details == {
        "report": "enrolments",
        "format": "xlsx",
        "starts_on": "2025-01-01",
        "ends_on": "2025-03-31",
        "department": None,
    }


def test_a_download_without_dates_covers_the_current_period(client, login_as, scene, frozen_2025):
    login_as(scene.hr)
    response = download(client, "/hr/reports/enrolments.csv")
    assert response.status_code == 200
    assert "2025-01-01-to-2025-12-31" in response.headers["Content-Disposition"]
    assert len(read_csv(response.get_data().decode("utf-8-sig"))) == 6


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("starts_on=2025-12-31&ends_on=2025-01-01", "The last day cannot be before the first."),
        ("starts_on=31/12/2025&ends_on=2025-12-31", "Enter a date such as 2025-09-01."),
        ("starts_on=&ends_on=2025-12-31", "Enter a date such as 2025-09-01."),
        ("starts_on=2025-02-30&ends_on=2025-12-31", "Enter a date such as 2025-09-01."),
        ("starts_on=2025-01-01&ends_on=2025-12-31&department=Kowloon+only",
         "Choose a department from the list."),
    ],
)  # fmt: skip
@pytest.mark.parametrize("path", HR_PAGES[3:])
def test_bad_download_criteria_get_the_form_back_with_the_reason(
    client, login_as, scene, query, message, path
):
    login_as(scene.hr)
    response = client.get(f"{path}?{query}")
    assert response.status_code == 400
    assert response.mimetype == "text/html"
    page = body(response)
    assert message in page
    assert "Olivia" not in page
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "report_exported")) is None
    )


def test_no_export_of_company_a_holds_anything_of_company_b(client, login_as, scene):
    login_as(scene.hr)
    query = "starts_on=2000-01-01&ends_on=2099-12-31"
    for kind in ("progress", "enrolments"):
        text = download(client, f"/hr/reports/{kind}.csv?{query}").get_data().decode("utf-8-sig")
        assert "Olivia" not in text and "kowloon-data.test" not in text
        sheet = open_xlsx(download(client, f"/hr/reports/{kind}.xlsx?{query}").get_data())
        cells = [str(value) for row in sheet.iter_rows(values_only=True) for value in row]
        assert not any("Olivia" in cell or "kowloon" in cell for cell in cells)
    # And company B's officer sees B's employee and none of A's.
    client.post("/logout")
    login_as(scene.other_hr)
    text = download(client, f"/hr/reports/enrolments.csv?{query}").get_data().decode("utf-8-sig")
    assert "Olivia Outsider" in text
    assert "Amy Chan" not in text and "Ben Lau" not in text


# A fixed number of queries -----------------------------------------------------------------


def add_staff_with_training(make: Any, company: Any, classes: list[Any], count: int) -> None:
    """``count`` employees, each confirmed in the first class and completed in the second,
    with attendance at both."""
    running, finished = classes
    for n in range(count):
        learner = make.user(company=company, department=f"Team {n % 3}", password=None)
        confirmed = make.enrolment(running, learner, EnrolmentStatus.CONFIRMED)
        completed = make.enrolment(finished, learner, EnrolmentStatus.COMPLETED)
        mark(confirmed, running.sessions[0], ABSENT if n % 2 else PRESENT)
        for session in finished.sessions:
            mark(completed, session, PRESENT)
    db.session.commit()


def test_pages_run_the_same_number_of_queries_for_3_and_40_employees(
    client, make, login_as, company, hr_officer, frozen_2025
):
    classes = [
        make.course_class(sessions=2, first_session=hk_datetime(2025, 5, 5, 19), capacity=100),
        make.course_class(sessions=2, first_session=hk_datetime(2025, 2, 3, 19), capacity=100),
    ]
    make.quota(company, 200, date(2025, 1, 1), date(2025, 12, 31))
    login_as(hr_officer)
    pages = ["/hr/", "/hr/?period=y2025", "/hr/progress", "/hr/progress?sort=at_risk&dir=desc",
             "/hr/progress?department=Team+1", "/hr/reports"]  # fmt: skip
    add_staff_with_training(make, company, classes, 3)
    few = {page: page_queries(client, page) for page in pages}
    add_staff_with_training(make, company, classes, 37)
    many = {page: page_queries(client, page) for page in pages}
    for page in pages:
        few_response, few_statements = few[page]
        many_response, many_statements = many[page]
        assert few_response.status_code == many_response.status_code == 200, page
        assert len(few_statements) == len(many_statements), (page, many_statements)
        assert len(many_statements) <= 12, (page, many_statements)
    assert "3 employees" in body(few["/hr/progress"][0])
    assert "40 employees" in body(many["/hr/progress"][0])
    assert 'rel="next"' in body(many["/hr/progress"][0])
    second = body(client.get("/hr/progress?page=2"))
    assert second.count('<th scope="row">') == 15
    assert "staff in training" in body(many["/hr/"][0])
    assert '<span class="stat-value">40</span> <span class="stat-label">staff in training' in (
        body(many["/hr/"][0])
    )


def bulk_enrolments(company: Any, classes: list[CourseClass], learners: int, start: int) -> None:
    """``learners`` new employees, each enrolled in every one of ``classes``, inserted in bulk
    (fast enough for 10,000 rows); every other one in a department named like a formula."""
    now = datetime.now(UTC)
    ids = db.session.scalars(
        insert(User).returning(User.id, sort_by_parameter_order=True),
        [
            {
                "email": f"bulk{n}@{company.domains[0].domain}",
                "name": f"Bulk Learner {n:05d}",
                "role": Role.LEARNER,
                "company_id": company.id,
                "department": EVIL if n % 2 else "Ops",
                "staff_number": f"B{n:05d}",
                "session_version": 1,
                "is_active": True,
                "created_at": now,
            }
            for n in range(start, start + learners)
        ],
    ).all()
    statuses = [EnrolmentStatus.COMPLETED, EnrolmentStatus.CONFIRMED, EnrolmentStatus.WITHDRAWN]
    db.session.execute(
        insert(Enrolment),
        [
            {
                "class_id": course_class.id,
                "learner_id": learner_id,
                # A bulk insert skips the event that stamps the learner's company.
                "company_id": company.id,
                "status": statuses[(i + j) % 3],
                # A withdrawal with a typed reason that a spreadsheet would run.
                "status_reasons": free_text(EVIL) if (i + j) % 3 == 2 else None,
                "source": EnrolmentSource.CSV,
                "requested_at": now,
                "updated_at": now,
            }
            for i, learner_id in enumerate(ids)
            for j, course_class in enumerate(classes)
        ],
    )
    db.session.commit()


@pytest.mark.slow
def test_exports_of_10_and_10000_rows_run_the_same_number_of_queries(
    client, make, login_as, company, hr_officer
):
    first = hk_datetime(2025, 3, 3, 19)
    classes = [
        make.course_class(code=f"BULK-{n:03d}", sessions=1, first_session=first, capacity=1000)
        for n in range(20)
    ]
    login_as(hr_officer)
    query = "?starts_on=2025-01-01&ends_on=2025-12-31"
    urls = [f"/hr/reports/{kind}.{ext}{query}" for kind in ("enrolments", "progress")
            for ext in ("csv", "xlsx")]  # fmt: skip

    bulk_enrolments(company, classes[:10], 1, 0)
    few = {url: page_queries(client, url) for url in urls}
    bulk_enrolments(company, classes, 500, 1)
    if db.engine.dialect.name == "postgresql":
        # Statistics, as autovacuum keeps them: without any, PostgreSQL plans for empty tables.
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    total = db.session.scalar(select(func.count()).select_from(Enrolment))
    assert total == 10 + 10_000
    many = {url: page_queries(client, url) for url in urls}

    for url in urls:
        assert few[url][0].status_code == many[url][0].status_code == 200
        assert len(few[url][1]) == len(many[url][1]), (url, many[url][1])
    enrolment_rows = read_csv(many[urls[0]][0].get_data().decode("utf-8-sig"))
    assert len(enrolment_rows) == 1 + total
    assert {row[3] for row in enrolment_rows[1:]} == {"'" + EVIL, "Ops"}
    assert {row[11] for row in enrolment_rows[1:]} == {"'" + EVIL, ""}
    sheet = open_xlsx(many[urls[1]][0].get_data())
    assert sheet.max_row == 1 + total
    progress_rows = read_csv(many[urls[2]][0].get_data().decode("utf-8-sig"))
    assert len(progress_rows) == 1 + 501  # the bulk learners; the HR officer is not staff
