"""Forms for HR officers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, SelectChoice, SelectField, SelectMultipleField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm
from ..validators import EmailAddress


class InviteEmployeeForm(PortalForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(
        _l("Work e-mail address"), validators=[DataRequired(), Length(max=254), EmailAddress()]
    )
    staff_number = StringField(_l("Staff number"), validators=[Optional(), Length(max=50)])
    department = StringField(_l("Department"), validators=[Optional(), Length(max=120)])
    job_title = StringField(_l("Job title"), validators=[Optional(), Length(max=120)])


class DecisionForm(PortalForm):
    """Approve or reject one or several requests."""

    enrolment_ids = SelectMultipleField(_l("Requests"), coerce=int, validate_choice=False)
    decision = SelectField(
        _l("Decision"),
        choices=[SelectChoice("approve", _l("Approve")), SelectChoice("reject", _l("Reject"))],
    )
    reason = StringField(_l("Reason (needed to reject)"), validators=[Optional(), Length(max=500)])


class WithdrawForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
