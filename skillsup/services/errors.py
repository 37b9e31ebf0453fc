"""Errors raised by the services when a rule refuses an action.

Each carries a message meant for the user; views show it as a flash or form error.
"""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l


class DomainError(Exception):
    """A rule refused the action. ``message`` is for the user; ``field`` names a form field."""

    default_message = _l("The action is not allowed.")
    status_code = 400

    def __init__(self, message: Any = None, *, field: str | None = None) -> None:
        self.message = message if message is not None else self.default_message
        self.field = field
        super().__init__(str(self.message))


class PermissionDenied(DomainError):
    default_message = _l("You are not allowed to do that.")
    status_code = 403


class NotFound(DomainError):
    default_message = _l("Not found.")
    status_code = 404


class ValidationFailed(DomainError):
    """Input that breaks a rule of the data, such as a duplicate code."""


class InvalidCredentials(DomainError):
    default_message = _l("The e-mail address or password is not correct.")
    status_code = 401


class AccountUnavailable(DomainError):
    default_message = _l("This account cannot sign in.")
    status_code = 403


class InvalidToken(DomainError):
    default_message = _l("This link is not valid, has expired or has already been used.")


class WeakPassword(ValidationFailed):
    pass


class UnknownCompanyDomain(ValidationFailed):
    pass


class EmailTaken(ValidationFailed):
    pass
