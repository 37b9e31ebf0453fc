"""The URL map of the ``auth`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..web import FORM, GET, POST, Route
from . import views

bp = Blueprint("auth", __name__)

# fmt: off
ROUTES: list[Route] = [
    # address                   view                     methods
    ("/login",                  views.login,             FORM),
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
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
