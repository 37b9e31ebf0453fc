"""The URL map of the ``catalogue`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..web import GET, Route
from . import views

bp = Blueprint("catalogue", __name__)

# fmt: off
ROUTES: list[Route] = [
    # address                              view                  methods
    ("/courses",                           views.course_list,    GET),
    ("/classes/<class_code>/calendar.ics", views.class_calendar, GET),
    ("/courses/<code>",                    views.course_detail,  GET),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
