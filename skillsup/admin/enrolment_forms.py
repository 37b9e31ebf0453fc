"""Forms for admins acting on enrolments."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import EmailField, StringField
from wtforms.validators import DataRequired, Length, Optional

from ..forms import PortalForm
from ..validators import EmailAddress


class AdminEnrolForm(PortalForm):
    email = EmailField(
        _l("Learner's e-mail address"),
        validators=[DataRequired(), Length(max=254), EmailAddress()],
    )
    reason = StringField(
        _l("Reason"),
        validators=[Optional(), Length(max=500)],
        description=_l(
            "Needed after the class's last session, or for a company that approves its "
            "staff's enrolments; kept in the enrolment's history."
        ),
    )


class AdminWithdrawForm(PortalForm):
    reason = StringField(_l("Reason"), validators=[DataRequired(), Length(max=500)])
