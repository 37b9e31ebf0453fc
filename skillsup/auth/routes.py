"""The URL map of the ``auth`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..web import FORM, GET, POST, Route
from . import two_factor, views

bp = Blueprint("auth", __name__)

# fmt: off
ROUTES: list[Route] = [
    # address                   view                     methods
    ("/login",                  views.login,             FORM),
    # The second step of a sign-in, while it is pending (skillsup.auth.signin)
    ("/login/two-factor",       two_factor.two_factor_code, FORM),
    ("/login/two-factor/recovery", two_factor.two_factor_recovery, FORM),
    ("/login/two-factor/setup", two_factor.two_factor_setup, FORM),
    ("/login/two-factor/continue", two_factor.two_factor_continue, FORM),
    ("/login/sso/callback",     views.sso_callback,      GET),
    ("/logout",                 views.logout,            POST),
    ("/register",               views.register,          FORM),
    ("/confirm/<token>",        views.confirm_email,     FORM),
    ("/confirm-new-address/<token>", views.confirm_email_change, FORM),
    ("/invitation/<token>",     views.accept_invitation, FORM),
    ("/forgot-password",        views.forgot_password,   FORM),
    ("/reset-password/<token>", views.reset_password,    FORM),
    ("/account",                views.account,           GET),
    ("/account/profile",        views.update_profile,    POST),
    ("/account/password",       views.change_password,   POST),
    ("/account/calendar",       views.calendar_feed,     POST),
    ("/account/cef",            views.cef_used_elsewhere, POST),
    ("/account/two-factor/setup", two_factor.account_two_factor_setup, FORM),
    ("/account/two-factor/recovery-codes", two_factor.account_recovery_codes, POST),
    ("/account/two-factor/off", two_factor.account_two_factor_off, POST),
    ("/account/sessions/<int:session_id>/end", views.end_session, POST),
    ("/account/sessions/end-others", views.end_other_sessions, POST),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
