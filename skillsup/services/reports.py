"""Reports for a partner company's HR officers: the dashboard's figures and charts, the staff
progress table, and spreadsheet exports.

Every function takes the acting HR officer and reads their own company's data only: the company
filter is inside each query, so a view that forgets a check cannot show another company's
figures. Each function runs a fixed number of queries, whatever the number of staff, enrolments
or rows; exports read their rows in batches (``yield_per``) and never query per row.

The words the figures use:

- a *place* is an enrolment that holds or held a seat: confirmed, completed or not completed;
- *training hours* are the contact hours of the sessions a learner attended (present or late);
- the *attendance rate* is the share of the marked contact hours attended: excused sessions are
  left out, and so are sessions not marked yet and cancelled sessions (as in "My learning").

Cells of an export that a spreadsheet would read as a formula are made harmless by
:func:`escape_cell`.
"""

from __future__ import annotations

import csv
import io
import re
import tempfile
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import IO, Any
from unicodedata import east_asian_width

from babel.dates import format_skeleton
from flask_babel import format_decimal, get_locale
from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from sqlalchemy import ColumnElement, and_, case, extract, func, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..labels import label
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    SeatQuota,
    SkillArea,
    User,
    utcnow,
)
from ..timeutil import start_of_hk_day_utc, to_hk, today_hk
from . import audit, caching, xlsx
from .progress import ATTENDED, standings
from .seat_quotas import QuotaUse, seats_used_by_quota
from .staff import hr_company_id

#: Enrolments that hold or held a seat in their class.
PLACE_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


def _staff(company_id: int, department: str | None = None) -> list[ColumnElement[bool]]:
    """Conditions that keep a query to the company's learners (of one department)."""
    conditions = [User.company_id == company_id, User.role == Role.LEARNER]
    if department is not None:
        conditions.append(User.department == department)
    return conditions


def _session_hours() -> ColumnElement[Any]:
    """The length of a session in hours, as SQL: each database subtracts times its own way."""
    starts, ends = ClassSession.starts_at, ClassSession.ends_at
    if db.session.get_bind().dialect.name == "sqlite":
        return (func.julianday(ends) - func.julianday(starts)) * 24.0
    return extract("epoch", ends - starts) / 3600.0


def _as_date(value: Any) -> date | None:
    # An aggregate over a date column can come back as text on SQLite.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _rate(attended: float, counted: float) -> float | None:
    return attended / counted if counted > 0 else None


def _percent(rate: float | None) -> float | None:
    return None if rate is None else round(rate * 100, 1)


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    """A stretch of dates the dashboard reports on: a quota period or a calendar year."""

    key: str
    label: str
    starts_on: date
    ends_on: date
    is_quota_period: bool = False

    def contains(self, day: date) -> bool:
        return self.starts_on <= day <= self.ends_on

    @property
    def months(self) -> list[date]:
        """The first day of every month the period touches, in order."""
        months = []
        month = self.starts_on.replace(day=1)
        while month <= self.ends_on:
            months.append(month)
            month = (month + timedelta(days=32)).replace(day=1)
        return months


def year_period(year: int) -> Period:
    """The calendar year ``year`` as a period."""
    return Period(
        key=f"y{year}",
        label=str(_l("Calendar year %(year)s", year=str(year))),
        starts_on=date(year, 1, 1),
        ends_on=date(year, 12, 31),
    )


def company_periods(actor: User, *, today: date | None = None, max_age: int = 0) -> list[Period]:
    """The periods the actor's company can report on: its quota periods, newest first, then
    every calendar year from its first class to its last (and always the current year).

    Quotas over the same dates are one period, named after the quota for all courses if there
    is one. With ``max_age`` the span of the company's classes (which reads all its
    enrolments) may come from the cache, as the dashboard's figures do. Raises
    :class:`PermissionDenied` unless the actor is an HR officer. Two queries.
    """
    company_id = hr_company_id(actor)
    today = today or today_hk()
    quotas = db.session.execute(
        select(SeatQuota.id, SeatQuota.label, SeatQuota.starts_on, SeatQuota.ends_on)
        .where(SeatQuota.company_id == company_id)
        .order_by(
            SeatQuota.starts_on.desc(),
            SeatQuota.ends_on,
            case((SeatQuota.course_id.is_(None), 0), else_=1),
            SeatQuota.id,
        )
    ).all()
    first, last = _class_span(company_id, max_age)
    periods: list[Period] = []
    seen: set[tuple[date, date]] = set()
    years = {today.year}
    for quota_id, quota_label, starts_on, ends_on in quotas:
        years.update((starts_on.year, ends_on.year))
        if (starts_on, ends_on) in seen:
            continue
        seen.add((starts_on, ends_on))
        periods.append(Period(f"q{quota_id}", quota_label, starts_on, ends_on, True))
    for value in (_as_date(first), _as_date(last)):
        if value is not None:
            years.add(value.year)
    periods.extend(year_period(year) for year in range(max(years), min(years) - 1, -1))
    return periods


def _class_span(company_id: int, max_age: int) -> tuple[date | None, date | None]:
    """The first and last day of the classes the company's staff are or were enrolled in."""
    key = f"hr-class-span:{company_id}"
    if max_age > 0:
        cached = caching.cached(key)
        if isinstance(cached, tuple):
            return cached
    first, last = db.session.execute(
        select(func.min(CourseClass.starts_on), func.max(CourseClass.ends_on))
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(*_staff(company_id))
    ).one()
    span = (_as_date(first), _as_date(last))
    if max_age > 0:
        caching.keep(key, span, max_age)
    return span


def default_period(periods: Sequence[Period], *, today: date | None = None) -> Period:
    """The quota period that contains today (the latest to start, if several do), else the
    current calendar year."""
    today = today or today_hk()
    for period in periods:
        if period.is_quota_period and period.contains(today):
            return period
    for period in periods:
        if period.key == f"y{today.year}":
            return period
    return year_period(today.year)


def find_period(periods: Sequence[Period], key: str | None) -> Period | None:
    """The period with this key among ``periods`` (another company's key finds nothing)."""
    return next((period for period in periods if period.key == key), None)


# ---------------------------------------------------------------------------------------------
# The dashboard


@dataclass(frozen=True)
class MonthFigures:
    month: date
    completions: int = 0
    training_hours: float = 0.0


@dataclass
class Dashboard:
    """Headline figures of one company for one period."""

    period: Period
    staff_in_training: int
    by_status: dict[EnrolmentStatus, int]
    completions: int
    qf_credits: int
    training_hours: float
    attendance_rate: float | None
    months: list[MonthFigures]
    hours_by_skill_area: list[tuple[SkillArea, float]]
    quotas: list[QuotaUse]
    #: When the figures (all but the quotas) were worked out.
    computed_at: datetime = field(default_factory=utcnow)

    @property
    def enrolments(self) -> int:
        return sum(self.by_status.values())


def company_dashboard(actor: User, period: Period, *, max_age: int = 0) -> Dashboard:
    """The actor's company's training in ``period`` (see :func:`company_figures`).

    With ``max_age`` (seconds) the figures may be ones worked out at most that long ago, from
    the cache shared by every visitor (``computed_at`` says when): on a large company they
    take a few hundred milliseconds of the database, and they are report figures. They are
    kept under the company's latest enrolment change, so that a request, a decision or a
    completion shows at once; attendance marks (hours, attendance rate) may lag by up to
    ``max_age``. The quotas are always current. A cache that cannot be reached is passed over.

    Raises :class:`PermissionDenied` unless the actor is an HR officer.
    """
    company_id = hr_company_id(actor)
    if max_age <= 0:
        figures = company_figures(company_id, period)
    else:
        key = (
            f"hr-dashboard:{company_id}:{period.starts_on}:{period.ends_on}:"
            f"{_last_enrolment_change(company_id)}"
        )
        figures = caching.cached(key)
        if not isinstance(figures, Dashboard):
            figures = company_figures(company_id, period)
            caching.keep(key, figures, max_age)
    return replace(figures, period=period, quotas=quota_uses_in_period(company_id, period))


def _last_enrolment_change(company_id: int) -> str:
    """How many enrolments the company has and when they last changed, as text for a cache
    key: read from one index. The count catches a new enrolment stamped before the latest
    change (a transaction that committed late)."""
    count, stamp = db.session.execute(
        select(func.count(), func.max(Enrolment.updated_at)).where(
            Enrolment.company_id == company_id
        )
    ).one()
    return f"{count}:{stamp.isoformat() if stamp else '-'}"


def company_figures(company_id: int, period: Period) -> Dashboard:
    """The company's training in ``period``, in two queries whatever its size:

    - *staff in training*: learners with a place in a class running in the period;
    - *enrolments by status*: enrolments in classes running in the period;
    - *completions* and *QF credits*: completed enrolments in classes that end in the period,
      and the credits of their courses; counted per month by the class's last day;
    - *training hours* and *attendance rate*: attendance at the sessions held in the period
      (Hong Kong dates); hours per month and per skill area.

    The enrolment figures come from one pass over the company's enrolments in classes running
    in the period, the attendance figures from the attendance of those enrolments. The quotas
    are :func:`quota_uses_in_period`'s.
    """
    staff = _staff(company_id)
    # A class ends on or after its first day, so one that ends in the period runs in it: the
    # completions are among these enrolments too. And its sessions fall within its dates, so
    # the sessions held in the period are all of classes running in it.
    running = and_(CourseClass.starts_on <= period.ends_on, CourseClass.ends_on >= period.starts_on)
    completed = Enrolment.status == EnrolmentStatus.COMPLETED

    def completed_between(first: date, last: date) -> ColumnElement[bool]:
        return and_(completed, CourseClass.ends_on >= first, CourseClass.ends_on <= last)

    by_status_columns = {
        status: func.count(Enrolment.id).filter(Enrolment.status == status)
        for status in EnrolmentStatus
    }
    completions_columns = {
        month: func.count(Enrolment.id).filter(
            completed_between(
                max(month, period.starts_on),
                min(_last_day_of_month(month), period.ends_on),
            )
        )
        for month in period.months
    }
    staff_in_training, qf_credits, *counts = db.session.execute(
        select(
            func.count(func.distinct(Enrolment.learner_id)).filter(
                Enrolment.status.in_(PLACE_STATUSES)
            ),
            func.sum(Course.qf_credits).filter(completed_between(period.starts_on, period.ends_on)),
            *by_status_columns.values(),
            *completions_columns.values(),
        )
        .select_from(Enrolment)
        .join(User, Enrolment.learner_id == User.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .where(*staff, running)
    ).one()
    by_status = dict(zip(by_status_columns, counts[: len(by_status_columns)], strict=True))
    completions_by_month = dict(
        zip(completions_columns, counts[len(by_status_columns) :], strict=True)
    )

    hours_by_month: defaultdict[date, float] = defaultdict(float)
    hours_by_area: defaultdict[SkillArea, float] = defaultdict(float)
    attended_hours = counted_hours = 0.0
    # From the company's enrolments in running classes to their attendance (by its unique
    # index on enrolment and session), rather than from every session of the period. A
    # session's class is its attendees' class: attendance is taken for a class's own learners.
    for starts_at, ends_at, skill_area, status, count in db.session.execute(
        select(
            ClassSession.starts_at,
            ClassSession.ends_at,
            Course.skill_area,
            Attendance.status,
            func.count(Attendance.id),
        )
        .select_from(Enrolment)
        .join(User, Enrolment.learner_id == User.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(Attendance, Attendance.enrolment_id == Enrolment.id)
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .where(
            *staff,
            running,
            Attendance.status != AttendanceStatus.EXCUSED,
            ClassSession.is_cancelled.is_(False),
            ClassSession.starts_at >= start_of_hk_day_utc(period.starts_on),
            ClassSession.starts_at < start_of_hk_day_utc(period.ends_on + timedelta(days=1)),
        )
        .group_by(
            ClassSession.id,
            ClassSession.starts_at,
            ClassSession.ends_at,
            Course.skill_area,
            Attendance.status,
        )
    ):
        hours = (ends_at - starts_at).total_seconds() / 3600 * count
        counted_hours += hours
        if status in ATTENDED:
            attended_hours += hours
            hours_by_month[to_hk(starts_at).date().replace(day=1)] += hours
            hours_by_area[skill_area] += hours

    return Dashboard(
        period=period,
        staff_in_training=int(staff_in_training or 0),
        by_status={status: int(count) for status, count in by_status.items()},
        completions=sum(int(count) for count in completions_by_month.values()),
        qf_credits=int(qf_credits or 0),
        training_hours=attended_hours,
        attendance_rate=_rate(attended_hours, counted_hours),
        months=[
            MonthFigures(month, int(completions_by_month[month]), hours_by_month[month])
            for month in period.months
        ],
        hours_by_skill_area=sorted(
            ((area, hours) for area, hours in hours_by_area.items() if hours > 0),
            key=lambda item: (-item[1], item[0].value),
        ),
        quotas=[],
    )


def _last_day_of_month(day: date) -> date:
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1) - timedelta(days=1)


def quota_uses_in_period(company_id: int, period: Period) -> list[QuotaUse]:
    """The company's quotas whose periods overlap ``period``, each with its seats used, in one
    query. Seats are counted as :func:`skillsup.services.enrolment.seats_used` counts them."""
    used = seats_used_by_quota()
    rows = db.session.execute(
        select(SeatQuota, used)
        .outerjoin(Course, SeatQuota.course_id == Course.id)
        .options(contains_eager(SeatQuota.course))
        .where(
            SeatQuota.company_id == company_id,
            SeatQuota.starts_on <= period.ends_on,
            SeatQuota.ends_on >= period.starts_on,
        )
        .order_by(SeatQuota.starts_on, SeatQuota.course_id.is_not(None), Course.code, SeatQuota.id)
    ).all()
    return [QuotaUse(quota, int(count or 0)) for quota, count in rows]


# ---------------------------------------------------------------------------------------------
# Charts: SVG drawn on the server, readable without colour and without scripts


@dataclass(frozen=True)
class Bar:
    label: str
    value: float
    text: str


@dataclass(frozen=True)
class Chart:
    """One bar chart, with what it needs to show the same data as a table."""

    key: str
    title: str
    category_heading: str
    value_heading: str
    bars: list[Bar]
    empty_message: str

    @property
    def is_empty(self) -> bool:
        return not any(bar.value for bar in self.bars)

    @property
    def svg(self) -> Markup:
        return bar_chart_svg(f"chart-{self.key}", self.title, self.bars)


CHART_WIDTH = 400
CHART_ROW = 40
CHART_TOP = 4
CHART_VALUE_ROOM = 72
CHART_INK = "#1a1a1a"
CHART_BAR = "#0b5394"


def bar_chart_svg(chart_id: str, title: str, bars: Sequence[Bar]) -> Markup:
    """A horizontal bar chart as inline SVG: each bar under its label, its value written at its
    end, so it reads without colour; ``role="img"`` with a title and a description that lists
    every value. No style attributes and no scripts, so the content security policy allows it.
    """
    height = CHART_TOP * 2 + CHART_ROW * len(bars)
    largest = max((bar.value for bar in bars), default=0)
    scale = (CHART_WIDTH - CHART_VALUE_ROOM) / largest if largest > 0 else 0
    description = "; ".join(f"{bar.label}: {bar.text}" for bar in bars)
    parts = [
        Markup(
            '<svg xmlns="http://www.w3.org/2000/svg" class="bar-chart" role="img"'
            ' aria-labelledby="{id}-title {id}-desc" viewBox="0 0 {w} {h}" width="{w}"'
            ' height="{h}" preserveAspectRatio="xMinYMin meet">'
        ).format(id=chart_id, w=CHART_WIDTH, h=height),
        Markup('<title id="{id}-title">{title}</title>').format(id=chart_id, title=title),
        Markup('<desc id="{id}-desc">{text}</desc>').format(id=chart_id, text=description),
    ]
    for index, bar in enumerate(bars):
        top = CHART_TOP + index * CHART_ROW
        width = bar.value * scale
        if bar.value > 0:
            width = max(width, 2.0)
        parts.append(
            Markup(
                '<g class="chart-row">'
                '<text x="0" y="{label_y}" font-size="13" fill="{ink}" class="chart-label">'
                "{label}</text>"
                '<rect x="0" y="{bar_y}" width="{width:.1f}" height="16" fill="{fill}"'
                ' class="chart-bar"/>'
                '<line x1="0.5" y1="{bar_y}" x2="0.5" y2="{axis_end}" stroke="{ink}"'
                ' class="chart-axis"/>'
                '<text x="{value_x:.1f}" y="{value_y}" font-size="13" font-weight="700"'
                ' fill="{ink}" class="chart-value">{text}</text>'
                "</g>"
            ).format(
                label_y=top + 13,
                bar_y=top + 18,
                axis_end=top + 34,
                width=width,
                value_x=width + 6,
                value_y=top + 31,
                ink=CHART_INK,
                fill=CHART_BAR,
                label=bar.label,
                text=bar.text,
            )
        )
    parts.append(Markup("</svg>"))
    return Markup("").join(parts)


def format_hours(value: float) -> str:
    """Hours to one decimal place at most, in the reader's language: "1,115.5", "12"."""
    return format_decimal(round(value, 1), format="#,##0.#")


def dashboard_charts(dashboard: Dashboard) -> list[Chart]:
    """Completions per month, training hours per month, and training hours by skill area."""
    locale = get_locale() or "en"
    # A skeleton, so that each language orders it its own way: "Mar 2025", "2025年3月".
    month_labels = [
        format_skeleton("yMMM", figures.month, locale=locale) for figures in dashboard.months
    ]
    return [
        Chart(
            key="completions",
            title=str(_l("Completions per month")),
            category_heading=str(_l("Month")),
            value_heading=str(_l("Completions")),
            bars=[
                Bar(name, figures.completions, format_decimal(figures.completions))
                for name, figures in zip(month_labels, dashboard.months, strict=True)
            ],
            empty_message=str(_l("No class of your staff finished in this period.")),
        ),
        Chart(
            key="hours",
            title=str(_l("Training hours per month")),
            category_heading=str(_l("Month")),
            value_heading=str(_l("Training hours")),
            bars=[
                Bar(name, figures.training_hours, format_hours(figures.training_hours))
                for name, figures in zip(month_labels, dashboard.months, strict=True)
            ],
            empty_message=str(_l("No attendance has been recorded in this period.")),
        ),
        Chart(
            key="skill-areas",
            title=str(_l("Training hours by skill area")),
            category_heading=str(_l("Skill area")),
            value_heading=str(_l("Training hours")),
            bars=[
                Bar(label(area), hours, format_hours(hours))
                for area, hours in dashboard.hours_by_skill_area
            ],
            empty_message=str(_l("No attendance has been recorded in this period.")),
        ),
    ]


# ---------------------------------------------------------------------------------------------
# Staff progress


@dataclass
class StaffProgress:
    """One employee's training: counts of enrolments, hours attended and classes at risk."""

    user_id: int
    name: str
    email: str
    staff_number: str | None
    department: str | None
    job_title: str | None
    is_active: bool
    enrolments: int = 0
    active: int = 0
    completed: int = 0
    qf_credits: int = 0
    attended_hours: float = 0.0
    counted_hours: float = 0.0
    at_risk_classes: int = 0

    @property
    def attendance_rate(self) -> float | None:
        return _rate(self.attended_hours, self.counted_hours)

    @property
    def at_risk(self) -> bool:
        return self.at_risk_classes > 0


def staff_progress(
    actor: User,
    *,
    department: str | None = None,
    starts_on: date | None = None,
    ends_on: date | None = None,
) -> Iterator[StaffProgress]:
    """One row per learner of the actor's company (of one department), by name.

    Counts the enrolments in classes that start between ``starts_on`` and ``ends_on`` (every
    class when they are not given): all of them, the active ones (pending, confirmed or
    waitlisted), the completed ones and their QF credits; the hours attended and the attendance
    rate; and the confirmed places at risk, i.e. whose minimum attendance can no longer be
    reached (:func:`skillsup.services.progress.standings`). Five queries whatever the number of
    staff; rows are read in batches. Raises :class:`PermissionDenied` unless the actor is an HR
    officer.
    """
    company_id = hr_company_id(actor)
    staff = _staff(company_id, department)
    in_range: list[ColumnElement[bool]] = []
    if starts_on is not None:
        in_range.append(CourseClass.starts_on >= starts_on)
    if ends_on is not None:
        in_range.append(CourseClass.starts_on <= ends_on)

    def rows() -> Iterator[StaffProgress]:
        confirmed = db.session.execute(
            select(Enrolment.id, Enrolment.learner_id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*staff, *in_range, Enrolment.status == EnrolmentStatus.CONFIRMED)
        ).all()
        standing = standings([enrolment_id for enrolment_id, _ in confirmed])
        at_risk = Counter(
            learner_id for enrolment_id, learner_id in confirmed if standing[enrolment_id].at_risk
        )

        completed = Enrolment.status == EnrolmentStatus.COMPLETED
        counts = (
            select(
                Enrolment.learner_id.label("learner_id"),
                func.count(Enrolment.id).label("enrolments"),
                func.sum(case((Enrolment.status.in_(ACTIVE_STATUSES), 1), else_=0)).label("active"),
                func.sum(case((completed, 1), else_=0)).label("completed"),
                func.sum(case((completed, Course.qf_credits), else_=0)).label("qf_credits"),
            )
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*staff, *in_range)
            .group_by(Enrolment.learner_id)
            .subquery()
        )
        hours = _session_hours()
        attendance = (
            select(
                Enrolment.learner_id.label("learner_id"),
                func.sum(case((Attendance.status.in_(ATTENDED), hours), else_=0)).label("attended"),
                func.sum(
                    case((Attendance.status != AttendanceStatus.EXCUSED, hours), else_=0)
                ).label("counted"),
            )
            .select_from(Attendance)
            .join(ClassSession, Attendance.session_id == ClassSession.id)
            .join(Enrolment, Attendance.enrolment_id == Enrolment.id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*staff, *in_range, ClassSession.is_cancelled.is_(False))
            .group_by(Enrolment.learner_id)
            .subquery()
        )
        statement = (
            select(
                User.id,
                User.name,
                User.email,
                User.staff_number,
                User.department,
                User.job_title,
                User.is_active,
                counts.c.enrolments,
                counts.c.active,
                counts.c.completed,
                counts.c.qf_credits,
                attendance.c.attended,
                attendance.c.counted,
            )
            .outerjoin(counts, counts.c.learner_id == User.id)
            .outerjoin(attendance, attendance.c.learner_id == User.id)
            .where(*staff)
            .order_by(User.name, User.id)
            .execution_options(yield_per=1000)
        )
        for row in db.session.execute(statement):
            yield StaffProgress(
                user_id=row.id,
                name=row.name,
                email=row.email,
                staff_number=row.staff_number,
                department=row.department,
                job_title=row.job_title,
                is_active=row.is_active,
                enrolments=int(row.enrolments or 0),
                active=int(row.active or 0),
                completed=int(row.completed or 0),
                qf_credits=int(row.qf_credits or 0),
                attended_hours=float(row.attended or 0),
                counted_hours=float(row.counted or 0),
                at_risk_classes=at_risk.get(row.id, 0),
            )

    return rows()


#: The columns the staff progress table sorts by, each with the direction it sorts first.
PROGRESS_SORTS = {
    "name": "asc",
    "department": "asc",
    "active": "desc",
    "completed": "desc",
    "hours": "desc",
    "attendance": "desc",
    "at_risk": "desc",
}


def sort_staff_progress(
    rows: Iterable[StaffProgress], sort: str, *, descending: bool = False
) -> list[StaffProgress]:
    """The rows sorted by one of :data:`PROGRESS_SORTS`, then by name; rows without a value
    (no department, no attendance yet) come last whichever the direction."""
    by_name = sorted(rows, key=lambda row: (row.name.casefold(), row.user_id))
    if sort == "name":
        return list(reversed(by_name)) if descending else by_name
    value_of = {
        "department": lambda row: row.department.casefold() if row.department else None,
        "active": lambda row: row.active,
        "completed": lambda row: row.completed,
        "hours": lambda row: row.attended_hours,
        "attendance": lambda row: row.attendance_rate,
        "at_risk": lambda row: row.at_risk_classes,
    }[sort]
    with_value = [row for row in by_name if value_of(row) is not None]
    without = [row for row in by_name if value_of(row) is None]
    return sorted(with_value, key=value_of, reverse=descending) + without


# ---------------------------------------------------------------------------------------------
# Exports

#: First characters that make a spreadsheet read a cell as a formula (tab and carriage return
#: too: some spreadsheets skip them and read on).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: Any) -> Any:
    """A text cell that a spreadsheet would run as a formula, made plain text by a leading
    apostrophe (``'=SUM(1)``); anything else unchanged. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


#: The control characters that an XLSX file cannot hold (XML 1.0 allows tab and line breaks).
ILLEGAL_CHARACTERS_RE = re.compile(r"[\000-\010]|[\013-\014]|[\016-\037]")


def _clean_text(value: str) -> str:
    """Text without the control characters a spreadsheet file cannot hold, escaped."""
    return escape_cell(ILLEGAL_CHARACTERS_RE.sub("", value))


@dataclass(frozen=True)
class ExportCriteria:
    """Which rows an export holds: classes starting in a date range, of one department."""

    starts_on: date
    ends_on: date
    department: str | None = None


@dataclass
class Export:
    """An export's column headings and its rows, read as they are written."""

    report: str
    sheet_title: str
    header: list[str]
    rows: Iterator[list[Any]] = field(repr=False)
    company_code: str
    criteria: ExportCriteria


EXPORT_REPORTS = ("progress", "enrolments")


def _company_code(company_id: int) -> str:
    return (
        db.session.scalar(select(PartnerCompany.code).where(PartnerCompany.id == company_id)) or ""
    )


def progress_export(actor: User, criteria: ExportCriteria) -> Export:
    """Staff progress for classes starting in the range: one row per learner of the company
    (of the department), as :func:`staff_progress` counts it. Raises
    :class:`PermissionDenied` unless the actor is an HR officer."""
    company_id = hr_company_id(actor)
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Department"),
        _l("Job title"),
        _l("Account active"),
        _l("Enrolments"),
        _l("Active enrolments"),
        _l("Completed"),
        _l("Training hours"),
        _l("Attendance (%)"),
        _l("Classes at risk"),
        _l("QF credits earned"),
    ]
    progress = staff_progress(
        actor,
        department=criteria.department,
        starts_on=criteria.starts_on,
        ends_on=criteria.ends_on,
    )

    def rows() -> Iterator[list[Any]]:
        for row in progress:
            yield [
                row.staff_number,
                row.name,
                row.email,
                row.department,
                row.job_title,
                row.is_active,
                row.enrolments,
                row.active,
                row.completed,
                round(row.attended_hours, 1),
                _percent(row.attendance_rate),
                row.at_risk_classes,
                row.qf_credits,
            ]

    return Export(
        report="progress",
        sheet_title=str(_l("Staff progress")),
        header=[str(heading) for heading in header],
        rows=rows(),
        company_code=_company_code(company_id),
        criteria=criteria,
    )


def enrolments_export(actor: User, criteria: ExportCriteria) -> Export:
    """Every enrolment of the company's learners (of the department) in classes starting in
    the range, by class and name, with its attendance, result and certificate. One query, read
    in batches. Raises :class:`PermissionDenied` unless the actor is an HR officer."""
    company_id = hr_company_id(actor)
    staff = _staff(company_id, criteria.department)
    in_range = (
        CourseClass.starts_on >= criteria.starts_on,
        CourseClass.starts_on <= criteria.ends_on,
    )
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Department"),
        _l("Course code"),
        _l("Course title"),
        _l("Skill area"),
        _l("Class code"),
        _l("Class starts"),
        _l("Class ends"),
        _l("Status"),
        _l("How enrolled"),
        _l("Requested at"),
        _l("Confirmed at"),
        _l("Training hours"),
        _l("Attendance (%)"),
        _l("Result"),
        _l("Passed"),
        _l("QF credits earned"),
        _l("Certificate"),
    ]
    chinese = str(get_locale() or "en").startswith("zh")

    def rows() -> Iterator[list[Any]]:
        hours = _session_hours()
        attendance = (
            select(
                Attendance.enrolment_id.label("enrolment_id"),
                func.sum(case((Attendance.status.in_(ATTENDED), hours), else_=0)).label("attended"),
                func.sum(
                    case((Attendance.status != AttendanceStatus.EXCUSED, hours), else_=0)
                ).label("counted"),
            )
            .join(ClassSession, Attendance.session_id == ClassSession.id)
            .join(Enrolment, Attendance.enrolment_id == Enrolment.id)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(User, Enrolment.learner_id == User.id)
            .where(*staff, *in_range, ClassSession.is_cancelled.is_(False))
            .group_by(Attendance.enrolment_id)
            .subquery()
        )
        statement = (
            select(
                User.staff_number,
                User.name,
                User.email,
                User.department,
                Course.code.label("course_code"),
                Course.title_en,
                Course.title_zh,
                Course.skill_area,
                Course.qf_credits,
                CourseClass.code.label("class_code"),
                CourseClass.starts_on,
                CourseClass.ends_on,
                Enrolment.status,
                Enrolment.source,
                Enrolment.requested_at,
                Enrolment.confirmed_at,
                Enrolment.result_score,
                Enrolment.result_passed,
                Certificate.serial_number,
                attendance.c.attended,
                attendance.c.counted,
            )
            .select_from(Enrolment)
            .join(CourseClass, Enrolment.class_id == CourseClass.id)
            .join(Course, CourseClass.course_id == Course.id)
            .join(User, Enrolment.learner_id == User.id)
            .outerjoin(
                Certificate,
                and_(Certificate.enrolment_id == Enrolment.id, Certificate.revoked_at.is_(None)),
            )
            .outerjoin(attendance, attendance.c.enrolment_id == Enrolment.id)
            .where(*staff, *in_range)
            .order_by(CourseClass.starts_on, CourseClass.code, User.name, Enrolment.id)
            .execution_options(yield_per=1000)
        )
        # Each value's name is looked up once per export, not once per row.
        names: dict[Any, str] = {}

        def name(value: Any) -> str:
            text = names.get(value)
            if text is None:
                text = names[value] = label(value)
            return text

        for row in db.session.execute(statement):
            attended = float(row.attended or 0)
            completed = row.status == EnrolmentStatus.COMPLETED
            yield [
                row.staff_number,
                row.name,
                row.email,
                row.department,
                row.course_code,
                row.title_zh if chinese and row.title_zh else row.title_en,
                name(row.skill_area),
                row.class_code,
                row.starts_on,
                row.ends_on,
                name(row.status),
                name(row.source),
                row.requested_at,
                row.confirmed_at,
                round(attended, 1),
                _percent(_rate(attended, float(row.counted or 0))),
                row.result_score,
                row.result_passed,
                row.qf_credits if completed else 0,
                row.serial_number,
            ]

    return Export(
        report="enrolments",
        sheet_title=str(_l("Enrolments")),
        header=[str(heading) for heading in header],
        rows=rows(),
        company_code=_company_code(company_id),
        criteria=criteria,
    )


def export_filename(export: Export, extension: str) -> str:
    """``skillsup-<company code>-<report>-<from>-to-<to>.<extension>``, in safe characters."""
    code = re.sub(r"[^A-Za-z0-9_-]+", "", export.company_code) or "company"
    criteria = export.criteria
    return (
        f"skillsup-{code}-{export.report}-{criteria.starts_on.isoformat()}"
        f"-to-{criteria.ends_on.isoformat()}.{extension}"
    )


def record_export(actor: User, export: Export, file_format: str) -> AuditEntry:
    """Note in the audit log who downloaded which staff data: exports hold personal data."""
    company_id = hr_company_id(actor)
    criteria = export.criteria
    return audit.record(
        actor,
        "report_exported",
        object_type="partner_companies",
        object_id=company_id,
        summary=f"{export.report} export ({file_format})",
        details={
            "report": export.report,
            "format": file_format,
            "starts_on": criteria.starts_on.isoformat(),
            "ends_on": criteria.ends_on.isoformat(),
            "department": criteria.department,
        },
    )


def _yes_no() -> dict[bool, str]:
    """The words for true and false in the reader's language, looked up once per file."""
    return {True: str(_l("Yes")), False: str(_l("No"))}


def _csv_cell(value: Any, yes_no: dict[bool, str]) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return yes_no[value]
    if isinstance(value, datetime):
        return to_hk(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float | Decimal):
        return value
    return _clean_text(str(value))


def _xlsx_cell(value: Any, yes_no: dict[bool, str]) -> Any:
    if isinstance(value, bool):
        return yes_no[value]
    if isinstance(value, datetime):
        # Spreadsheets keep no time zone: Hong Kong time, as the portal shows it.
        return to_hk(value).replace(tzinfo=None, microsecond=0)
    if value is None or isinstance(value, date | int | float | Decimal):
        return value
    return _clean_text(str(value))


CSV_CHUNK_CHARACTERS = 64 * 1024
FILE_CHUNK_BYTES = 64 * 1024


def csv_chunks(export: Export) -> Iterator[str]:
    """The export as CSV text in chunks of about 64 kB, starting with a byte order mark so that
    Excel reads it as UTF-8 (Chinese names included)."""
    yes_no = _yes_no()
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write("\ufeff")
    writer.writerow([_csv_cell(heading, yes_no) for heading in export.header])
    for row in export.rows:
        writer.writerow([_csv_cell(value, yes_no) for value in row])
        if buffer.tell() >= CSV_CHUNK_CHARACTERS:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


XLSX_DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
XLSX_DATE_FORMAT = "yyyy-mm-dd"
#: Columns are at least wide enough for a date and time: Excel shows "####" in a narrower one.
XLSX_MIN_COLUMN_WIDTH = 17


def _column_width(heading: str) -> int:
    # Chinese characters take two character widths.
    width = sum(2 if east_asian_width(char) in "WF" else 1 for char in heading)
    return max(width + 2, XLSX_MIN_COLUMN_WIDTH)


def xlsx_file(export: Export) -> IO[bytes]:
    """The export as an Excel workbook in a temporary file, rewound; the caller closes it.

    The sheet is written row by row (:mod:`.xlsx`), so memory stays flat. Text is always
    written as text (never as a formula, a link or a number), dates and times as dates that
    Excel formats, numbers as numbers; the header row is bold and stays in view.
    """
    yes_no = _yes_no()
    header = [_xlsx_cell(heading, yes_no) for heading in export.header]
    # Excel refuses these characters in a sheet's name, and apostrophes at either end.
    title = re.sub(r"[\[\]:*?/\\]", " ", export.sheet_title)[:31].strip("'") or "Sheet1"
    file = tempfile.TemporaryFile()  # noqa: SIM115 - the response streams and closes it
    try:
        xlsx.write_workbook(
            file,
            sheet_title=title,
            header=header,
            rows=([_xlsx_cell(value, yes_no) for value in row] for row in export.rows),
            column_widths=[_column_width(heading) for heading in header],
            date_format=XLSX_DATE_FORMAT,
            datetime_format=XLSX_DATETIME_FORMAT,
        )
    except BaseException:
        file.close()
        raise
    file.seek(0)
    return file


def file_chunks(file: IO[bytes], size: int = FILE_CHUNK_BYTES) -> Iterator[bytes]:
    """A file's bytes in chunks; the file is closed at the end, or when the reader stops."""
    try:
        while chunk := file.read(size):
            yield chunk
    finally:
        file.close()
