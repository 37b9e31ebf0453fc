"""Configuration: defaults, then ``instance/config.py``, then ``SKILLSUP_*`` environment variables.

The environment (``SKILLSUP_ENV``) is one of ``production`` (the default), ``development`` or
``testing``. Outside development and testing the application refuses to start without a real
secret key.
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

from flask import Flask

log = logging.getLogger(__name__)

DEVELOPMENT_SECRET_KEY = "skillsup-development-key-do-not-use-in-production"  # noqa: S105

ENVIRONMENTS = ("production", "development", "testing")


class ConfigurationError(RuntimeError):
    """The configuration cannot be used; the message says what to set."""


class DefaultConfig:
    SKILLSUP_ENV = "production"
    SECRET_KEY: str | None = None
    SQLALCHEMY_DATABASE_URI: str | None = None  # set from the instance folder when missing
    SQLALCHEMY_ENGINE_OPTIONS: dict[str, Any] = {}
    SQLITE_BUSY_TIMEOUT_MS = 15_000
    POSTGRES_LOCK_TIMEOUT_MS = 10_000
    POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS = 60_000
    POSTGRES_PING_AFTER_IDLE_SECONDS = 10

    # Sessions and cookies
    SESSION_COOKIE_NAME = "skillsup_session"
    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = True
    PERMANENT_SESSION_LIFETIME = timedelta(hours=12)
    REMEMBER_COOKIE_NAME = "skillsup_remember"
    REMEMBER_COOKIE_DURATION = timedelta(days=14)
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = True

    # Forms and uploads
    WTF_CSRF_TIME_LIMIT = 8 * 3600
    MAX_CONTENT_LENGTH = 4 * 1024 * 1024
    MAX_FORM_MEMORY_SIZE = 1024 * 1024

    # Passwords and tokens
    ARGON2_TIME_COST = 3
    ARGON2_MEMORY_COST = 65536
    ARGON2_PARALLELISM = 4
    PASSWORD_RESET_MAX_AGE = 3600
    INVITATION_MAX_AGE = 7 * 24 * 3600
    EMAIL_CONFIRMATION_MAX_AGE = 3 * 24 * 3600

    # Login rate limits (Flask-Limiter notation); storage is shared through Redis in production
    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_HEADERS_ENABLED = True
    LOGIN_LIMIT_PER_ACCOUNT = "5 per 15 minutes"
    LOGIN_LIMIT_PER_ADDRESS = "30 per 15 minutes"
    # Two-factor sign-in: admins and HR officers must use it (off in development and tests,
    # where the demo accounts sign in with their password alone). Whoever has turned it on
    # is asked for a code whatever this says.
    REQUIRE_TWO_FACTOR = True
    # The first step of signing in (the address alone, which checks no password), per address
    LOGIN_LIMIT_EMAIL_STEP = "60 per 15 minutes"
    # Requests to the JSON API, per token (per address for the public catalogue)
    API_RATE_LIMIT = "600 per minute"

    # E-mail: logged when no server is configured
    MAIL_SERVER: str | None = None
    MAIL_PORT = 25
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_TIMEOUT = 10
    MAIL_DEFAULT_SENDER = "SkillsUp <no-reply@skillsup.test>"
    # Deliver right after the commit, in the request; otherwise `flask send-mail` does it.
    MAIL_DELIVER_IN_REQUEST = False

    # Webhooks: how long a delivery waits to connect, and again for the answer, in seconds.
    WEBHOOKS_TIMEOUT = 10
    # Allow http:// and local or private addresses for webhook endpoints: for a receiver on
    # the test machine only, never in production (skillsup.services.webhook_urls).
    WEBHOOKS_ALLOW_INSECURE = False

    # Single sign-on (OpenID Connect, per partner company): how long a call to a provider
    # waits to connect, and again for the answer, in seconds; how long its discovery document
    # and keys are reused; whether an issuer may be http://localhost or http://127.0.0.1 (a
    # provider on the test machine only, never in production: skillsup.services.sso_providers).
    SSO_TIMEOUT = 10
    SSO_CACHE_SECONDS = 3600
    SSO_ALLOW_INSECURE = False

    # The host (and PREFERRED_URL_SCHEME the scheme) of e-mailed links written outside a
    # request: `flask send-mail` and `flask send-reminders` refuse to start in production
    # without it (skillsup.links).
    SERVER_NAME: str | None = None

    # Localisation
    BABEL_DEFAULT_LOCALE = "en"
    BABEL_DEFAULT_TIMEZONE = "Asia/Hong_Kong"
    LANGUAGES = ("en", "zh_Hant_HK")

    # Cache for figures that may be a little old: Redis (shared by every worker) when set,
    # else memory in each process.
    CACHE_URL: str | None = None
    # How long the HR dashboard's figures are reused, in seconds; 0 computes them every time.
    HR_DASHBOARD_CACHE_SECONDS = 120
    # How long a rendered catalogue page is reused, in seconds; 0 renders it every time. A
    # change to any course or class shows at once; the time-bound parts (whether a class is
    # still taking enrolments) may lag by up to this long.
    CATALOGUE_CACHE_SECONDS = 60

    # How many days after a class is closed an admin may still reopen it (which withdraws the
    # certificates its closing issued).
    REOPEN_DAYS = 30

    # The training provider as the learners' claim statements name it, in English and
    # Traditional Chinese; an address left empty is not printed.
    PROVIDER_NAME_EN = "SkillsUp Institute"
    PROVIDER_NAME_ZH = "SkillsUp 學院"
    PROVIDER_ADDRESS_EN = ""
    PROVIDER_ADDRESS_ZH = ""

    HSTS_MAX_AGE = 31_536_000
    # How many reverse proxies in front of the portal set X-Forwarded-For and -Proto; without
    # this, rate limits and logs would see every visitor as the proxy's address.
    PROXY_FIX_X_FOR = 0


# Environment variables that are not strings: how to read them.
_BOOLEAN_TRUE = {"1", "true", "yes", "on"}
_TYPED_SETTINGS: dict[str, type] = {
    "MAIL_PORT": int,
    "MAIL_USE_TLS": bool,
    "MAIL_USE_SSL": bool,
    "MAIL_TIMEOUT": int,
    "MAIL_DELIVER_IN_REQUEST": bool,
    "WEBHOOKS_TIMEOUT": int,
    "WEBHOOKS_ALLOW_INSECURE": bool,
    "SSO_TIMEOUT": int,
    "SSO_CACHE_SECONDS": int,
    "SSO_ALLOW_INSECURE": bool,
    "SQLITE_BUSY_TIMEOUT_MS": int,
    "POSTGRES_LOCK_TIMEOUT_MS": int,
    "POSTGRES_IDLE_IN_TRANSACTION_TIMEOUT_MS": int,
    "POSTGRES_PING_AFTER_IDLE_SECONDS": int,
    "SESSION_COOKIE_SECURE": bool,
    "REMEMBER_COOKIE_SECURE": bool,
    "MAX_CONTENT_LENGTH": int,
    "PROXY_FIX_X_FOR": int,
    "HR_DASHBOARD_CACHE_SECONDS": int,
    "CATALOGUE_CACHE_SECONDS": int,
    "REOPEN_DAYS": int,
    "REQUIRE_TWO_FACTOR": bool,
}

# SKILLSUP_<name> environment variables that map to a differently named Flask setting.
_RENAMED_SETTINGS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "RATELIMIT_STORAGE_URL": "RATELIMIT_STORAGE_URI",
    "ENV": "SKILLSUP_ENV",
}

#: Settings the portal once read and no longer does, with what became of them: a deployment
#: that still sets one starts as usual and is told once, in the log.
RETIRED_SETTINGS = {
    "PAGE_CACHE_SECONDS": "signed-in pages are worked out afresh on every visit",
}


def _convert(name: str, raw: str) -> Any:
    kind = _TYPED_SETTINGS.get(name)
    if kind is bool:
        return raw.strip().lower() in _BOOLEAN_TRUE
    if kind is int:
        try:
            return int(raw)
        except ValueError as exc:
            raise ConfigurationError(
                f"SKILLSUP_{name} must be a whole number, not {raw!r}"
            ) from exc
    return raw


def settings_from_environment(environ: dict[str, str] | None = None) -> dict[str, Any]:
    """Read every ``SKILLSUP_*`` variable into the Flask setting it stands for."""
    environ = dict(os.environ if environ is None else environ)
    settings: dict[str, Any] = {}
    for key, raw in environ.items():
        if not key.startswith("SKILLSUP_") or key.startswith("SKILLSUP_TEST_"):
            continue
        name = key.removeprefix("SKILLSUP_")
        if name in {"REQUIRE_POSTGRES", "REQUIRE_BROWSER", "BENCH_DATABASE_URL"}:
            continue
        target = _RENAMED_SETTINGS.get(name, name)
        settings[target] = _convert(target, raw)
    return settings


def load_configuration(app: Flask, overrides: dict[str, Any] | None) -> None:
    """Apply defaults, the instance file, the environment and finally explicit overrides."""
    app.config.from_object(DefaultConfig)
    app.config.from_pyfile("config.py", silent=True)
    from_environment = settings_from_environment()
    app.config.update(from_environment)
    if overrides:
        app.config.update(overrides)
    explicit = set(from_environment) | set(overrides or {})
    _report_retired_settings(app)

    environment = app.config["SKILLSUP_ENV"]
    if environment not in ENVIRONMENTS:
        raise ConfigurationError(
            f"SKILLSUP_ENV must be one of {', '.join(ENVIRONMENTS)}, not {environment!r}"
        )
    app.config["TESTING"] = app.config.get("TESTING", False) or environment == "testing"
    relaxed = environment in {"development", "testing"}

    if not app.config.get("SECRET_KEY"):
        if not relaxed:
            raise ConfigurationError(
                "SKILLSUP_SECRET_KEY is not set. Set it to a long random value, for example "
                "the output of: python -c 'import secrets; print(secrets.token_hex(32))'"
            )
        app.config["SECRET_KEY"] = DEVELOPMENT_SECRET_KEY
    elif app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY and not relaxed:
        raise ConfigurationError(
            "SKILLSUP_SECRET_KEY is set to the development key. Set it to a long random value."
        )
    elif len(app.config["SECRET_KEY"]) < 16 and not relaxed:
        raise ConfigurationError("SKILLSUP_SECRET_KEY is too short: use at least 32 characters.")

    if app.config.get("WEBHOOKS_ALLOW_INSECURE") and not relaxed:
        raise ConfigurationError(
            "SKILLSUP_WEBHOOKS_ALLOW_INSECURE lets webhooks reach local and private networks: "
            "it is for tests and development only. Unset it in production."
        )
    if app.config.get("SSO_ALLOW_INSECURE") and not relaxed:
        raise ConfigurationError(
            "SKILLSUP_SSO_ALLOW_INSECURE lets identity providers answer over plain http: "
            "it is for tests and development only. Unset it in production."
        )

    if relaxed:
        # A browser drops Secure cookies on plain http://127.0.0.1.
        for name in ("SESSION_COOKIE_SECURE", "REMEMBER_COOKIE_SECURE"):
            if name not in explicit:
                app.config[name] = False

    if relaxed and "MAIL_DELIVER_IN_REQUEST" not in explicit:
        app.config["MAIL_DELIVER_IN_REQUEST"] = True

    if relaxed and "REQUIRE_TWO_FACTOR" not in explicit:
        app.config["REQUIRE_TWO_FACTOR"] = False

    if environment == "testing":
        # Cheap hashing keeps the suite fast; never used outside tests.
        for name, value in (
            ("ARGON2_TIME_COST", 1),
            ("ARGON2_MEMORY_COST", 8),
            ("ARGON2_PARALLELISM", 1),
            # Tests see every change at once; the cache's own tests turn it on.
            ("HR_DASHBOARD_CACHE_SECONDS", 0),
            ("CATALOGUE_CACHE_SECONDS", 0),
            # The tests' webhook receiver listens on http://127.0.0.1.
            ("WEBHOOKS_ALLOW_INSECURE", True),
            # The tests' identity provider listens on http://127.0.0.1.
            ("SSO_ALLOW_INSECURE", True),
        ):
            if name not in explicit:
                app.config[name] = value

    if not app.config.get("SQLALCHEMY_DATABASE_URI"):
        os.makedirs(app.instance_path, exist_ok=True)
        path = os.path.join(app.instance_path, "skillsup.sqlite3")
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{path}"
    app.config["SQLALCHEMY_DATABASE_URI"] = normalise_database_url(
        app.config["SQLALCHEMY_DATABASE_URI"]
    )


def _report_retired_settings(app: Flask) -> None:
    for name, fate in RETIRED_SETTINGS.items():
        if name in app.config:
            log.warning("SKILLSUP_%s is no longer used and can be removed: %s.", name, fate)
            del app.config[name]


def normalise_database_url(url: str) -> str:
    """Accept ``postgres://`` and ``postgresql://`` and use the psycopg 3 driver for them."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url
