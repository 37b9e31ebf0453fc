"""The learner's own pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..models import Role
from ..services import dashboards
from ..web import require_roles

bp = Blueprint("learning", __name__)
bp.before_request(require_roles(Role.LEARNER))


@bp.get("/my-learning")
def my_learning() -> str:
    enrolments = dashboards.learner_enrolments(current_user)
    upcoming = dashboards.learner_upcoming_sessions(current_user)
    return render_template("learning/my_learning.html", enrolments=enrolments, upcoming=upcoming)
