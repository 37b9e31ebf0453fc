"""Forms for the HR officer's staff pages: the directory, deactivation and nominations."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
    ValidationError,
)
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm
from ..labels import LABELS
from ..models import StaffStatus
from ..services.staff import REASON_MAX_LENGTH, StaffSort
from ..validators import is_id

SEARCH_MAX_LENGTH = 100
CLASS_CODE_MAX_LENGTH = 40


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class StaffFilterForm(PortalForm):
    """The directory's search and filters, read from the query string."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        description=_l("Part of a name, e-mail address or staff number."),
        filters=[_strip],
        validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)],
    )
    department = SelectField(_l("Department"), validators=[Optional()])
    status = SelectField(
        _l("Status"),
        choices=[SelectChoice("", _l("Any status"))]
        + [SelectChoice(status.value, LABELS[status]) for status in StaffStatus],
        validators=[Optional()],
    )
    sort = SelectField(
        _l("Sort by"),
        choices=[
            SelectChoice(StaffSort.NAME.value, _l("Name")),
            SelectChoice(StaffSort.DEPARTMENT.value, _l("Department")),
        ],
        validators=[Optional()],
    )

    def set_departments(self, departments: list[str]) -> None:
        self.department.choices = [SelectChoice("", _l("All departments"))] + [
            SelectChoice(name, name) for name in departments
        ]


class CandidateFilterForm(PortalForm):
    """Narrows the list of employees offered on a class's page."""

    class Meta:
        csrf = False

    q = StringField(
        _l("Find employees"),
        description=_l("Part of a name, e-mail address or staff number."),
        filters=[_strip],
        validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)],
    )
    department = SelectField(_l("Department"), validators=[Optional()])

    def set_departments(self, departments: list[str]) -> None:
        self.department.choices = [SelectChoice("", _l("All departments"))] + [
            SelectChoice(name, name) for name in departments
        ]


class ClassSearchForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Class or course"),
        description=_l("Part of a class code, course code or course title."),
        filters=[_strip],
        validators=[Optional(), Length(max=SEARCH_MAX_LENGTH)],
    )


class DeactivateForm(PortalForm):
    reason = TextAreaField(
        _l("Reason for the deactivation"),
        description=_l(
            "Recorded with the deactivation and with each enrolment it withdraws; the "
            "employee is told it by e-mail for each class."
        ),
        filters=[_strip],
        validators=[
            DataRequired(message=_l("Give a reason for the deactivation.")),
            Length(max=REASON_MAX_LENGTH),
        ],
    )


class ReactivateForm(PortalForm):
    reason = StringField(
        _l("Reason (optional)"),
        filters=[_strip],
        validators=[Optional(), Length(max=REASON_MAX_LENGTH)],
    )


class NominateEmployeeForm(PortalForm):
    """Nominate one employee: choose an open class from the list, or type a class code."""

    class_id = SelectField(_l("Class open for enrolment"), validate_choice=False)
    class_code = StringField(
        _l("Or a class code"),
        description=_l("For example SU-CLD-101-2026A."),
        filters=[_strip],
        validators=[Optional(), Length(max=CLASS_CODE_MAX_LENGTH)],
    )

    def set_classes(self, choices: list[SelectChoice]) -> None:
        self.class_id.choices = [SelectChoice("", _l("Choose a class")), *choices]

    def validate_class_id(self, field: SelectField) -> None:
        if field.data and not is_id(str(field.data)):
            raise ValidationError(_l("Choose a class from the list."))

    def validate(self, extra_validators: Any = None) -> bool:
        if not super().validate(extra_validators):
            return False
        if self.class_id.data and self.class_code.data:
            self.class_code.errors = [
                *self.class_code.errors,
                _l("Choose a class from the list or type its code, not both."),
            ]
            return False
        if not self.class_id.data and not self.class_code.data:
            self.class_code.errors = [
                *self.class_code.errors,
                _l("Choose a class from the list or type its code."),
            ]
            return False
        return True

    @property
    def chosen_class_id(self) -> int | None:
        return int(self.class_id.data) if self.class_id.data else None


class NominateStaffForm(PortalForm):
    """Nominate several employees into one class, ticked from the list."""

    employee_ids = SelectMultipleField(_l("Employees"), coerce=int, validate_choice=False)
