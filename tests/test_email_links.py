"""Links in e-mail: built by the web layer, to the address users reach the portal at."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from pathlib import Path
from typing import Any

import pytest
import time_machine
from sqlalchemy import select

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import OutboxMessage
from skillsup.services import accounts, class_sessions, enrolment_requests, notify
from skillsup.services.class_sessions import SessionData

from .factories import Factory, hk_datetime

SERVICES = Path(__file__).resolve().parent.parent / "skillsup" / "services"


def _links(text: str) -> list[str]:
    return re.findall(r"https?://[^\s\"<>]+", text)


def test_services_build_no_urls():
    """Services take the links their e-mail needs from the web layer (skillsup.links)."""
    building = [
        path.name
        for path in sorted(SERVICES.glob("*.py"))
        if re.search(r"\burl_for\b|\bhas_request_context\b", path.read_text())
    ]
    assert building == []


def _session_reminder(app: Any, make: Any, company: Any) -> OutboxMessage:
    """The reminder ``flask send-reminders`` writes the day before a learner's session."""
    course_class = make.course_class(
        sessions=1, first_session=datetime(2031, 3, 4, 11, 0, tzinfo=UTC)
    )
    learner = make.user(company=company)
    make.enrolment(course_class, learner)
    db.session.commit()
    with time_machine.travel(datetime(2031, 3, 3, 2, 0, tzinfo=UTC)):
        result = app.test_cli_runner().invoke(args=["send-reminders"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    [reminder] = db.session.scalars(select(OutboxMessage)).all()
    assert reminder.recipient == learner.email
    return reminder


class TestWrittenAtDeliveryBySendMail:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        # As in production: the change only queues; `flask send-mail` writes and delivers.
        return {
            "SERVER_NAME": "portal.example.edu",
            "PREFERRED_URL_SCHEME": "https",
            "MAIL_DELIVER_IN_REQUEST": False,
        }

    def test_links_lead_to_the_configured_address(self, app, make, outbox):
        company = make.company(requires_approval=True)
        officer = make.user(role="hr", company=company)
        learner = make.user(company=company)
        course_class = make.course_class(
            capacity=5,
            sessions=1,
            first_session=hk_datetime(2031, 3, 4, 19),
            starts_on=date(2031, 3, 1),
            ends_on=date(2031, 3, 31),
        )
        enrolment_requests.request_enrolment(learner, learner, course_class)
        going = make.user(company=company)
        make.enrolment(course_class, going)
        class_sessions.update_session(
            make.user(role="admin"),
            course_class.sessions[0],
            SessionData(date(2031, 3, 5), time(18, 30), time(21, 30)),
        )
        db.session.commit()
        assert outbox == []
        rows = db.session.scalars(select(OutboxMessage)).all()
        assert len(rows) == 3 and all(row.text is None for row in rows)
        db.session.commit()

        result = app.test_cli_runner().invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        assert "3 sent" in result.output
        texts = {message.to: message.text for message in outbox}
        assert _links(texts[learner.email]) == ["https://portal.example.edu/my-learning"]
        assert _links(texts[officer.email]) == ["https://portal.example.edu/hr/approvals"]
        assert _links(texts[going.email]) == ["https://portal.example.edu/my-learning"]

    def test_reminders_carry_links_to_the_configured_address(self, app, make, company):
        reminder = _session_reminder(app, make, company)
        assert _links(reminder.text) == ["https://portal.example.edu/my-learning"]


class TestWithoutAServerName:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"SERVER_NAME": None, "MAIL_DELIVER_IN_REQUEST": False}

    def test_development_and_tests_link_to_where_make_run_serves(self, app, make, outbox):
        learner = make.user()
        course_class = make.course_class(capacity=5, sessions=1)
        enrolment_requests.request_enrolment(learner, learner, course_class)
        db.session.commit()
        result = app.test_cli_runner().invoke(args=["send-mail"])
        assert result.exit_code == 0, result.output
        [message] = outbox
        assert _links(message.text) == ["http://127.0.0.1:5000/my-learning"]

    def test_send_reminders_links_to_where_make_run_serves(self, app, make, company):
        reminder = _session_reminder(app, make, company)
        assert _links(reminder.text) == ["http://127.0.0.1:5000/my-learning"]

    def test_mail_written_in_a_request_links_to_its_host(self, app, make, login_as, outbox):
        learner = make.user()
        course_class = make.course_class(capacity=5, sessions=1)
        db.session.commit()
        app.config["MAIL_DELIVER_IN_REQUEST"] = True
        response = login_as(learner).post(f"/classes/{course_class.code}/enrol")
        assert response.status_code == 302
        [message] = [m for m in outbox if m.to == learner.email]
        # The test client's requests come to http://localhost.
        assert _links(message.text) == ["http://localhost/my-learning"]


def _waiting_mail(app: Any) -> None:
    """A reset link waiting in the outbox, to be written by `flask send-mail`, and a session
    tomorrow for `flask send-reminders` to remind its learner of."""
    with app.app_context():
        db.create_all()
        make = Factory()
        company = make.company()
        learner = make.user(company=company, password=None)
        course_class = make.course_class(
            sessions=1, first_session=datetime(2031, 3, 4, 11, 0, tzinfo=UTC)
        )
        make.enrolment(course_class, learner)
        accounts.request_password_reset(learner.email)
        db.session.commit()


def _outbox(app: Any) -> list[tuple[str | None, str | None]]:
    with app.app_context():
        return [
            (row.renderer, row.text)
            for row in db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id))
        ]


@pytest.mark.parametrize("command", ["send-mail", "send-reminders"])
def test_development_writes_mail_without_a_server_name(command, tmp_path, monkeypatch):
    monkeypatch.delenv("SKILLSUP_SERVER_NAME", raising=False)
    monkeypatch.setenv("SKILLSUP_ENV", "development")
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/development.sqlite3",
            "MAIL_DELIVER_IN_REQUEST": False,
        }
    )
    assert app.config["SKILLSUP_ENV"] == "development" and not app.config["SERVER_NAME"]
    _waiting_mail(app)
    with app.app_context(), time_machine.travel(datetime(2031, 3, 3, 2, 0, tzinfo=UTC)):
        result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 0, result.output
    written = {renderer: text for renderer, text in _outbox(app)}
    if command == "send-mail":
        assert "1 sent" in result.output
        [link] = _links(written[notify.PASSWORD_RESET] or "")
        assert link.startswith("http://127.0.0.1:5000/reset-password/")
    else:
        assert "1 session sent" in result.output
        assert _links(written[None] or "") == ["http://127.0.0.1:5000/my-learning"]


@pytest.mark.parametrize("command", ["send-mail", "send-reminders"])
def test_production_refuses_to_write_mail_without_a_server_name(command, tmp_path, monkeypatch):
    monkeypatch.delenv("SKILLSUP_SERVER_NAME", raising=False)
    monkeypatch.delenv("SKILLSUP_ENV", raising=False)
    app = create_app(
        {
            "SECRET_KEY": "x" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/production.sqlite3",
        }
    )
    assert app.config["SKILLSUP_ENV"] == "production"
    _waiting_mail(app)
    with app.app_context(), time_machine.travel(datetime(2031, 3, 3, 2, 0, tzinfo=UTC)):
        result = app.test_cli_runner().invoke(args=[command])
    assert result.exit_code == 1
    assert "Error: SKILLSUP_SERVER_NAME is not set" in result.output
    assert "Traceback" not in result.output
    # Refused before writing anything: the reset link still waits, unwritten, alone.
    assert _outbox(app) == [(notify.PASSWORD_RESET, None)]
