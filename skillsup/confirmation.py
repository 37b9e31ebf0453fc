"""The confirmation step of a destructive action, shared by every blueprint.

An action that cannot be simply undone (a withdrawal that hands the seat to the waitlist,
cancelling a class, revoking a certificate, deactivating a person...) answers GET at its own
address with a confirmation page, and does the change on POST from that page's button. The
page says what will happen: the consequences come from the service that does the change (its
"preview"), never from a guess in a template, so that the page and the action cannot
disagree. It works without JavaScript: the page is a plain form.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import render_template
from flask_wtf import FlaskForm

#: The template of every confirmation page; a page that shows more (a table of outcomes)
#: extends it and fills its ``details`` block.
TEMPLATE = "confirm.html"


@dataclass
class Confirmation:
    """What a confirmation page shows and where its button posts.

    ``consequences`` are sentences saying what will happen (who is told by e-mail, whether
    the seat goes to the next person on the waitlist), as the service's preview works them
    out. A ``refusal`` (why the action cannot be done now) is shown instead of the button.
    ``form`` carries the CSRF token and, when ``reason_field`` names one of its fields, the
    reason the actor must give; ``hidden`` are further fields the action reads (``next``).
    """

    title: str
    action_url: str
    button: str
    cancel_url: str
    form: FlaskForm
    consequences: Sequence[str] = ()
    intro: str | None = None
    refusal: str | None = None
    reason_field: str | None = None
    hidden: Mapping[str, str] = field(default_factory=dict)
    consequences_heading: str | None = None
    cancel_label: str | None = None

    @property
    def reason(self) -> Any:
        """The form's reason field, if the action asks for one."""
        return self.form[self.reason_field] if self.reason_field else None


def render_confirmation(
    confirmation: Confirmation,
    *,
    status: int = 200,
    template: str = TEMPLATE,
    **context: Any,
) -> tuple[str, int]:
    """The confirmation page of ``confirmation`` (``template``, which extends the shared one
    to show more, with ``context``), answered with ``status`` (400 when the posted reason
    was refused, the refusal's own status when the service refused)."""
    return render_template(template, confirmation=confirmation, **context), status
