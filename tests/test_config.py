"""Configuration: defaults, instance file, environment variables, and a refused secret key."""

from __future__ import annotations

import pytest

from skillsup import create_app
from skillsup.config import DEVELOPMENT_SECRET_KEY, ConfigurationError, normalise_database_url


@pytest.fixture(autouse=True)
def _clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("SKILLSUP_ENV", "SKILLSUP_SECRET_KEY", "SKILLSUP_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)


def _sqlite(tmp_path) -> str:
    return f"sqlite:///{tmp_path}/config.sqlite3"


def test_production_refuses_to_start_without_a_secret_key(tmp_path):
    with pytest.raises(ConfigurationError, match="SKILLSUP_SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})


def test_production_refuses_the_development_key(tmp_path):
    with pytest.raises(ConfigurationError, match="development key"):
        create_app(
            {"SECRET_KEY": DEVELOPMENT_SECRET_KEY, "SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)}
        )


def test_production_refuses_a_short_key(tmp_path):
    with pytest.raises(ConfigurationError, match="too short"):
        create_app({"SECRET_KEY": "short", "SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})


def test_production_with_a_real_key_starts_with_secure_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_SECRET_KEY", "x" * 40)
    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})
    assert app.config["SKILLSUP_ENV"] == "production"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Lax"
    assert app.debug is False


def test_development_uses_a_development_key_and_plain_http_cookies(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})
    assert app.config["SECRET_KEY"] == DEVELOPMENT_SECRET_KEY
    assert app.config["SESSION_COOKIE_SECURE"] is False


def test_unknown_environment_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_ENV", "staging")
    with pytest.raises(ConfigurationError, match="SKILLSUP_ENV must be one of"):
        create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})


def test_environment_variables_override_the_instance_file(tmp_path, monkeypatch):
    instance = tmp_path / "instance"
    instance.mkdir()
    (instance / "config.py").write_text(
        "MAIL_SERVER = 'smtp.instance.test'\nMAIL_PORT = 2525\nSECRET_KEY = 'i' * 40\n"
    )
    monkeypatch.setenv("SKILLSUP_MAIL_PORT", "587")
    monkeypatch.setenv("SKILLSUP_MAIL_USE_TLS", "true")
    monkeypatch.setenv("SKILLSUP_RATELIMIT_STORAGE_URL", "memory://")
    monkeypatch.setenv("SKILLSUP_DATABASE_URL", _sqlite(tmp_path))

    import skillsup

    original = skillsup.Flask.__init__

    def with_instance(self, *args, **kwargs):
        kwargs["instance_path"] = str(instance)
        original(self, *args, **kwargs)

    monkeypatch.setattr(skillsup.Flask, "__init__", with_instance)
    app = create_app()
    assert app.config["MAIL_SERVER"] == "smtp.instance.test"  # from the instance file
    assert app.config["MAIL_PORT"] == 587  # the environment wins, as a number
    assert app.config["MAIL_USE_TLS"] is True
    assert app.config["SECRET_KEY"] == "i" * 40
    assert app.config["SQLALCHEMY_DATABASE_URI"] == _sqlite(tmp_path)


def test_a_malformed_number_in_the_environment_is_explained(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    monkeypatch.setenv("SKILLSUP_MAIL_PORT", "twenty-five")
    with pytest.raises(ConfigurationError, match="SKILLSUP_MAIL_PORT must be a whole number"):
        create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})


def test_default_database_is_sqlite_in_the_instance_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    import skillsup

    original = skillsup.Flask.__init__

    def with_instance(self, *args, **kwargs):
        kwargs["instance_path"] = str(tmp_path / "inst")
        original(self, *args, **kwargs)

    monkeypatch.setattr(skillsup.Flask, "__init__", with_instance)
    app = create_app()
    assert app.config["SQLALCHEMY_DATABASE_URI"] == (f"sqlite:///{tmp_path}/inst/skillsup.sqlite3")


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("postgres://u:p@db/skillsup", "postgresql+psycopg://u:p@db/skillsup"),
        ("postgresql://u@db/skillsup", "postgresql+psycopg://u@db/skillsup"),
        ("postgresql+psycopg://u@db/x", "postgresql+psycopg://u@db/x"),
        ("sqlite:///x.db", "sqlite:///x.db"),
    ],
)
def test_database_urls_use_psycopg_3(given, expected):
    assert normalise_database_url(given) == expected


def test_cache_times_come_from_the_environment_as_numbers(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    monkeypatch.setenv("SKILLSUP_CATALOGUE_CACHE_SECONDS", "15")
    monkeypatch.setenv("SKILLSUP_HR_DASHBOARD_CACHE_SECONDS", "0")
    app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})
    assert app.config["CATALOGUE_CACHE_SECONDS"] == 15
    assert app.config["HR_DASHBOARD_CACHE_SECONDS"] == 0


def test_the_catalogue_is_kept_for_a_minute_outside_tests(tmp_path, monkeypatch):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    assert (
        create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)}).config["CATALOGUE_CACHE_SECONDS"]
        == 60
    )


def test_a_retired_setting_is_reported_once_in_the_log_and_not_refused(
    tmp_path, monkeypatch, caplog
):
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    monkeypatch.setenv("SKILLSUP_PAGE_CACHE_SECONDS", "60")
    with caplog.at_level("WARNING", logger="skillsup.config"):
        app = create_app({"SQLALCHEMY_DATABASE_URI": _sqlite(tmp_path)})
    reports = [r.getMessage() for r in caplog.records if "PAGE_CACHE_SECONDS" in r.getMessage()]
    assert reports == [
        "SKILLSUP_PAGE_CACHE_SECONDS is no longer used and can be removed: signed-in pages "
        "are worked out afresh on every visit."
    ]
    assert "PAGE_CACHE_SECONDS" not in app.config
