"""Forms shared by every part of the portal, and the base form every form derives from."""

from __future__ import annotations

import math
from datetime import date
from decimal import Decimal
from functools import cache
from typing import Any

import sqlalchemy as sa
from flask_babel import get_translations, gettext, ngettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    Field,
    FloatField,
    HiddenField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length, NumberRange, StopValidation, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

#: The years a date typed in a form may have: older or later is a typing mistake (and a
#: year past 9999 cannot be computed with at all).
FIRST_YEAR, LAST_YEAR = 1900, 2999

#: The longest text a field may hold when neither it nor a column of its name says less.
MAX_LINE_LENGTH = 255
MAX_TEXT_LENGTH = 10_000

#: The range of each kind of integer column.
_INTEGER_RANGES: dict[type[sa.types.TypeEngine[Any]], int] = {
    sa.SmallInteger: 2**15 - 1,
    sa.BigInteger: 2**63 - 1,
    sa.Integer: 2**31 - 1,
}


@cache
def _column_limits() -> tuple[dict[str, int], dict[str, Decimal], dict[str, int]]:
    """For each column name of the models: the narrowest integer bound, number bound and text
    length of any column of that name (a form field is named after the column it fills)."""
    from .extensions import db
    from .models import User  # noqa: F401  (the models register their tables)

    integers: dict[str, int] = {}
    numbers: dict[str, Decimal] = {}
    lengths: dict[str, int] = {}
    for table in db.metadata.tables.values():
        for column in table.columns:
            kind = column.type
            name = column.name
            if isinstance(kind, sa.Integer):
                bound = next(v for t, v in _INTEGER_RANGES.items() if isinstance(kind, t))
                integers[name] = min(bound, integers.get(name, bound))
            elif isinstance(kind, sa.Numeric) and kind.precision is not None:
                scale = kind.scale or 0
                top = Decimal(10) ** (kind.precision - scale) - Decimal(10) ** -scale
                numbers[name] = min(top, numbers.get(name, top))
            elif isinstance(kind, sa.String) and kind.length:
                lengths[name] = min(kind.length, lengths.get(name, kind.length))
    return integers, numbers, lengths


def _length_limit(field: Field) -> int | None:
    """The longest text ``field`` takes: its own ``Length``, else its column's, else the
    default for one line or several."""
    for validator in field.validators:
        if isinstance(validator, Length) and validator.max >= 0:
            return None  # the field's own validator says, in its own words
    column = _column_limits()[2].get(field.short_name)
    if column is not None:
        return column
    if isinstance(field, HiddenField):
        return None  # what the portal itself wrote (a signed preview), checked by its reader
    return MAX_TEXT_LENGTH if isinstance(field, TextAreaField) else MAX_LINE_LENGTH


def _has_own_range(field: Field) -> bool:
    """Whether ``field`` has a ``NumberRange`` with both ends: it says, in its own words."""
    return any(
        isinstance(v, NumberRange) and v.min is not None and v.max is not None
        for v in field.validators
    )


def _integers_of(data: Any) -> list[int]:
    items = data if isinstance(data, list | tuple) else [data]
    return [item for item in items if isinstance(item, int) and not isinstance(item, bool)]


def _dates_of(data: Any) -> list[date]:
    if isinstance(data, date):  # datetime is a date too
        return [data]
    if isinstance(data, list | tuple):
        return [item for item in data if isinstance(item, date)]
    return []


def within_limits(_form: Any, field: Field) -> None:
    """What any field must hold, whatever its own validators say: what the database can keep
    and a person can have meant. Numbers within their column's range (finite), dates from
    :data:`FIRST_YEAR` to :data:`LAST_YEAR`, one-line text without line breaks, and text no
    longer than its column. Stops the field's validation with a message when not."""
    data = field.data
    if data is None:
        return
    integers = _integers_of(data)
    if integers and not _has_own_range(field):
        # An IntegerField, or a choice coerced to int (an id): both end up in a column.
        bound = _column_limits()[0].get(field.short_name, _INTEGER_RANGES[sa.Integer])
        if any(not -bound <= number <= bound for number in integers):
            raise StopValidation(
                _l("Enter a whole number from %(min)d to %(max)d.", min=-bound, max=bound)
            )
    if isinstance(field, DecimalField | FloatField):
        top = _column_limits()[1].get(field.short_name, Decimal(10) ** 12)
        finite = data.is_finite() if isinstance(data, Decimal) else math.isfinite(data)
        if not finite or not (_has_own_range(field) or -top <= Decimal(data) <= top):
            raise StopValidation(_l("Enter a number from %(min)s to %(max)s.", min=-top, max=top))
    elif isinstance(field, StringField) and isinstance(data, str):
        one_line = not isinstance(field, TextAreaField)
        if one_line and ("\n" in data or "\r" in data):
            raise StopValidation(_l("Keep this to one line."))
        limit = _length_limit(field)
        if limit is not None and len(data) > limit:
            raise StopValidation(
                ngettext(
                    "Enter at most %(num)d character.", "Enter at most %(num)d characters.", limit
                )
            )
    if any(not FIRST_YEAR <= day.year <= LAST_YEAR for day in _dates_of(data)):
        raise StopValidation(
            _l(
                "Enter a date from the year %(first)d to %(last)d.",
                first=FIRST_YEAR,
                last=LAST_YEAR,
            )
        )


class _PortalTranslations:
    """WTForms' own messages ("This field is required.") from the portal's catalogue, in the
    visitor's language. Babel's raw lookups: WTForms fills the placeholders itself."""

    def gettext(self, string: str) -> str:
        return str(get_translations().gettext(string))

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return str(get_translations().ngettext(singular, plural, n))


class PortalForm(FlaskForm):
    """The base of every form of the portal: each field gets :func:`within_limits` first, and
    WTForms' own messages come from the portal's translations."""

    class Meta:
        def get_translations(self, form: Any) -> _PortalTranslations:
            return _PortalTranslations()

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self:
            # A list of the field's own: the class's is shared by every instance.
            field.validators = [within_limits, *field.validators]


class OneOfTheChoices:
    """The value is one of the field's current choices (which are set per request)."""

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Field) -> None:
        allowed = {choice.value for choice in field.choices}
        if field.data not in allowed:
            raise ValidationError(self.message)


class DayField(DateField):
    """A date typed as YYYY-MM-DD (what a date picker sends), with a clear message if not."""

    def process_formdata(self, valuelist: list[Any]) -> None:
        try:
            super().process_formdata(valuelist)
        except ValueError:
            raise ValueError(_l("Enter a date such as 2025-09-01.")) from None


class CheckboxListField(SelectMultipleField):
    """Several choices as checkboxes, so that it works without JavaScript."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(PortalForm):
    """A button that changes something (publish a course, withdraw, save attendance, close a
    class): it carries only the CSRF token."""


def _wtforms_messages() -> None:  # pragma: no cover - never called
    """WTForms' own messages, listed here so that they are extracted into the portal's
    catalogue and translated with the rest (see :class:`_PortalTranslations`)."""
    _l("This field is required.")
    _l("Not a valid choice.")
    _l("Invalid Choice: could not coerce.")
    _l("Choices cannot be None.")
    _l("Invalid choice(s): one or more data inputs could not be coerced.")
    ngettext(
        "'%(value)s' is not a valid choice for this field.",
        "'%(value)s' are not valid choices for this field.",
        1,
    )
    _l("Not a valid integer value.")
    _l("Not a valid decimal value.")
    _l("Not a valid float value.")
    _l("Not a valid date value.")
    _l("Not a valid datetime value.")
    _l("Not a valid time value.")
    _l("Not a valid week value.")
    _l("Invalid input.")
    _l("Invalid email address.")
    _l("Invalid URL.")
    _l("Invalid IP address.")
    _l("Invalid Mac address.")
    _l("Invalid UUID.")
    _l("Invalid value, must be one of: %(values)s.")
    _l("Invalid value, can't be any of: %(values)s.")
    _l("Invalid field name '%s'.")
    _l("Field must be equal to %(other_name)s.")
    ngettext(
        "Field must be at least %(min)d character long.",
        "Field must be at least %(min)d characters long.",
        1,
    )
    ngettext(
        "Field cannot be longer than %(max)d character.",
        "Field cannot be longer than %(max)d characters.",
        1,
    )
    ngettext(
        "Field must be exactly %(max)d character long.",
        "Field must be exactly %(max)d characters long.",
        1,
    )
    _l("Field must be between %(min)d and %(max)d characters long.")
    _l("Number must be at least %(min)s.")
    _l("Number must be at most %(max)s.")
    _l("Number must be between %(min)s and %(max)s.")
    _l("Date must be at least %(min)s.")
    _l("Date must be at most %(max)s.")
    _l("Date must be between %(min)s and %(max)s.")
    _l("This field is disabled and cannot have a value.")
    _l("CSRF token missing.")
    _l("Invalid CSRF Token.")
    _l("CSRF token expired.")
    _l("CSRF failed.")


def error_summary(form: Any) -> list[tuple[str | None, str]]:
    """Every error of a form, for the summary at its top: the form's own errors first (no field
    to link to), then each field's errors in the order of the fields, named by the field's
    label ("Full name: This field is required."), with the id of the field to link to (none
    for a hidden field such as the CSRF token, which has nothing to show)."""
    items: list[tuple[str | None, str]] = [(None, str(error)) for error in form.form_errors]
    for field in form:
        if not field.errors:
            continue
        hidden = field.type in ("HiddenField", "CSRFTokenField")
        name = "" if hidden else str(field.label.text).strip()
        for error in _messages(field.errors):
            text = gettext("%(name)s: %(error)s", name=name, error=error) if name else error
            items.append((None if hidden else field.id, text))
    return items


def _messages(errors: Any) -> list[str]:
    """The messages of a field's errors, flattened (an enclosed form's errors are a mapping)."""
    if isinstance(errors, dict):
        return [m for value in errors.values() for m in _messages(value)]
    if isinstance(errors, list | tuple):
        return [m for value in errors for m in _messages(value)]
    return [str(errors)]
