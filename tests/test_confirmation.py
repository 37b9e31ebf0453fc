"""The shared confirmation step (skillsup/confirmation.py, templates/confirm.html)."""

from __future__ import annotations

import html
from typing import Any

from flask import Flask
from flask_babel import force_locale
from wtforms import TextAreaField
from wtforms.validators import InputRequired

from skillsup.confirmation import Confirmation, render_confirmation
from skillsup.forms import ActionForm, PortalForm


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
