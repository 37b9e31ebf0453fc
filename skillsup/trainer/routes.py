"""The URL map of the ``trainer`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..models import Role
from ..web import FORM, GET, Route, require_roles
from . import views

bp = Blueprint("trainer", __name__, url_prefix="/trainer")
bp.before_request(require_roles(Role.TRAINER, Role.ADMIN))

# fmt: off
ROUTES: list[Route] = [
    # address                                                      view                 methods
    ("/",                                                          views.home,          GET),
    ("/classes/<class_code>",                                      views.roster,        GET),
    ("/classes/<class_code>/roster.csv",                           views.roster_csv,    GET),
    ("/classes/<class_code>/sessions/<int:session_id>/sign-in",    views.sign_in_sheet, GET),
    ("/classes/<class_code>/sessions/<int:session_id>/attendance", views.attendance,    FORM),
    ("/classes/<class_code>/results",                              views.results,       FORM),
    ("/classes/<class_code>/close",                                views.close,         FORM),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
