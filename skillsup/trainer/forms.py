"""The trainer pages' forms (attendance and results read their many fields by name)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import TextAreaField
from wtforms.validators import Length, Optional

from ..forms import PortalForm
from ..services.class_closing import REASON_MAX_LENGTH


class CloseClassForm(PortalForm):
    """Closing a class; the reason is asked for (and required) only when an admin closes it
    before its last session has ended."""

    reason = TextAreaField(
        _l("Why close the class before its last session has ended?"),
        validators=[
            Optional(),
            Length(
                max=REASON_MAX_LENGTH,
                message=_l("Keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
            ),
        ],
        description=_l("Kept in the class's history and the audit log."),
    )
