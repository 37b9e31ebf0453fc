"""Hostile input that once answered 500, each with the answer it gets now, on SQLite and
PostgreSQL; the base form's limits, in both languages; and the error pages after a database
error.

The addresses are those a fuzzing run against production found: NUL bytes that reached
PostgreSQL, numbers beyond a column's range, and an impossible month.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, url_for
from sqlalchemy import select
from sqlalchemy.exc import DataError, IntegrityError

from skillsup.extensions import db
from skillsup.models import User
from skillsup.services import accounts
from skillsup.web import unit_of_work

from .conftest import Scene, build_scene, client_for

CONTROL_REASON = "a character that is not allowed"
CONTROL_REASON_ZH = "不允許的字元"


@pytest.fixture
def app_config() -> dict[str, Any]:
    # As in production: an error answers the portal's 500 page instead of reaching the test.
    return {"PROPAGATE_EXCEPTIONS": False}


@pytest.fixture
def scene(app: Flask) -> Iterator[Scene]:
    yield build_scene()


def _url(endpoint: str, **values: Any) -> str:
    return url_for(endpoint, **values)


# (persona, method, address, form, status, text on the page)
def regressions(scene: Scene) -> list[tuple[str, str, str, dict[str, str] | None, int, str]]:
    staff = _url("hr.employee_detail", user_id=scene.users["learner_a"])
    return [
        ("anonymous", "GET", "/courses?q=%00", None, 400, CONTROL_REASON),
        ("anonymous", "GET", "/courses?q=a%1Bb", None, 400, CONTROL_REASON),
        ("hr_a", "GET", "/hr/staff?q=%00", None, 400, CONTROL_REASON),
        ("hr_a", "GET", "/hr/classes?q=%00", None, 400, CONTROL_REASON),
        ("admin", "GET", "/admin/users?q=%00", None, 400, CONTROL_REASON),
        ("admin", "GET", "/admin/courses?q=%00", None, 400, CONTROL_REASON),
        ("admin", "GET", "/admin/classes?q=%00", None, 400, CONTROL_REASON),
        ("admin", "GET", "/admin/companies?q=%00", None, 400, CONTROL_REASON),
        ("learner_a", "POST", "/account/profile", {"name": "x\x00y"}, 400, CONTROL_REASON),
        (
            "hr_a",
            "POST",
            _url("hr.withdraw", enrolment_id=scene.confirmed_enrolment_id),
            {"reason": "x\x00y"},
            400,
            CONTROL_REASON,
        ),
        (
            "hr_a",
            "POST",
            _url("hr.reactivate_employee", user_id=scene.users["learner_a"]),
            {"reason": "x\x00y"},
            400,
            CONTROL_REASON,
        ),
        (
            "hr_a",
            "POST",
            _url("hr.nominate_employee", user_id=scene.users["learner_a"]),
            {"class_code": "\x00"},
            400,
            CONTROL_REASON,
        ),
        ("learner_a", "POST", "/classes/%00/enrol", {}, 400, CONTROL_REASON),
        ("hr_a", "GET", "/hr/staff/2147483648", None, 404, "Page not found"),
        ("hr_a", "GET", "/hr/staff/9223372036854775808", None, 404, "Page not found"),
        ("hr_a", "GET", "/hr/staff/" + "9" * 5000, None, 404, "Page not found"),
        ("learner_a", "GET", "/certificates/2147483648.pdf", None, 404, "Page not found"),
        ("admin", "GET", "/admin/classes/2147483648", None, 404, "Page not found"),
        (
            "learner_a",
            "POST",
            "/my-learning/enrolments/2147483648/withdraw",
            {},
            404,
            "Page not found",
        ),
        ("hr_a", "POST", f"{staff}/nominate", {"class_id": "9223372036854775808"}, 200, ""),
        ("anonymous", "GET", "/courses?qf_level=32768", None, 200, "Cloud Foundations"),
        ("anonymous", "GET", "/courses?start_month=9999-12", None, 200, "Cloud Foundations"),
        ("anonymous", "GET", "/courses?page=922337203685477580", None, 200, ""),
        ("admin", "GET", "/admin/users?page=922337203685477580", None, 200, ""),
        ("admin", "GET", "/admin/classes?page=922337203685477580", None, 200, ""),
        ("admin", "GET", "/admin/courses?page=9223372036854775808", None, 200, ""),
        ("hr_a", "GET", "/hr/staff?page=922337203685477580", None, 200, ""),
        ("hr_a", "GET", "/hr/progress?page=922337203685477580", None, 200, ""),
    ]


def test_the_fuzzing_runs_findings_answer_clearly(
    app: Flask, scene: Scene, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    for persona, method, address, form, status, text in regressions(scene):
        response = client_for(app, scene, persona).open(address, method=method, data=form)
        body = response.get_data(as_text=True)
        assert response.status_code in (status, 302 if status == 200 else status), (
            f"{persona} {method} {address[:80]}: {response.status}"
        )
        assert text in body, f"{address[:80]}: {text!r} not on the page"
    errors = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert not errors


def test_the_refusal_of_a_control_character_is_in_the_visitors_language(
    app: Flask, scene: Scene
) -> None:
    response = app.test_client().get("/courses?q=%00", headers={"Accept-Language": "zh-HK"})
    assert response.status_code == 400
    assert CONTROL_REASON_ZH in response.get_data(as_text=True)


def test_line_breaks_in_typed_text_are_kept_and_other_control_characters_refused(
    app: Flask, scene: Scene
) -> None:
    hr = client_for(app, scene, "hr_a")
    address = _url("hr.withdraw", enrolment_id=scene.confirmed_enrolment_id)
    assert hr.post(address, data={"reason": "a\x07b"}).status_code == 400
    # The line break gets past the check for control characters to the form, which asks for
    # one line on the withdrawal's confirmation page.
    kept = hr.post(address, data={"reason": "Left the company.\r\nBy e-mail."})
    assert "Keep this to one line." in kept.get_data(as_text=True)


def test_an_upload_may_hold_any_bytes_but_its_file_name_may_not(app: Flask, scene: Scene) -> None:
    import io

    hr = client_for(app, scene, "hr_a")
    binary = io.BytesIO(b"email,name\n\x00\x01\xff\xfe,x\n")
    response = hr.post(
        "/hr/staff/import",
        data={"file": (binary, "staff.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code < 500
    assert CONTROL_REASON not in response.get_data(as_text=True)
    named = hr.post(
        "/hr/staff/import",
        data={"file": (io.BytesIO(b"email,name\n"), "st\x00aff.csv")},
        content_type="multipart/form-data",
    )
    assert named.status_code == 400


def test_a_json_body_with_a_control_character_is_refused(app: Flask, scene: Scene) -> None:
    response = client_for(app, scene, "learner_a").post(
        "/account/profile", json={"name": "x\u0000y"}
    )
    assert response.status_code == 400
    assert CONTROL_REASON in response.get_data(as_text=True)


# The base form's limits ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "message", "message_zh"),
    [
        ("Amy\nChan", "Keep this to one line.", "只可輸入一行文字"),
        ("A" * 201, "200", "200"),
        ("", "This field is required.", "此欄必須填寫。"),
    ],
)
def test_the_profile_form_refuses_with_a_message_in_both_languages(
    app: Flask, scene: Scene, name: str, message: str, message_zh: str
) -> None:
    learner = client_for(app, scene, "learner_a")
    response = learner.post("/account/profile", data={"name": name, "preferred_language": "en"})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    db.session.execute(
        User.__table__.update()
        .where(User.id == scene.users["learner_a"])
        .values(preferred_language="zh_Hant_HK")
    )
    db.session.commit()
    response = learner.post(
        "/account/profile", data={"name": name, "preferred_language": "zh_Hant_HK"}
    )
    assert response.status_code == 400
    assert message_zh in response.get_data(as_text=True)
    assert db.session.get(User, scene.users["learner_a"]).name == "Amy Chan"


def test_the_base_form_checks_numbers_dates_and_lengths_from_the_columns(app: Flask) -> None:
    from datetime import date
    from decimal import Decimal

    from werkzeug.datastructures import MultiDict
    from wtforms import DateField, DecimalField, IntegerField, StringField, TextAreaField
    from wtforms.validators import NumberRange

    from skillsup.forms import PortalForm

    class Sample(PortalForm):
        class Meta:
            csrf = False

        qf_level = IntegerField()  # a SMALLINT column
        capacity = IntegerField()  # an INTEGER column
        fee = DecimalField()  # NUMERIC(10, 2)
        starts_on = DateField()
        code = StringField()  # VARCHAR of the narrowest column named "code"
        notes = TextAreaField()
        seats = IntegerField(validators=[NumberRange(min=0, max=100, message="0 to 100")])
        hours = DecimalField(validators=[NumberRange(min=0, max=10)])

    def errors(**values: str) -> dict[str, Any]:
        with app.test_request_context():
            form = Sample(MultiDict(values))
            form.validate()
            return {name: [str(e) for e in errs] for name, errs in form.errors.items()}

    assert "qf_level" in errors(qf_level="32768")
    assert "qf_level" not in errors(qf_level="32767")
    assert "capacity" in errors(capacity="2147483648")
    assert "capacity" in errors(capacity="1e309")
    assert "fee" in errors(fee="1e309")
    assert "fee" in errors(fee="NaN")
    assert "fee" in errors(fee="100000000")
    assert "fee" not in errors(fee=str(Decimal("99999999.99")))
    assert "starts_on" in errors(starts_on="9999-12-31")
    assert "starts_on" in errors(starts_on="2026-02-30")
    assert "starts_on" not in errors(starts_on=date(2026, 9, 1).isoformat())
    assert "code" in errors(code="X" * 300)
    assert "code" in errors(code="a\rb")
    assert "notes" not in errors(notes="line one\nline two")
    assert "notes" in errors(notes="x" * 10_001)
    # A field's own range speaks for it; a number that is no number is refused before it.
    assert errors(seats="2147483648")["seats"] == ["0 to 100"]
    assert "hours" in errors(hours="NaN")
    assert "hours" in errors(hours="-Infinity")


# The error pages after a database error ------------------------------------------------------


def test_a_database_error_in_a_post_shows_the_portals_500_page(
    app: Flask, scene: Scene, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(*_args: Any, **_kwargs: Any) -> None:
        # What PostgreSQL answers to NUL in a text, raised where the service writes.
        db.session.execute(select(User.id).limit(1))
        raise DataError("UPDATE users ...", {}, Exception("text fields cannot contain NUL"))

    monkeypatch.setattr(accounts, "update_preferences", fail)
    caplog.set_level(logging.WARNING)
    response = client_for(app, scene, "learner_a").post(
        "/account/profile", data={"name": "Amy Chan", "preferred_language": "en"}
    )
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert 'class="error-page"' in body  # the portal's page, with its layout
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    # Flask's own record of the error, and nothing from the error page.
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert "Exception on /account/profile" in errors[0].getMessage()
    assert not [r for r in caplog.records if "error page" in r.getMessage()]


def test_a_database_error_outside_the_unit_of_work_still_shows_the_portals_500_page(
    app: Flask, scene: Scene, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The session is left needing a rollback (a flush the database refused), before any
    unit of work could roll it back: the error page rolls it back itself."""
    from skillsup.auth import views as auth_views

    admin_email = scene.emails["admin"]

    class FailingForm(auth_views.ProfileForm):
        def validate_on_submit(self, *args: Any, **kwargs: Any) -> bool:
            db.session.add(User(email=admin_email, name="Twin", role="admin", password_hash="x"))
            db.session.flush()
            return True

    monkeypatch.setattr(auth_views, "ProfileForm", FailingForm)
    caplog.set_level(logging.WARNING)
    response = client_for(app, scene, "learner_a").post(
        "/account/profile", data={"name": "Amy Chan", "preferred_language": "en"}
    )
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert 'class="error-page"' in body
    assert "Amy Chan" in body  # the signed-in visitor's menu: the page read the database
    errors = [record for record in caplog.records if record.levelno >= logging.ERROR]
    assert len(errors) == 1, [record.getMessage() for record in errors]
    assert not [r for r in caplog.records if "error page" in r.getMessage()]


def test_a_refused_commit_in_the_unit_of_work_is_rolled_back(app: Flask, scene: Scene) -> None:
    twin = User(email=scene.emails["admin"], name="Twin", role="admin", password_hash="x")
    with app.test_request_context(), pytest.raises(IntegrityError), unit_of_work():
        db.session.add(twin)
    # The session is usable again at once: no PendingRollbackError.
    assert db.session.scalar(select(User.id).where(User.email == scene.emails["admin"]))


def test_every_form_of_the_portal_derives_from_the_base_form() -> None:
    from pathlib import Path

    from flask_wtf import FlaskForm

    from skillsup.forms import PortalForm

    from .conftest import sqlite_app

    sqlite_app(Path("/nonexistent/never-opened.sqlite3"))  # imports every blueprint's forms
    pending: list[type[FlaskForm]] = [FlaskForm]
    outside = []
    while pending:
        form_class = pending.pop()
        pending.extend(form_class.__subclasses__())
        if form_class.__module__.startswith("skillsup.") and not issubclass(form_class, PortalForm):
            outside.append(f"{form_class.__module__}.{form_class.__name__}")
    assert not outside, f"forms that do not derive from PortalForm: {outside}"
