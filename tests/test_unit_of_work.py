"""The unit of work at the edge: one commit per request or command, or nothing at all."""

from __future__ import annotations

import click
import pytest
from flask import get_flashed_messages
from flask_wtf import FlaskForm
from sqlalchemy import func, select
from werkzeug.exceptions import NotFound as HttpNotFound
from wtforms import StringField

from skillsup import cli, web
from skillsup.extensions import db
from skillsup.models import AuditEntry
from skillsup.services import audit, mail
from skillsup.services.errors import DomainError, NotFound, ValidationFailed


class NameForm(FlaskForm):
    name = StringField()


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _change(admin, note: str = "a change") -> None:
    """What a service does: write, flush, queue an e-mail, never commit."""
    audit.record(admin, "test.change", None, note)
    mail.queue(db.session, mail.Message(to="someone@example.test", subject=note, text=note))
    db.session.flush()


def test_a_change_is_committed_once_its_mail_leaves_after_and_its_messages_show(app, admin, outbox):
    with app.test_request_context():
        with web.unit_of_work() as work:
            _change(admin)
            work.flash("Saved.")
            assert outbox == []  # nothing leaves before the commit
        assert work.succeeded and work.status_code == 200
        assert get_flashed_messages(with_categories=True) == [("success", "Saved.")]
    db.session.rollback()
    assert _entries() == 1
    assert [message.subject for message in outbox] == ["a change"]


def test_a_refusal_rolls_everything_back_and_is_shown_instead(app, admin, outbox):
    with app.test_request_context():
        with web.unit_of_work() as work:
            _change(admin)
            work.flash("Saved.")
            raise DomainError("Not today.")
        assert not work.succeeded and work.status_code == 400
        assert str(work.refusal) == "Not today."
        assert get_flashed_messages(with_categories=True) == [("error", "Not today.")]
    assert _entries() == 0
    assert outbox == []


def test_a_refusal_that_names_a_field_shows_on_that_field(app, admin):
    with app.test_request_context(method="POST", data={"name": "x"}):
        form = NameForm(meta={"csrf": False})
        with web.unit_of_work(form) as work:
            raise ValidationFailed("That name is taken.", field="name")
        assert form.name.errors == ["That name is taken."]
        assert get_flashed_messages() == []
        assert work.refusal is not None


def test_a_refusal_shown_by_the_view_itself_is_not_flashed(app, admin):
    with app.test_request_context():
        with web.unit_of_work(quietly=(ValidationFailed,)) as work:
            _change(admin)
            raise ValidationFailed("Shown on the page.")
        assert isinstance(work.refusal, ValidationFailed)
        assert get_flashed_messages() == []
    assert _entries() == 0


def test_what_the_actor_may_not_see_is_a_404(app, admin):
    with app.test_request_context(), pytest.raises(HttpNotFound), web.unit_of_work():
        _change(admin)
        raise NotFound()
    assert _entries() == 0


def test_any_other_error_rolls_back_and_propagates(app, admin):
    with app.test_request_context(), pytest.raises(ZeroDivisionError), web.unit_of_work():
        _change(admin)
        1 / 0  # noqa: B018
    assert _entries() == 0


def test_a_dry_run_saves_nothing_even_when_it_succeeds(app, admin, outbox):
    with app.test_request_context():
        with web.unit_of_work(dry_run=True) as work:
            _change(admin)
        assert work.succeeded
    assert _entries() == 0
    assert outbox == []


def test_a_commands_change_is_committed_once(app, admin):
    with cli.unit_of_work():
        _change(admin)
    db.session.rollback()
    assert _entries() == 1


def test_a_commands_refusal_rolls_back_and_becomes_its_error(app, admin):
    with pytest.raises(click.ClickException, match="Not today"), cli.unit_of_work():
        _change(admin)
        raise DomainError("Not today.")
    assert _entries() == 0
