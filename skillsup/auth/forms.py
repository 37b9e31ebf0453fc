"""Forms for signing in and managing one's own account."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectChoice,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, EqualTo, Length, Optional, Regexp

from ..forms import PortalForm
from ..services.passwords import MAX_LENGTH
from ..validators import EmailAddress

_EMAIL = [DataRequired(), Length(max=254), EmailAddress()]


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
