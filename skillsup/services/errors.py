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
    """Someone already has an account with the address: a conflict with what is saved."""

    status_code = 409


class StaffNumberTaken(ValidationFailed):
    """Another person of the company already has the staff number."""

    status_code = 409


class NotAtCompanyDomain(ValidationFailed):
    """The address is not at one of the company's e-mail domains, which the company's HR
    officers must keep to: a conflict with the company's settings, not a malformed address."""

    status_code = 409


class InvalidTwoFactorCode(ValidationFailed):
    """A one-time code that is not the one the person's app shows now (or not six digits)."""

    default_message = _l(
        "That code is not right. Enter the 6-digit code your authenticator app shows now."
    )


class TwoFactorCodeUsed(InvalidTwoFactorCode):
    """A one-time code already accepted once: a code works once, even within its 30 seconds."""

    default_message = _l(
        "That code has already been used. Wait for your authenticator app to show a new one."
    )


class InvalidRecoveryCode(ValidationFailed):
    """A recovery code that is not one of the person's."""

    default_message = _l("That recovery code is not right. Check it and try again.")


class RecoveryCodeUsed(InvalidRecoveryCode):
    """A recovery code of the person's that has been used already (each works once)."""

    default_message = _l("That recovery code has already been used: each works only once.")


class TwoFactorStateConflict(DomainError):
    """Two-factor sign-in is not in the state the action needs (already on, or off)."""

    status_code = 409


class TwoFactorRequired(DomainError):
    """The person's role must use two-factor sign-in while the portal requires it."""

    default_message = _l(
        "Admins and HR officers must use two-factor sign-in: it cannot be turned off."
    )
    status_code = 403


class SignInRefused(DomainError):
    """Single sign-on reached the portal but the portal refuses it: a state that is unknown or
    used, a person the provider did not verify, an address or account the provider may not
    sign in, a cancelled sign-in. The message says why."""

    default_message = _l("We could not sign you in through your company's sign-in service.")
    status_code = 400


class SignInAccountRefused(SignInRefused):
    """The provider signed someone in whose portal account may not be used (deactivated,
    another company's, a company whose access has ended)."""

    status_code = 403


class ProviderUnavailable(DomainError):
    """The identity provider could not be reached, or answered with something the portal
    cannot use (an error, a malformed document, an ID token that fails its checks)."""

    default_message = _l(
        "Your company's sign-in service did not answer as expected. Try again in a few "
        "minutes; if it keeps happening, tell your HR officer."
    )
    status_code = 502


class PasswordNotAllowed(AccountUnavailable):
    """The person's company signs its staff in through its own identity provider only."""

    default_message = _l(
        "Your company signs you in through its own sign-in service: continue with your "
        "e-mail address alone and you will be taken there."
    )
