"""Forms for the HR dashboard, the staff progress table and the report downloads.

They are read from the query string (GET), so they carry no CSRF token: they change nothing.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectChoice, SelectField, ValidationError
from wtforms.validators import StopValidation

from ..forms import DayField, OneOfTheChoices, PortalForm
from ..i18n import fmt_date
from ..services.hr_dashboard import Period


class DateRequired:
    """A date is needed; a date that could not be read already has its own message."""

    field_flags = {"required": True}

    def __init__(self, message: Any) -> None:
        self.message = message

    def __call__(self, _form: Any, field: Field) -> None:
        if field.data is None and not field.process_errors:
            raise StopValidation(self.message)


def _department_choices(departments: Iterable[str]) -> list[SelectChoice]:
    return [
        SelectChoice("", _l("All departments")),
        *(SelectChoice(name, name) for name in departments),
    ]


DEPARTMENT_MESSAGE = _l("Choose a department from the list.")


class PeriodForm(PortalForm):
    class Meta:
        csrf = False

    period = SelectField(
        _l("Period"),
        choices=[],
        validate_choice=False,
        validators=[OneOfTheChoices(_l("Choose a period from the list."))],
    )

    def set_periods(self, periods: Sequence[Period]) -> None:
        quota_group = str(_l("Quota periods"))
        year_group = str(_l("Calendar years"))
        choices = []
        for period in periods:
            if period.is_quota_period:
                text = f"{period.label} ({fmt_date(period.starts_on)} – {fmt_date(period.ends_on)})"
                choices.append(SelectChoice(period.key, text, optgroup=quota_group))
            else:
                choices.append(SelectChoice(period.key, period.label, optgroup=year_group))
        self.period.choices = choices


class ProgressFilterForm(PortalForm):
    class Meta:
        csrf = False

    department = SelectField(
        _l("Department"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[OneOfTheChoices(DEPARTMENT_MESSAGE)],
    )

    def set_departments(self, departments: Iterable[str]) -> None:
        self.department.choices = _department_choices(departments)


class ExportForm(PortalForm):
    """Which rows to download: classes starting in a date range, and a department."""

    class Meta:
        csrf = False

    starts_on = DayField(
        _l("Classes starting from"),
        validators=[DateRequired(_l("Enter the first day of the range."))],
    )
    ends_on = DayField(
        _l("Up to and including"),
        validators=[DateRequired(_l("Enter the last day of the range."))],
    )
    department = SelectField(
        _l("Department"),
        choices=[],
        default="",
        validate_choice=False,
        validators=[OneOfTheChoices(DEPARTMENT_MESSAGE)],
    )

    def set_departments(self, departments: Iterable[str]) -> None:
        self.department.choices = _department_choices(departments)

    def validate_ends_on(self, field: Field) -> None:
        starts_on = self.starts_on.data
        if starts_on is not None and field.data is not None and field.data < starts_on:
            raise ValidationError(_l("The last day cannot be before the first."))
