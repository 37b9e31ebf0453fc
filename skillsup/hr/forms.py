"""Forms for HR officers."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

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
    """Approve or reject the ticked requests of the approvals queue, or tick them all.

    ``decision`` is the button pressed: ``select_all`` and ``select_none`` only tick or untick
    every row (without JavaScript), ``approve`` decides at once, and ``reject`` first shows a
    confirmation page, whose button posts ``confirmed`` with the reason.
    """

    enrolment_ids = SelectMultipleField(_l("Requests"), coerce=int, validate_choice=False)
    decision = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice("approve", _l("Approve")),
            SelectChoice("reject", _l("Reject")),
            SelectChoice("select_all", _l("Select all")),
            SelectChoice("select_none", _l("Clear the selection")),
        ],
        validators=[InputRequired(_l("Choose what to do with the ticked requests."))],
    )
    confirmed = HiddenField()
    reason = TextAreaField(
        _l("Reason for the rejection"),
        description=_l("Each learner is sent this reason by e-mail."),
        validators=[Optional(), Length(max=500)],
    )


class WithdrawForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
