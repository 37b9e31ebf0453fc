"""Helpers shared by the views of every blueprint."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NoReturn
from urllib.parse import urlsplit

from flask import abort, current_app, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response

from .extensions import db
from .models import Role, User
from .services.errors import DomainError

#: The methods a route answers, for the URL maps (``<blueprint>/routes.py``): a page, an
#: action, and a page with a form that posts back to it.
GET = ["GET"]
POST = ["POST"]
FORM = ["GET", "POST"]

HOME_ENDPOINTS = {
    Role.LEARNER: "learning.my_learning",
    Role.HR: "hr.dashboard",
    Role.TRAINER: "trainer.home",
    Role.ADMIN: "admin.home",
}


def home_url_for(user: Any) -> str:
    if getattr(user, "is_authenticated", False):
        return url_for(HOME_ENDPOINTS[user.role])
    return url_for("main.index")


def require_roles(*roles: Role) -> Callable[[], Response | None]:
    """A ``before_request`` hook for a blueprint: log in first, then one of ``roles`` or 403."""

    def check() -> Response | None:
        if not current_user.is_authenticated:
            return current_app.login_manager.unauthorized()  # type: ignore[attr-defined,no-any-return]
        if current_user.role not in roles:
            current_app.logger.warning(
                "access denied: user %s (%s) to %s",
                current_user.id,
                current_user.role,
                request.path,
            )
            abort(403)
        return None

    return check


def is_safe_next(target: str | None) -> bool:
    """Whether ``target`` is a path on this site (no scheme, host, or backslash tricks)."""
    if not target:
        return False
    if any(ord(c) < 32 for c in target) or "\\" in target:
        return False
    if not target.startswith("/") or target.startswith("//"):
        return False
    parts = urlsplit(target)
    return not parts.scheme and not parts.netloc


def redirect_to_next(default: str) -> Response:
    target = request.values.get("next")
    return redirect(target if is_safe_next(target) else default)


def current_actor() -> User:
    """The signed-in user as the services take them (the model, not Flask-Login's proxy)."""
    return current_user._get_current_object()  # type: ignore[attr-defined,no-any-return]


def bad_request(reason: str) -> NoReturn:
    """Answer 400 with ``reason`` shown on the error page (for input no form of ours sends)."""
    error = BadRequest(description=reason)
    error.skillsup_reason = True  # type: ignore[attr-defined]
    raise error


def refuse(error: DomainError, form: FlaskForm | None = None) -> None:
    """A service refused the request: undo whatever it changed, so that nothing is half-saved,
    and show why, on the form field the error names, else as a flash. Something the actor
    may not see is simply not there: a 404."""
    db.session.rollback()
    if error.status_code == 404:
        abort(404)
    if form is not None and error.field and error.field in form:
        form[error.field].errors = [*form[error.field].errors, str(error.message)]
    else:
        flash(str(error.message), "error")
