"""The trainer's pages."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from ..models import Role
from ..services import dashboards
from ..web import require_roles

bp = Blueprint("trainer", __name__, url_prefix="/trainer")
bp.before_request(require_roles(Role.TRAINER, Role.ADMIN))


@bp.get("/")
def home() -> str:
    classes = dashboards.trainer_classes(current_user)
    upcoming = dashboards.trainer_upcoming_sessions(current_user)
    return render_template("trainer/home.html", classes=classes, upcoming=upcoming)
