"""Pages that belong to no role: the front page, the language switch and the health check."""

from __future__ import annotations

from flask import (
    Response,
    abort,
    current_app,
    jsonify,
    redirect,
    render_template,
    request,
    session,
)
from flask_babel import get_locale
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.wrappers import Response as BaseResponse

from ..extensions import db
from ..services import accounts, caching, calendar, catalogue
from ..timeutil import today_hk
from ..web import current_actor, home_url_for, is_safe_next, unit_of_work


def index() -> str | BaseResponse:
    """The front page for visitors; signed-in people go to their own home page."""
    if current_user.is_authenticated:
        return redirect(home_url_for(current_user))
    # The classes and skill areas are the same for every visitor: kept as the catalogue's
    # results are, for as long and under the catalogue's last change.
    showcase = caching.kept_text(
        _showcase_key, current_app.config["CATALOGUE_CACHE_SECONDS"], _render_showcase
    )
    # Our own autoescaped template rendered it: it is HTML already.
    return render_template("main/index.html", showcase=Markup(showcase))  # noqa: S704


def _showcase_key() -> str:
    """What the front page's classes and skill areas depend on: the language, the Hong Kong
    day and the catalogue's last change."""
    return f"front-page:{get_locale()}:{today_hk()}:{catalogue.last_change()}"


def _render_showcase() -> str:
    return render_template(
        "main/_showcase.html",
        classes=catalogue.next_open_classes(),
        skill_areas=catalogue.skill_area_counts(),
    )


def set_language() -> BaseResponse:
    """Remember a language for this browser; signed-in users save it in their preferences."""
    language = request.form.get("lang", "")
    if language in current_app.config["LANGUAGES"]:
        session["lang"] = language
        if current_user.is_authenticated and current_user.preferred_language != language:
            with unit_of_work():
                accounts.choose_language(current_actor(), language)
    target = request.form.get("next")
    return redirect(target if is_safe_next(target) else home_url_for(current_user))


def calendar_feed(token: str) -> Response:
    """A person's private calendar feed: the token in the URL is the only key."""
    user = calendar.user_for_token(token)
    if user is None:
        abort(404)
    response = Response(calendar.feed_for(user), mimetype="text/calendar")
    response.headers["Content-Disposition"] = 'inline; filename="skillsup.ics"'
    response.headers["Cache-Control"] = "private, max-age=300"
    return response


def healthz() -> tuple[Response, int]:
    try:
        db.session.execute(text("SELECT 1"))
    except SQLAlchemyError:
        current_app.logger.exception("health check: database unreachable")
        db.session.rollback()
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok"), 200
