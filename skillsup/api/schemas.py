"""The shapes the API reads and writes that every resource shares.

Times are ISO 8601 with their offset (UTC, ``Z``-free ``+00:00``); days are ``YYYY-MM-DD``
where the domain speaks of days (a class's first and last day). Input refuses unknown
fields, so a misspelt field is an error rather than silently ignored.
"""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask_babel import lazy_gettext as _l
from werkzeug.routing import BaseConverter

#: Text without control characters (NUL, ESC, DEL, C1...), which the portal refuses anywhere
#: (``skillsup.web.refuse_control_characters``): on one line (a tab allowed, as in a query
#: string), or over several lines (a JSON body's text).
ONE_LINE_PATTERN = r"^[^\x00-\x08\x0a-\x1f\x7f-\x9f]*$"
MULTILINE_PATTERN = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*$"


def Text(
    *, max_length: int | None = None, multiline: bool = False, **options: Any
) -> ma.fields.String:
    """A text field that says in the document what the portal accepts: no control
    characters and at most ``max_length`` characters (the column's length)."""
    validators: list[Any] = [
        ma.validate.Regexp(
            MULTILINE_PATTERN if multiline else ONE_LINE_PATTERN,
            error=_l("Remove the control characters (such as NUL) from this text."),
        )
    ]
    if max_length is not None:
        validators.append(
            ma.validate.Length(max=max_length, error=_l("Use at most {max} characters."))
        )
    return ma.fields.String(validate=validators, **options)


def DecimalText(**options: Any) -> ma.fields.Decimal:
    """An exact amount (HK$, hours) written as a string, such as ``"4800.00"``: a JSON number
    would round it."""
    metadata = {
        "type": "string",
        "pattern": r"^-?[0-9]+(\.[0-9]+)?$",
        **options.pop("metadata", {}),
    }
    return ma.fields.Decimal(as_string=True, metadata=metadata, **options)


class CodeConverter(BaseConverter):
    """A code in an address (a course's, a class's, a certificate's verification code):
    letters, digits, ``-``, ``_`` and ``.``, at most 60; any other address is not there."""

    regex = r"[A-Za-z0-9][A-Za-z0-9._-]{0,59}"


CODE_PARAMETER_SCHEMA = {"type": "string", "pattern": "^[A-Za-z0-9][A-Za-z0-9._-]{0,59}$"}


class Schema(ma.Schema):
    """Every API schema: unknown fields are refused, and a field's order is its declaration's."""

    class Meta:
        unknown = ma.RAISE


class ProblemSchema(Schema):
    """RFC 9457 problem details."""

    type = ma.fields.String(required=True, metadata={"description": "The kind of problem."})
    title = ma.fields.String(required=True)
    status = ma.fields.Integer(required=True)
    detail = ma.fields.String(
        required=True,
        metadata={"description": "What went wrong, in the language of Accept-Language."},
    )
    instance = ma.fields.String(metadata={"description": "The address that was asked for."})
    code = ma.fields.String(
        metadata={"description": "A stable name for a refusal, such as `class_full`."}
    )
    errors = ma.fields.List(
        ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()),
        metadata={
            "description": "For invalid input: each problem with where it is "
            "(`pointer` into the JSON body, `parameter`, or `header`) and its `detail`."
        },
    )


class CourseRefSchema(Schema):
    code = ma.fields.String(required=True)
    title_en = ma.fields.String(required=True)
    title_zh = ma.fields.String(required=True, allow_none=True)


class ClassRefSchema(Schema):
    id = ma.fields.Integer(required=True)
    code = ma.fields.String(required=True)
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


class EmployeeRefSchema(Schema):
    id = ma.fields.Integer(required=True)
    email = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    staff_number = ma.fields.String(required=True, allow_none=True)
