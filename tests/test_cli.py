"""flask commands."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import Enrolment, EnrolmentSource, EnrolmentStatus, Role, User
from skillsup.services import audit


def test_enrol_command_goes_through_the_enrolment_rules(app, make, admin, learner):
    course_class = make.course_class(capacity=1, sessions=1)
    runner = app.test_cli_runner()
    result = runner.invoke(args=["enrol", learner.email, course_class.code, "--by", admin.email])
    assert result.exit_code == 0, result.output
    assert f"Confirmed in {course_class.code}." in result.output
    db.session.expire_all()
    enrolment = db.session.scalar(select(Enrolment))
    assert enrolment.source == EnrolmentSource.ADMIN
    assert enrolment.status == EnrolmentStatus.CONFIRMED

    again = runner.invoke(args=["enrol", learner.email, course_class.code, "--by", admin.email])
    assert again.exit_code == 1
    assert f"{learner.name} already has a place or a request in this class." in again.output


def test_enrol_command_takes_the_reason_a_late_enrolment_needs(app, make, admin, learner):
    from datetime import timedelta

    from skillsup.models import utcnow

    start = utcnow() - timedelta(days=2)
    course_class = make.course_class(
        sessions=1,
        first_session=start,
        enrolment_opens_at=start - timedelta(days=20),
        enrolment_closes_at=utcnow() + timedelta(days=5),
        withdrawal_deadline_at=start - timedelta(days=5),
    )
    runner = app.test_cli_runner()
    args = ["enrol", learner.email, course_class.code, "--by", admin.email]
    refused = runner.invoke(args=args)
    assert refused.exit_code == 1
    assert "Give a reason to enrol a learner after it" in refused.output
    result = runner.invoke(args=[*args, "--reason", "Joined the last session"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    assert db.session.scalar(select(Enrolment)).status_reasons[-1] == {
        "code": "free_text",
        "args": {"text": "Joined the last session"},
    }


def test_enrol_command_reports_unknown_names(app, admin):
    result = app.test_cli_runner().invoke(
        args=["enrol", "nobody@nowhere.test", "NO-CLASS", "--by", admin.email]
    )
    assert result.exit_code == 1
    assert "Not found: learner, class." in result.output


def test_enrol_command_refuses_a_non_admin(app, make, learner, hr_officer):
    course_class = make.course_class(sessions=1)
    result = app.test_cli_runner().invoke(
        args=["enrol", learner.email, course_class.code, "--by", hr_officer.email]
    )
    assert result.exit_code == 1
    assert db.session.scalar(select(Enrolment)) is None


def _typed_passwords(monkeypatch: pytest.MonkeyPatch, *typed: str) -> None:
    answers = iter(typed)
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))


def test_create_admin_command_makes_a_confirmed_admin_under_the_rules(app, monkeypatch):
    _typed_passwords(monkeypatch, "harbour-lights-2031", "harbour-lights-2031")
    result = app.test_cli_runner().invoke(
        args=["create-admin", "--email", " Ada.Admin@SkillsUp.test ", "--name", " Ada Admin "]
    )
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    admin = db.session.scalar(select(User).where(User.role == Role.ADMIN))
    assert (admin.email, admin.name) == ("ada.admin@skillsup.test", "Ada Admin")
    assert admin.email_confirmed_at is not None
    assert [e.action for e in audit.entries_for("users", admin.id)] == ["account.created"]


@pytest.mark.parametrize(
    ("email", "name", "password", "message"),
    [
        ("not-an-address", "Ada", "harbour-lights-2031", "Enter a valid e-mail address."),
        ("ada@skillsup.test", "  ", "harbour-lights-2031", "Enter the person's full name."),
        ("ada@skillsup.test", "Ada", "password", "password"),
    ],
)
def test_create_admin_command_refuses_bad_input_and_creates_nothing(
    app, monkeypatch, email, name, password, message
):
    _typed_passwords(monkeypatch, password, password)
    result = app.test_cli_runner().invoke(args=["create-admin", "--email", email, "--name", name])
    assert result.exit_code == 1
    assert message in result.output
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.role == Role.ADMIN)) is None


# Builds the app as gunicorn does and lists the seeding modules that got loaded on the way.
_LOADED_SEEDING_MODULES = """
import json, sys
from skillsup import create_app

app = create_app({
    "SKILLSUP_ENV": "testing",
    "SECRET_KEY": "test-secret-key-that-is-long-enough",
    "SQLALCHEMY_DATABASE_URI": "sqlite://",
})
commands = sorted(app.cli.commands)
seeding = ("skillsup.devdata", "skillsup.demo", "skillsup.benchdata")
print(json.dumps({
    "commands": [name for name in commands if name.startswith("seed-")],
    "loaded": sorted(name for name in sys.modules if name.startswith(seeding)),
}))
"""


def test_the_app_never_imports_the_seeding_code():
    root = Path(__file__).resolve().parent.parent
    environment = {**os.environ, "PYTHONPATH": str(root)}
    # A fresh interpreter: this one has imported the seeding code for other tests.
    finished = subprocess.run(  # noqa: S603
        [sys.executable, "-c", _LOADED_SEEDING_MODULES],
        cwd=root,
        env=environment,
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    found = json.loads(finished.stdout.strip().splitlines()[-1])
    assert found["commands"] == ["seed-bench", "seed-demo"]
    assert found["loaded"] == []
