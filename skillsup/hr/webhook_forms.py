"""Forms of the HR officer's webhook pages: an endpoint's address, description and events."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import Field, SelectChoice, StringField, ValidationError
from wtforms.validators import InputRequired, Length

from ..forms import CheckboxListField, PortalForm
from ..labels import LABELS
from ..models import SUBSCRIBABLE_EVENTS, WebhookEndpoint
from ..services import webhook_urls
from ..services.webhook_urls import URL_MAX_LENGTH
from ..services.webhooks import DESCRIPTION_MAX_LENGTH


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


class EndpointForm(PortalForm):
    """Register or change an endpoint. The address's rules are the service's
    (:mod:`skillsup.services.webhook_urls`), shown on the field when it refuses one."""

    url = StringField(
        _l("Endpoint address"),
        description=_l(
            "The https:// address of your HR system that receives the events, such as "
            "https://hr.example.com/skillsup/events."
        ),
        filters=[_strip],
        validators=[
            InputRequired(_l("Enter the address of your endpoint.")),
            Length(
                max=URL_MAX_LENGTH,
                message=_l("Keep the address under %(max)d characters.", max=URL_MAX_LENGTH),
            ),
        ],
        render_kw={"inputmode": "url", "autocomplete": "off", "spellcheck": "false"},
    )
    description = StringField(
        _l("Description"),
        description=_l("What receives the events, for your colleagues (optional)."),
        filters=[_strip],
        validators=[
            Length(
                max=DESCRIPTION_MAX_LENGTH,
                message=_l(
                    "Keep the description under %(max)d characters.", max=DESCRIPTION_MAX_LENGTH
                ),
            )
        ],
    )
    events = CheckboxListField(
        _l("Events to send"),
        choices=[SelectChoice(event.value, LABELS[event]) for event in SUBSCRIBABLE_EVENTS],
        validators=[InputRequired(_l("Choose at least one event to receive."))],
    )

    def validate_url(self, field: Field) -> None:
        """The service's rule, checked here too so that the form says everything at once."""
        try:
            webhook_urls.check_url(field.data or "")
        except webhook_urls.UnsafeUrl as refusal:
            raise ValidationError(str(refusal.message)) from None

    def fill_from(self, endpoint: WebhookEndpoint) -> None:
        """Show ``endpoint`` as it is (before anything is posted)."""
        if not self.is_submitted():
            self.url.data = endpoint.url
            self.description.data = endpoint.description
            self.events.data = list(endpoint.event_types)
