"""Forms for signing in and managing one's own account."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    Field,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp, StopValidation

from ..forms import PortalForm
from ..services import two_factor
from ..services.passwords import MAX_LENGTH
from ..validators import EmailAddress

_EMAIL = [DataRequired(), Length(max=254), EmailAddress()]


class EmailStepForm(PortalForm):
    """The first step of signing in: the address alone, which decides where the person signs
    in (their company's provider, or the password step)."""

    email = EmailField(
        _l("E-mail address"), validators=_EMAIL, render_kw={"autocomplete": "username"}
    )


class LoginForm(PortalForm):
    email = EmailField(
        _l("E-mail address"), validators=_EMAIL, render_kw={"autocomplete": "username"}
    )
    password = PasswordField(
        _l("Password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )
    remember = BooleanField(_l("Keep me signed in on this device"))


class NewPasswordMixin:
    password = PasswordField(
        _l("New password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        description=_l("At least 8 characters. Avoid common passwords."),
        render_kw={"autocomplete": "new-password"},
    )
    confirm = PasswordField(
        _l("Repeat the new password"),
        validators=[DataRequired(), EqualTo("password", message=_l("The passwords do not match."))],
        render_kw={"autocomplete": "new-password"},
    )


class RegisterForm(NewPasswordMixin, PortalForm):
    name = StringField(
        _l("Full name"),
        validators=[DataRequired(), Length(max=200)],
        render_kw={"autocomplete": "name"},
    )
    email = EmailField(
        _l("Work e-mail address"),
        validators=_EMAIL,
        description=_l("Your address at a partner company."),
        render_kw={"autocomplete": "email"},
    )


class ForgotPasswordForm(PortalForm):
    email = EmailField(_l("E-mail address"), validators=_EMAIL, render_kw={"autocomplete": "email"})


class SetPasswordForm(NewPasswordMixin, PortalForm):
    pass


class ChangePasswordForm(NewPasswordMixin, PortalForm):
    current_password = PasswordField(
        _l("Current password"),
        validators=[DataRequired(), Length(max=MAX_LENGTH)],
        render_kw={"autocomplete": "current-password"},
    )


class ProfileForm(PortalForm):
    name = StringField(_l("Full name"), validators=[DataRequired(), Length(max=200)])
    wants_reminders = BooleanField(_l("E-mail me a reminder the day before each session"))
    wants_attendance_warnings = BooleanField(
        _l("E-mail me when attendance puts completing a class or its subsidy at risk")
    )
    preferred_language = SelectField(
        _l("Language"),
        choices=[
            SelectChoice("", _l("As my browser says")),
            SelectChoice("en", "English"),
            SelectChoice("zh_Hant_HK", "繁體中文"),
        ],
    )


class CefUsedElsewhereForm(PortalForm):
    """The Continuing Education Fund subsidy a learner has had elsewhere: Hong Kong dollars,
    digits with at most two decimals (no commas, signs or exponents); empty clears it."""

    cef_subsidy_used_elsewhere = StringField(
        _l("CEF subsidy used elsewhere (HK$)"),
        validators=[
            Optional(),
            Length(max=12),
            Regexp(
                r"^[0-9]{1,8}(\.[0-9]{1,2})?$",
                message=_l(
                    "Enter an amount in Hong Kong dollars: digits only, with at most two"
                    " decimals, for example 2500 or 2500.50."
                ),
            ),
        ],
        description=_l(
            "What the Continuing Education Fund has already paid you for courses with other"
            " providers. Leave it empty if you have not used any or do not know."
        ),
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )


class _TypedCode(Length):
    """A code typed in a form: one that ``normalise`` makes something of, else ``message``.

    A :class:`Length` (of at most 64 characters), so that the portal's forms add no length
    check of their own with another message: whatever is wrong with it, the person is told
    the one thing to type.
    """

    def __init__(self, normalise: Callable[[str | None], str | None], message: Any) -> None:
        super().__init__(max=64, message=message)
        self._normalise = normalise

    def __call__(self, form: Any, field: Field) -> None:
        if self._normalise(field.data) is None:
            raise StopValidation(str(self.message))


class CodeField(StringField):
    """A field for a code: what was typed is shown again only if it could be one (a huge
    paste is not sent back in the page)."""

    def _value(self) -> str:
        value = super()._value()
        return value if len(value) <= 32 else ""


class TwoFactorCodeForm(PortalForm):
    """A one-time code from an authenticator app: at sign-in, to confirm a setup, and before
    a change to two-factor sign-in. Spaces and a dash are dropped."""

    code = CodeField(
        _l("6-digit code"),
        validators=[
            _TypedCode(
                two_factor.normalise_code,
                _l("Enter the 6 digits your authenticator app shows (spaces and a dash are fine)."),
            )
        ],
        description=_l("The code your authenticator app shows now for SkillsUp."),
        render_kw={
            "autocomplete": "one-time-code",
            "inputmode": "numeric",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": "16",
            "class": "code-input",
        },
    )


class RecoveryCodeForm(PortalForm):
    """One of the person's recovery codes, in place of a one-time code."""

    recovery_code = CodeField(
        _l("Recovery code"),
        validators=[
            _TypedCode(
                two_factor.normalise_recovery_code,
                _l("Enter one of your recovery codes: 10 letters and digits, such as abcde-23456."),
            )
        ],
        description=_l("One of the ten codes you saved when you set up two-factor sign-in."),
        render_kw={
            "autocomplete": "off",
            "autocapitalize": "off",
            "spellcheck": "false",
            "maxlength": "32",
            "class": "code-input",
        },
    )
