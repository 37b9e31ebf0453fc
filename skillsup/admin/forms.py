"""Forms for the institute's admins."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm
from ..labels import LABELS
from ..models import Role
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
