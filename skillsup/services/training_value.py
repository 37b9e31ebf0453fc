"""The value of training for a partner company's HR officers: per employee and per month of a
period, the fees of their places, the subsidy the company may claim and has received, the QF
credits earned, the contact hours attended and the completion rate.

A period holds the classes that *start* in it, as the staff progress table and the reports
count them (:mod:`.staff_progress`, :mod:`.exports`), and the enrolments made under the
company (:mod:`.hr_scope`) that hold or held a place (confirmed, completed or not completed).
The figures are each their rule's:

- *fees*: the fee of each place's course;
- *subsidy claimable*: the company's claims whose conditions are met, within the cap
  (:func:`.subsidy.company_claims`); *still possible*: those on track or at risk;
- *subsidy received*: what the HR officer recorded as received (:mod:`.hr_funding`);
- *QF credits earned*: the course's credits, for a completed place (as :mod:`.staff_progress`);
- *contact hours*: the hours of the sessions attended, as :mod:`.attendance_rate` counts them
  (the query is :func:`.staff_progress.attendance_hours`);
- *completion rate*: the completed places among the finished ones (completed or not
  completed); none while no place has finished.

A fixed number of queries, over the period's enrolments only (and, for the claims, those of
the financial years around them).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import (
    Attendance,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    FundingState,
    User,
)
from .exports import Export, ExportCriteria, company_code
from .hr_dashboard import PLACE_STATUSES
from .hr_funding import receipts_for
from .hr_scope import company_enrolments, while_at_company
from .staff import hr_company_id
from .staff_progress import attendance_hours
from .subsidy import ZERO, claims_window, company_claims, completion_date, money

_STILL_POSSIBLE = (FundingState.ON_TRACK, FundingState.AT_RISK)


@dataclass
class ValueFigures:
    """The value of some places: an employee's, a month's or the period's."""

    places: int = 0
    fees: Decimal = ZERO
    claimable: Decimal = ZERO
    still_possible: Decimal = ZERO
    received: Decimal = ZERO
    qf_credits: int = 0
    contact_hours: float = 0.0
    completed: int = 0
    finished: int = 0

    @property
    def completion_rate(self) -> float | None:
        return self.completed / self.finished if self.finished else None


@dataclass
class EmployeeValue(ValueFigures):
    user_id: int = 0
    name: str = ""
    email: str = ""
    staff_number: str | None = None
    department: str | None = None


@dataclass
class MonthValue(ValueFigures):
    month: date = date.min


@dataclass
class TrainingValue:
    starts_on: date
    ends_on: date
    total: ValueFigures
    employees: list[EmployeeValue]
    months: list[MonthValue]


def _months(starts_on: date, ends_on: date) -> list[date]:
    months = []
    month = starts_on.replace(day=1)
    while month <= ends_on:
        months.append(month)
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return months


def training_value(
    actor: User, starts_on: date, ends_on: date, *, department: str | None = None
) -> TrainingValue:
    """The value of the training in classes starting from ``starts_on`` to ``ends_on`` (the
    module's rules), per employee (by name) and per month of the class's start, with the
    period's total. Raises :class:`PermissionDenied` unless the actor is an HR officer."""
    company_id = hr_company_id(actor)
    made_here = company_enrolments(company_id, department)
    in_range = (CourseClass.starts_on >= starts_on, CourseClass.starts_on <= ends_on)
    attended = attendance_hours(Attendance.enrolment_id, "enrolment_id", *made_here, *in_range)
    rows = db.session.execute(
        select(
            Enrolment.id,
            Enrolment.learner_id,
            Enrolment.status,
            User.name,
            User.email,
            while_at_company(company_id, User.staff_number).label("staff_number"),
            while_at_company(company_id, User.department).label("department"),
            Course.fee,
            Course.qf_credits,
            CourseClass.starts_on,
            CourseClass.ends_on,
            CourseClass.status.label("class_status"),
            CourseClass.completed_at,
            attended.c.attended,
        )
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(User, Enrolment.learner_id == User.id)
        .outerjoin(attended, attended.c.enrolment_id == Enrolment.id)
        .where(*made_here, *in_range, Enrolment.status.in_(PLACE_STATUSES))
        .order_by(User.name, User.id, CourseClass.starts_on)
    ).all()
    claimable: dict[int, Decimal] = defaultdict(lambda: ZERO)
    still_possible: dict[int, Decimal] = defaultdict(lambda: ZERO)
    if rows:
        last = max(completion_date(r.class_status, r.completed_at, r.ends_on) for r in rows)
        ids = {row.id for row in rows}
        window = claims_window(starts_on, max(last, ends_on))
        for claim in company_claims(company_id, window=window):
            if claim.enrolment_id not in ids:
                continue
            if claim.state is FundingState.MET:
                claimable[claim.enrolment_id] += claim.amount
            elif claim.state in _STILL_POSSIBLE:
                still_possible[claim.enrolment_id] += claim.amount
    received: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for (enrolment_id, _scheme_id), receipt in receipts_for([r.id for r in rows]).items():
        received[enrolment_id] += receipt.amount

    total = ValueFigures()
    employees: dict[int, EmployeeValue] = {}
    months = {month: MonthValue(month=month) for month in _months(starts_on, ends_on)}
    for row in rows:
        employee = employees.get(row.learner_id)
        if employee is None:
            employee = employees[row.learner_id] = EmployeeValue(
                user_id=row.learner_id,
                name=row.name,
                email=row.email,
                staff_number=row.staff_number,
                department=row.department,
            )
        month = months[row.starts_on.replace(day=1)]
        completed = row.status == EnrolmentStatus.COMPLETED
        for figures in (total, employee, month):
            figures.places += 1
            figures.fees += money(Decimal(row.fee or 0))
            figures.claimable += claimable[row.id]
            figures.still_possible += still_possible[row.id]
            figures.received += received[row.id]
            figures.qf_credits += int(row.qf_credits or 0) if completed else 0
            figures.contact_hours += float(row.attended or 0)
            figures.completed += 1 if completed else 0
            figures.finished += (
                1 if row.status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED) else 0
            )
    return TrainingValue(starts_on, ends_on, total, list(employees.values()), list(months.values()))


def value_export(actor: User, criteria: ExportCriteria) -> Export:
    """:func:`training_value` per employee as an export, with the period's total last."""
    company_id = hr_company_id(actor)
    value = training_value(
        actor, criteria.starts_on, criteria.ends_on, department=criteria.department
    )
    header = [
        _l("Staff number"),
        _l("Name"),
        _l("E-mail address"),
        _l("Department"),
        _l("Places"),
        _l("Fees (HK$)"),
        _l("Subsidy claimable (HK$)"),
        _l("Subsidy still possible (HK$)"),
        _l("Subsidy received (HK$)"),
        _l("QF credits earned"),
        _l("Contact hours attended"),
        _l("Completed"),
        _l("Finished"),
        _l("Completion rate (%)"),
    ]

    def figures(item: ValueFigures) -> list[Any]:
        rate = item.completion_rate
        return [
            item.places,
            item.fees,
            item.claimable,
            item.still_possible,
            item.received,
            item.qf_credits,
            round(item.contact_hours, 1),
            item.completed,
            item.finished,
            None if rate is None else round(rate * 100, 1),
        ]

    def rows() -> Iterator[list[Any]]:
        for employee in value.employees:
            yield [
                employee.staff_number,
                employee.name,
                employee.email,
                employee.department,
                *figures(employee),
            ]
        yield [None, str(_l("Total")), None, None, *figures(value.total)]

    return Export(
        report="value",
        sheet_title=str(_l("Value of training")),
        header=[str(heading) for heading in header],
        rows=rows(),
        company_code=company_code(company_id),
        criteria=criteria,
    )
