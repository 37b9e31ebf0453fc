"""Forms for the programme administration of partner companies, their quotas and HR officers.

The forms check the shape of the input; the rules (unique codes and domains, overlapping
quota periods, seats already used) live in :mod:`skillsup.services.companies`.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import PortalForm
from ..labels import LABELS
from ..models import CourseStatus, PartnerCompany, SeatQuota
from ..services.companies import (
    CODE_PATTERN,
    NAME_MAX_LENGTH,
    CompanyData,
    CompanyFilter,
    split_domains,
)
from ..services.seat_quotas import LABEL_MAX_LENGTH, MAX_SEATS, QuotaData
from ..validators import EmailAddress

CODE_MESSAGE = _l("Use 2 to 20 capital letters and digits, for example HBIT.")
SEATS_MESSAGE = _l("Enter a whole number of seats from 0 to %(max)d.", max=MAX_SEATS)


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def _upper(value: Any) -> Any:
    return value.strip().upper() if isinstance(value, str) else value


class CompanyForm(PortalForm):
    name = StringField(
        _l("Name"),
        validators=[DataRequired(), Length(max=NAME_MAX_LENGTH)],
        filters=[_strip],
    )
    code = StringField(
        _l("Short code"),
        validators=[
            DataRequired(),
            Length(max=20),
            Regexp(CODE_PATTERN, message=CODE_MESSAGE),
        ],
        filters=[_upper],
        description=_l("2 to 20 letters and digits, for example HBIT. Stored in capitals."),
    )
    domains = TextAreaField(
        _l("E-mail domains"),
        validators=[Optional(), Length(max=5000)],
        description=_l(
            "One per line, for example harbour-it.example. Staff with an address at one of "
            "these domains can register as the company's learners."
        ),
        render_kw={"rows": 4, "autocapitalize": "none", "spellcheck": "false"},
    )
    requires_approval = BooleanField(
        _l("Learners' own requests need HR approval"),
        description=_l("Nominations by HR officers never need approval."),
    )
    is_active = BooleanField(
        _l("Active"),
        default=True,
        description=_l(
            "A company that is not active keeps its records, but none of its learners or "
            "HR officers can log in."
        ),
    )

    def company_data(self) -> CompanyData:
        return CompanyData(
            name=self.name.data or "",
            code=self.code.data or "",
            domains=split_domains(self.domains.data),
            requires_approval=bool(self.requires_approval.data),
            is_active=bool(self.is_active.data),
        )


def company_form_data(company: PartnerCompany) -> dict[str, Any]:
    """The values of ``company`` as the form shows them, for its edit page."""
    return {
        "name": company.name,
        "code": company.code,
        "domains": "\n".join(company.domain_names),
        "requires_approval": company.requires_approval,
        "is_active": company.is_active,
    }


class CompanyFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(
        _l("Search"),
        validators=[Optional(), Length(max=100)],
        description=_l("Name, short code or e-mail domain."),
    )
    status = SelectField(
        _l("Status"),
        choices=[
            SelectChoice("", _l("All companies")),
            SelectChoice(CompanyFilter.ACTIVE, _l("Active")),
            SelectChoice(CompanyFilter.INACTIVE, _l("Inactive")),
        ],
        validators=[Optional()],
    )


class QuotaForm(PortalForm):
    label = StringField(
        _l("Period"),
        validators=[DataRequired(), Length(max=LABEL_MAX_LENGTH)],
        filters=[_strip],
        description=_l("For example 2026/27 Term 2."),
    )
    starts_on = DateField(_l("First day"), validators=[InputRequired()])
    ends_on = DateField(_l("Last day"), validators=[InputRequired()])
    seats = IntegerField(
        _l("Seats"),
        validators=[InputRequired(), NumberRange(min=0, max=MAX_SEATS, message=SEATS_MESSAGE)],
        render_kw={"min": 0, "max": MAX_SEATS, "inputmode": "numeric"},
    )
    # Checked by the service, which can say that a course does not exist.
    course_id = SelectField(
        _l("Courses covered"),
        coerce=int,
        validate_choice=False,
        description=_l(
            "A quota for one course counts only that course's classes; one for all courses "
            "counts every class. Classes count in the period they start in."
        ),
    )

    def set_course_choices(self, rows: Any) -> None:
        self.course_id.choices = [SelectChoice("0", _l("All courses"))] + [
            SelectChoice(
                str(course_id),
                f"{code} {title}"
                if status != CourseStatus.ARCHIVED
                else f"{code} {title} ({LABELS[status]})",
            )
            for course_id, code, title, status in rows
        ]

    def fill_from(self, quota: SeatQuota) -> None:
        self.label.data = quota.label
        self.starts_on.data = quota.starts_on
        self.ends_on.data = quota.ends_on
        self.seats.data = quota.seats
        self.course_id.data = quota.course_id or 0

    def quota_data(self) -> QuotaData:
        return QuotaData(
            label=self.label.data or "",
            starts_on=self.starts_on.data,
            ends_on=self.ends_on.data,
            seats=self.seats.data,
            course_id=self.course_id.data or None,
        )


class InviteHrOfficerForm(PortalForm):
    name = StringField(
        _l("Full name"), validators=[DataRequired(), Length(max=200)], filters=[_strip]
    )
    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
        filters=[_strip],
    )
