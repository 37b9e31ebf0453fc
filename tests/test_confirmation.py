"""The shared confirmation step (skillsup/confirmation.py, templates/confirm.html)."""

from __future__ import annotations

import html
from typing import Any

import pytest
from flask import Flask, get_flashed_messages, redirect
from flask_babel import force_locale
from sqlalchemy import func, select
from werkzeug.exceptions import BadRequest
from werkzeug.wrappers import Response
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from skillsup.confirmation import Confirmation, act_on_confirmation, render_confirmation
from skillsup.extensions import db
from skillsup.forms import ActionForm, PortalForm
from skillsup.models import AuditEntry, User
from skillsup.services import audit
from skillsup.services.errors import DomainError
from skillsup.web import Work


class _ReasonForm(PortalForm):
    reason = TextAreaField("Why?", validators=[InputRequired()])


def _page(app: Flask, **kwargs: Any) -> tuple[str, int]:
    with app.test_request_context("/somewhere"):
        defaults: dict[str, Any] = {
            "title": "Do the thing",
            "action_url": "/things/1/do",
            "button": "Do it now",
            "cancel_url": "/things/1",
            "form": ActionForm(),
        }
        body, status = render_confirmation(Confirmation(**(defaults | kwargs)))
        return html.unescape(body), status


def test_the_page_lists_the_consequences_and_posts_to_the_action(app):
    body, status = _page(
        app,
        consequences=["The seat goes to the first of 2 learners waiting.", "Ann is e-mailed."],
        hidden={"next": "/back/here"},
    )
    assert status == 200
    assert "<h1>Do the thing</h1>" in body
    assert "The seat goes to the first of 2 learners waiting." in body
    assert "Ann is e-mailed." in body
    assert '<form method="post" action="/things/1/do"' in body
    assert 'name="csrf_token"' in body
    assert '<input type="hidden" name="next" value="/back/here">' in body
    assert ">Do it now</button>" in body
    assert '<a href="/things/1">Cancel</a>' in body
    assert "<textarea" not in body  # no reason asked for


def test_a_required_reason_is_a_labelled_field_of_the_form(app):
    with app.test_request_context("/somewhere"):
        form = _ReasonForm()
        body, _status = render_confirmation(
            Confirmation(
                title="Revoke",
                action_url="/x",
                button="Revoke",
                cancel_url="/",
                form=form,
                reason_field="reason",
            )
        )
    assert '<label for="reason">Why?</label>' in body
    assert '<textarea id="reason" name="reason" required' in body


def test_a_refusal_shows_instead_of_the_button(app):
    body, _status = _page(app, refusal="The deadline has passed.", consequences=["Never shown"])
    assert "The deadline has passed." in body
    assert "<button" not in body.split("<main", 1)[1]
    assert "Never shown" not in body


def test_the_page_answers_with_the_status_it_is_given(app):
    with app.test_request_context("/"):
        _html, status = render_confirmation(
            Confirmation(title="T", action_url="/", button="B", cancel_url="/", form=ActionForm()),
            status=400,
        )
    assert status == 400


def test_the_shared_words_are_translated(app):
    with app.test_request_context("/"), force_locale("zh_Hant_HK"):
        body, _status = render_confirmation(
            Confirmation(title="T", action_url="/", button="B", cancel_url="/", form=ActionForm())
        )
    assert "What will happen" not in body
    assert ">Cancel<" not in body


# What a post of a confirmation page answers ------------------------------------------------


class _Busy(DomainError):
    status_code = 409


def _entries() -> int:
    return db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0


def _act(admin: User, refusal: DomainError | None = None, calls: list[str] | None = None) -> Any:
    """An action as a view gives it: a change (an audit entry), a flash, maybe a refusal."""

    def act(work: Work) -> None:
        if calls is not None:
            calls.append("acted")
        audit.record(admin, "test.change", None, "a change")
        db.session.flush()
        work.flash("Done.")
        if refusal is not None:
            raise refusal

    return act


def _post(app: Flask, act: Any, *, reason: str | None = "Because.", **options: Any) -> Any:
    """``act_on_confirmation``'s answer to a post of the reason form, and the flashes."""
    data = {} if reason is None else {"reason": reason}
    with app.test_request_context("/things/1/do", method="POST", data=data):
        form = _ReasonForm()
        answer = act_on_confirmation(form, act, "/things/1", **options)
        return answer, form.reason.errors, get_flashed_messages(with_categories=True)


def _location(answer: Any) -> str:
    assert isinstance(answer, Response) and answer.status_code == 302
    return str(answer.location)


def test_a_get_shows_the_page_and_does_nothing(app, admin):
    calls: list[str] = []
    with app.test_request_context("/things/1/do"):
        assert act_on_confirmation(_ReasonForm(), _act(admin, calls=calls), "/things/1") == 200
    assert calls == []


def test_a_stale_form_is_refused_with_400_and_nothing_is_done(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    calls: list[str] = []
    with pytest.raises(BadRequest):
        _post(app, _act(admin, calls=calls))
    assert calls == []


def test_a_view_may_answer_a_stale_form_its_own_way(app, admin, monkeypatch):
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", True)
    calls: list[str] = []
    answer, _errors, _flashes = _post(
        app, _act(admin, calls=calls), expired=lambda: redirect("/expired")
    )
    assert _location(answer) == "/expired"
    assert calls == []


def test_invalid_input_shows_the_page_again_with_400_and_the_field_errors(app, admin):
    calls: list[str] = []
    answer, errors, flashes = _post(app, _act(admin, calls=calls), reason=None)
    assert answer == 400
    assert errors == ["This field is required."]
    assert calls == [] and flashes == []


def test_the_action_done_is_saved_flashed_and_goes_back(app, admin):
    answer, errors, flashes = _post(app, _act(admin))
    assert _location(answer) == "/things/1"
    assert errors == [] and flashes == [("success", "Done.")]
    db.session.rollback()
    assert _entries() == 1


def test_a_refusal_tied_to_a_field_shows_the_page_again_with_its_status(app, admin):
    refusal = _Busy("Say more.", field="reason")
    answer, errors, flashes = _post(app, _act(admin, refusal))
    assert answer == 409
    assert errors == ["Say more."]
    assert flashes == []  # not "Done.": nothing was done
    assert _entries() == 0


@pytest.mark.parametrize("field", [None, "not_on_the_form"])
def test_any_other_refusal_is_flashed_and_goes_back(app, admin, field):
    answer, errors, flashes = _post(app, _act(admin, _Busy("Not now.", field=field)))
    assert _location(answer) == "/things/1"
    assert errors == [] and flashes == [("error", "Not now.")]
    assert _entries() == 0


def test_a_refusal_may_go_elsewhere_than_success(app, admin):
    refused, _errors, _flashes = _post(
        app, _act(admin, _Busy("Not now.")), refused_back="/things/1/do"
    )
    assert _location(refused) == "/things/1/do"
    done, _errors, _flashes = _post(app, _act(admin), refused_back="/things/1/do")
    assert _location(done) == "/things/1"


def test_a_view_may_show_every_refusal_on_the_page_again(app, admin):
    answer, errors, flashes = _post(app, _act(admin, _Busy("Not now.")), show_every_refusal=True)
    assert answer == 409
    assert errors == [] and flashes == [("error", "Not now.")]
    assert _entries() == 0
    done, _errors, _flashes = _post(app, _act(admin), show_every_refusal=True)
    assert _location(done) == "/things/1"
