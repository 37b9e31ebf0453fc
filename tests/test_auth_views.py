"""Signing in and out, registration, invitations, password resets and sessions, via HTTP.

Every request here runs in an application context of its own, as on a server (see
:class:`IsolatedClient`), so that two test clients really are two devices.
"""

from __future__ import annotations

import contextvars
import email
import html
import re
import socket
import time
from collections import Counter
from collections.abc import Iterator
from email import policy
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
import time_machine
from flask import Flask, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.test import TestResponse

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import AuditEntry, PartnerCompany, Role, User
from skillsup.services import mail, passwords, user_sessions
from tests.factories import PASSWORD, Factory

from .queries import recorded_statements

NEW_PASSWORD = "a different long passphrase"
SESSION_COOKIE = "skillsup_session"
HOST = "skillsup.test"

WRONG = "The e-mail address or password is not correct."
TOO_MANY = "Too many attempts. Wait a few minutes and try again."
FORM_ERRORS = "There is a problem"
INVALID_LINK = "This link cannot be used"
FORGOT_FLASH = (
    "If that address has an account, we have sent it a link to reset the password. "
    "The link works for one hour."
)

LINK = re.compile(r"https?://skillsup\.test(/[^\s\"<>]+)")
FLASH = re.compile(r'<p class="flash flash-(\w+)">(.*?)</p>', re.S)


class IsolatedClient(FlaskClient):
    """A test client whose every request has an application context of its own.

    As ``tests.conftest.IsolatedClient`` (each request runs in an empty ``contextvars``
    context, so two clients really are two devices, and the test's own session commits
    before and forgets after each request), but it also follows redirects: the nested
    request made for ``follow_redirects=True`` runs where there is no application context,
    and committing there raised "Working outside of application context".
    """

    def open(self, *args: Any, **kwargs: Any) -> TestResponse:
        outer = has_app_context()
        if outer:
            db.session.commit()
        response = contextvars.Context().run(super().open, *args, **kwargs)
        if outer:
            db.session.expire_all()
        return response


@pytest.fixture(autouse=True)
def isolated_requests(app: Flask) -> None:
    app.test_client_class = IsolatedClient


# Helpers ----------------------------------------------------------------------------------


def page(response: TestResponse) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response: TestResponse) -> list[str]:
    return [html.unescape(text).strip() for _, text in FLASH.findall(response.get_data(True))]


def location(response: TestResponse) -> str:
    """The redirect target as a local path with its query."""
    assert response.status_code in (301, 302, 303), (response.status_code, page(response))
    parts = urlsplit(response.headers["Location"])
    assert parts.netloc in ("", HOST), response.headers["Location"]
    return parts.path + (f"?{parts.query}" if parts.query else "")


def post_login(client: FlaskClient, email_address: str, password: str, **extra: Any) -> Any:
    return client.post("/login", data={"email": email_address, "password": password, **extra})


def logged_in(client: FlaskClient, user: User, password: str = PASSWORD) -> FlaskClient:
    response = post_login(client, user.email, password)
    assert response.status_code == 302, page(response)
    return client


def is_logged_in(client: FlaskClient) -> bool:
    """Whether the client's session is alive: the login page sends users to their home."""
    response = client.get("/login")
    if response.status_code == 200:
        return False
    assert location(response) in ("/my-learning", "/hr/", "/trainer/", "/admin/")
    return True


def link_path(message: mail.Message, prefix: str) -> str:
    paths = [path for path in LINK.findall(message.text) if path.startswith(prefix)]
    assert len(paths) == 1, message.text
    return paths[0]


def user_count() -> int:
    return db.session.scalar(select(func.count()).select_from(User)) or 0


def audit_count(action: str, object_id: int | None = None) -> int:
    query = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    if object_id is not None:
        query = query.where(AuditEntry.object_type == "users", AuditEntry.object_id == object_id)
    return db.session.scalar(query) or 0


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


def session_cookie(client: FlaskClient) -> str | None:
    cookie = client.get_cookie(SESSION_COOKIE, domain=HOST)
    return cookie.value if cookie else None


# Logging in and out -----------------------------------------------------------------------


class TestLogin:
    def test_login_page(self, client: FlaskClient) -> None:
        response = client.get("/login")
        assert response.status_code == 200
        # E-mail first: the address decides where the person signs in.
        assert 'name="email"' in page(response) and 'name="password"' not in page(response)
        assert ">Continue</button>" in page(response)

    def test_the_password_step_keeps_the_address(self, client: FlaskClient, learner: User) -> None:
        response = client.post("/login?next=/account", data={"email": "Amy.Chan@harbour-it.test"})
        body = page(response)
        assert response.status_code == 200
        assert 'name="password"' in body and 'name="remember"' in body
        assert '<input type="hidden" name="email" value="amy.chan@harbour-it.test">' in body
        assert 'href="/login?next=/account"' in body  # to change the address
        assert 'href="/forgot-password"' in body
        assert FORM_ERRORS not in body
        answer = client.post(
            "/login?next=/account",
            data={"email": "amy.chan@harbour-it.test", "password": PASSWORD, "step": "password"},
        )
        assert location(answer) == "/account"

    def test_the_password_step_tells_nothing_of_accounts(
        self, client: FlaskClient, learner: User
    ) -> None:
        def step(email: str) -> str:
            body = page(client.post("/login", data={"email": email}))
            return body.replace(email, "ADDRESS").split('name="csrf_token"')[0]

        assert step("amy.chan@harbour-it.test") == step("nobody@harbour-it.test")
        assert step("amy.chan@harbour-it.test") == step("someone@unknown-company.test")

    def test_an_empty_password_at_the_password_step(
        self, client: FlaskClient, learner: User
    ) -> None:
        response = client.post(
            "/login", data={"email": learner.email, "password": "", "step": "password"}
        )
        assert FORM_ERRORS in page(response) and 'name="password"' in page(response)
        assert not is_logged_in(client)

    @pytest.mark.parametrize("typed", ["not-an-address", "a" * 300 + "@harbour-it.test", ""])
    def test_a_bad_address_at_the_password_step_is_corrected_at_the_first_step(
        self, client: FlaskClient, typed: str
    ) -> None:
        response = client.post(
            "/login", data={"email": typed, "password": "whatever-1234", "step": "password"}
        )
        text = page(response)
        assert response.status_code == 200
        assert FORM_ERRORS in text
        # The address is back in its own box, which the error summary links to.
        assert 'id="email"' in text and 'href="#email"' in text
        assert 'name="password"' not in text
        assert not is_logged_in(client)

    def test_address_is_case_insensitive(self, client: FlaskClient, learner: User) -> None:
        response = post_login(client, "AMY.CHAN@Harbour-IT.TEST", PASSWORD)
        assert location(response) == "/my-learning"
        assert client.get("/my-learning").status_code == 200

    def test_login_is_audited(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "auth.login"))
        assert entry is not None
        assert (entry.actor_id, entry.object_id) == (learner.id, learner.id)
        assert fresh(learner).last_login_at is not None

    def test_logged_in_user_visiting_login_goes_home(
        self, client: FlaskClient, hr_officer: User
    ) -> None:
        logged_in(client, hr_officer)
        assert location(client.get("/login")) == "/hr/"

    def test_new_session_on_login(self, client: FlaskClient, learner: User) -> None:
        client.get("/login")
        with client.session_transaction() as planted:
            planted["planted_by_attacker"] = "x"
            planted["lang"] = "zh_Hant_HK"
        before = session_cookie(client)
        assert before is not None
        logged_in(client, learner)
        after = session_cookie(client)
        assert after is not None and after != before
        with client.session_transaction() as current:
            assert "planted_by_attacker" not in current
            # The id Flask-Login keeps is the secret of the session's record.
            record = user_sessions.find_alive(current["_user_id"])
            assert record is not None and record.user_id == learner.id
            assert current["lang"] == "zh_Hant_HK"  # the language choice survives

    def test_session_cookie_flags(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        cookie = client.get_cookie(SESSION_COOKIE, domain=HOST)
        assert cookie is not None
        assert cookie.http_only
        assert cookie.same_site == "Lax"

    def test_bad_credentials(self, client: FlaskClient, learner: User) -> None:
        unknown = post_login(client, "nobody@harbour-it.test", PASSWORD)
        wrong = post_login(client, learner.email, "not the password")
        for response in (unknown, wrong):
            assert response.status_code == 200
            assert WRONG in page(response)
        assert not is_logged_in(client)
        assert audit_count("auth.login") == 0

    def test_accounts_that_cannot_log_in(self, app: Flask, make: Factory, subtests: Any) -> None:
        cases = [
            (make.user(is_active=False), "This account has been deactivated."),
            (
                make.user(email_confirmed_at=None),
                "Confirm your e-mail address first: follow the link we sent you.",
            ),
            (
                make.user(company=make.company(is_active=False)),
                "Your company's access to the portal has ended.",
            ),
            (make.user(password=None, email_confirmed_at=None), WRONG),  # invited, no password
        ]
        for user, message in cases:
            with subtests.test(message=message):
                client = app.test_client()
                response = post_login(client, user.email, PASSWORD)
                assert response.status_code == 200
                assert message in page(response)
                assert not is_logged_in(client)
        assert audit_count("auth.login") == 0

    def test_malformed_form(self, client: FlaskClient, learner: User, subtests: Any) -> None:
        cases = {
            "nothing": {},
            "no password": {"email": "amy.chan@harbour-it.test", "step": "password"},
            "no email": {"password": PASSWORD},
            "300-char email": {"email": "a" * 284 + "@harbour-it.test", "password": PASSWORD},
            "10k password": {"email": "amy.chan@harbour-it.test", "password": "p" * 10_000},
            "bad email": {"email": "not an address", "password": PASSWORD},
        }
        for case, data in cases.items():
            with subtests.test(case=case):
                response = client.post("/login", data=data)
                assert response.status_code == 200
                assert FORM_ERRORS in page(response)
                assert not is_logged_in(client)

    def test_oversized_body_is_413(self, app: Flask, client: FlaskClient, learner: User) -> None:
        body = "email=amy.chan%40harbour-it.test&password=" + "x" * app.config["MAX_CONTENT_LENGTH"]
        response = client.post(
            "/login", data=body, content_type="application/x-www-form-urlencoded"
        )
        assert response.status_code == 413
        assert "Too large" in page(response)


class TestLogout:
    def test_get_is_not_allowed(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        assert client.get("/logout").status_code == 405
        assert is_logged_in(client)
        assert fresh(learner).session_version == 1

    def test_post_logs_out(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        response = client.post("/logout", follow_redirects=True)
        assert response.status_code == 200
        assert "You have logged out." in flashes(response)
        assert not is_logged_in(client)

    def test_logout_ends_every_session(self, app: Flask, learner: User) -> None:
        laptop, phone = app.test_client(), app.test_client()
        logged_in(laptop, learner)
        assert location(post_login(phone, learner.email, PASSWORD, remember="y")) == "/my-learning"
        assert phone.get_cookie("skillsup_remember", domain=HOST) is not None
        assert phone.get("/my-learning").status_code == 200

        laptop.post("/logout")

        response = phone.get("/my-learning")
        assert location(response) == "/login?next=%2Fmy-learning"
        assert not is_logged_in(laptop)
        assert fresh(learner).session_version == 2
        # A new login starts a session that works again.
        logged_in(phone, learner)
        assert phone.get("/my-learning").status_code == 200

    def test_logout_does_not_touch_other_users(self, app: Flask, learner: User, make: Any) -> None:
        colleague = make.user(company=learner.company)
        mine, theirs = app.test_client(), app.test_client()
        logged_in(mine, learner)
        logged_in(theirs, colleague)
        mine.post("/logout")
        assert theirs.get("/my-learning").status_code == 200


# Rate limits ------------------------------------------------------------------------------


class TestLoginRateLimitPerAccount:
    def test_sixth_failure_is_refused_even_with_the_right_password(
        self, app: Flask, client: FlaskClient, learner: User, hr_officer: User
    ) -> None:
        assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 15 minutes"
        # Variants of the same address count for the same account.
        for variant in ["amy.chan@harbour-it.test", "AMY.CHAN@harbour-it.test"] * 2 + [
            "Amy.Chan@Harbour-IT.test"
        ]:
            response = post_login(client, variant, "wrong password!")
            assert response.status_code == 200
            assert WRONG in page(response)
        response = post_login(client, learner.email, "wrong password!")
        assert response.status_code == 429
        assert TOO_MANY in page(response)
        assert int(response.headers["Retry-After"]) > 0
        response = post_login(client, learner.email, PASSWORD)
        assert response.status_code == 429
        assert TOO_MANY in page(response)
        assert not is_logged_in(client)
        assert audit_count("auth.login") == 0
        # Another account from the same address is not locked by this one.
        assert location(post_login(app.test_client(), hr_officer.email, PASSWORD)) == "/hr/"

    def test_unknown_addresses_are_limited_too(self, client: FlaskClient, company: Any) -> None:
        statuses = [
            post_login(client, "ghost@harbour-it.test", "wrong password!").status_code
            for _ in range(6)
        ]
        assert statuses == [200] * 5 + [429]

    def test_successful_logins_do_not_count(self, app: Flask, learner: User) -> None:
        attacker = app.test_client()
        for _ in range(4):
            assert post_login(attacker, learner.email, "wrong password!").status_code == 200
        for _ in range(3):
            assert location(post_login(app.test_client(), learner.email, PASSWORD)) == (
                "/my-learning"
            )
        assert post_login(attacker, learner.email, "wrong password!").status_code == 200
        assert post_login(attacker, learner.email, "wrong password!").status_code == 429


class TestLoginRateLimitPerAddress:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"LOGIN_LIMIT_PER_ADDRESS": "3 per minute"}

    def test_failures_on_several_accounts_from_one_address(
        self, app: Flask, make: Factory, learner: User, hr_officer: User, admin: User
    ) -> None:
        client = app.test_client()
        for address in [learner.email, hr_officer.email, "ghost@harbour-it.test"]:
            assert post_login(client, address, "wrong password!").status_code == 200
        response = post_login(client, admin.email, PASSWORD)
        assert response.status_code == 429
        assert TOO_MANY in page(response)
        # Another client from the same address is refused as well ...
        assert post_login(app.test_client(), admin.email, PASSWORD).status_code == 429
        # ... but not one from another address.
        elsewhere = app.test_client()
        elsewhere.environ_base["REMOTE_ADDR"] = "10.1.2.3"
        assert location(post_login(elsewhere, admin.email, PASSWORD)) == "/admin/"

    def test_successful_logins_do_not_count(
        self, app: Flask, learner: User, hr_officer: User
    ) -> None:
        for user in [learner, hr_officer] * 3:
            assert post_login(app.test_client(), user.email, PASSWORD).status_code == 302
        client = app.test_client()
        statuses = [
            post_login(client, learner.email, "wrong password!").status_code for _ in range(4)
        ]
        assert statuses == [200, 200, 200, 429]


REDIS_URL = "redis://127.0.0.1:6379/15"


@pytest.fixture
def redis_db() -> Iterator[Any]:
    redis = pytest.importorskip("redis")
    connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError as error:
        connection.close()
        pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")
    connection.flushdb()
    yield connection
    connection.flushdb()
    connection.close()


class TestLoginRateLimitSharedThroughRedis:
    @pytest.fixture
    def app_config(self, redis_db: Any) -> dict[str, Any]:
        return {"RATELIMIT_STORAGE_URI": REDIS_URL}

    @pytest.fixture
    def second_app(self, app: Flask, database_url: str) -> Iterator[Flask]:
        """Another instance of the portal (another worker) on the same database and Redis."""
        settings = {
            name: app.config[name]
            for name in (
                "SKILLSUP_ENV",
                "SECRET_KEY",
                "WTF_CSRF_ENABLED",
                "SERVER_NAME",
                "MAIL_SERVER",
                "RATELIMIT_STORAGE_URI",
            )
        }
        other = create_app({**settings, "SQLALCHEMY_DATABASE_URI": database_url})
        other.test_client_class = IsolatedClient
        yield other
        with other.app_context():
            db.session.remove()
            db.engine.dispose()

    def test_two_instances_share_the_count(
        self, app: Flask, learner: User, redis_db: Any, second_app: Flask
    ) -> None:
        first = app.test_client()
        # (second_app was built after app: its limiter storage is the one in use now, so the
        # failures below only add up if both instances count in Redis.)
        for _ in range(3):
            assert post_login(first, learner.email, "wrong password!").status_code == 200
        assert redis_db.dbsize() > 0
        second = second_app.test_client()
        for _ in range(2):
            assert post_login(second, learner.email, "wrong password!").status_code == 200
        assert post_login(second, learner.email, PASSWORD).status_code == 429
        assert post_login(first, learner.email, PASSWORD).status_code == 429


# Where a login leads ----------------------------------------------------------------------


class TestNextParameter:
    def test_foreign_targets_lead_home(self, app: Flask, learner: User, subtests: Any) -> None:
        targets = [
            "//evil.example",
            "https://evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "\\\\evil.example",
            "///evil.example",
            "/\t/evil.example",
            "http:/evil.example",
            "",
        ]
        for target in targets:
            for source in ("query", "form"):
                with subtests.test(target=target, source=source):
                    client = app.test_client()
                    if source == "query":
                        response = client.post(
                            "/login?next=" + quote(target, safe=""),
                            data={"email": learner.email, "password": PASSWORD},
                        )
                    else:
                        response = post_login(client, learner.email, PASSWORD, next=target)
                    assert response.status_code == 302
                    assert response.headers["Location"] == "/my-learning"

    def test_local_path_is_followed(self, client: FlaskClient, learner: User) -> None:
        response = client.post(
            "/login?next=" + quote("/my-learning?x=1", safe=""),
            data={"email": learner.email, "password": PASSWORD},
        )
        assert response.headers["Location"] == "/my-learning?x=1"

    def test_next_is_escaped_on_the_login_page(self, client: FlaskClient) -> None:
        response = client.get("/login?next=" + quote('"><script>alert(1)</script>', safe=""))
        assert response.status_code == 200
        assert "<script>alert(1)</script>" not in response.get_data(as_text=True)

    def test_round_trip_from_a_protected_page(self, client: FlaskClient, hr_officer: User) -> None:
        response = client.get("/hr/staff/invite")
        assert location(response) == "/login?next=%2Fhr%2Fstaff%2Finvite"
        login_page = client.get(location(response))
        assert 'name="next" value="/hr/staff/invite"' in page(login_page)
        response = client.post(
            location(response), data={"email": hr_officer.email, "password": PASSWORD}
        )
        assert location(response) == "/hr/staff/invite"
        assert client.get("/hr/staff/invite").status_code == 200


class TestHomePages:
    def test_learner(self, client: FlaskClient, make: Factory, learner: User) -> None:
        course_class = make.course_class(code="SU-CLD-101-2409", sessions=2)
        make.enrolment(course_class, learner)
        response = post_login(client, learner.email, PASSWORD)
        assert location(response) == "/my-learning"
        home = client.get("/my-learning")
        assert home.status_code == 200
        assert "SU-CLD-101-2409" in page(home)

    def test_hr_officer(self, client: FlaskClient, hr_officer: User) -> None:
        assert location(post_login(client, hr_officer.email, PASSWORD)) == "/hr/"
        home = client.get("/hr/")
        assert home.status_code == 200
        assert "Harbour IT Services" in page(home)

    def test_trainer(self, client: FlaskClient, make: Factory, trainer: User) -> None:
        make.course_class(code="SU-SEC-201-2410", trainers=[trainer], sessions=1)
        make.course_class(code="SU-SEC-201-9999")  # someone else's class
        assert location(post_login(client, trainer.email, PASSWORD)) == "/trainer/"
        home = client.get("/trainer/")
        assert home.status_code == 200
        assert "SU-SEC-201-2410" in page(home)
        assert "SU-SEC-201-9999" not in page(home)

    def test_admin(self, client: FlaskClient, admin: User) -> None:
        assert location(post_login(client, admin.email, PASSWORD)) == "/admin/"
        home = client.get("/admin/")
        assert home.status_code == 200
        # The admin's own login, from the audit log, told as a sentence.
        assert "Signed in" in page(home) and "auth.login" not in page(home)
        assert admin.name in page(home)

    def test_learner_is_refused_other_roles_pages(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        for path in ["/admin/", "/hr/", "/trainer/", "/admin/users/invite", "/hr/staff/invite"]:
            assert client.get(path).status_code == 403, path

    def test_hr_is_refused_other_roles_pages(self, client: FlaskClient, hr_officer: User) -> None:
        logged_in(client, hr_officer)
        for path in ["/admin/", "/my-learning", "/trainer/", "/admin/users/invite"]:
            assert client.get(path).status_code == 403, path

    def test_anonymous_is_sent_to_login(self, client: FlaskClient, subtests: Any) -> None:
        for path in ["/my-learning", "/hr/", "/trainer/", "/admin/", "/account", "/admin/users"]:
            with subtests.test(path=path):
                response = client.get(path)
                assert location(response) == "/login?next=" + quote(path, safe="")
                follow = client.get(location(response))
                assert follow.status_code == 200
                assert "Please log in to see this page." in flashes(follow)


# Registration -----------------------------------------------------------------------------


def register(client: FlaskClient, **fields: str) -> TestResponse:
    data = {
        "name": "Bob Lee",
        "email": "bob.lee@harbour-it.test",
        "password": NEW_PASSWORD,
        "confirm": NEW_PASSWORD,
        **fields,
    }
    return client.post("/register", data=data)


class TestRegistration:
    def test_register_confirm_and_log_in(
        self, client: FlaskClient, company: PartnerCompany, outbox: list[mail.Message]
    ) -> None:
        assert client.get("/register").status_code == 200
        response = register(client, email="Bob.Lee@Harbour-IT.test")
        assert location(response) == "/login"
        assert "Check your inbox: we have sent you a link to confirm your address." in flashes(
            client.get("/login")
        )
        user = db.session.scalar(select(User).where(User.email == "bob.lee@harbour-it.test"))
        assert user is not None
        assert user.role is Role.LEARNER and user.company_id == company.id
        assert user.email_confirmed_at is None
        assert user.password_hash is not None and user.password_hash.startswith("$argon2id$")

        # Not before confirming.
        response = post_login(client, "bob.lee@harbour-it.test", NEW_PASSWORD)
        assert response.status_code == 200
        assert "Confirm your e-mail address first" in page(response)

        [message] = outbox
        assert message.to == "bob.lee@harbour-it.test"
        confirm = link_path(message, "/confirm/")
        shown = client.get(confirm)
        assert shown.status_code == 200
        assert "Confirm my address" in page(shown)
        assert '<form method="post">' in page(shown)
        assert fresh(user).email_confirmed_at is None  # a GET (or a link scanner) changes nothing

        response = client.post(confirm)
        assert location(response) == "/login"
        assert "Your address is confirmed. You can log in now." in flashes(client.get("/login"))
        assert fresh(user).email_confirmed_at is not None
        assert location(post_login(client, "bob.lee@harbour-it.test", NEW_PASSWORD)) == (
            "/my-learning"
        )
        assert client.get("/my-learning").status_code == 200

        # The link is spent.
        for method in (client.get, client.post):
            response = method(confirm)
            assert response.status_code == 400
            assert INVALID_LINK in page(response)

    def test_refused(
        self,
        client: FlaskClient,
        make: Factory,
        company: PartnerCompany,
        outbox: list[mail.Message],
        subtests: Any,
    ) -> None:
        make.company(domains=["closed.test"], is_active=False)
        cases: list[tuple[str, dict[str, str], str]] = [
            (
                "foreign domain",
                {"email": "bob@gmail.example"},
                "Use your work e-mail address at one of our partner companies.",
            ),
            ("inactive company", {"email": "bob@closed.test"}, "Use your work e-mail address"),
            ("common", {"password": "password123", "confirm": "password123"}, "too common"),
            ("keyboard walk", {"password": "qwertyuiop", "confirm": "qwertyuiop"}, "too common"),
            ("short", {"password": "short", "confirm": "short"}, "at least 8 characters"),
            (
                "e-mail as password",
                {"password": "bob.lee@harbour-it.test", "confirm": "bob.lee@harbour-it.test"},
                "must not be your e-mail address or name",
            ),
            (
                "name as password",
                {
                    "password": "Bob Lee Siu-ming",
                    "confirm": "Bob Lee Siu-ming",
                    "name": "Bob Lee Siu-ming",
                },
                "must not be your e-mail address or name",
            ),
            ("mismatch", {"confirm": "something else entirely"}, "The passwords do not match."),
            ("no name", {"name": ""}, FORM_ERRORS),
            ("300-char e-mail", {"email": "b" * 284 + "@harbour-it.test"}, FORM_ERRORS),
            ("10k password", {"password": "p" * 10_000, "confirm": "p" * 10_000}, FORM_ERRORS),
            ("not an address", {"email": "not an address"}, "Enter a valid e-mail address."),
        ]
        before = user_count()
        for case, fields, message in cases:
            with subtests.test(case=case):
                response = register(client, **fields)
                assert response.status_code == 200
                assert message in page(response)
                assert user_count() == before
        assert outbox == []

    def test_longest_allowed_password(
        self, client: FlaskClient, company: PartnerCompany, outbox: list[mail.Message]
    ) -> None:
        longest = "Zq8#mL2!w" * 14 + "ab"
        assert len(longest) == 128
        assert location(register(client, password=longest, confirm=longest)) == "/login"
        client.post(link_path(outbox[0], "/confirm/"))
        assert location(post_login(client, "bob.lee@harbour-it.test", longest)) == "/my-learning"

    def test_one_character_too_long(self, client: FlaskClient, company: PartnerCompany) -> None:
        too_long = "Zq8#mL2!w" * 14 + "abc"
        response = register(client, password=too_long, confirm=too_long)
        assert response.status_code == 200
        assert "128" in page(response)
        assert user_count() == 0

    def test_missing_fields(self, client: FlaskClient, company: PartnerCompany) -> None:
        before = user_count()
        response = client.post("/register", data={})
        assert response.status_code == 200
        assert FORM_ERRORS in page(response)
        # Each under its field and again in the summary at the top of the form.
        assert page(response).count("This field is required.") == 8
        assert user_count() == before

    def test_existing_address_reveals_nothing(
        self,
        app: Flask,
        company: PartnerCompany,
        learner: User,
        outbox: list[mail.Message],
    ) -> None:
        old_hash = learner.password_hash
        newcomer, impostor = app.test_client(), app.test_client()
        fresh_answer = register(newcomer, email="new.person@harbour-it.test")
        taken_answer = register(impostor, email="AMY.CHAN@harbour-it.test")
        assert taken_answer.status_code == fresh_answer.status_code == 302
        assert location(taken_answer) == location(fresh_answer)
        assert flashes(impostor.get("/login")) == flashes(newcomer.get("/login"))
        assert len(db.session.scalars(select(User).where(User.email.like("amy.chan%"))).all()) == 1
        assert fresh(learner).password_hash == old_hash
        assert fresh(learner).name != "Bob Lee"
        to_owner = [m for m in outbox if m.to == learner.email]
        assert len(to_owner) == 1
        assert "already have" in to_owner[0].subject
        assert "/confirm/" not in to_owner[0].text
        assert link_path(to_owner[0], "/forgot-password")

    def test_logged_in_user_is_sent_home(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        assert location(client.get("/register")) == "/my-learning"


# Invitations ------------------------------------------------------------------------------


class TestInvitations:
    def test_admin_invites_an_hr_officer(
        self,
        app: Flask,
        admin: User,
        company: PartnerCompany,
        outbox: list[mail.Message],
    ) -> None:
        client = logged_in(app.test_client(), admin)
        assert client.get("/admin/users/invite").status_code == 200
        response = client.post(
            "/admin/users/invite",
            data={
                "name": "Carol Ho",
                "email": "carol.ho@harbour-it.test",
                "role": "hr",
                "company": str(company.id),
            },
        )
        assert location(response) == "/admin/users"
        invitee = db.session.scalar(select(User).where(User.email == "carol.ho@harbour-it.test"))
        assert invitee is not None
        assert invitee.role is Role.HR and invitee.company_id == company.id
        assert invitee.invited_by_id == admin.id
        assert audit_count("account.invited", invitee.id) == 1

        [message] = outbox
        assert message.to == "carol.ho@harbour-it.test"
        invitation = link_path(message, "/invitation/")

        invitee_client = app.test_client()
        # No password yet, so no way in.
        assert post_login(invitee_client, invitee.email, "").status_code == 200
        shown = invitee_client.get(invitation)
        assert shown.status_code == 200
        assert "Welcome, Carol Ho" in page(shown)
        weak = invitee_client.post(
            invitation, data={"password": "password123", "confirm": "password123"}
        )
        assert weak.status_code == 200
        assert "too common" in page(weak)
        assert fresh(invitee).password_hash is None

        response = invitee_client.post(
            invitation, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert location(response) == "/hr/"
        home = invitee_client.get("/hr/")
        assert home.status_code == 200
        assert "Harbour IT Services" in page(home)
        assert "Welcome to SkillsUp, Carol Ho." in flashes(home)
        assert fresh(invitee).email_confirmed_at is not None
        assert audit_count("account.invitation_accepted", invitee.id) == 1

        again = app.test_client().get(invitation)
        assert again.status_code == 400
        assert INVALID_LINK in page(again)
        assert location(post_login(app.test_client(), invitee.email, NEW_PASSWORD)) == "/hr/"

    def test_admin_invites_a_trainer(
        self, app: Flask, admin: User, company: PartnerCompany, outbox: list[mail.Message]
    ) -> None:
        client = logged_in(app.test_client(), admin)
        response = client.post(
            "/admin/users/invite",
            data={"name": "Tom", "email": "tom@skillsup.test", "role": "trainer", "company": "0"},
        )
        assert location(response) == "/admin/users"
        invitation = link_path(outbox[0], "/invitation/")
        trainer_client = app.test_client()
        response = trainer_client.post(
            invitation, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        )
        assert location(response) == "/trainer/"
        assert trainer_client.get("/trainer/").status_code == 200

    def test_admin_invite_of_a_taken_address(
        self, client: FlaskClient, admin: User, learner: User, company: PartnerCompany
    ) -> None:
        logged_in(client, admin)
        before = user_count()
        response = client.post(
            "/admin/users/invite",
            data={
                "name": "Amy",
                "email": "Amy.Chan@harbour-it.test",
                "role": "learner",
                "company": str(company.id),
            },
        )
        assert response.status_code == 200
        assert "Someone with this e-mail address already has an account." in page(response)
        assert user_count() == before

    def test_hr_invites_a_learner_of_their_company(
        self,
        app: Flask,
        make: Factory,
        hr_officer: User,
        company: PartnerCompany,
        outbox: list[mail.Message],
    ) -> None:
        other = make.company()
        client = logged_in(app.test_client(), hr_officer)
        assert client.get("/hr/staff/invite").status_code == 200
        response = client.post(
            "/hr/staff/invite",
            data={
                "name": "Frank Lam",
                "email": "frank.lam@harbour-it.test",
                "staff_number": "E-200",
                # Fields the form does not have: they must change nothing.
                "role": "hr",
                "company": str(other.id),
            },
        )
        assert location(response) == "/hr/"
        invitee = db.session.scalar(select(User).where(User.email == "frank.lam@harbour-it.test"))
        assert invitee is not None
        assert invitee.role is Role.LEARNER
        assert invitee.company_id == company.id
        assert audit_count("account.invited", invitee.id) == 1
        learner_client = app.test_client()
        response = learner_client.post(
            link_path(outbox[0], "/invitation/"),
            data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert location(response) == "/my-learning"
        assert learner_client.get("/my-learning").status_code == 200

    def test_hr_invitation_outside_the_company_domains_is_refused_on_the_form(
        self, app: Flask, hr_officer: User, outbox: list[mail.Message]
    ) -> None:
        before = user_count()
        client = logged_in(app.test_client(), hr_officer)
        response = client.post(
            "/hr/staff/invite", data={"name": "Frank Lam", "email": "frank@gmail.test"}
        )
        assert response.status_code == 200
        assert "The address is not at your company's e-mail domain (harbour-it.test)." in page(
            response
        )
        assert user_count() == before
        assert outbox == []

    def test_others_cannot_invite(
        self, app: Flask, hr_officer: User, learner: User, outbox: list[mail.Message]
    ) -> None:
        before = user_count()
        hr_client = logged_in(app.test_client(), hr_officer)
        response = hr_client.post(
            "/admin/users/invite",
            data={"name": "X", "email": "x@skillsup.test", "role": "admin", "company": "0"},
        )
        assert response.status_code == 403
        learner_client = logged_in(app.test_client(), learner)
        response = learner_client.post(
            "/hr/staff/invite", data={"name": "X", "email": "x@harbour-it.test"}
        )
        assert response.status_code == 403
        assert user_count() == before
        assert outbox == []


def test_pages_with_choice_fields_raise_no_warnings(client: FlaskClient, admin: User) -> None:
    # (Choices given as tuples are deprecated in wtforms 3.3; warnings are errors here.)
    logged_in(client, admin)
    for path in ["/account", "/admin/users/invite", "/admin/users"]:
        assert client.get(path).status_code == 200, path


# Password reset ---------------------------------------------------------------------------


def ask_for_reset(client: FlaskClient, address: str) -> TestResponse:
    return client.post("/forgot-password", data={"email": address})


class TestPasswordReset:
    def test_answer_is_the_same_for_known_and_unknown_addresses(
        self, app: Flask, make: Factory, learner: User, outbox: list[mail.Message]
    ) -> None:
        gone = make.user(company=learner.company, is_active=False)
        answers = {}
        for address in [learner.email, "nobody@harbour-it.test", gone.email]:
            client = app.test_client()
            response = ask_for_reset(client, address)
            answers[address] = (response.status_code, location(response))
            assert flashes(client.get("/login")) == [FORGOT_FLASH]
        assert len(set(answers.values())) == 1
        assert [m.to for m in outbox] == [learner.email]

    def test_the_request_runs_the_same_statements_for_known_and_unknown_addresses(
        self, app: Flask, make: Factory, learner: User
    ) -> None:
        """The request writes the reset link's outbox row and nothing else, whatever the
        address: whether it has an account is looked up when the message is written."""
        # As in production: the request only queues; `flask send-mail` delivers.
        app.config["MAIL_DELIVER_IN_REQUEST"] = False
        gone = make.user(company=learner.company, is_active=False)
        answers = {}
        for address in [learner.email, "nobody@harbour-it.test", gone.email, "Nobody@Else.test"]:
            client = app.test_client()
            with recorded_statements() as statements:
                response = ask_for_reset(client, address)
            kinds = Counter(statement.split(None, 1)[0].upper() for statement in statements)
            answers[address] = (
                response.status_code,
                location(response),
                flashes(client.get("/login")),
                sorted(kinds.items()),
                statements,
            )
        assert len({repr(answer) for answer in answers.values()}) == 1, answers
        status, path, shown, kinds, [statement] = answers[learner.email]
        assert (status, path, shown, kinds) == (302, "/login", [FORGOT_FLASH], [("INSERT", 1)])
        assert "outbox_messages" in statement

    def test_reset_with_the_link(
        self, app: Flask, client: FlaskClient, learner: User, outbox: list[mail.Message]
    ) -> None:
        assert client.get("/forgot-password").status_code == 200
        ask_for_reset(client, "Amy.Chan@Harbour-IT.test")
        [message] = outbox
        assert message.to == learner.email
        reset = link_path(message, "/reset-password/")

        assert client.get(reset).status_code == 200
        mismatch = client.post(reset, data={"password": NEW_PASSWORD, "confirm": "other"})
        assert mismatch.status_code == 200
        assert "The passwords do not match." in page(mismatch)
        weak = client.post(reset, data={"password": "qwertyuiop", "confirm": "qwertyuiop"})
        assert weak.status_code == 200
        assert "too common" in page(weak)

        response = client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert location(response) == "/login"
        assert "Your password has been changed. Log in with the new one." in flashes(
            client.get("/login")
        )
        assert audit_count("account.password_reset", learner.id) == 1
        assert post_login(app.test_client(), learner.email, PASSWORD).status_code == 200
        assert location(post_login(app.test_client(), learner.email, NEW_PASSWORD)) == (
            "/my-learning"
        )

        for method in (client.get, client.post):
            again = method(reset, data={"password": "third passphrase!", "confirm": "x"})
            assert again.status_code == 400
            assert INVALID_LINK in page(again)

    def test_link_expires_after_an_hour(
        self, app: Flask, client: FlaskClient, learner: User, outbox: list[mail.Message]
    ) -> None:
        assert app.config["PASSWORD_RESET_MAX_AGE"] == 3600
        start = time.time()
        with time_machine.travel(start, tick=False):
            ask_for_reset(client, learner.email)
        reset = link_path(outbox[0], "/reset-password/")
        with time_machine.travel(start + 3590, tick=False):
            assert client.get(reset).status_code == 200
        with time_machine.travel(start + 3610, tick=False):
            expired = client.get(reset)
            assert expired.status_code == 400
            assert INVALID_LINK in page(expired)
            assert "This link has expired. Ask for a new one." in page(expired)
            response = client.post(reset, data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
            assert response.status_code == 400
        assert passwords.verify_password(fresh(learner).password_hash, PASSWORD)

    def test_reset_ends_every_session(
        self, app: Flask, learner: User, outbox: list[mail.Message]
    ) -> None:
        stolen_laptop = logged_in(app.test_client(), learner)
        client = app.test_client()
        ask_for_reset(client, learner.email)
        client.post(
            link_path(outbox[0], "/reset-password/"),
            data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD},
        )
        assert location(stolen_laptop.get("/my-learning")) == "/login?next=%2Fmy-learning"

    def test_forged_links(self, client: FlaskClient, learner: User) -> None:
        paths = [
            "/reset-password/forged",
            "/reset-password/eyJ1IjoxLCJmIjoiMDAwIn0.Zz9aQQ.AAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "/invitation/forged",
            "/confirm/forged",
        ]
        data = {"password": NEW_PASSWORD, "confirm": NEW_PASSWORD}
        for path in paths:
            for response in (client.get(path), client.post(path, data=data)):
                assert response.status_code == 400, path
                assert INVALID_LINK in page(response)
        assert passwords.verify_password(fresh(learner).password_hash, PASSWORD)

    def test_malformed_form(self, client: FlaskClient, company: PartnerCompany) -> None:
        for data in ({}, {"email": "x" * 300}, {"email": "not an address"}):
            response = client.post("/forgot-password", data=data)
            assert response.status_code == 200
            assert FORM_ERRORS in page(response)


# Changing the password, deactivation ------------------------------------------------------


def change_password(client: FlaskClient, current: str, new: str, confirm: str | None = None) -> Any:
    return client.post(
        "/account/password",
        data={"current_password": current, "password": new, "confirm": confirm or new},
    )


class TestChangePassword:
    def test_a_refused_change_shows_the_saved_preferences_as_they_are(
        self, app: Flask, learner: User
    ) -> None:
        client = logged_in(app.test_client(), learner)
        response = change_password(client, "not my password", NEW_PASSWORD)
        assert response.status_code == 400
        boxes = re.findall(r"<input[^>]*type=\"checkbox\"[^>]*>", page(response))
        assert len(boxes) == 2
        assert all("checked" in box for box in boxes), boxes

    def test_change_ends_other_sessions_but_not_this_one(self, app: Flask, learner: User) -> None:
        laptop = logged_in(app.test_client(), learner)
        phone = logged_in(app.test_client(), learner)
        assert laptop.get("/account").status_code == 200
        response = change_password(laptop, PASSWORD, NEW_PASSWORD)
        assert location(response) == "/account"
        assert (
            "Your password has been changed. You have been logged out everywhere else."
            in flashes(laptop.get("/account"))
        )
        assert laptop.get("/my-learning").status_code == 200
        assert location(phone.get("/my-learning")) == "/login?next=%2Fmy-learning"
        assert audit_count("account.password_changed", learner.id) == 1
        stored = fresh(learner).password_hash
        assert stored is not None and stored.startswith("$argon2id$")
        assert location(post_login(phone, learner.email, NEW_PASSWORD)) == "/my-learning"

    def test_refused_change_keeps_everything(
        self, app: Flask, learner: User, subtests: Any
    ) -> None:
        laptop = logged_in(app.test_client(), learner)
        phone = logged_in(app.test_client(), learner)
        cases: list[tuple[str, str, str | None, str]] = [
            ("not the password", NEW_PASSWORD, None, "The current password is not correct."),
            (PASSWORD, "password123", None, "too common"),
            (PASSWORD, PASSWORD, None, "Choose a password different from the current one."),
            (PASSWORD, NEW_PASSWORD, "different", "The passwords do not match."),
            (PASSWORD, "p" * 10_000, None, FORM_ERRORS),
            ("", NEW_PASSWORD, None, FORM_ERRORS),
        ]
        for current, new, confirm, message in cases:
            with subtests.test(message=message):
                response = change_password(laptop, current, new, confirm)
                assert response.status_code == 400
                assert message in page(response)
                assert is_logged_in(laptop) and is_logged_in(phone)
                assert passwords.verify_password(fresh(learner).password_hash, PASSWORD)
        assert audit_count("account.password_changed") == 0
        assert fresh(learner).session_version == 1

    def test_account_page(self, client: FlaskClient, learner: User) -> None:
        logged_in(client, learner)
        response = client.get("/account")
        assert response.status_code == 200
        assert learner.email in page(response)
        assert 'name="current_password"' in page(response)

    def test_account_page_shows_a_new_address_waiting_for_confirmation(
        self, client: FlaskClient, learner: User
    ) -> None:
        logged_in(client, learner)
        assert "waiting for confirmation" not in page(client.get("/account"))
        fresh(learner).pending_email = "amy.new@harbour-it.test"
        db.session.commit()
        text = page(client.get("/account"))
        assert learner.email in text
        assert (
            "Changing to amy.new@harbour-it.test: waiting for confirmation at that address." in text
        )

    def test_needs_a_login(self, client: FlaskClient, learner: User) -> None:
        response = change_password(client, PASSWORD, NEW_PASSWORD)
        assert location(response).startswith("/login")
        assert passwords.verify_password(fresh(learner).password_hash, PASSWORD)


class TestDeactivation:
    def test_deactivation_ends_every_session(self, app: Flask, admin: User, learner: User) -> None:
        laptop = logged_in(app.test_client(), learner)
        phone = logged_in(app.test_client(), learner)
        admin_client = logged_in(app.test_client(), admin)
        response = admin_client.post(
            f"/admin/users/{learner.id}/deactivate", data={"reason": "left the company"}
        )
        assert location(response) == "/admin/users"
        assert f"{learner.name} has been deactivated and logged out everywhere." in flashes(
            admin_client.get("/admin/users")
        )
        for device in (laptop, phone):
            assert location(device.get("/my-learning")) == "/login?next=%2Fmy-learning"
        response = post_login(laptop, learner.email, PASSWORD)
        assert response.status_code == 200
        assert "This account has been deactivated." in page(response)
        entry = db.session.scalar(
            select(AuditEntry).where(AuditEntry.action == "account.deactivated")
        )
        assert entry is not None
        assert (entry.actor_id, entry.object_id) == (admin.id, learner.id)
        assert entry.details == {"reason": "left the company"}

    def test_admin_cannot_deactivate_themselves(self, client: FlaskClient, admin: User) -> None:
        logged_in(client, admin)
        response = client.post(f"/admin/users/{admin.id}/deactivate", follow_redirects=True)
        assert response.status_code == 200
        assert "You are not allowed to do that." in flashes(response)
        assert fresh(admin).is_active
        assert is_logged_in(client)

    def test_learner_cannot_deactivate(
        self, client: FlaskClient, make: Factory, learner: User
    ) -> None:
        other = make.user(company=learner.company)
        logged_in(client, learner)
        assert client.post(f"/admin/users/{other.id}/deactivate").status_code == 403
        assert fresh(other).is_active

    def test_unknown_user_is_404(self, client: FlaskClient, admin: User) -> None:
        logged_in(client, admin)
        assert client.post("/admin/users/999999/deactivate").status_code == 404


# E-mail through a real SMTP server --------------------------------------------------------


class RecordingHandler:
    """An aiosmtpd handler that keeps every envelope it receives."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class TestRealSmtp:
    @pytest.fixture
    def smtp(self) -> Iterator[tuple[RecordingHandler, int]]:
        from aiosmtpd.controller import Controller

        handler = RecordingHandler()
        port = free_port()
        controller = Controller(handler, hostname="127.0.0.1", port=port)
        controller.start()
        try:
            yield handler, port
        finally:
            controller.stop()

    @pytest.fixture
    def app_config(self, smtp: tuple[RecordingHandler, int]) -> dict[str, Any]:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": smtp[1]}

    def test_reset_link_arrives_by_smtp(
        self, app: Flask, smtp: tuple[RecordingHandler, int], learner: User
    ) -> None:
        handler, _port = smtp
        client = app.test_client()
        assert location(ask_for_reset(client, learner.email)) == "/login"
        [envelope] = handler.envelopes
        assert envelope.rcpt_tos == [learner.email]
        message = email.message_from_bytes(envelope.content, policy=policy.default)
        assert message["To"] == learner.email
        assert message["Subject"] == "Reset your SkillsUp password"
        assert "no-reply@skillsup.test" in message["From"]
        body = message.get_body(("plain",))
        assert body is not None
        paths = LINK.findall(body.get_content())
        assert len(paths) == 1 and paths[0].startswith("/reset-password/")

        response = client.post(paths[0], data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
        assert location(response) == "/login"
        assert location(post_login(client, learner.email, NEW_PASSWORD)) == "/my-learning"

    def test_nothing_is_sent_for_a_refused_registration(
        self, client: FlaskClient, smtp: tuple[RecordingHandler, int], company: PartnerCompany
    ) -> None:
        assert register(client, password="short", confirm="short").status_code == 200
        assert smtp[0].envelopes == []


class TestSmtpDown:
    @pytest.fixture
    def app_config(self) -> dict[str, Any]:
        return {"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": free_port(), "MAIL_TIMEOUT": 2}

    def test_mail_failure_does_not_undo_the_change_or_fail_the_page(
        self, client: FlaskClient, company: PartnerCompany, outbox: list[mail.Message]
    ) -> None:
        response = register(client)
        assert location(response) == "/login"
        assert outbox == []  # nothing was delivered ...
        user = db.session.scalar(select(User).where(User.email == "bob.lee@harbour-it.test"))
        assert user is not None  # ... but the registration stands


def test_a_signed_in_request_loads_the_session_the_user_and_their_company_in_one_query(
    client, login_as, learner
):
    login_as(learner)
    with recorded_statements() as statements:
        response = client.get("/")
    assert response.status_code == 302  # to the learner's home page
    assert len(statements) == 1, statements
    statement = statements[0]
    assert "FROM user_sessions" in statement
    assert "JOIN users" in statement and "partner_companies" in statement
