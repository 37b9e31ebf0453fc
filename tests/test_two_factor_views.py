"""Two-factor sign-in through HTTP: the second step of a sign-in, the setup forced on admins and
HR officers, the account page's section and an admin's reset.

Every request runs in an application context of its own (as on a server), so that two test
clients really are two devices.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

import pyotp
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from skillsup.extensions import db
from skillsup.models import AuditEntry, User
from skillsup.services import two_factor
from skillsup.services.tokens import Purpose, make_token
from tests.factories import PASSWORD, Factory
from tests.test_auth_views import IsolatedClient

HOST = "skillsup.test"
FLASH = re.compile(r'<p class="flash flash-(\w+)">(.*?)</p>', re.S)
CODES = re.compile(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>")
KEY = re.compile(r'id="setup-key" class="setup-key">([A-Z2-7 ]+)<')

WRONG = "That code is not right."
USED = "That code has already been used."
MALFORMED = "Enter the 6 digits your authenticator app shows"
RECOVERY_USED = "That recovery code has already been used"
RECOVERY_WRONG = "That recovery code is not right."
TOO_MANY = "Too many attempts. Wait a few minutes and try again."


@pytest.fixture(autouse=True)
def isolated_requests(app: Flask) -> None:
    app.test_client_class = IsolatedClient


# Helpers ----------------------------------------------------------------------------------------


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response: TestResponse) -> list[str]:
    return [html.unescape(text).strip() for _, text in FLASH.findall(response.get_data(True))]


def location(response: TestResponse) -> str:
    assert response.status_code in (301, 302, 303), (response.status_code, page(response)[:2000])
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", HOST), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_login(client: FlaskClient, user: User, **extra: Any) -> TestResponse:
    return client.post("/login", data={"email": user.email, "password": PASSWORD, **extra})


def is_logged_in(client: FlaskClient) -> bool:
    return client.get("/account").status_code == 200


def enable(user: User) -> tuple[str, list[str]]:
    """Two-factor sign-in turned on for ``user`` a minute ago: its key and recovery codes."""
    earlier = datetime.now(UTC) - timedelta(minutes=1)
    with time_machine.travel(earlier, tick=False):
        key = two_factor.start_setup(user).key
        codes = two_factor.confirm_setup(user, pyotp.TOTP(key).now())
    db.session.commit()
    return key, codes


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def audit_count(action: str) -> int:
    return (
        db.session.scalar(
            select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
        )
        or 0
    )


def key_on(response: TestResponse) -> str:
    found = KEY.search(response.get_data(as_text=True))
    assert found, page(response)[:3000]
    return found.group(1).replace(" ", "")


@pytest.fixture
def required(app: Flask) -> None:
    """The portal requires two-factor sign-in of admins and HR officers (as in production)."""
    app.config["REQUIRE_TWO_FACTOR"] = True


# The second step of a sign-in -------------------------------------------------------------------


class TestSigningInWithACode:
    def test_password_then_code_then_home(self, client: FlaskClient, learner: User) -> None:
        key, _codes = enable(learner)
        response = post_login(client, learner)
        assert location(response) == "/login/two-factor"
        assert not is_logged_in(client)
        form = client.get("/login/two-factor")
        assert form.status_code == 200
        assert 'autocomplete="one-time-code"' in page(form)
        code = pyotp.TOTP(key).now()
        response = client.post("/login/two-factor", data={"code": f"{code[:3]} {code[3:]}"})
        assert location(response) == "/my-learning"
        assert is_logged_in(client)

    def test_the_page_asked_for_is_reached_after_the_code(
        self, client: FlaskClient, learner: User
    ) -> None:
        key, _codes = enable(learner)
        response = client.post(
            "/login?next=/account",
            data={"email": learner.email, "password": PASSWORD, "next": "/account"},
        )
        assert location(response) == "/login/two-factor"
        code = pyotp.TOTP(key).now()
        assert location(client.post("/login/two-factor", data={"code": code})) == "/account"

    def test_a_foreign_next_is_dropped(self, client: FlaskClient, learner: User) -> None:
        key, _codes = enable(learner)
        client.post(
            "/login",
            data={"email": learner.email, "password": PASSWORD, "next": "//evil.example/x"},
        )
        code = pyotp.TOTP(key).now()
        assert location(client.post("/login/two-factor", data={"code": code})) == "/my-learning"

    def test_keep_me_signed_in_carries_over(self, client: FlaskClient, learner: User) -> None:
        key, _codes = enable(learner)
        post_login(client, learner, remember="y")
        assert client.get_cookie("skillsup_remember", domain=HOST) is None
        client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert client.get_cookie("skillsup_remember", domain=HOST) is not None

    def test_someone_with_it_on_is_asked_whatever_the_setting(
        self, app: Flask, client: FlaskClient, learner: User
    ) -> None:
        assert not app.config["REQUIRE_TWO_FACTOR"]
        enable(learner)
        assert location(post_login(client, learner)) == "/login/two-factor"

    def test_without_it_the_password_is_enough(self, client: FlaskClient, learner: User) -> None:
        assert location(post_login(client, learner)) == "/my-learning"

    def test_nothing_else_opens_while_pending(
        self, client: FlaskClient, learner: User, admin: User
    ) -> None:
        enable(learner)
        post_login(client, learner)
        for path in ("/my-learning", "/account", "/hr/", "/admin/", "/trainer/"):
            response = client.get(path)
            assert location(response).startswith("/login?next="), path
        assert client.post("/account/profile", data={"name": "X"}).status_code == 302
        assert (
            client.post("/account/two-factor/off", data={"off-code": "123456"}).status_code == 302
        )
        assert fresh(learner).name != "X"
        # The setup and "continue" pages belong to another stage: back to the code.
        assert location(client.get("/login/two-factor/setup")) == "/login/two-factor"
        assert location(client.post("/login/two-factor/continue")) == "/login/two-factor"

    def test_a_planted_session_does_not_survive(self, client: FlaskClient, learner: User) -> None:
        enable(learner)
        with client.session_transaction() as session:
            session["planted"] = "by someone else"
            session["lang"] = "zh_Hant_HK"
        post_login(client, learner)
        with client.session_transaction() as session:
            assert "planted" not in session
            assert session["lang"] == "zh_Hant_HK"
            assert "_user_id" not in session

    def test_the_pending_sign_in_expires(self, client: FlaskClient, learner: User) -> None:
        key, _codes = enable(learner)
        start = datetime.now(UTC)
        with time_machine.travel(start, tick=False):
            post_login(client, learner)
        later = start + timedelta(minutes=10, seconds=5)
        with time_machine.travel(later, tick=False):
            response = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
            assert location(response) == "/login"
            assert "Your sign-in has expired. Log in again." in flashes(client.get("/login"))
            assert not is_logged_in(client)
            # Once dropped, the page simply leads to the login page.
            assert location(client.get("/login/two-factor")) == "/login"

    def test_a_pending_sign_in_ends_with_the_sessions(
        self, app: Flask, client: FlaskClient, learner: User
    ) -> None:
        key, _codes = enable(learner)
        post_login(client, learner)
        # Meanwhile the password is reset (every session ends).
        reset = app.test_client()
        token = make_token(learner, Purpose.PASSWORD_RESET)
        new = "a brand new long passphrase"
        reset.post(f"/reset-password/{token}", data={"password": new, "confirm": new})
        response = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert location(response) == "/login"
        assert not is_logged_in(client)

    def test_anyone_without_a_pending_sign_in_is_sent_to_log_in(self, client: FlaskClient) -> None:
        for path in (
            "/login/two-factor",
            "/login/two-factor/recovery",
            "/login/two-factor/setup",
            "/login/two-factor/continue",
        ):
            assert location(client.get(path)) == "/login", path
            assert location(client.post(path, data={"code": "123456"})) == "/login", path

    def test_a_forged_pending_sign_in_is_ignored(self, client: FlaskClient, learner: User) -> None:
        with client.session_transaction() as session:
            session["two_factor_pending"] = {"user_id": "1 OR 1=1", "stage": "code"}
        assert location(client.get("/login/two-factor")) == "/login"
        with client.session_transaction() as session:
            session["two_factor_pending"] = "nonsense"
        assert location(client.get("/login/two-factor")) == "/login"

    def test_signed_in_people_are_sent_home(self, client: FlaskClient, learner: User) -> None:
        post_login(client, learner)
        assert location(client.get("/login/two-factor")) == "/my-learning"


class TestRefusedCodes:
    def test_wrong_code(self, client: FlaskClient, learner: User) -> None:
        key, _codes = enable(learner)
        post_login(client, learner)
        right = pyotp.TOTP(key).now()
        wrong = str((int(right) + 1) % 1_000_000).zfill(6)
        response = client.post("/login/two-factor", data={"code": wrong})
        assert response.status_code == 400
        assert WRONG in page(response)
        assert 'aria-invalid="true"' in page(response)
        assert not is_logged_in(client)

    def test_a_used_code_is_refused(self, app: Flask, learner: User) -> None:
        key, _codes = enable(learner)
        first, second = app.test_client(), app.test_client()
        post_login(first, learner)
        post_login(second, learner)
        code = pyotp.TOTP(key).now()
        assert location(first.post("/login/two-factor", data={"code": code})) == "/my-learning"
        response = second.post("/login/two-factor", data={"code": code})
        assert response.status_code == 400
        assert USED in page(response)
        assert not is_logged_in(second)

    @pytest.mark.parametrize(
        "typed",
        ["", "   ", "abcdef", "12a456", "1234567", "12345", "１２３４５６", "9" * 200_000],
        ids=["empty", "spaces", "letters", "a-letter", "7-digits", "5-digits", "wide", "huge"],
    )
    def test_malformed_input(self, client: FlaskClient, learner: User, typed: str) -> None:
        enable(learner)
        post_login(client, learner)
        response = client.post("/login/two-factor", data={"code": typed})
        assert response.status_code == 400
        assert MALFORMED in page(response)
        assert not is_logged_in(client)

    def test_a_nul_byte_is_refused_with_a_reason(self, client: FlaskClient, learner: User) -> None:
        enable(learner)
        post_login(client, learner)
        response = client.post("/login/two-factor", data={"code": "123\x00456"})
        assert response.status_code == 400
        assert "control character" in page(response)

    def test_a_missing_field_is_a_form_error(self, client: FlaskClient, learner: User) -> None:
        enable(learner)
        post_login(client, learner)
        response = client.post("/login/two-factor", data={})
        assert response.status_code == 400
        assert MALFORMED in page(response)

    def test_a_body_too_large_is_refused(self, client: FlaskClient, learner: User) -> None:
        enable(learner)
        post_login(client, learner)
        response = client.post("/login/two-factor", data={"code": "1" * (5 * 1024 * 1024)})
        assert response.status_code == 413


class TestRecoveryCodes:
    def test_signing_in_with_a_recovery_code(self, client: FlaskClient, learner: User) -> None:
        _key, codes = enable(learner)
        post_login(client, learner)
        assert "Use a recovery code instead" in page(client.get("/login/two-factor"))
        response = client.post(
            "/login/two-factor/recovery", data={"recovery_code": codes[0].upper()}
        )
        assert location(response) == "/my-learning"
        assert any("9 are left" in text for text in flashes(client.get("/my-learning")))
        assert audit_count("auth.recovery_code_used") == 1

    def test_a_used_recovery_code_is_refused(self, app: Flask, learner: User) -> None:
        _key, codes = enable(learner)
        first = app.test_client()
        post_login(first, learner)
        first.post("/login/two-factor/recovery", data={"recovery_code": codes[0]})
        second = app.test_client()
        post_login(second, learner)
        response = second.post("/login/two-factor/recovery", data={"recovery_code": codes[0]})
        assert response.status_code == 400
        assert RECOVERY_USED in page(response)
        assert not is_logged_in(second)

    @pytest.mark.parametrize("typed", ["", "abc", "zzzzz-zzzzz", "x" * 100_000])
    def test_wrong_recovery_codes(self, client: FlaskClient, learner: User, typed: str) -> None:
        enable(learner)
        post_login(client, learner)
        response = client.post("/login/two-factor/recovery", data={"recovery_code": typed})
        assert response.status_code == 400
        text = page(response)
        assert RECOVERY_WRONG in text or "Enter one of your recovery codes" in text
        assert not is_logged_in(client)


class TestRateLimit:
    def test_sixth_failure_is_refused_even_with_the_right_code(
        self, app: Flask, learner: User
    ) -> None:
        key, codes = enable(learner)
        client = app.test_client()
        post_login(client, learner)
        for _ in range(3):
            assert client.post("/login/two-factor", data={"code": "000000"}).status_code == 400
        for _ in range(2):
            response = client.post("/login/two-factor/recovery", data={"recovery_code": "x"})
            assert response.status_code == 400
        response = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert response.status_code == 429
        assert TOO_MANY in page(response)
        response = client.post("/login/two-factor/recovery", data={"recovery_code": codes[0]})
        assert response.status_code == 429
        assert not is_logged_in(client)
        # The account is limited, from another device too; another account is not.
        other = app.test_client()
        post_login(other, learner)
        assert other.post("/login/two-factor", data={"code": "000000"}).status_code == 429

    def test_successes_do_not_count(self, app: Flask, learner: User) -> None:
        _key, codes = enable(learner)
        for code in codes[:4]:
            client = app.test_client()
            post_login(client, learner)
            assert client.post("/login/two-factor", data={"code": "000000"}).status_code == 400
            response = client.post("/login/two-factor/recovery", data={"recovery_code": code})
            assert location(response) == "/my-learning"
        attacker = app.test_client()
        post_login(attacker, learner)
        statuses = [
            attacker.post("/login/two-factor", data={"code": "000000"}).status_code
            for _ in range(2)
        ]
        assert statuses == [400, 429]

    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {}


class TestRateLimitPerAddress:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"LOGIN_LIMIT_PER_ADDRESS": "3 per minute"}

    def test_failures_on_several_accounts_from_one_address(
        self, app: Flask, learner: User, trainer: User
    ) -> None:
        enable(learner)
        key, _codes = enable(trainer)
        for user in (learner, learner, trainer):
            client = app.test_client()
            post_login(client, user)
            assert client.post("/login/two-factor", data={"code": "000000"}).status_code == 400
        client = app.test_client()
        post_login(client, trainer)
        response = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert response.status_code == 429
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        post_login(elsewhere, trainer)
        response = elsewhere.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert location(response) == "/trainer/"


# Who must use it --------------------------------------------------------------------------------


class TestRequiredForAdminsAndHr:
    @pytest.mark.parametrize("role", ["admin", "hr"])
    def test_set_up_at_the_next_sign_in_before_any_page(
        self, required: None, client: FlaskClient, make: Factory, role: str
    ) -> None:
        user = make.user(role=role)
        home = "/admin/" if role == "admin" else "/hr/"
        assert location(post_login(client, user)) == "/login/two-factor/setup"
        assert location(client.get(home)).startswith("/login?next=")
        assert location(client.get("/login/two-factor")) == "/login/two-factor/setup"
        setup = client.get("/login/two-factor/setup")
        assert setup.status_code == 200
        text = page(setup)
        assert "Admins and HR officers must use two-factor sign-in" in text
        assert "<svg" in text and 'class="qr-code"' in text
        key = key_on(setup)
        # Reloading shows the same key (it may have been scanned already).
        assert key_on(client.get("/login/two-factor/setup")) == key
        bad = client.post("/login/two-factor/setup", data={"code": "12345"})
        assert bad.status_code == 400 and MALFORMED in page(bad)
        done = client.post("/login/two-factor/setup", data={"code": pyotp.TOTP(key).now()})
        assert done.status_code == 200
        assert "no-store" in done.headers["Cache-Control"]
        codes = CODES.findall(done.get_data(as_text=True))
        assert len(codes) == 10
        assert 'download="skillsup-recovery-codes.txt"' in done.get_data(as_text=True)
        assert "I have saved them: continue" in page(done)
        # Not signed in until "continue"; a reload shows no codes again.
        assert location(client.get(home)).startswith("/login?next=")
        again = client.get("/login/two-factor/continue")
        assert again.status_code == 200 and not CODES.findall(again.get_data(as_text=True))
        assert location(client.post("/login/two-factor/continue")) == home
        assert client.get(home).status_code == 200
        assert fresh(user).two_factor_enabled

    def test_an_invited_hr_officer_sets_it_up_first(
        self, required: None, client: FlaskClient, make: Factory
    ) -> None:
        invitee = make.user(role="hr", password=None, email_confirmed_at=None)
        token = make_token(invitee, Purpose.INVITATION)
        new = "a brand new long passphrase"
        response = client.post(f"/invitation/{token}", data={"password": new, "confirm": new})
        assert location(response) == "/login/two-factor/setup"
        assert location(client.get("/hr/")).startswith("/login?next=")

    @pytest.mark.parametrize("role", ["learner", "trainer"])
    def test_learners_and_trainers_are_not_made_to(
        self, required: None, client: FlaskClient, make: Factory, role: str
    ) -> None:
        user = make.user(role=role)
        home = "/my-learning" if role == "learner" else "/trainer/"
        assert location(post_login(client, user)) == home
        # They may from the account page.
        assert "Set up two-factor sign-in" in page(client.get("/account"))

    def test_not_required_when_the_setting_is_off(
        self, app: Flask, client: FlaskClient, hr_officer: User
    ) -> None:
        assert app.config["REQUIRE_TWO_FACTOR"] is False
        assert location(post_login(client, hr_officer)) == "/hr/"

    def test_an_hr_officer_with_it_on_enters_a_code(
        self, required: None, client: FlaskClient, hr_officer: User
    ) -> None:
        key, _codes = enable(hr_officer)
        assert location(post_login(client, hr_officer)) == "/login/two-factor"
        assert location(client.get("/login/two-factor/setup")) == "/login/two-factor"
        response = client.post("/login/two-factor", data={"code": pyotp.TOTP(key).now()})
        assert location(response) == "/hr/"


# The account page ---------------------------------------------------------------------------


class TestAccountPage:
    def test_setting_it_up_ends_the_other_sessions(self, app: Flask, learner: User) -> None:
        mine, other = app.test_client(), app.test_client()
        post_login(mine, learner)
        post_login(other, learner)
        account = page(mine.get("/account"))
        assert "Off: you log in with your password alone." in account
        setup = mine.get("/account/two-factor/setup")
        assert setup.status_code == 200
        key = key_on(setup)
        wrong = mine.post("/account/two-factor/setup", data={"code": "000000"})
        assert wrong.status_code == 400 and WRONG in page(wrong)
        done = mine.post("/account/two-factor/setup", data={"code": pyotp.TOTP(key).now()})
        assert done.status_code == 200
        assert done.headers["Cache-Control"] == "no-store"
        assert len(CODES.findall(done.get_data(as_text=True))) == 10
        assert "I have saved them: back to my account" in page(done)
        assert is_logged_in(mine)
        assert not is_logged_in(other)
        account = page(mine.get("/account"))
        assert "You have 10 recovery codes left." in account
        # Set up: the setup page leads back to the account page.
        assert location(mine.get("/account/two-factor/setup")) == "/account"

    def test_new_recovery_codes_need_a_code(self, app: Flask, learner: User) -> None:
        key, old = enable(learner)
        mine, other = app.test_client(), app.test_client()
        for client in (mine, other):
            post_login(client, learner)
            client.post("/login/two-factor/recovery", data={"recovery_code": old.pop()})
        refused = mine.post("/account/two-factor/recovery-codes", data={"renew-code": "12"})
        assert refused.status_code == 400 and MALFORMED in page(refused)
        done = mine.post(
            "/account/two-factor/recovery-codes", data={"renew-code": pyotp.TOTP(key).now()}
        )
        assert done.status_code == 200 and "no-store" in done.headers["Cache-Control"]
        new = CODES.findall(done.get_data(as_text=True))
        assert len(new) == 10 and "the old ones no longer work" in page(done)
        assert is_logged_in(mine) and not is_logged_in(other)
        assert two_factor.recovery_codes_left(fresh(learner)) == 10
        client = IsolatedClient(app)
        post_login(client, learner)
        response = client.post("/login/two-factor/recovery", data={"recovery_code": old[0]})
        assert response.status_code == 400

    def test_turning_it_off(self, app: Flask, learner: User) -> None:
        key, codes = enable(learner)
        mine, other = app.test_client(), app.test_client()
        for client, code in ((mine, codes[0]), (other, codes[1])):
            post_login(client, learner)
            client.post("/login/two-factor/recovery", data={"recovery_code": code})
        refused = mine.post("/account/two-factor/off", data={"off-code": "000000"})
        assert refused.status_code == 400 and WRONG in page(refused)
        response = mine.post("/account/two-factor/off", data={"off-code": pyotp.TOTP(key).now()})
        assert location(response) == "/account"
        assert not fresh(learner).two_factor_enabled
        assert is_logged_in(mine) and not is_logged_in(other)
        mine.post("/logout")
        assert location(post_login(mine, learner)) == "/my-learning"

    def test_admins_cannot_turn_it_off_while_required(
        self, required: None, app: Flask, admin: User
    ) -> None:
        key, codes = enable(admin)
        client = app.test_client()
        post_login(client, admin)
        client.post("/login/two-factor/recovery", data={"recovery_code": codes[0]})
        account = page(client.get("/account"))
        assert "it cannot be turned off" in account
        assert 'action="/account/two-factor/off"' not in account
        response = client.post("/account/two-factor/off", data={"off-code": pyotp.TOTP(key).now()})
        assert response.status_code == 403
        assert fresh(admin).two_factor_enabled

    def test_new_codes_without_two_factor_sign_in(self, client: FlaskClient, learner: User) -> None:
        post_login(client, learner)
        response = client.post("/account/two-factor/recovery-codes", data={"renew-code": "123456"})
        assert response.status_code == 409
        assert "Two-factor sign-in is not turned on." in flashes(response)


# An admin's reset -------------------------------------------------------------------------------


class TestAdminReset:
    def test_resetting_someones(
        self, app: Flask, admin: User, hr_officer: User, outbox: list[Any]
    ) -> None:
        enable(hr_officer)
        theirs = app.test_client()
        post_login(theirs, hr_officer)
        client = app.test_client()
        post_login(client, admin)
        detail = page(client.get(f"/admin/users/{hr_officer.id}"))
        assert "Reset two-factor sign-in" in detail
        confirm = client.get(f"/admin/users/{hr_officer.id}/two-factor/reset")
        assert confirm.status_code == 200
        assert "is told by e-mail, with your reason" in page(confirm)
        response = client.post(
            f"/admin/users/{hr_officer.id}/two-factor/reset", data={"reason": "Lost phone"}
        )
        assert location(response) == f"/admin/users/{hr_officer.id}"
        user = fresh(hr_officer)
        assert not user.two_factor_enabled
        assert audit_count("account.two_factor_reset") == 1
        assert [message.to for message in outbox] == [hr_officer.email]
        assert "Lost phone" in outbox[0].text
        # Their sessions have ended; they sign in with the password alone (not required).
        assert not is_logged_in(theirs)
        assert location(post_login(theirs, hr_officer)) == "/hr/"

    def test_refused_for_someone_without_it_and_for_oneself(
        self, app: Flask, admin: User, learner: User
    ) -> None:
        _key, codes = enable(admin)
        client = app.test_client()
        post_login(client, admin)
        client.post("/login/two-factor/recovery", data={"recovery_code": codes[0]})
        # Someone without it: no action offered, and the confirmation says why.
        assert "Reset two-factor sign-in" not in page(client.get(f"/admin/users/{learner.id}"))
        confirm = page(client.get(f"/admin/users/{learner.id}/two-factor/reset"))
        assert "does not use two-factor sign-in" in confirm
        response = client.post(f"/admin/users/{learner.id}/two-factor/reset", data={})
        assert location(response) == f"/admin/users/{learner.id}"
        # Oneself: turned off from the account page, never here.
        assert "Reset two-factor sign-in" not in page(client.get(f"/admin/users/{admin.id}"))
        confirm = page(client.get(f"/admin/users/{admin.id}/two-factor/reset"))
        assert "You cannot reset your own two-factor sign-in here" in confirm
        response = client.post(f"/admin/users/{admin.id}/two-factor/reset", data={})
        assert location(response) == f"/admin/users/{admin.id}"
        assert fresh(admin).two_factor_enabled
        assert audit_count("account.two_factor_reset") == 0

    def test_a_reason_too_long_shows_the_page_again(
        self, app: Flask, admin: User, learner: User
    ) -> None:
        enable(learner)
        client = app.test_client()
        post_login(client, admin)
        response = client.post(
            f"/admin/users/{learner.id}/two-factor/reset", data={"reason": "x" * 501}
        )
        assert response.status_code == 400
        assert fresh(learner).two_factor_enabled
