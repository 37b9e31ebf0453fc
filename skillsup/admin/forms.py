"""Forms for the institute's admins."""

from __future__ import annotations

from collections.abc import Iterable

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm
from ..labels import LABELS
from ..models import Role, User
from ..validators import EmailAddress

ROLE_LABELS = {role: LABELS[role] for role in Role}


class InviteUserForm(PortalForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("E-mail address"), validators=[DataRequired(), Length(max=254), EmailAddress()]
    )
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
    )
    company = SelectField(
        _l("Partner company"),
        coerce=int,
        validators=[Optional()],
        description=_l("Required for learners and HR officers."),
    )
    staff_number = StringField(_l("Staff number"), validators=[Optional(), Length(max=50)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=120)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])


class EditUserForm(InviteUserForm):
    """An admin's change to a person: the same details as an invitation."""

    email = EmailField(
        _l("E-mail address"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
        description=_l(
            "A new address is used once its owner follows the link we send to it; an "
            "invitation not yet accepted goes to the new address at once."
        ),
    )

    def fill_from(self, user: User) -> None:
        self.name.data = user.name
        self.email.data = user.email
        self.role.data = user.role.value
        self.company.data = user.company_id or 0
        self.staff_number.data = user.staff_number
        self.department.data = user.department
        self.job_title.data = user.job_title


def set_company_choices(form: InviteUserForm, companies: Iterable[tuple[int, str]]) -> None:
    """The partner companies to choose from (by id and name), after "No company"."""
    form.company.choices = [SelectChoice("0", _l("No company"))] + [
        SelectChoice(str(company_id), name) for company_id, name in companies
    ]


class UserFilterForm(PortalForm):
    class Meta:
        csrf = False

    q = StringField(_l("Search"), validators=[Optional(), Length(max=100)])
    role = SelectField(
        _l("Role"),
        choices=[SelectChoice("", _l("All roles"))]
        + [SelectChoice(r.value, label) for r, label in ROLE_LABELS.items()],
        validators=[Optional()],
    )


class ReasonForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=500)])
