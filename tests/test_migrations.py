"""The migrations build the schema the models describe, and undo it, on both backends."""

from __future__ import annotations

import os

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import delete, insert, inspect

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import OutboxMessage, OutboxStatus

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
        # Comparing leaves out CHECK constraints: the statuses the models know are allowed.
        with db.engine.begin() as connection:
            for status in OutboxStatus:
                connection.execute(
                    insert(OutboxMessage).values(
                        recipient="a@skillsup.test", subject="s", attachments=[], status=status
                    )
                )
            connection.execute(delete(OutboxMessage))

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


def test_upgrading_gives_existing_enrolments_their_learners_company(empty_database_url):
    from sqlalchemy import text

    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="8d2e4b6a1c90")
        with db.engine.begin() as connection:
            for statement in (
                "INSERT INTO partner_companies (id, name, code, requires_approval, is_active,"
                " created_at) VALUES (7, 'Old Co', 'OLD', :no, :yes, :now)",
                "INSERT INTO users (id, email, name, role, company_id, is_active,"
                " session_version, created_at, wants_reminders, wants_attendance_warnings)"
                " VALUES (70, 'old@old.test', 'Old Learner', 'learner', 7, :yes, 1, :now,"
                " :yes, :yes)",
                "INSERT INTO courses (id, code, title_en, summary_en, description_en,"
                " outcomes_en, audience_en, skills, skill_area, qf_level, qf_credits,"
                " contact_hours, delivery_mode, teaching_language, fee, cef_reimbursable,"
                " status, created_at, updated_at) VALUES (5, 'SU-OLD-101', 'Old', '', '', '',"
                " '', '', 'cloud', 3, 3, 10, 'on_campus', 'english', 0, :no, 'published',"
                " :now, :now)",
                "INSERT INTO classes (id, course_id, code, capacity, seats_taken, starts_on,"
                " ends_on, enrolment_opens_at, enrolment_closes_at, withdrawal_deadline_at,"
                " min_attendance_pct, assessment_required, status, created_at, updated_at)"
                " VALUES (3, 5, 'OLD-1', 10, 1, '2026-01-05', '2026-02-05', :now, :later, :now,"
                " 80, :no, 'running', :now, :now)",
                "INSERT INTO enrolments (class_id, learner_id, status, source, requested_at,"
                " updated_at) VALUES (3, 70, 'confirmed', 'self', :now, :now)",
            ):
                connection.execute(
                    text(statement),
                    {
                        "yes": True,
                        "no": False,
                        "now": "2026-01-01 00:00:00",
                        "later": "2026-01-02 00:00:00",
                    },
                )
        upgrade()
        with db.engine.connect() as connection:
            company_id = connection.execute(text("SELECT company_id FROM enrolments")).scalar()
        assert company_id == 7
        downgrade(revision="base")
        db.engine.dispose()


def test_upgrading_gives_entries_about_a_person_the_company_they_were_at(empty_database_url):
    """Amy (70) moved from PRE (7, renamed OLD since) to NEW (8): entries before the move are
    7's, those after 8's, the move itself neither's; a nomination its HR officer's."""
    from sqlalchemy import text

    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    with app.app_context():
        upgrade(revision="b7d4e2a9c318")
        rows = (
            (2, "account.deactivated", "users", '{"reason": "at old"}'),
            (3, "staff.nominated", "classes", "{}"),
            (4, "account.changed", "users", '{"company": {"before": "PRE", "after": "NEW"}}'),
            (5, "account.deactivated", "users", '{"reason": "at new"}'),
            (6, "company.updated", "partner_companies", '{"code": "PRE → OLD"}'),
        )
        with db.engine.begin() as connection:
            for company_id, code in ((7, "OLD"), (8, "NEW")):
                connection.execute(
                    text(
                        "INSERT INTO partner_companies (id, name, code, requires_approval,"
                        " is_active, created_at) VALUES (:id, :code, :code, :no, :yes, :now)"
                    ),
                    {"id": company_id, "code": code, "yes": True, "no": False, "now": "2026-01-01"},
                )
            for user_id, role in ((70, "learner"), (80, "hr")):
                connection.execute(
                    text(
                        "INSERT INTO users (id, email, name, role, company_id, is_active,"
                        " session_version, created_at, wants_reminders,"
                        " wants_attendance_warnings) VALUES (:id, :email, 'P', :role, 8, :yes,"
                        " 1, :now, :yes, :yes)"
                    ),
                    {
                        "id": user_id,
                        "email": f"{user_id}@new.test",
                        "role": role,
                        "yes": True,
                        "now": "2026-01-01",
                    },
                )
            for entry_id, action, object_type, details in rows:
                object_id = {"users": 70, "classes": None}.get(object_type, 7)
                connection.execute(
                    text(
                        "INSERT INTO audit_log (id, occurred_at, actor_id, action, object_type,"
                        " object_id, summary, details) VALUES (:id, :now, :actor, :action,"
                        " :type, :object, '', :details)"
                    ),
                    {
                        "id": entry_id,
                        "now": "2026-01-01",
                        "actor": 80 if object_type == "classes" else None,
                        "action": action,
                        "type": object_type,
                        "object": object_id,
                        "details": details,
                    },
                )
        upgrade()
        with db.engine.connect() as connection:
            companies = dict(connection.execute(text("SELECT id, company_id FROM audit_log")).all())
        assert companies == {2: 7, 3: 8, 4: None, 5: 8, 6: None}
        downgrade(revision="base")
        db.engine.dispose()


def test_upgrading_offers_cef_courses_under_the_fund_with_the_published_figures(
    empty_database_url,
):
    """Courses marked CEF-reimbursable are offered under the Continuing Education Fund; the
    schemes come with the figures the services know as published; downgrading gives the flag
    back from the link."""
    from sqlalchemy import text

    from skillsup.models import FundingScheme
    from skillsup.services.funding_figures import PUBLISHED_SCHEMES, SchemeFigures
    from skillsup.services.funding_schemes import scheme_list

    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": empty_database_url})
    course = (
        "INSERT INTO courses (id, code, title_en, summary_en, description_en,"
        " outcomes_en, audience_en, skills, skill_area, qf_level, qf_credits,"
        " contact_hours, delivery_mode, teaching_language, fee, cef_reimbursable,"
        " status, created_at, updated_at) VALUES (:id, :code, 'Old', '', '', '',"
        " '', '', 'cloud', 3, 3, 10, 'on_campus', 'english', 0, :cef, 'published',"
        " :now, :now)"
    )
    with app.app_context():
        upgrade(revision="d6f1a3b8c274")
        with db.engine.begin() as connection:
            for course_id, code, cef in ((5, "SU-CEF-101", True), (6, "SU-NOT-101", False)):
                connection.execute(
                    text(course),
                    {"id": course_id, "code": code, "cef": cef, "now": "2026-01-01 00:00:00"},
                )
        upgrade()
        with db.engine.connect() as connection:
            links = connection.execute(
                text(
                    "SELECT course_id, code FROM course_funding_schemes"
                    " JOIN funding_schemes ON funding_schemes.id = scheme_id"
                )
            ).all()
        assert [tuple(link) for link in links] == [(5, "CEF")]
        schemes = {scheme.code: scheme for scheme in scheme_list()}
        assert set(schemes) == {published.code for published in PUBLISHED_SCHEMES}
        for published in PUBLISHED_SCHEMES:
            scheme: FundingScheme = schemes[published.code]
            [version] = scheme.versions
            assert (scheme.name_en, scheme.name_zh, scheme.paid_to) == (
                published.name_en,
                published.name_zh,
                published.paid_to,
            )
            assert version.effective_from == published.effective_from
            assert SchemeFigures.of(version) == published.figures
        db.session.remove()

        downgrade(revision="d6f1a3b8c274")
        with db.engine.connect() as connection:
            flags = {
                code: flag
                for code, flag in connection.execute(
                    text("SELECT code, cef_reimbursable FROM courses")
                )
            }
        assert {code: bool(flag) for code, flag in flags.items()} == {
            "SU-CEF-101": True,
            "SU-NOT-101": False,
        }
        downgrade(revision="base")
        db.engine.dispose()
