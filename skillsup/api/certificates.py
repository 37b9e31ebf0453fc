"""Certificates: the company's staff certificates, and anyone's check of one by its code.

A company's token reads the certificates of the enrolments made under it
(:mod:`skillsup.services.hr_scope`), as its HR officers' pages show them; an admin's token
reads every one. A certificate's state is :mod:`skillsup.services.certificate_expiry`'s.
Its verification address is given to those who may download its PDF, which prints it
(:func:`skillsup.permissions.can_download_certificate`): the learner, their company's HR
officers and admins. The public check answers what the public verification page shows, and
nothing more.
"""

from __future__ import annotations

import enum
from datetime import date, timedelta
from typing import Any

import marshmallow as ma
from flask import url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, Select, select
from sqlalchemy.orm import contains_eager

from .. import permissions
from ..models import ApiScope, Certificate, Course, CourseClass, Enrolment, PartnerCompany, User
from ..services import certificate_expiry, certificates
from ..services.certificate_expiry import CertificateState
from ..services.hr_scope import company_enrolments
from ..timeutil import start_of_hk_day_utc, today_hk
from ..validators import MAX_ID
from .core import ApiBlueprint, actor, company_in_scope, token_company
from .pagination import PageArguments, link_header, page_schema, paginate
from .problems import ApiProblem
from .progress import COMPANY_DESCRIPTION, employee_ref
from .schemas import ClassRefSchema, CourseRefSchema, EmployeeRefSchema, Schema, Text

blp = ApiBlueprint(
    "api_certificates",
    __name__,
    description=(
        "Certificates of the company's staff, with where each stands (valid, expiring, "
        "expired, revoked), and the public check of a certificate by its verification code."
    ),
)

#: The first and last days whose Hong Kong midnights a UTC time can hold.
_FIRST_DAY = date.min + timedelta(days=1)
_LAST_DAY = date.max - timedelta(days=1)


class CertificateListArguments(PageArguments):
    company = Text(max_length=20, load_default=None, metadata={"description": COMPANY_DESCRIPTION})
    employee_id = ma.fields.Integer(
        load_default=None,
        validate=ma.validate.Range(
            min=1, max=MAX_ID, error=_l("Enter a number from {min} to {max}.")
        ),
        metadata={"description": "Only this employee's certificates."},
    )
    course = Text(
        max_length=30,
        load_default=None,
        metadata={"description": "Only certificates of the course with this code."},
    )
    issued_from = ma.fields.Date(
        load_default=None,
        metadata={"description": "Only those issued on or after this day (Hong Kong)."},
    )
    issued_until = ma.fields.Date(
        load_default=None,
        metadata={"description": "Only those issued on or before this day (Hong Kong)."},
    )
    state = ma.fields.Enum(
        CertificateState,
        by_value=True,
        load_default=None,
        metadata={
            "description": "Only those in this state today: valid, expiring (valid, expiring "
            f"within {certificate_expiry.EXPIRING_WITHIN_DAYS} days), expired or revoked."
        },
    )


class CertificateSchema(Schema):
    id = ma.fields.Integer(required=True)
    serial_number = ma.fields.String(required=True)
    issued_at = ma.fields.AwareDateTime(required=True)
    revoked_at = ma.fields.AwareDateTime(required=True, allow_none=True)
    expires_on = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={
            "description": "The day from which it has expired (Hong Kong); null if it never "
            "expires."
        },
    )
    valid_until = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "Its last valid day; null if it never expires."},
    )
    state = ma.fields.Enum(
        CertificateState,
        by_value=True,
        required=True,
        metadata={
            "description": "Where it stands today: valid, expiring (valid, expiring within "
            f"{certificate_expiry.EXPIRING_WITHIN_DAYS} days), expired or revoked."
        },
    )
    employee = ma.fields.Nested(EmployeeRefSchema, required=True)
    course_class = ma.fields.Nested(ClassRefSchema, required=True, data_key="class")
    course = ma.fields.Nested(CourseRefSchema, required=True)
    verification_url = ma.fields.String(
        required=True,
        allow_none=True,
        metadata={
            "description": "Its public verification page, as printed on its PDF, for those "
            "who may download it (the holder's company's HR officers and admins)."
        },
    )


CertificatePageSchema = page_schema(CertificateSchema, "CertificatePage")


class PublicState(enum.StrEnum):
    """What the public verification page says of a certificate."""

    VALID = "valid"
    EXPIRED = "expired"
    REVOKED = "revoked"


class CertificateCheckSchema(Schema):
    state = ma.fields.Enum(
        PublicState,
        by_value=True,
        required=True,
        metadata={"description": "valid; expired; or revoked (withdrawn)."},
    )
    serial_number = ma.fields.String(required=True)
    holder_name = ma.fields.String(required=True, metadata={"description": "Awarded to."})
    course = ma.fields.Nested(CourseRefSchema, required=True)
    qf_level = ma.fields.Integer(required=True)
    qf_credits = ma.fields.Integer(required=True)
    completed_on = ma.fields.Date(required=True)
    valid_until = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "Its last valid day; null if it never expires."},
    )
    expires_on = ma.fields.Date(
        required=True,
        allow_none=True,
        metadata={"description": "The day from which it has expired; null if it never expires."},
    )
    revoked_on = ma.fields.Date(required=True, allow_none=True)


# ---------------------------------------------------------------------------------------------
# The rows


def _certificates() -> Select[Certificate]:
    return (
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .join(User, Enrolment.learner_id == User.id)
        .options(
            contains_eager(Certificate.enrolment)
            .contains_eager(Enrolment.course_class)
            .contains_eager(CourseClass.course),
            contains_eager(Certificate.enrolment).contains_eager(Enrolment.learner),
        )
    )


def _scope(company: PartnerCompany | None) -> list[ColumnElement[bool]]:
    if company is not None:
        return company_enrolments(company.id)
    return []


def _issued_since(day: date) -> ColumnElement[bool]:
    """Issued on or after ``day`` (Hong Kong)."""
    return Certificate.issued_at >= start_of_hk_day_utc(max(day, _FIRST_DAY))


def _issued_by(day: date) -> ColumnElement[bool]:
    """Issued on or before ``day`` (Hong Kong): before the next day's midnight."""
    return Certificate.issued_at < start_of_hk_day_utc(min(day, _LAST_DAY) + timedelta(days=1))


def _certificate_data(certificate: Certificate, today: date) -> dict[str, Any]:
    enrolment = certificate.enrolment
    validity = certificate_expiry.validity(certificate, today)
    url = None
    if permissions.can_download_certificate(actor(), certificate):
        url = url_for("certificates.verify", code=certificate.verification_code, _external=True)
    return {
        "id": certificate.id,
        "serial_number": certificate.serial_number,
        "issued_at": certificate.issued_at,
        "revoked_at": certificate.revoked_at,
        "expires_on": validity.expires_on,
        "valid_until": validity.valid_until,
        "state": validity.state,
        "employee": employee_ref(enrolment.learner, enrolment.company_id),
        "course_class": enrolment.course_class,
        "course": enrolment.course_class.course,
        "verification_url": url,
    }


# ---------------------------------------------------------------------------------------------
# Operations


@blp.route("/certificates")
@blp.requires(ApiScope.READ)
@blp.arguments(CertificateListArguments, location="query")
@blp.response(200, CertificatePageSchema)
def list_certificates(arguments: dict[str, Any]) -> Any:
    """The certificates of the company's staff, with where each stands today.

    Those of the enrolments made under the company, oldest first, revoked ones included."""
    limit, cursor = arguments.pop("limit"), arguments.pop("cursor")
    company = company_in_scope(arguments["company"])
    today = today_hk()
    statement = _certificates().where(*_scope(company))
    if arguments["employee_id"] is not None:
        statement = statement.where(Enrolment.learner_id == arguments["employee_id"])
    if arguments["course"]:
        statement = statement.where(Course.code == arguments["course"].strip().upper())
    if arguments["issued_from"] is not None:
        statement = statement.where(_issued_since(arguments["issued_from"]))
    if arguments["issued_until"] is not None:
        statement = statement.where(_issued_by(arguments["issued_until"]))
    if arguments["state"] is not None:
        statement = statement.where(certificate_expiry.state_sql(arguments["state"], today))
    page = paginate(statement, Certificate.id, limit=limit, cursor=cursor, filters=arguments)
    items = [_certificate_data(certificate, today) for certificate in page.items]
    return {"items": items, "next_cursor": page.next_cursor}, 200, link_header(page)


@blp.route("/certificates/<int:certificate_id>")
@blp.requires(ApiScope.READ)
@blp.response(200, CertificateSchema)
def get_certificate(certificate_id: int) -> Any:
    """One certificate of the company's staff.

    Another company's answers 404."""
    company = token_company()
    certificate = certificates.get(certificate_id)
    if certificate is None or (
        company is not None and not certificate.enrolment.made_under(company.id)
    ):
        raise ApiProblem(404)
    return _certificate_data(certificate, today_hk())


@blp.route(
    "/certificates/verify/<code>",
    parameters=[
        {
            "in": "path",
            "name": "code",
            "required": True,
            "description": "The certificate's verification code, as in its QR code.",
            "schema": {"type": "string", "pattern": f"^{certificates.CODE_PATTERN.pattern}$"},
        }
    ],
)
@blp.public
@blp.response(200, CertificateCheckSchema)
def verify_certificate(code: str) -> Any:
    """Check a certificate by its verification code.

    What its public page says (valid, expired or withdrawn; to whom, for which course, the
    dates, its serial number), and nothing more. Anyone may ask, with a token or without; an
    unknown code answers 404."""
    certificate = certificates.find_by_code(code)
    if certificate is None:
        raise ApiProblem(404)
    facts = certificates.facts(certificate, with_attendance=False)
    validity = facts.validity
    if validity.is_valid:
        state = PublicState.VALID
    elif validity.is_expired:
        state = PublicState.EXPIRED
    else:
        state = PublicState.REVOKED
    return {
        "state": state,
        "serial_number": facts.serial_number,
        "holder_name": facts.learner_name,
        "course": {
            "code": facts.course_code,
            "title_en": facts.title_en,
            "title_zh": facts.title_zh,
        },
        "qf_level": facts.qf_level,
        "qf_credits": facts.qf_credits,
        "completed_on": facts.completed_on,
        "valid_until": validity.valid_until,
        "expires_on": validity.expires_on,
        "revoked_on": facts.revoked_on,
    }
