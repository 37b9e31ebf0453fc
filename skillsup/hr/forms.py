"""Forms for HR officers."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from markupsafe import Markup
from wtforms import (
    EmailField,
    Field,
    HiddenField,
    SelectChoice,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import HiddenInput

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


class MultipleHiddenInput(HiddenInput):
    """One hidden input for each value of a field of several values: the ticked requests
    carried through a confirmation page (rendered by ``hidden_tag()``, as a hidden field)."""

    def __call__(self, field: Field, **kwargs: Any) -> Markup:
        # Markup.format escapes the name and each value.
        hidden = Markup('<input type="hidden" name="{}" value="{}">')
        return Markup("").join(hidden.format(field.name, value) for value in field.data or [])


class DecisionForm(PortalForm):
    """Approve or reject the ticked requests of the approvals queue, or tick them all.

    ``decision`` is the button pressed: ``select_all`` and ``select_none`` only tick or untick
    every row (without JavaScript), ``approve`` decides at once, and ``reject`` first shows a
    confirmation page, whose button posts ``confirmed`` with the reason.
    """

    #: Check boxes on the queue (written out by its template), hidden on the confirmation.
    enrolment_ids = SelectMultipleField(
        _l("Requests"), coerce=int, validate_choice=False, widget=MultipleHiddenInput()
    )
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
