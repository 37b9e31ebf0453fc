"""A company's enrolments: what its HR system lists, reads and syncs, and the changes its HR
officers make on the pages (nominate, withdraw, approve, reject).

A company's token sees and acts on the enrolments made under its company alone
(:func:`skillsup.services.hr_scope.company_enrolments`): another company's enrolment is not
there (404). An institute-wide (admin) token sees every company's, or one company's with
``company``. Every change goes through the same service as the pages, so every rule holds
with the pages' own messages:

- a nomination (HR token) is :func:`skillsup.services.nominations.nominate_employee`, as the
  employee page's; an admin token places a learner as the admin's class page does
  (:func:`skillsup.services.enrolment_requests.request_enrolment` with source ``admin``; its
  ``note`` is the reason that page asks for, needed to place a learner of a company that
  approves its staff's enrolments, or after the class's last session);
- a withdrawal is :func:`skillsup.services.enrolment_requests.withdraw`, with its deadline and
  reason rules (an HR officer or an admin always gives a reason);
- an approval or a rejection is :func:`skillsup.services.approvals.decide_request`, as the HR
  approvals page decides a request: only a request waiting for approval is decided, so
  approving twice is refused the second time with the service's message (send an
  ``Idempotency-Key`` to have a retry answered with the first answer instead).

What the answers say of a refusal: a class or an employee the body names that the token may
not see (none such, or another company's) is 404, as an enrolment is; a rule that refuses a
well-formed request because of how things stand (the class not open, the quota used, already
enrolled, already decided...) is 409 Conflict; a rule's refusal that names an input (an
admin's placement without the ``note`` it needs) is 422, as invalid data is.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select
from sqlalchemy.orm import contains_eager, joinedload

from .. import reasons
from ..extensions import db
from ..models import (
    ApiScope,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PartnerCompany,
    Role,
    User,
)
from ..services import approvals, enrolment_requests, nominations
from ..services.approvals import Decision
from ..services.enrolment import find_class_by_code
from ..services.hr_scope import company_enrolments, while_at_company
from ..services.waitlist import waitlist_positions
from .core import (
    ApiBlueprint,
    actor,
    changes,
    company_in_scope,
    idempotent,
    token_company,
)
from .pagination import PageArguments, link_header, page_schema, paginate
from .problems import ApiProblem
from .schemas import ClassRefSchema, CourseRefSchema, EmployeeRefSchema, Schema, Text

#: The largest id the database holds: an id past it is not there.
MAX_ID = 2**31 - 1
#: The longest reason or note the pages accept.
REASON_MAX_LENGTH = 500

blp = ApiBlueprint(
    "api_enrolments",
    __name__,
    description=(
        "A company's enrolments: list and sync them, read one with its history, nominate an "
        "employee into a class, withdraw an enrolment, approve or reject a request."
    ),
)

ENROLMENT_ID = f"<int(min=1, max={MAX_ID}):enrolment_id>"


# ---------------------------------------------------------------------------------------------
# Shapes


class UtcDateTime(ma.fields.AwareDateTime):
    """An ISO 8601 time with its offset, read as UTC; a time that has no UTC equivalent
    (just before year 1 or after year 9999 once moved to UTC) is refused, not a crash."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> datetime:
        moment = super()._deserialize(value, attr, data, **kwargs)
        try:
            return moment.astimezone(UTC)
        except (OverflowError, ValueError) as error:
            raise self.make_error("invalid", input=value, obj_type=self.OBJ_TYPE) from error


class ActorKind(enum.StrEnum):
    """Who made a change, as the HR pages tell it."""

    #: The portal itself (a seat came free, a class was closed).
    PORTAL = "portal"
    #: The learner themself.
    LEARNER = "learner"
    #: One of the company's HR officers.
    HR = "hr"
    #: The institute's staff (an admin, a trainer).
    INSTITUTE = "institute"


class ReasonSchema(Schema):
    code = ma.fields.String(
        required=True,
        metadata={
            "description": "What kind of reason: `free_text` for what a person typed, or a "
            "code such as `attendance_below_minimum`, `promoted_from_waitlist`."
        },
    )
    args = ma.fields.Dict(
        keys=ma.fields.String(),
        required=True,
        metadata={"description": "Its figures (a rate, a minimum...) or, for free text, `text`."},
    )
    text = ma.fields.String(
        required=True,
        metadata={"description": "The reason as the pages word it, in the caller's language."},
    )


class ActorSchema(Schema):
    kind = ma.fields.Enum(ActorKind, by_value=True, required=True)
    name = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The person's name; null for the portal."},
    )


class EnrolmentSchema(Schema):
    id = ma.fields.Integer(required=True)
    status = ma.fields.Enum(EnrolmentStatus, by_value=True, required=True)
    status_reasons = ma.fields.List(
        ma.fields.Nested(ReasonSchema),
        required=True,
        metadata={"description": "Why the enrolment is in its status, if anything says why."},
    )
    status_reasons_text = ma.fields.String(
        required=True,
        metadata={"description": "The reasons as one text, as the pages show them."},
    )
    source = ma.fields.Enum(
        EnrolmentSource,
        by_value=True,
        required=True,
        metadata={
            "description": "How it was asked for: self (the learner), nominated (HR, one by "
            "one or through the API), csv (an HR import), admin."
        },
    )
    company = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={"description": "The code of the company it was made under."},
    )
    requested_at = ma.fields.AwareDateTime(required=True)
    decided_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When its status last changed after the request."},
    )
    changed_at = ma.fields.AwareDateTime(
        required=True,
        metadata={"description": "When it last changed: what `changed_since` compares."},
    )
    waitlist_position = ma.fields.Integer(
        required=True,
        allow_none=True,
        metadata={"description": "1 for the first in line; null unless waitlisted."},
    )
    employee = ma.fields.Nested(EmployeeRefSchema, required=True)
    class_ = ma.fields.Nested(ClassRefSchema, required=True, data_key="class")
    course = ma.fields.Nested(CourseRefSchema, required=True)


class HistoryItemSchema(Schema):
    from_status = ma.fields.Enum(
        EnrolmentStatus,
        by_value=True,
        required=True,
        allow_none=True,
        metadata={"description": "null for the request itself."},
    )
    to_status = ma.fields.Enum(EnrolmentStatus, by_value=True, required=True)
    changed_at = ma.fields.AwareDateTime(required=True)
    by = ma.fields.Nested(ActorSchema, required=True)
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), required=True)
    reasons_text = ma.fields.String(required=True)


class EnrolmentDetailSchema(EnrolmentSchema):
    history = ma.fields.List(
        ma.fields.Nested(HistoryItemSchema),
        required=True,
        metadata={"description": "Every change of its status, oldest first."},
    )


EnrolmentPageSchema = page_schema(EnrolmentSchema, "EnrolmentPage")


class EnrolmentListArguments(PageArguments):
    company = Text(
        max_length=20,
        load_default=None,
        metadata={
            "description": "An institute-wide token: only this company's (by its code). A "
            "company's token: its own code, or nothing."
        },
    )
    status = ma.fields.List(
        ma.fields.Enum(EnrolmentStatus, by_value=True),
        load_default=list,
        metadata={"description": "Only these statuses (repeat the parameter for several)."},
    )
    class_code = Text(
        max_length=40,
        load_default=None,
        data_key="class",
        metadata={"description": "Only the enrolments in the class with this code."},
    )
    course = Text(
        max_length=30,
        load_default=None,
        metadata={"description": "Only the enrolments in classes of the course with this code."},
    )
    employee_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(
            min=1, max=MAX_ID, error=_l("Enter a number from {min} to {max}.")
        ),
        metadata={"description": "Only this employee's enrolments."},
    )
    starts_from = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or after this day."}
    )
    starts_until = ma.fields.Date(
        load_default=None, metadata={"description": "Only classes starting on or before this day."}
    )
    changed_since = UtcDateTime(
        load_default=None,
        metadata={
            "description": "Only the enrolments made or changed (status, result) at or after "
            "this time: poll with the latest `changed_at` seen, less a minute for changes "
            "still being saved then."
        },
    )


#: Text over several lines without control characters (as ``Text(multiline=True)``) with at
#: least one character that is not a space: a reason of spaces alone says nothing.
REASON_PATTERN = (
    r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*"
    r"[^\s\x00-\x1f\x7f-\x9f]"
    r"[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"
)


def Reason(**options: Any) -> ma.fields.String:
    """A reason a person gives (why they withdraw or reject), as the pages take it: up to
    500 characters, not blank, without control characters."""
    return ma.fields.String(
        validate=[
            ma.validate.Regexp(
                REASON_PATTERN,
                error=_l("Give a reason, without control characters (such as NUL)."),
            ),
            ma.validate.Length(
                min=1, max=REASON_MAX_LENGTH, error=_l("Use 1 to {max} characters.")
            ),
        ],
        **options,
    )


class NominationInput(Schema):
    class_code = Text(
        max_length=40,
        required=True,
        metadata={"description": "The class to nominate the employee into."},
    )
    employee_id = ma.fields.Integer(
        validate=ma.validate.Range(
            min=1, max=MAX_ID, error=_l("Enter a number from {min} to {max}.")
        ),
        metadata={"description": "The employee, by their id."},
    )
    email = ma.fields.Email(
        validate=ma.validate.Length(max=254, error=_l("Use at most {max} characters.")),
        metadata={"description": "Or by their e-mail address."},
    )
    staff_number = Text(
        max_length=50,
        metadata={"description": "Or by their staff number (a company's token only)."},
    )
    note = Text(
        max_length=REASON_MAX_LENGTH,
        multiline=True,
        metadata={
            "description": "Kept in the enrolment's history. An institute-wide token must "
            "give one to place a learner of a company that approves its staff's enrolments "
            "(without that approval), or after the class's last session."
        },
    )

    @ma.validates_schema
    def one_employee(self, data: Mapping[str, Any], **_kwargs: Any) -> None:
        named = [name for name in EMPLOYEE_KEYS if name in data]
        if len(named) != 1:
            raise ma.ValidationError(
                _l("Name the employee by one of employee_id, email and staff_number."),
                field_name=named[1] if len(named) > 1 else EMPLOYEE_KEYS[0],
            )


#: The ways a nomination names its employee: exactly one of them.
EMPLOYEE_KEYS = ("employee_id", "email", "staff_number")
#: The body of a nomination in the document: its fields, with one way of naming the employee.
NOMINATION_BODY = {
    "allOf": [NominationInput],
    "oneOf": [{"required": [name]} for name in EMPLOYEE_KEYS],
}


class WithdrawalInput(Schema):
    reason = Reason(
        required=True,
        metadata={"description": "Why: an HR officer or an admin always says why."},
    )


class RejectionInput(Schema):
    reason = Reason(
        required=True, metadata={"description": "Why: the learner is sent it by e-mail."}
    )


# ---------------------------------------------------------------------------------------------
# Reading


def _visible(company: PartnerCompany | None) -> Select[Any]:
    """The enrolments the request may see, with their learner, class and course, the
    learner's staff number as the company sees it (blank for someone who has left it) and
    the code of the company each was made under."""
    staff_number = (
        User.staff_number if company is None else while_at_company(company.id, User.staff_number)
    )
    statement = (
        select(
            Enrolment.id,
            Enrolment,
            staff_number.label("staff_number"),
            PartnerCompany.code.label("company_code"),
        )
        .join(User, Enrolment.learner_id == User.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .outerjoin(PartnerCompany, Enrolment.company_id == PartnerCompany.id)
        .options(
            contains_eager(Enrolment.learner),
            contains_eager(Enrolment.course_class).contains_eager(CourseClass.course),
        )
    )
    if company is not None:
        statement = statement.where(*company_enrolments(company.id))
    return statement


def _reasons(stored: Any) -> list[dict[str, Any]]:
    if not isinstance(stored, list):
        return []
    return [
        {
            "code": str(item.get("code") or reasons.FREE_TEXT),
            "args": dict(item.get("args") or {}) if isinstance(item.get("args"), dict) else {},
            "text": reasons.render_one(item),
        }
        for item in stored
        if isinstance(item, Mapping)
    ]


def _reasons_text(stored: Any) -> str:
    return reasons.render(stored if isinstance(stored, list | str) else None)


def _item(row: Any, positions: Mapping[int, int]) -> dict[str, Any]:
    enrolment: Enrolment = row.Enrolment
    learner = enrolment.learner
    course_class = enrolment.course_class
    course = course_class.course
    return {
        "id": enrolment.id,
        "status": enrolment.status,
        "status_reasons": _reasons(enrolment.status_reasons),
        "status_reasons_text": _reasons_text(enrolment.status_reasons),
        "source": enrolment.source,
        "company": row.company_code,
        "requested_at": enrolment.requested_at,
        "decided_at": enrolment.decided_at,
        "changed_at": enrolment.updated_at,
        "waitlist_position": positions.get(enrolment.id),
        "employee": {
            "id": learner.id,
            "email": learner.email,
            "name": learner.name,
            "staff_number": row.staff_number,
        },
        "class_": {
            "id": course_class.id,
            "code": course_class.code,
            "starts_on": course_class.starts_on,
            "ends_on": course_class.ends_on,
        },
        "course": {"code": course.code, "title_en": course.title_en, "title_zh": course.title_zh},
    }


def _positions(rows: Sequence[Any]) -> dict[int, int]:
    """The waitlist positions of the waitlisted enrolments among ``rows``, in one query."""
    waitlisted = [row.id for row in rows if row.Enrolment.status == EnrolmentStatus.WAITLISTED]
    return waitlist_positions(waitlisted)


def _actor_kind(change: EnrolmentStatusChange, learner_id: int) -> ActorKind:
    if change.actor is None:
        return ActorKind.PORTAL
    if change.actor_id == learner_id:
        return ActorKind.LEARNER
    if change.actor.role == Role.HR:
        return ActorKind.HR
    return ActorKind.INSTITUTE


def _history(enrolment_id: int, learner_id: int) -> list[dict[str, Any]]:
    changes_made = db.session.scalars(
        select(EnrolmentStatusChange)
        .where(EnrolmentStatusChange.enrolment_id == enrolment_id)
        .options(joinedload(EnrolmentStatusChange.actor))
        .order_by(EnrolmentStatusChange.changed_at, EnrolmentStatusChange.id)
    )
    return [
        {
            "from_status": change.from_status,
            "to_status": change.to_status,
            "changed_at": change.changed_at,
            "by": {
                "kind": _actor_kind(change, learner_id),
                "name": change.actor.name if change.actor is not None else None,
            },
            "reasons": _reasons(change.reasons),
            "reasons_text": _reasons_text(change.reasons),
        }
        for change in changes_made
    ]


def _detail(enrolment_id: int) -> dict[str, Any]:
    """The enrolment with its history, if the request may see it; else 404."""
    row = db.session.execute(
        _visible(token_company())
        .where(Enrolment.id == enrolment_id)
        .execution_options(populate_existing=True)
    ).first()
    if row is None:
        raise ApiProblem(404)
    item = _item(row, _positions([row]))
    return {**item, "history": _history(enrolment_id, row.Enrolment.learner_id)}


def _enrolment_or_404(enrolment_id: int) -> Enrolment:
    """The enrolment to change, if the request may see it (another company's is not there).
    Loaded alone: the services read it again ``FOR UPDATE``, which PostgreSQL refuses beside
    outer joins."""
    company = token_company()
    statement = select(Enrolment).where(Enrolment.id == enrolment_id)
    if company is not None:
        statement = statement.where(*company_enrolments(company.id))
    enrolment = db.session.scalar(statement)
    if enrolment is None:
        raise ApiProblem(404)
    return enrolment


@blp.route("/enrolments")
@blp.requires(ApiScope.READ)
# A misspelt filter is refused rather than silently ignored (the list would be unfiltered).
@blp.arguments(EnrolmentListArguments, location="query")
@blp.response(200, EnrolmentPageSchema)
def list_enrolments(arguments: dict[str, Any]) -> Any:
    """The company's enrolments (an institute-wide token: every company's), in the order they
    were made, filtered. A sync polls with `changed_since`."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    company = company_in_scope(arguments["company"])
    statement = _visible(company)
    if arguments["status"]:
        statement = statement.where(Enrolment.status.in_(arguments["status"]))
    if arguments["class_code"]:
        statement = statement.where(CourseClass.code == arguments["class_code"].strip().upper())
    if arguments["course"]:
        statement = statement.where(Course.code == arguments["course"].strip().upper())
    if arguments["employee_id"] is not None:
        statement = statement.where(Enrolment.learner_id == arguments["employee_id"])
    if arguments["starts_from"]:
        statement = statement.where(CourseClass.starts_on >= arguments["starts_from"])
    if arguments["starts_until"]:
        statement = statement.where(CourseClass.starts_on <= arguments["starts_until"])
    if arguments["changed_since"]:
        statement = statement.where(Enrolment.updated_at >= arguments["changed_since"])
    page = paginate(
        statement, Enrolment.id, limit=limit, cursor=cursor, filters=arguments, scalars=False
    )
    positions = _positions(page.items)
    items = [_item(row, positions) for row in page.items]
    return {"items": items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route(f"/enrolments/{ENROLMENT_ID}")
@blp.requires(ApiScope.READ)
@blp.response(200, EnrolmentDetailSchema)
def get_enrolment(enrolment_id: int) -> Any:
    """One enrolment with its history: each change of status, when, by whom and why."""
    return _detail(enrolment_id)


# ---------------------------------------------------------------------------------------------
# Changes


def _not_found(field: str, code: str, detail: Any) -> ApiProblem:
    """404 for what the body names and the token may not see (none such, or another
    company's), saying which field."""
    return ApiProblem(
        404, detail, code=code, errors=[{"pointer": f"#/{field}", "detail": str(detail)}]
    )


def _nominee(data: Mapping[str, Any], by_admin: bool) -> User:
    """The learner the nomination names: for a company's token one of its staff, for an
    institute-wide token any learner (by id or e-mail address); else 404."""
    if by_admin and "staff_number" in data:
        detail = _l(
            "An institute-wide token names the employee by employee_id or email: staff "
            "numbers are unique only within a company."
        )
        raise ApiProblem(
            422,
            detail,
            code="staff_number_needs_company",
            errors=[{"pointer": "#/staff_number", "detail": str(detail)}],
        )
    employee = nominations.find_nominee(
        actor(),
        employee_id=data.get("employee_id"),
        email=data.get("email"),
        staff_number=data.get("staff_number"),
    )
    if employee is not None:
        return employee
    if "employee_id" in data:
        field = "employee_id"
        detail = (
            _l("No learner has the id %(id)s.", id=data["employee_id"])
            if by_admin
            else _l("Not one of your staff: no employee of yours has this id.")
        )
    elif "email" in data:
        field = "email"
        detail = (
            _l("No learner has the e-mail address %(email)s.", email=data["email"])
            if by_admin
            else _l("Not one of your staff: no employee of yours has this e-mail address.")
        )
    else:
        field = "staff_number"
        detail = _l("Not one of your staff: no employee of yours has this staff number.")
    raise _not_found(field, "employee_not_found", detail)


def _class_named(code: str, by_admin: bool) -> CourseClass:
    # HR officers see no draft class (nor a draft course's); an admin any class.
    course_class = find_class_by_code(code) if by_admin else nominations.find_class(code)
    if course_class is None:
        raise _not_found(
            "class_code",
            "class_not_found",
            _l("No class has the code %(code)s.", code=code.strip().upper()),
        )
    return course_class


@blp.route("/enrolments", methods=["POST"])
@blp.requires(ApiScope.ENROLMENTS_WRITE)
@idempotent
@blp.arguments(NominationInput)
@blp.doc(requestBody={"content": {"application/json": {"schema": NOMINATION_BODY}}})
@blp.response(201, EnrolmentDetailSchema)
def nominate(data: dict[str, Any]) -> Any:
    """Nominate an employee into a class, as HR does on the employee's page: every rule of
    enrolment applies (the class taking enrolments, seats and the waitlist, the company's
    quotas, timetable clashes, prerequisites, one place per class). The answer's status says
    what became of it: confirmed, or waitlisted when the class is full. An institute-wide
    token places the learner as an admin does on the class's page."""
    by_admin = token_company() is None
    course_class = _class_named(data["class_code"], by_admin)
    employee = _nominee(data, by_admin)
    me = actor()
    note = data.get("note")
    with changes({"reason": "note"}):
        if by_admin:
            outcome = enrolment_requests.request_enrolment(
                me, employee, course_class, EnrolmentSource.ADMIN, reason=note
            )
        else:
            outcome = nominations.nominate_employee(me, employee, course_class, note=note)
        enrolment_id = outcome.enrolment.id
    location = url_for("api_enrolments.get_enrolment", enrolment_id=enrolment_id)
    return _detail(enrolment_id), 201, {"Location": location}


@blp.route(f"/enrolments/{ENROLMENT_ID}/withdraw", methods=["POST"])
@blp.requires(ApiScope.ENROLMENTS_WRITE)
@idempotent
@blp.arguments(WithdrawalInput)
@blp.response(200, EnrolmentDetailSchema)
def withdraw(data: dict[str, Any], enrolment_id: int) -> Any:
    """Withdraw an enrolment, with a reason, as HR does on the pages (after the class's
    withdrawal deadline too). A seat it frees goes to the first on the waitlist."""
    enrolment = _enrolment_or_404(enrolment_id)
    with changes():
        enrolment_requests.withdraw(actor(), enrolment, data["reason"])
    return _detail(enrolment_id)


@blp.route(f"/enrolments/{ENROLMENT_ID}/approve", methods=["POST"])
@blp.requires(ApiScope.ENROLMENTS_WRITE)
@idempotent
@blp.response(200, EnrolmentDetailSchema)
def approve(enrolment_id: int) -> Any:
    """Approve a request waiting for approval, as the HR approvals page does: it is
    confirmed, or waitlisted when the class is full. A request no longer waiting (approved
    already, say) is refused (409)."""
    enrolment = _enrolment_or_404(enrolment_id)
    with changes():
        approvals.decide_request(actor(), enrolment, Decision.APPROVE)
    return _detail(enrolment_id)


@blp.route(f"/enrolments/{ENROLMENT_ID}/reject", methods=["POST"])
@blp.requires(ApiScope.ENROLMENTS_WRITE)
@idempotent
@blp.arguments(RejectionInput)
@blp.response(200, EnrolmentDetailSchema)
def reject(data: dict[str, Any], enrolment_id: int) -> Any:
    """Reject a request waiting for approval, with a reason the learner is sent by e-mail, as
    the HR approvals page does."""
    enrolment = _enrolment_or_404(enrolment_id)
    with changes():
        approvals.decide_request(actor(), enrolment, Decision.REJECT, data["reason"])
    return _detail(enrolment_id)
