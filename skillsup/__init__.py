"""The SkillsUp portal."""

from __future__ import annotations

import logging
import os
from typing import Any

from flask import Flask, current_app, render_template, request
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from markupsafe import escape
from werkzeug.exceptions import HTTPException, InternalServerError
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.wrappers import Response

from .config import load_configuration
from .database import configure_engines, engine_options
from .extensions import babel, cache, csrf, db, limiter, login_manager, migrate

#: What every key the portal keeps in its cache starts with.
CACHE_KEY_PREFIX = "skillsup:"
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the application. ``config`` overrides every other source of settings."""
    app = Flask(
        __name__,
        instance_relative_config=True,
        template_folder=os.path.join(PROJECT_ROOT, "templates"),
        static_folder=os.path.join(PROJECT_ROOT, "static"),
    )
    load_configuration(app, config)
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app)
    proxies = int(app.config["PROXY_FIX_X_FOR"])
    if proxies > 0:
        # Flask's documented way to wrap its WSGI app, which its types see as a method.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    _configure_logging(app)

    db.init_app(app)
    with app.app_context():
        configure_engines(app, db.engines)
    migrate.init_app(
        app,
        db,
        directory=os.path.join(PROJECT_ROOT, "migrations"),
        render_as_batch=True,
        compare_type=True,
    )
    csrf.init_app(app)
    limiter.init_app(app)
    _init_cache(app)
    _init_babel(app)
    _init_login(app)

    from .emails import register_renderers
    from .services import mail

    # The e-mail that services queue to be written at delivery is written here, in the web
    # layer, which knows the portal's links.
    register_renderers()
    mail.install(app, db.session)

    _register_input_checks(app)
    _register_blueprints(app)
    from .api import init_api

    init_api(app)
    _register_error_handlers(app)
    _register_template_helpers(app)
    app.after_request(_security_headers)

    from .cli import register_commands

    register_commands(app)
    return app


def _configure_logging(app: Flask) -> None:
    if not app.debug and not app.testing:
        logging.basicConfig(
            level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
        )


def _init_cache(app: Flask) -> None:
    url = app.config.get("CACHE_URL")
    if url:
        # Short timeouts: when Redis is away, pages compute their figures instead of waiting.
        options = {"socket_timeout": 0.5, "socket_connect_timeout": 0.5}
        config = {"CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": url, "CACHE_OPTIONS": options}
    else:
        config = {"CACHE_TYPE": "SimpleCache", "CACHE_THRESHOLD": 1000}
    cache.init_app(app, config={**config, "CACHE_KEY_PREFIX": CACHE_KEY_PREFIX})


def _init_babel(app: Flask) -> None:
    from .i18n import install_template_translations, select_locale

    babel.init_app(
        app,
        locale_selector=select_locale,
        default_translation_directories=os.path.join(os.path.dirname(__file__), "translations"),
    )
    install_template_translations(app.jinja_env)


def _init_login(app: Flask) -> None:
    from .models import User
    from .services import user_sessions

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "info"
    login_manager.needs_refresh_message = _l("Please log in again to see this page.")
    login_manager.needs_refresh_message_category = "info"
    login_manager.session_protection = "basic"

    @login_manager.user_loader
    def load_user(session_id: str) -> User | None:
        # The id in the cookies is the secret of a session record (services/user_sessions):
        # a session ended, begun under an older session version, or idle past its cookies'
        # lives finds nobody. The holder and their company come in the same query.
        from .web import remember_session

        record = user_sessions.find_alive(session_id)
        if record is None:
            return None
        remember_session(record, session_id)
        return record.user


def _register_input_checks(app: Flask) -> None:
    """What every request is checked for before any view sees it: ids in addresses that the
    database can hold (else 404, before any query) and no control characters (else 400);
    then the signed-in session's last activity is noted, before any view changes anything."""
    from .web import IdConverter, note_session_activity, refuse_control_characters

    # Before the blueprints: their rules look the converter up when they are added.
    app.url_map.converters["int"] = IdConverter
    app.before_request(refuse_control_characters)
    app.before_request(note_session_activity)


def _register_blueprints(app: Flask) -> None:
    from .admin.routes import bp as admin_bp
    from .auth.routes import bp as auth_bp
    from .catalogue.routes import bp as catalogue_bp
    from .certificates.routes import bp as certificates_bp
    from .hr.routes import bp as hr_bp
    from .learning.routes import bp as learning_bp
    from .main.routes import bp as main_bp
    from .trainer.routes import bp as trainer_bp

    for blueprint in (
        main_bp,
        auth_bp,
        catalogue_bp,
        learning_bp,
        hr_bp,
        trainer_bp,
        admin_bp,
        certificates_bp,
    ):
        app.register_blueprint(blueprint)


def _register_error_handlers(app: Flask) -> None:
    def render_error(code: int, title: Any, description: Any) -> tuple[str, int]:
        # The error may have left the session's transaction failed (a database error, a
        # refused commit): the page reads the signed-in user, so start afresh first.
        try:
            db.session.rollback()
        except Exception:
            app.logger.warning("rolling back before the error page failed", exc_info=True)
        try:
            page = render_template(
                "errors/error.html", code=code, title=title, description=description
            )
        except Exception:
            # The error page itself failed (the database may be away): a plain page says
            # as much as the portal's would, without its menus.
            app.logger.warning("the error page could not be rendered", exc_info=True)
            page = _PLAIN_ERROR_PAGE.format(code=code, title=escape(str(title)))
        return page, code

    from .api.problems import is_api_request
    from .api.problems import response_for as problem_response

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> tuple[str, int]:
        app.logger.warning(
            "CSRF check failed for %s %s: %s", request.method, request.path, error.description
        )
        return render_error(
            400, _l("The form has expired"), _l("Go back, reload the page and try again.")
        )

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> tuple[str, int] | HTTPException | Response:
        code = error.code or 500
        if code >= 400 and is_api_request():
            db.session.rollback()
            return problem_response(error)
        if code < 400 or request.path.startswith("/static/"):
            return error
        titles = {
            400: (_l("Bad request"), _l("The request could not be understood.")),
            403: (_l("Not allowed"), _l("You do not have permission to see this page.")),
            404: (_l("Page not found"), _l("There is no page at this address.")),
            405: (_l("Not allowed"), _l("This page does not accept that kind of request.")),
            413: (_l("Too large"), _l("The upload is larger than allowed.")),
            429: (
                _l("Too many attempts"),
                _l("Too many attempts. Wait a few minutes and try again."),
            ),
        }
        title, description = titles.get(code, (error.name, _l("Something went wrong.")))
        if code == 400 and error.description and getattr(error, "skillsup_reason", False):
            description = error.description
        return render_error(code, title, description)

    @app.errorhandler(500)
    def server_error(error: Exception) -> tuple[str, int] | Response:
        if is_api_request():
            db.session.rollback()
            return problem_response(InternalServerError())
        return render_error(
            500,
            _l("Something went wrong"),
            _l("The error has been recorded. Please try again later."),
        )


_PLAIN_ERROR_PAGE = (
    '<!doctype html><html><head><meta charset="utf-8"><title>{title}</title></head>'
    "<body><p>{code}</p><h1>{title}</h1></body></html>"
)


def _register_template_helpers(app: Flask) -> None:
    from . import badges, i18n, reasons
    from .forms import error_summary
    from .labels import label
    from .models import ClassStatus, EnrolmentStatus
    from .services import csvfiles, staff
    from .web import account_is_current, home_url_for, menu_for

    app.jinja_env.globals.update(
        home_url_for=home_url_for,
        menu_for=menu_for,
        account_is_current=account_is_current,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
        get_locale=get_locale,
        html_lang=lambda: i18n.html_lang(i18n.reader_locale().name),
        label=label,
        ordinal=i18n.ordinal,
        # The punctuation between the parts of a phrase, and after a label, in Chinese too.
        comma=i18n.comma,
        colon=i18n.colon,
        percent=i18n.percent,
        csv_limits=csvfiles.limits,
        # An account's state (active, invited, deactivated) and its label, for every list
        # of people.
        staff_status=staff.staff_status,
        # A status's meaning (ok, waiting, warning, ended, bad) for its badge, and each
        # meaning's icon.
        status_tone=badges.status_tone,
        # Icons and badges, exported by templates/macros/ui.html under their own names.
        ui_icon=badges.icon,
        ui_badge=badges.badge,
        ui_status_badge=badges.status_badge,
        # A record's bilingual text, exported by templates/macros/i18n.html.
        ui_localized=i18n.localized,
        ui_localized_lines=i18n.localized_lines,
        ui_localized_paragraphs=i18n.localized_paragraphs,
        BADGE_ICONS=badges.TONE_ICONS,
        EnrolmentStatus=EnrolmentStatus,
        ClassStatus=ClassStatus,
        # Each error of a form with the id of its field, for the summary at the form's top.
        error_summary=error_summary,
    )
    app.jinja_env.filters.update(
        datetime=i18n.fmt_datetime,
        date=i18n.fmt_date,
        time=i18n.fmt_time,
        timespan=i18n.fmt_timespan,
        money=i18n.fmt_money,
        number=i18n.fmt_number,
        hours=i18n.fmt_hours,
        month=i18n.fmt_month,
        # A record's reasons (codes with their figures) worded in the reader's language.
        reasons=reasons.render,
    )
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True


CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


def _security_headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    headers.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
    if current_app.config["SKILLSUP_ENV"] == "production":
        headers.setdefault(
            "Strict-Transport-Security",
            f"max-age={current_app.config['HSTS_MAX_AGE']}; includeSubDomains",
        )
    if request.endpoint and not request.endpoint.endswith("static"):
        headers.setdefault("Cache-Control", "no-store" if _has_user() else "no-cache")
    return response


def _has_user() -> bool:
    return bool(getattr(current_user, "is_authenticated", False))
