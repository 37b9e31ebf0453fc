"""The HR officer's dashboard: the periods it reports on, the company's figures in a period,
and the seat quotas that overlap it.

Every public function takes the acting HR officer and reads their own company's data only
(:func:`company_figures` and :func:`quota_uses_in_period` take the company they found): the
company filter is inside each query, so a view that forgets a check cannot show another
company's figures. Each function runs a fixed number
of queries, whatever the number of staff or enrolments.

The words the figures use:

- a *place* is an enrolment that holds or held a seat: confirmed, completed or not completed;
- *training hours* are the contact hours of the sessions a learner attended (present or late);
- the *attendance rate* is the rate so far of :mod:`.attendance_rate`: the share of the marked
  contact hours attended, excused, unmarked and cancelled sessions left out (as in "My
  learning").

The page draws its charts from these figures (``templates/macros/charts.html``).
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, and_, bindparam, case, func, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (
    Attendance,
    ClassSession,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    SeatQuota,
    SkillArea,
    User,
    utcnow,
)
from ..timeutil import start_of_hk_day_utc, today_hk
from . import caching
from .attendance_rate import (
    AttendanceSoFar,
    counted_sql,
    is_attended,
    session_counts_sql,
    session_hours_sql,
)
from .hr_scope import company_enrolments
from .seat_quotas import QuotaUse, seats_used_by_quota
from .staff import hr_company_id

#: Enrolments that hold or held a seat in their class.
PLACE_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


def _as_date(value: Any) -> date | None:
    # An aggregate over a date column can come back as text on SQLite.
    if value is None or isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


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
            month = _after(month)
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
    quotas = db.session.execute(_quota_periods_statement(), {"company_id": company_id}).all()
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


@functools.cache
def _quota_periods_statement() -> Select[int, str, date, date]:
    # Built once, as every statement of the dashboard: making a statement anew costs more of
    # the processor than PostgreSQL takes to run most of them.
    return (
        select(SeatQuota.id, SeatQuota.label, SeatQuota.starts_on, SeatQuota.ends_on)
        .where(SeatQuota.company_id == bindparam("company_id"))
        .order_by(
            SeatQuota.starts_on.desc(),
            SeatQuota.ends_on,
            case((SeatQuota.course_id.is_(None), 0), else_=1),
            SeatQuota.id,
        )
    )


def _class_span(company_id: int, max_age: int) -> tuple[date | None, date | None]:
    """The first and last day of the classes with enrolments made under the company."""
    key = f"hr-class-span:{company_id}"
    if max_age > 0:
        cached = caching.cached(key)
        if isinstance(cached, tuple):
            return cached
    first, last = db.session.execute(_class_span_statement(), {"company_id": company_id}).one()
    span = (_as_date(first), _as_date(last))
    if max_age > 0:
        caching.keep(key, span, max_age)
    return span


@functools.cache
def _class_span_statement() -> Select[Any, Any]:
    return (
        select(func.min(CourseClass.starts_on), func.max(CourseClass.ends_on))
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(*company_enrolments(bindparam("company_id")))
    )


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

    @property
    def has_chart_data(self) -> bool:
        """Whether any chart would draw a bar: a completion or an hour of training."""
        return any(m.completions or m.training_hours for m in self.months) or any(
            hours for _, hours in self.hours_by_skill_area
        )


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
        _last_enrolment_change_statement(), {"company_id": company_id}
    ).one()
    return f"{count}:{stamp.isoformat() if stamp else '-'}"


@functools.cache
def _last_enrolment_change_statement() -> Select[int, Any]:
    return select(func.count(), func.max(Enrolment.updated_at)).where(
        *company_enrolments(bindparam("company_id"))
    )


def company_figures(company_id: int, period: Period) -> Dashboard:
    """The company's training in ``period``, in two queries whatever its size, over the
    enrolments made under it (:mod:`.hr_scope`: those of staff who have since left included,
    none a learner made under another company):

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
    months = period.months
    parameters: dict[str, Any] = {
        "company_id": company_id,
        "period_starts_on": period.starts_on,
        "period_ends_on": period.ends_on,
        "period_starts_at": start_of_hk_day_utc(period.starts_on),
        "period_ends_at": start_of_hk_day_utc(period.ends_on + timedelta(days=1)),
    }
    for index, month in enumerate(months):
        parameters[f"month_{index}_first"] = max(month, period.starts_on)
        parameters[f"month_{index}_last"] = min(_last_day_of_month(month), period.ends_on)
        # The instant the next month begins in Hong Kong: a session before it is this month's.
        parameters[f"month_{index}_ends_at"] = start_of_hk_day_utc(_after(month))
    enrolment_figures, attendance_figures = _figures_statements(len(months))
    statuses = list(EnrolmentStatus)
    staff_in_training, qf_credits, *counts = db.session.execute(enrolment_figures, parameters).one()
    by_status = dict(zip(statuses, counts[: len(statuses)], strict=True))
    completions_by_month = dict(zip(months, counts[len(statuses) :], strict=True))

    hours_by_month: defaultdict[date, float] = defaultdict(float)
    hours_by_area: defaultdict[SkillArea, float] = defaultdict(float)
    attendance = AttendanceSoFar()
    for index, skill_area, status, hours, count in db.session.execute(
        attendance_figures, parameters
    ):
        hours = float(hours or 0)
        attendance.add(status, hours, int(count))
        if is_attended(status):
            hours_by_month[months[index]] += hours
            hours_by_area[skill_area] += hours

    return Dashboard(
        period=period,
        staff_in_training=int(staff_in_training or 0),
        by_status={status: int(count) for status, count in by_status.items()},
        completions=sum(int(count) for count in completions_by_month.values()),
        qf_credits=int(qf_credits or 0),
        training_hours=attendance.attended_hours,
        attendance_rate=attendance.rate,
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


@functools.cache
def _figures_statements(
    month_count: int,
) -> tuple[Select[*tuple[Any, ...]], Select[*tuple[Any, ...]]]:
    """:func:`company_figures`'s two statements for a period of ``month_count`` months, built
    once per number of months, with the company, the period and its months as parameters
    (named as ``company_figures`` fills them in)."""
    # The enrolments made under the company, those of staff who have left it included.
    made_here = company_enrolments(bindparam("company_id"))
    # A class ends on or after its first day, so one that ends in the period runs in it: the
    # completions are among these enrolments too. And its sessions fall within its dates, so
    # the sessions held in the period are all of classes running in it.
    running = and_(
        CourseClass.starts_on <= bindparam("period_ends_on"),
        CourseClass.ends_on >= bindparam("period_starts_on"),
    )
    completed = Enrolment.status == EnrolmentStatus.COMPLETED

    def completed_between(first: str, last: str) -> ColumnElement[bool]:
        return and_(
            completed,
            CourseClass.ends_on >= bindparam(first),
            CourseClass.ends_on <= bindparam(last),
        )

    enrolment_figures = (
        select(
            func.count(func.distinct(Enrolment.learner_id)).filter(
                Enrolment.status.in_(PLACE_STATUSES)
            ),
            func.sum(Course.qf_credits).filter(
                completed_between("period_starts_on", "period_ends_on")
            ),
            *(
                func.count(Enrolment.id).filter(Enrolment.status == status)
                for status in EnrolmentStatus
            ),
            *(
                func.count(Enrolment.id).filter(
                    completed_between(f"month_{index}_first", f"month_{index}_last")
                )
                for index in range(month_count)
            ),
        )
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .where(*made_here, running)
    )
    # The month of a session is its Hong Kong month: the instants each month of the period
    # ends at, compared in the database, so that the hours come back added up by month, skill
    # area and mark (a few dozen rows) rather than one row per session.
    month_index = case(
        *(
            (ClassSession.starts_at < bindparam(f"month_{index}_ends_at"), index)
            for index in range(month_count)
        ),
        else_=month_count - 1,
    )
    # From the company's enrolments in running classes to their attendance (by its unique
    # index on enrolment and session), rather than from every session of the period. A
    # session's class is its attendees' class: attendance is taken for a class's own learners.
    attendance_figures = (
        select(
            month_index,
            Course.skill_area,
            Attendance.status,
            func.sum(session_hours_sql()),
            func.count(Attendance.id),
        )
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(Attendance, Attendance.enrolment_id == Enrolment.id)
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .where(
            *made_here,
            running,
            counted_sql(),
            session_counts_sql(),
            ClassSession.starts_at >= bindparam("period_starts_at"),
            ClassSession.starts_at < bindparam("period_ends_at"),
        )
        .group_by(month_index, Course.skill_area, Attendance.status)
    )
    return enrolment_figures, attendance_figures


def _after(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return (day.replace(day=1) + timedelta(days=32)).replace(day=1)


def _last_day_of_month(day: date) -> date:
    return _after(day) - timedelta(days=1)


def quota_uses_in_period(company_id: int, period: Period) -> list[QuotaUse]:
    """The company's quotas whose periods overlap ``period``, each with its seats used, in one
    query. Seats are counted as :func:`skillsup.services.enrolment.seats_used` counts them."""
    rows = db.session.execute(
        _quota_uses_in_period_statement(),
        {"company_id": company_id, "starts_on": period.starts_on, "ends_on": period.ends_on},
    ).all()
    return [QuotaUse(quota, int(count or 0)) for quota, count in rows]


@functools.cache
def _quota_uses_in_period_statement() -> Select[SeatQuota, int]:
    return (
        select(SeatQuota, seats_used_by_quota())
        .outerjoin(Course, SeatQuota.course_id == Course.id)
        .options(contains_eager(SeatQuota.course))
        .where(
            SeatQuota.company_id == bindparam("company_id"),
            SeatQuota.starts_on <= bindparam("ends_on"),
            SeatQuota.ends_on >= bindparam("starts_on"),
        )
        .order_by(SeatQuota.starts_on, SeatQuota.course_id.is_not(None), Course.code, SeatQuota.id)
    )
