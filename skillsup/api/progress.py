"""Progress and attendance: each of a company's enrolments with its attendance, result and
outcome, for the company's HR system.

The rows are the enrolments made under the company (:mod:`skillsup.services.hr_scope`),
those of staff who have since left included, as on the HR officer's pages; an admin's token
reads every company's (or one company's, with ``company``). Every figure is the employee
record's (:func:`skillsup.services.employee_records.enrolment_records`): the standing of
:mod:`skillsup.services.progress` under the attendance rate's rule
(:mod:`skillsup.services.attendance_rate`), so the API and the pages always agree. A page
costs the same few queries whatever its size.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import contains_eager

from ..extensions import db
from ..models import (
    ApiScope,
    ClassStatus,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    Role,
    User,
    utcnow,
)
from ..services import employee_records, nominations, staff
from ..services.employee_records import EnrolmentRecord, SessionMark
from ..services.hr_scope import company_enrolments, is_staff_of
from ..validators import MAX_ID
from .core import ApiBlueprint, actor, company_in_scope, token_company
from .pagination import PageArguments, link_header, page_schema, paginate
from .problems import ApiProblem
from .schemas import ClassRefSchema, CourseRefSchema, DecimalText, EmployeeRefSchema, Schema, Text

blp = ApiBlueprint(
    "api_progress",
    __name__,
    description=(
        "The company's staff in their classes: attendance session by session and against the "
        "class's minimum, results and outcomes; the same figures as the HR pages."
    ),
)


class Mark(enum.StrEnum):
    """A learner's attendance at one session."""

    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"
    UNMARKED = "unmarked"


class RateBasis(enum.StrEnum):
    #: Over the hours marked so far: the class is under way for the learner.
    SO_FAR = "so_far"
    #: Over all the class's hours, a session never marked counting as missed: the class is
    #: over for the learner (completed or not completed).
    FINAL = "final"


# ---------------------------------------------------------------------------------------------
# Input

COMPANY_DESCRIPTION = (
    "For an institute-wide (admin) token: only the staff of the company with this code. A "
    "company's token reads its own company's; another company's code answers 404."
)


def _company_field() -> ma.fields.String:
    return Text(max_length=20, load_default=None, metadata={"description": COMPANY_DESCRIPTION})


def _id_field(description: str) -> ma.fields.Integer:
    return ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(
            min=1, max=MAX_ID, error=_l("Enter a number from {min} to {max}.")
        ),
        metadata={"description": description},
    )


class ScopeArguments(Schema):
    company = _company_field()


class ProgressListArguments(PageArguments):
    company = _company_field()
    employee_id = _id_field("Only this employee's classes.")
    course_class = Text(
        max_length=40,
        load_default=None,
        data_key="class",
        metadata={"description": "Only the class with this code."},
    )
    status = ma.fields.Enum(
        EnrolmentStatus,
        by_value=True,
        load_default=None,
        metadata={"description": "Only enrolments with this status."},
    )
    starts_from = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or after this day."}
    )
    starts_until = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or before this day."}
    )


# ---------------------------------------------------------------------------------------------
# Output


class AttendanceSummarySchema(Schema):
    sessions_total = ma.fields.Integer(
        required=True, metadata={"description": "The class's sessions, cancelled ones left out."}
    )
    sessions_held = ma.fields.Integer(
        required=True, metadata={"description": "Of those, the sessions that have begun."}
    )
    attended = ma.fields.Integer(
        required=True,
        metadata={"description": "Sessions held marked present or late (both count as attended)."},
    )
    late = ma.fields.Integer(required=True, metadata={"description": "Of those, marked late."})
    absent = ma.fields.Integer(required=True)
    excused = ma.fields.Integer(
        required=True, metadata={"description": "Left out of the rate altogether."}
    )
    unmarked = ma.fields.Integer(
        required=True, metadata={"description": "Sessions held that are not marked yet."}
    )
    rate_pct = ma.fields.Float(
        required=True,
        allow_none=True,
        metadata={
            "description": "The attendance rate in % (one decimal), in contact hours: attended "
            "over counted, excused sessions left out; null before any hour counts."
        },
    )
    rate_basis = ma.fields.Enum(
        RateBasis,
        by_value=True,
        required=True,
        metadata={
            "description": "so_far: over the hours marked, while the class runs; final: over "
            "all the class's hours (a session never marked counts as missed), once it is over "
            "for the learner."
        },
    )
    minimum_pct = ma.fields.Integer(
        required=True, metadata={"description": "The class's minimum attendance for completion."}
    )
    can_reach_minimum = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={
            "description": "Confirmed: whether the minimum can still be reached by attending "
            "the sessions left (false: at risk). Finished: whether it was reached. Null for "
            "anyone without a place."
        },
    )
    falling_behind = ma.fields.Boolean(
        required=True,
        metadata={"description": "Below the minimum so far, though it can still be reached."},
    )


class ProgressSchema(Schema):
    enrolment_id = ma.fields.Integer(required=True)
    employee = ma.fields.Nested(
        EmployeeRefSchema,
        required=True,
        metadata={"description": "The staff number is null for someone who has left."},
    )
    course_class = ma.fields.Nested(ClassRefSchema, required=True, data_key="class")
    course = ma.fields.Nested(CourseRefSchema, required=True)
    status = ma.fields.Enum(EnrolmentStatus, by_value=True, required=True)
    waitlist_position = ma.fields.Integer(required=True, allow_none=True)
    attendance = ma.fields.Nested(
        AttendanceSummarySchema,
        required=True,
        allow_none=True,
        metadata={
            "description": "For a confirmed or finished place (or one with marks); else null."
        },
    )
    assessment_required = ma.fields.Boolean(required=True)
    result_score = DecimalText(required=True, allow_none=True)
    result_passed = ma.fields.Boolean(required=True, allow_none=True)
    completed = ma.fields.Boolean(
        required=True,
        allow_none=True,
        metadata={"description": "true: completed; false: not completed; null: not finished."},
    )


class SessionMarkSchema(Schema):
    session_id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    is_cancelled = ma.fields.Boolean(required=True)
    mark = ma.fields.Enum(Mark, by_value=True, required=True)


class ProgressDetailSchema(ProgressSchema):
    sessions = ma.fields.List(
        ma.fields.Nested(SessionMarkSchema),
        required=True,
        metadata={"description": "Every session of the class, with the learner's mark."},
    )


class ClassSessionSchema(Schema):
    session_id = ma.fields.Integer(required=True)
    starts_at = ma.fields.AwareDateTime(required=True)
    ends_at = ma.fields.AwareDateTime(required=True)
    is_cancelled = ma.fields.Boolean(required=True)


class ClassProgressSchema(Schema):
    course_class = ma.fields.Nested(ClassRefSchema, required=True, data_key="class")
    course = ma.fields.Nested(CourseRefSchema, required=True)
    status = ma.fields.Enum(ClassStatus, by_value=True, required=True)
    min_attendance_pct = ma.fields.Integer(required=True)
    assessment_required = ma.fields.Boolean(required=True)
    sessions = ma.fields.List(ma.fields.Nested(ClassSessionSchema), required=True)
    items = ma.fields.List(
        ma.fields.Nested(ProgressDetailSchema),
        required=True,
        metadata={"description": "The company's staff in the class, by name; may be empty."},
    )


class EmployeeProgressSchema(Schema):
    employee = ma.fields.Nested(EmployeeRefSchema, required=True)
    items = ma.fields.List(
        ma.fields.Nested(ProgressDetailSchema),
        required=True,
        metadata={"description": "Their classes, the latest request first."},
    )


ProgressPageSchema = page_schema(ProgressSchema, "ProgressPage")


# ---------------------------------------------------------------------------------------------
# The rows


def _scope(company: PartnerCompany | None) -> list[ColumnElement[bool]]:
    """The enrolments the request is about: those made under the company, or under any
    company for an institute-wide token."""
    if company is not None:
        return company_enrolments(company.id)
    return [Enrolment.company_id.is_not(None)]


def _enrolments() -> Select[Enrolment]:
    return (
        select(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(User, Enrolment.learner_id == User.id)
        .options(
            contains_eager(Enrolment.course_class).contains_eager(CourseClass.course),
            contains_eager(Enrolment.learner),
        )
    )


def employee_ref(learner: User, company_id: int | None) -> dict[str, Any]:
    """An employee as the company sees them: their staff number is their present company's,
    blank once they have left it (:mod:`skillsup.services.hr_scope`)."""
    return {
        "id": learner.id,
        "email": learner.email,
        "name": learner.name,
        "staff_number": learner.staff_number if is_staff_of(learner, company_id) else None,
    }


def _attendance(record: EnrolmentRecord, now: datetime) -> dict[str, Any] | None:
    standing = record.standing
    if standing is None:
        return None
    rate = record.attendance_rate
    return {
        "sessions_total": standing.total_sessions,
        "sessions_held": standing.held_sessions(now),
        "attended": standing.attended_sessions,
        "late": standing.late_sessions,
        "absent": standing.absent_sessions,
        "excused": standing.excused_sessions,
        "unmarked": standing.unmarked_held(now),
        "rate_pct": None if rate is None else round(rate * 100, 1),
        "rate_basis": RateBasis.FINAL if record.is_finished else RateBasis.SO_FAR,
        "minimum_pct": standing.minimum_pct,
        "can_reach_minimum": record.can_reach_minimum,
        "falling_behind": record.falling_behind,
    }


def _row(record: EnrolmentRecord, now: datetime) -> dict[str, Any]:
    enrolment = record.enrolment
    course_class = enrolment.course_class
    completed = {EnrolmentStatus.COMPLETED: True, EnrolmentStatus.NOT_COMPLETED: False}
    return {
        "enrolment_id": enrolment.id,
        "employee": employee_ref(enrolment.learner, enrolment.company_id),
        "course_class": course_class,
        "course": course_class.course,
        "status": enrolment.status,
        "waitlist_position": record.waitlist_position,
        "attendance": _attendance(record, now),
        "assessment_required": course_class.assessment_required,
        "result_score": enrolment.result_score,
        "result_passed": enrolment.result_passed,
        "completed": completed.get(enrolment.status),
    }


def _mark(mark: SessionMark) -> dict[str, Any]:
    session = mark.session
    return {
        "session_id": session.id,
        "starts_at": session.starts_at,
        "ends_at": session.ends_at,
        "is_cancelled": session.is_cancelled,
        "mark": Mark(mark.status.value) if mark.status is not None else Mark.UNMARKED,
    }


def _detail_rows(enrolments: Sequence[Enrolment], now: datetime) -> list[dict[str, Any]]:
    return [
        {**_row(record, now), "sessions": [_mark(mark) for mark in record.sessions]}
        for record in employee_records.enrolment_records(enrolments, now=now)
    ]


# ---------------------------------------------------------------------------------------------
# Operations


@blp.route("/progress")
@blp.requires(ApiScope.READ)
@blp.arguments(ProgressListArguments, location="query")
@blp.response(200, ProgressPageSchema)
def list_progress(arguments: dict[str, Any]) -> Any:
    """The company's staff in their classes: one row per enrolment.

    Oldest first, each with its attendance (the HR pages' figures), result and outcome."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    company = company_in_scope(arguments["company"])
    statement = _enrolments().where(*_scope(company))
    if arguments["employee_id"] is not None:
        statement = statement.where(Enrolment.learner_id == arguments["employee_id"])
    if arguments["course_class"]:
        statement = statement.where(CourseClass.code == arguments["course_class"].strip().upper())
    if arguments["status"] is not None:
        statement = statement.where(Enrolment.status == arguments["status"])
    if arguments["starts_from"] is not None:
        statement = statement.where(CourseClass.starts_on >= arguments["starts_from"])
    if arguments["starts_until"] is not None:
        statement = statement.where(CourseClass.starts_on <= arguments["starts_until"])
    page = paginate(statement, Enrolment.id, limit=limit, cursor=cursor, filters=arguments)
    now = utcnow()
    items = [
        _row(record, now) for record in employee_records.enrolment_records(page.items, now=now)
    ]
    return {"items": items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route("/progress/classes/<code:code>")
@blp.requires(ApiScope.READ)
@blp.arguments(ScopeArguments, location="query")
@blp.response(200, ClassProgressSchema)
def get_class_progress(arguments: dict[str, Any], code: str) -> Any:
    """The company's staff in one class, with their attendance session by session.

    By name. A class none of them is in answers an empty list; a class HR may not see (a
    draft) or none such answers 404."""
    company = company_in_scope(arguments["company"])
    course_class = nominations.find_class(code)
    if course_class is None:
        raise ApiProblem(404)
    enrolments = db.session.scalars(
        _enrolments()
        .where(Enrolment.class_id == course_class.id, *_scope(company))
        .order_by(User.name, Enrolment.id)
    ).all()
    sessions = sorted(course_class.sessions, key=lambda s: (s.starts_at, s.id))
    return {
        "course_class": course_class,
        "course": course_class.course,
        "status": course_class.status,
        "min_attendance_pct": course_class.min_attendance_pct,
        "assessment_required": course_class.assessment_required,
        "sessions": [
            {
                "session_id": session.id,
                "starts_at": session.starts_at,
                "ends_at": session.ends_at,
                "is_cancelled": session.is_cancelled,
            }
            for session in sessions
        ],
        "items": _detail_rows(enrolments, utcnow()),
    }


@blp.route("/progress/employees/<int:employee_id>")
@blp.requires(ApiScope.READ)
@blp.response(200, EmployeeProgressSchema)
def get_employee_progress(employee_id: int) -> Any:
    """One employee's classes, with their attendance session by session.

    The latest request first: those made under the company (under any company for an admin's
    token). Another company's employee, or someone who has left the company, answers 404, as
    their page does."""
    company = token_company()
    if company is not None:
        employee = staff.find_employee(actor(), employee_id)
    else:
        employee = db.session.get(User, employee_id)
        if employee is not None and employee.role != Role.LEARNER:
            employee = None
    if employee is None:
        raise ApiProblem(404)
    enrolments = employee_records.employee_enrolments(
        employee, company.id if company is not None else None
    )
    return {
        "employee": employee_ref(employee, employee.company_id),
        "items": _detail_rows(enrolments, utcnow()),
    }
