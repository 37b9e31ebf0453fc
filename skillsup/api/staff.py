"""A company's staff: its learners on the portal, for the company's HR system to keep in step.

A company's token sees and changes its own company's learners only (another's are not
there: 404); an institute-wide token every company's. The rules are the HR pages' own
(:mod:`skillsup.services.staff`, :mod:`skillsup.services.staff_details`,
:func:`skillsup.services.accounts.invite_user`). Creating-or-updating is idempotent by staff
number, else e-mail address, so a nightly sync may send every employee every night: what is
already so changes nothing and records nothing. Deactivating someone deactivated, or
reactivating someone active, answers 200 and changes nothing, for the same reason. A refusal
by the rules as things stand (an address taken, a staff number someone else's, a deactivated
employee) answers 409 with the pages' message and a ``code`` naming the rule.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy.orm import joinedload

from ..links import PortalLinks
from ..models import ApiScope, Enrolment, StaffStatus, User
from ..services import staff, staff_details
from ..services.staff import REASON_MAX_LENGTH, staff_status
from .core import ApiBlueprint, actor, changes, company_in_scope, idempotent
from .pagination import PageArguments, link_header, page_schema, paginate
from .problems import ApiProblem
from .schemas import (
    MULTILINE_PATTERN,
    ONE_LINE_PATTERN,
    ClassRefSchema,
    CourseRefSchema,
    Schema,
    Text,
)

# The lengths of the users table's columns.
EMAIL_LENGTH = 254
NAME_LENGTH = 200
STAFF_NUMBER_LENGTH = 50
DEPARTMENT_LENGTH = 120
JOB_TITLE_LENGTH = 120
COMPANY_CODE_LENGTH = 20

blp = ApiBlueprint(
    "api_staff",
    __name__,
    description=(
        "A company's staff (its learners): list them, and keep them in step with the "
        "company's HR system: create or update by staff number or e-mail address, change "
        "details, deactivate and reactivate."
    ),
)


class NotBlank(ma.validate.Regexp):
    """Text with something besides spaces in it, and without control characters: the
    document's pattern says both (one pattern: a schema has room for one)."""

    #: Spaces that may lead, then one character that is not a space, then the rest.
    ONE_LINE = r"^[^\S\x0a-\x0d\x1c-\x1f\x85]*[^\s\x00-\x1f\x7f-\x9f]" + ONE_LINE_PATTERN[1:]
    MULTILINE = r"^[^\S\x0b\x0c\x1c-\x1f\x85]*[^\s\x00-\x1f\x7f-\x9f]" + MULTILINE_PATTERN[1:]

    def __init__(self, blank_message: Any, *, multiline: bool = False) -> None:
        super().__init__(
            self.MULTILINE if multiline else self.ONE_LINE,
            error=_l("Remove the control characters (such as NUL) from this text."),
        )
        self.blank_message = blank_message

    def __call__(self, value: str) -> str:  # type: ignore[override]
        if not value.strip():
            raise ma.ValidationError(str(self.blank_message))
        return str(super().__call__(value))


def NotBlankText(
    *, max_length: int, blank_message: Any, multiline: bool = False, **options: Any
) -> ma.fields.String:
    """A required text (a name, a reason): as :func:`.schemas.Text`, and not only spaces."""
    return ma.fields.String(
        validate=[
            NotBlank(blank_message, multiline=multiline),
            ma.validate.Length(max=max_length, error=_l("Use at most {max} characters.")),
        ],
        **options,
    )


def _name_field(**options: Any) -> ma.fields.String:
    return NotBlankText(
        max_length=NAME_LENGTH, blank_message=_l("Enter the person's full name."), **options
    )


def _kept_field(length: int, description: str = "") -> ma.fields.String:
    return Text(
        max_length=length,
        allow_none=True,
        metadata={"description": f"{description} Empty or null clears it.".strip()},
    )


# ---------------------------------------------------------------------------------------------
# Shapes


class StaffMemberSchema(Schema):
    """A company's learner, as the HR staff directory shows them."""

    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    staff_number = ma.fields.String(required=True, allow_none=True)
    department = ma.fields.String(required=True, allow_none=True)
    job_title = ma.fields.String(required=True, allow_none=True)
    status = ma.fields.Enum(
        StaffStatus,
        by_value=True,
        required=True,
        metadata={
            "description": "active; invited: no password chosen yet; deactivated: cannot log in."
        },
    )
    company = ma.fields.String(
        required=True, metadata={"description": "The code of the employee's company."}
    )
    invited_at = ma.fields.AwareDateTime(
        required=True,
        allow_none=True,
        metadata={"description": "When the last invitation was sent; null if none was."},
    )
    created_at = ma.fields.AwareDateTime(required=True)
    deactivated_at = ma.fields.AwareDateTime(required=True, allow_none=True)


StaffPageSchema = page_schema(StaffMemberSchema, "StaffPage")


class StaffListArguments(PageArguments):
    company = Text(
        max_length=COMPANY_CODE_LENGTH,
        load_default=None,
        metadata={
            "description": "An institute-wide token: only this company's staff. A company's "
            "token may name its own company only."
        },
    )
    status = ma.fields.Enum(StaffStatus, by_value=True, load_default=None)
    department = Text(
        max_length=DEPARTMENT_LENGTH,
        load_default=None,
        metadata={"description": "Only the staff of this department (exactly)."},
    )
    email = Text(
        max_length=EMAIL_LENGTH,
        load_default=None,
        metadata={"description": "Only the employee with this e-mail address (any case)."},
    )
    staff_number = Text(
        max_length=STAFF_NUMBER_LENGTH,
        load_default=None,
        metadata={"description": "Only the employee with this staff number (exactly)."},
    )


class StaffSyncInput(Schema):
    """One employee as the company's HR system knows them."""

    email = ma.fields.Email(
        required=True,
        validate=ma.validate.Length(max=EMAIL_LENGTH, error=_l("Use at most {max} characters.")),
        metadata={
            "description": "Their work address: finds them when the staff number does not, "
            "and receives the invitation."
        },
    )
    name = _name_field(required=True)
    staff_number = _kept_field(
        STAFF_NUMBER_LENGTH,
        "The company's own id for the employee: finds them first. Left out, the one on the "
        "portal stays.",
    )
    department = _kept_field(DEPARTMENT_LENGTH, "Left out, the one on the portal stays.")
    job_title = _kept_field(JOB_TITLE_LENGTH, "Left out, the one on the portal stays.")
    send_invitation = ma.fields.Boolean(
        load_default=True,
        metadata={
            "description": "Whether someone new is e-mailed an invitation to choose a "
            "password (without one, they use “Forgot your password?”). Never sent again to "
            "someone already on the portal."
        },
    )
    company = Text(
        max_length=COMPANY_CODE_LENGTH,
        load_default=None,
        metadata={
            "description": "The company's code: required with an institute-wide token; a "
            "company's token may name its own company only."
        },
    )


class StaffChangesInput(Schema):
    """The details to change; those left out stay as they are. The e-mail address is changed
    by the institute's admins only (its owner confirms the new one)."""

    name = _name_field()
    staff_number = _kept_field(STAFF_NUMBER_LENGTH, "Unique within the company.")
    department = _kept_field(DEPARTMENT_LENGTH)
    job_title = _kept_field(JOB_TITLE_LENGTH)


class DeactivationInput(Schema):
    reason = NotBlankText(
        max_length=REASON_MAX_LENGTH,
        blank_message=_l("Give a reason for the deactivation."),
        multiline=True,
        required=True,
        metadata={"description": "Recorded, and told to the employee for each withdrawal."},
    )


class ReactivationInput(Schema):
    reason = Text(max_length=REASON_MAX_LENGTH, multiline=True, load_default="")


class WithdrawnEnrolmentSchema(Schema):
    id = ma.fields.Integer(required=True)
    course_class = ma.fields.Nested(ClassRefSchema, required=True, data_key="class")
    course = ma.fields.Nested(CourseRefSchema, required=True)


class DeactivationSchema(Schema):
    employee = ma.fields.Nested(StaffMemberSchema, required=True)
    withdrawn = ma.fields.List(
        ma.fields.Nested(WithdrawnEnrolmentSchema),
        required=True,
        metadata={
            "description": "The enrolments withdrawn, in classes that had not started (each "
            "seat offered to the waitlist); empty if the employee was deactivated already."
        },
    )


# ---------------------------------------------------------------------------------------------
# Helpers


def _member(employee: User) -> dict[str, Any]:
    return {
        **{
            name: getattr(employee, name)
            for name in (
                "id",
                "email",
                "name",
                "staff_number",
                "department",
                "job_title",
                "invited_at",
                "created_at",
                "deactivated_at",
            )
        },
        "status": staff_status(employee),
        "company": employee.company.code if employee.company else None,
    }


def _employee_or_404(employee_id: int) -> User:
    employee = staff.find_staff_member(actor(), employee_id)
    if employee is None:
        raise ApiProblem(404)
    return employee


def _withdrawn(enrolment: Enrolment) -> dict[str, Any]:
    return {
        "id": enrolment.id,
        "course_class": enrolment.course_class,
        "course": enrolment.course_class.course,
    }


def _given(data: dict[str, Any]) -> dict[str, str | None]:
    return {name: data[name] for name in staff_details.KEPT_FIELDS if name in data}


# ---------------------------------------------------------------------------------------------
# Operations


@blp.route("/staff")
@blp.requires(ApiScope.READ)
# A misspelt filter is refused rather than ignored: ignored, it would list everyone.
@blp.arguments(StaffListArguments, location="query")
@blp.response(200, StaffPageSchema)
def list_staff(arguments: dict[str, Any]) -> Any:
    """The company's learners (every company's with an institute-wide token), in the order
    they were added."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    statement = staff.staff_in_scope(actor(), company_in_scope(arguments["company"]))
    if arguments["status"] is not None:
        statement = statement.where(*staff.status_conditions(arguments["status"]))
    if arguments["department"]:
        statement = statement.where(User.department == arguments["department"])
    if arguments["email"]:
        statement = statement.where(User.email == arguments["email"].strip().lower())
    if arguments["staff_number"]:
        statement = statement.where(User.staff_number == arguments["staff_number"].strip())
    page = paginate(
        statement.options(joinedload(User.company)),
        User.id,
        limit=limit,
        cursor=cursor,
        filters=arguments,
    )
    items = [_member(employee) for employee in page.items]
    return {"items": items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route("/staff/<int:employee_id>")
@blp.requires(ApiScope.READ)
@blp.response(200, StaffMemberSchema)
def get_staff_member(employee_id: int) -> Any:
    """One of the company's learners."""
    return _member(_employee_or_404(employee_id))


@blp.route("/staff", methods=["POST"])
@blp.requires(ApiScope.STAFF_WRITE)
@idempotent
@blp.arguments(StaffSyncInput)
@blp.response(
    201,
    StaffMemberSchema,
    description="Someone new: created, and invited unless `send_invitation` is false.",
    headers={"Location": {"description": "The employee's address.", "schema": {"type": "string"}}},
)
@blp.alt_response(
    200,
    schema=StaffMemberSchema,
    description="Found by staff number, else e-mail address: the details given are theirs now "
    "(a request that changes nothing records nothing).",
    success=True,
)
def sync_staff_member(data: dict[str, Any]) -> Any:
    """Create or update an employee: the company's learner with the staff number given, else
    with the e-mail address, gets the details given (those left out stay as they are);
    someone new is created and invited as the HR pages invite staff. Sending the same again
    changes nothing. An e-mail address is not changed here: a staff number found with another
    address is refused (409), as is a deactivated employee (reactivate them first)."""
    me = actor()
    company = company_in_scope(data["company"])
    if company is None:
        raise ApiProblem(
            422,
            _l("Some of the request's data is not valid: see errors."),
            errors=[
                {
                    "pointer": "#/company",
                    "detail": str(
                        _l(
                            "Give the company's code: an institute-wide token "
                            "acts for the company it names."
                        )
                    ),
                }
            ],
        )
    with changes():
        outcome = staff_details.sync_employee(
            me,
            company,
            email=data["email"],
            details=_given(data),
            invite=data["send_invitation"],
            links=PortalLinks(),
        )
    employee = outcome.employee
    if outcome.created:
        location = url_for("api_staff.get_staff_member", employee_id=employee.id)
        return _member(employee), 201, {"Location": location}
    return _member(employee), 200


@blp.route("/staff/<int:employee_id>", methods=["PATCH"])
@blp.requires(ApiScope.STAFF_WRITE)
@blp.arguments(StaffChangesInput)
@blp.response(200, StaffMemberSchema)
def change_staff_member(data: dict[str, Any], employee_id: int) -> Any:
    """Change an employee's name, staff number, department or job title (those left out stay
    as they are). A deactivated employee is refused (409): reactivate them first."""
    employee = _employee_or_404(employee_id)
    with changes():
        staff_details.update_employee(actor(), employee, _given(data))
    return _member(employee)


@blp.route("/staff/<int:employee_id>/deactivate", methods=["POST"])
@blp.requires(ApiScope.STAFF_WRITE)
@idempotent
@blp.arguments(DeactivationInput)
@blp.response(200, DeactivationSchema)
def deactivate_staff_member(data: dict[str, Any], employee_id: int) -> Any:
    """Deactivate an employee as the HR pages do: they can no longer log in, and their
    enrolments in classes that have not started are withdrawn with the reason (each seat
    offered to the waitlist, each withdrawal told to them by e-mail); classes under way are
    left as they are. Someone deactivated already is left as they are (200, nothing
    withdrawn), so that a sync may say it again."""
    employee = _employee_or_404(employee_id)
    with changes():
        withdrawn = staff.deactivate_employee(actor(), employee, data["reason"], already_ok=True)
    return {"employee": _member(employee), "withdrawn": [_withdrawn(e) for e in withdrawn]}


@blp.route("/staff/<int:employee_id>/reactivate", methods=["POST"])
@blp.requires(ApiScope.STAFF_WRITE)
@idempotent
@blp.arguments(ReactivationInput)
@blp.response(200, StaffMemberSchema)
def reactivate_staff_member(data: dict[str, Any], employee_id: int) -> Any:
    """Let a deactivated employee log in again. Enrolments withdrawn when they were
    deactivated stay withdrawn. Someone active is left as they are (200)."""
    employee = _employee_or_404(employee_id)
    with changes():
        staff.reactivate_employee(actor(), employee, data["reason"], already_ok=True)
    return _member(employee)
