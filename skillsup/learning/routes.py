"""The URL map of the ``learning`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..models import Role
from ..web import FORM, GET, POST, Route, require_roles
from . import views

bp = Blueprint("learning", __name__)
bp.before_request(require_roles(Role.LEARNER))

# fmt: off
ROUTES: list[Route] = [
    # address                                                    view               methods
    ("/my-learning",                                             views.my_learning, GET),
    ("/classes/<class_code>/enrol",                              views.enrol,       POST),
    ("/my-learning/enrolments/<int:enrolment_id>/withdraw",      views.withdraw,    FORM),
    ("/my-learning/enrolments/<int:enrolment_id>/statement.pdf", views.statement,   GET),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
