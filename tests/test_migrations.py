"""The migrations build the schema the models describe, and undo it, on both backends."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from skillsup import create_app
from skillsup.extensions import db

from .conftest import BASE_TEST_CONFIG, POSTGRES_URL, REQUIRE_POSTGRES
from .pg import postgres_database_url


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/migrations.sqlite3"
    if not POSTGRES_URL:
        pytest.skip("PostgreSQL not configured: set SKILLSUP_TEST_DATABASE_URL to run on it")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    try:
        return postgres_database_url(
            POSTGRES_URL, f"skillsup_migrations_{worker}_{os.getpid()}", fresh=True
        )
    except Exception as error:  # pragma: no cover - depends on the machine
        if REQUIRE_POSTGRES:
            pytest.fail(f"PostgreSQL unreachable: {error}")
        pytest.skip(f"PostgreSQL unreachable: {error}")


def test_upgrade_to_head_matches_the_models_and_downgrades_to_base(empty_database_url):
    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        assert differences == []

        tables = set(inspect(db.engine).get_table_names())
        assert {"users", "enrolments", "classes", "audit_log", "alembic_version"} <= tables

        downgrade(revision="base")
        assert set(inspect(db.engine).get_table_names()) <= {"alembic_version"}
        db.engine.dispose()


def test_flask_db_check_finds_nothing_to_migrate(tmp_path):
    app = create_app(
        {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/check.sqlite3"}
    )
    runner = app.test_cli_runner()
    assert runner.invoke(args=["db", "upgrade"]).exit_code == 0
    result = runner.invoke(args=["db", "check"])
    assert result.exit_code == 0, result.output


def test_upgrading_keeps_existing_rows_and_fills_new_columns(empty_database_url):
    from sqlalchemy import text

    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="0206560c7804")
        with db.engine.begin() as connection:
            connection.execute(
                text(
                    "INSERT INTO users (email, name, role, is_active, session_version, created_at)"
                    " VALUES ('old@skillsup.test', 'Old Timer', 'admin', :yes, 1, :now)"
                ),
                {"yes": True, "now": "2026-01-01 00:00:00"},
            )
        upgrade()
        with db.engine.connect() as connection:
            row = connection.execute(
                text(
                    "SELECT wants_reminders, wants_attendance_warnings, calendar_token"
                    " FROM users WHERE email = 'old@skillsup.test'"
                )
            ).one()
        assert bool(row[0]) is True and bool(row[1]) is True and row[2] is None
        downgrade(revision="base")
        db.engine.dispose()
