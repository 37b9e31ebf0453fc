"""Form validators shared by the blueprints' forms."""

from __future__ import annotations

from typing import Any

from email_validator import EmailNotValidError, validate_email
from flask_babel import lazy_gettext as _l
from wtforms import ValidationError


class EmailAddress:
    """A syntactically valid address. No DNS look-up: the portal must work offline too.

    Addresses at ``.test`` domains are accepted, since the demo data and tests use them.
    """

    def __init__(self, message: Any = None) -> None:
        self.message = message or _l("Enter a valid e-mail address.")

    def __call__(self, _form: Any, field: Any) -> None:
        if not field.data:
            return
        try:
            validate_email(field.data, check_deliverability=False, test_environment=True)
        except EmailNotValidError as error:
            raise ValidationError(self.message) from error


#: The largest value of the database's INTEGER columns (every id).
MAX_ID = 2**31 - 1


def is_id(text: str) -> bool:
    """Whether ``text`` is a whole number that can be the id of a row (1 to :data:`MAX_ID`)."""
    return text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ID


def is_valid_email(value: str) -> bool:
    try:
        validate_email(value, check_deliverability=False, test_environment=True)
    except EmailNotValidError:
        return False
    return True
