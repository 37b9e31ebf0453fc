"""Forms for admins acting on enrolments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length

from ..forms import PortalForm
from ..validators import EmailAddress


class AdminEnrolForm(PortalForm):
    email = EmailField(
        _l("Learner's e-mail address"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
    )


class AdminWithdrawForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
