"""The URL map of the ``main`` blueprint: every page and action it answers, in one place."""

from __future__ import annotations

from flask import Blueprint

from ..web import GET, POST, Route
from . import views

bp = Blueprint("main", __name__)

# fmt: off
ROUTES: list[Route] = [
    # address                 view                 methods
    ("/",                     views.index,         GET),
    ("/language",             views.set_language,  POST),
    ("/calendar/<token>.ics", views.calendar_feed, GET),
    ("/healthz",              views.healthz,       GET),
]
# fmt: on

for rule, view, methods in ROUTES:
    bp.add_url_rule(rule, view_func=view, methods=methods)
