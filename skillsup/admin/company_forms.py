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
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from ..forms import CheckboxListField, PortalForm
from ..labels import LABELS
from ..models import CompanyIdentityProvider, CourseStatus, PartnerCompany, SeatQuota
from ..services.companies import (
    CODE_PATTERN,
    NAME_MAX_LENGTH,
    CompanyData,
    CompanyFilter,
    split_domains,
)
from ..services.seat_quotas import LABEL_MAX_LENGTH, MAX_SEATS, QuotaData
from ..services.sso_providers import (
    CLIENT_ID_MAX_LENGTH,
    ISSUER_MAX_LENGTH,
    SECRET_MAX_LENGTH,
    ProviderData,
)
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


class IdentityProviderForm(PortalForm):
    """A company's OpenID Connect provider. The rules (https issuer, the discovery document,
    the company's own domains) are checked by :mod:`skillsup.services.sso_providers`."""

    issuer = StringField(
        _l("Issuer URL"),
        validators=[DataRequired(), Length(max=ISSUER_MAX_LENGTH)],
        filters=[_strip],
        description=_l(
            "As the provider gives it, for example https://login.example.com. Its discovery "
            "document is read from the issuer URL followed by /.well-known/openid-configuration."
        ),
        render_kw={"autocapitalize": "none", "spellcheck": "false", "inputmode": "url"},
    )
    client_id = StringField(
        _l("Client id"),
        validators=[DataRequired(), Length(max=CLIENT_ID_MAX_LENGTH)],
        filters=[_strip],
        render_kw={"autocapitalize": "none", "spellcheck": "false", "autocomplete": "off"},
    )
    client_secret = PasswordField(
        _l("Client secret"),
        validators=[Optional(), Length(max=SECRET_MAX_LENGTH)],
        render_kw={"autocomplete": "new-password"},
    )
    domains = CheckboxListField(
        _l("E-mail domains it signs in"),
        validate_choice=False,
        description=_l("People with an address at these domains are sent to the provider."),
    )
    password_allowed = BooleanField(
        _l("Let these people also sign in with a portal password"),
        description=_l(
            "Leave it unticked to make the provider the only way in for them: a portal "
            "password is then refused."
        ),
    )
    is_enabled = BooleanField(
        _l("Switched on"),
        description=_l(
            "While it is off, everyone signs in with a portal password. Switching it on "
            "checks the provider's discovery document."
        ),
    )

    def provider_data(self) -> ProviderData:
        return ProviderData(
            issuer=self.issuer.data or "",
            client_id=self.client_id.data or "",
            client_secret=self.client_secret.data or "",
            domains=list(self.domains.data or []),
            password_allowed=bool(self.password_allowed.data),
            is_enabled=bool(self.is_enabled.data),
        )


def identity_provider_form(
    company: PartnerCompany, provider: CompanyIdentityProvider | None
) -> IdentityProviderForm:
    """The form for the company's provider: its domains to choose from, and what is saved
    (never the secret) when nothing was posted."""
    form = IdentityProviderForm()
    form.domains.choices = [(domain, domain) for domain in company.domain_names]
    if not form.is_submitted():
        if provider is not None:
            form.issuer.data = provider.issuer
            form.client_id.data = provider.client_id
            form.domains.data = list(provider.domains)
            form.password_allowed.data = provider.password_allowed
            form.is_enabled.data = provider.is_enabled
        else:
            form.domains.data = company.domain_names
    return form
