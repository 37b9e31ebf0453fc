"""The URL map of the ``certificates`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..web import FORM, GET, Route
from . import views

bp = Blueprint("certificates", __name__)

# fmt: off
ROUTES: list[Route] = [
    # address                                     view            methods
    ("/verify/<path:code>",                       views.verify,   GET),
    ("/certificates/<int:certificate_id>.pdf",    views.download, GET),
    ("/certificates/<int:certificate_id>/revoke", views.revoke,   FORM),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
