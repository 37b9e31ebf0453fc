"""Where people are logged in: the record of each session, and the account page's list of
them, where a person ends the sessions of their other devices."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import Any

import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select, update

from skillsup.devices import device_name
from skillsup.extensions import db
from skillsup.models import AuditEntry, User, UserSession, utcnow
from skillsup.services import accounts, user_sessions
from skillsup.services.errors import NotFound

from .factories import PASSWORD, Factory

CHROME_ON_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_ON_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_ON_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HOST = "skillsup.test"
REMEMBER_COOKIE = "skillsup_remember"
SESSION_COOKIE = "skillsup_session"
FLASH = re.compile(r'<p class="flash flash-(\w+)">(.*?)</p>', re.S)


def page(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def flashes(response: Any) -> list[str]:
    return [html.unescape(text).strip() for _, text in FLASH.findall(response.get_data(True))]


def device(app: Flask, user: User, browser: str, *, remember: bool = False) -> FlaskClient:
    """A new browser, logged in as ``user``."""
    client = app.test_client()
    client.environ_base["HTTP_USER_AGENT"] = browser
    data = {"email": user.email, "password": PASSWORD}
    if remember:
        data["remember"] = "y"
    response = client.post("/login", data=data)
    assert response.status_code == 302, page(response)
    return client


def is_logged_in(client: FlaskClient) -> bool:
    response = client.get("/login")
    return response.status_code == 302


def records(user: User) -> list[UserSession]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            select(UserSession).where(UserSession.user_id == user.id).order_by(UserSession.id)
        )
    )


def audit_count(action: str) -> int:
    statement = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == action)
    return db.session.scalar(statement) or 0


def fresh(user: User) -> User:
    db.session.expire_all()
    found = db.session.get(User, user.id)
    assert found is not None
    return found


# Starting, finding and noting activity -------------------------------------------------------


class TestStart:
    def test_a_session_keeps_a_hash_of_its_secret_and_what_it_was_started_with(
        self, learner: User
    ) -> None:
        started = user_sessions.start(
            learner,
            method="invitation",
            remember=True,
            ip_address="203.0.113.9",
            user_agent="x" * 1000,
        )
        db.session.commit()
        record = records(learner)[0]
        assert record.secret_hash == user_sessions.hash_secret(started.secret)
        assert started.secret not in record.secret_hash
        assert (record.method, record.remember, record.ip_address) == (
            "invitation",
            True,
            "203.0.113.9",
        )
        assert record.user_agent == "x" * 255
        assert record.session_version == learner.session_version
        assert record.ended_at is None and record.last_seen_at == record.started_at
        found = user_sessions.find_alive(started.secret)
        assert found is not None and found.id == record.id and found.user.id == learner.id

    def test_an_unknown_or_malformed_secret_finds_nobody(self, learner: User) -> None:
        user_sessions.start(learner)
        db.session.commit()
        for secret in (None, "", "nope", f"{learner.id}:1", "x" * 5000):
            assert user_sessions.find_alive(secret) is None

    def test_a_method_must_be_a_short_name(self, learner: User) -> None:
        for method in ("", "m" * 21):
            with pytest.raises(ValueError):
                user_sessions.start(learner, method=method)
        assert records(learner) == []

    def test_a_holder_who_may_no_longer_log_in_is_found_by_no_session(self, learner: User) -> None:
        secret = user_sessions.start(learner).secret
        learner.is_active = False
        db.session.commit()
        assert user_sessions.find_alive(secret) is None


class TestTouch:
    def test_last_seen_is_written_at_most_once_a_minute(self, learner: User) -> None:
        now = utcnow()
        started = user_sessions.start(
            learner, ip_address="192.0.2.1", user_agent=CHROME_ON_WINDOWS, now=now
        )
        db.session.commit()
        record = started.record
        soon = now + timedelta(seconds=59)
        assert not user_sessions.touch(
            record, ip_address="192.0.2.2", user_agent=FIREFOX_ON_LINUX, now=soon
        )
        db.session.commit()
        assert records(learner)[0].ip_address == "192.0.2.1"
        later = now + timedelta(minutes=1)
        assert user_sessions.touch(
            record, ip_address="192.0.2.2", user_agent=FIREFOX_ON_LINUX, now=later
        )
        db.session.commit()
        saved = records(learner)[0]
        assert (saved.last_seen_at, saved.ip_address, saved.user_agent) == (
            later,
            "192.0.2.2",
            FIREFOX_ON_LINUX,
        )


class TestIdleSessions:
    def test_a_session_idle_past_the_session_lifetime_counts_as_ended(
        self, app: Flask, learner: User
    ) -> None:
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
        now = utcnow()
        secret = user_sessions.start(learner, now=now).secret
        db.session.commit()
        almost = now + lifetime
        assert user_sessions.find_alive(secret, now=almost) is not None
        assert len(user_sessions.active_sessions(learner, now=almost)) == 1
        idle = now + lifetime + timedelta(minutes=2)
        assert user_sessions.find_alive(secret, now=idle) is None
        assert user_sessions.active_sessions(learner, now=idle) == []

    def test_a_remembered_session_lives_as_long_as_its_remember_me_cookie(
        self, app: Flask, learner: User
    ) -> None:
        remembered = app.config["REMEMBER_COOKIE_DURATION"]
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
        now = utcnow()
        started = user_sessions.start(learner, remember=True, now=now)
        db.session.commit()
        assert user_sessions.find_alive(started.secret, now=now + remembered / 2) is not None
        # Past the cookie's life and idle past the session's: ended.
        gone = now + remembered + lifetime + timedelta(minutes=2)
        assert user_sessions.find_alive(started.secret, now=gone) is None
        # Past the cookie's life but used an hour ago: the session cookie still lives.
        user_sessions.touch(
            started.record, ip_address=None, user_agent=None, now=gone - timedelta(hours=1)
        )
        db.session.commit()
        assert user_sessions.find_alive(started.secret, now=gone) is not None
        assert len(user_sessions.active_sessions(learner, now=gone)) == 1

    def test_a_session_begun_under_an_older_session_version_is_over(self, learner: User) -> None:
        secret = user_sessions.start(learner).secret
        learner.session_version += 1
        db.session.commit()
        assert user_sessions.find_alive(secret) is None
        assert user_sessions.active_sessions(learner) == []


# Ending -------------------------------------------------------------------------------------


class TestEnd:
    def test_ending_a_session_of_another_device(self, learner: User) -> None:
        laptop = user_sessions.start(learner, user_agent=CHROME_ON_WINDOWS)
        phone = user_sessions.start(learner, user_agent=SAFARI_ON_IPHONE)
        db.session.commit()
        assert user_sessions.end(learner, phone.record, current=laptop.record)
        db.session.commit()
        assert user_sessions.find_alive(phone.secret) is None
        assert user_sessions.find_alive(laptop.secret) is not None
        assert [r.id for r in user_sessions.active_sessions(learner)] == [laptop.record.id]
        assert audit_count("auth.session_ended") == 1
        # Once is enough: again changes nothing and records nothing.
        assert not user_sessions.end(learner, phone.record, current=laptop.record)
        assert audit_count("auth.session_ended") == 1

    def test_another_persons_session_is_not_there(self, make: Factory, learner: User) -> None:
        colleague = make.user(company=learner.company)
        theirs = user_sessions.start(colleague)
        db.session.commit()
        with pytest.raises(NotFound):
            user_sessions.find_own(learner, theirs.record.id)
        with pytest.raises(NotFound):
            user_sessions.find_own(learner, theirs.record.id + 1000)
        with pytest.raises(NotFound):
            user_sessions.end(learner, theirs.record)
        with pytest.raises(NotFound):
            user_sessions.end_others(learner, theirs.record)
        assert user_sessions.find_alive(theirs.secret) is not None

    def test_ending_every_other_session(self, make: Factory, learner: User) -> None:
        colleague = make.user(company=learner.company)
        theirs = user_sessions.start(colleague)
        here = user_sessions.start(learner)
        others = [user_sessions.start(learner) for _ in range(2)]
        db.session.commit()
        assert user_sessions.end_others(learner, here.record) == 2
        db.session.commit()
        assert all(user_sessions.find_alive(other.secret) is None for other in others)
        assert user_sessions.find_alive(here.secret) is not None
        assert user_sessions.find_alive(theirs.secret) is not None
        assert audit_count("auth.other_sessions_ended") == 1
        # Nothing left to end: nothing recorded.
        assert user_sessions.end_others(learner, here.record) == 0
        assert audit_count("auth.other_sessions_ended") == 1

    def test_ending_every_session_marks_each_ended_and_a_new_one_carries_on(
        self, learner: User
    ) -> None:
        old = [user_sessions.start(learner) for _ in range(2)]
        db.session.commit()
        accounts.end_all_sessions(learner)
        new = user_sessions.start(learner)
        db.session.commit()
        assert all(user_sessions.find_alive(s.secret) is None for s in old)
        assert all(r.ended_at is not None for r in records(learner)[:2])
        assert [r.id for r in user_sessions.active_sessions(learner)] == [new.record.id]
        assert new.record.session_version == fresh(learner).session_version == 2


class TestPrune:
    def test_a_sign_in_deletes_the_persons_sessions_over_ninety_days_past(
        self, make: Factory, learner: User
    ) -> None:
        colleague = make.user(company=learner.company)
        now = utcnow()
        long_ago = now - timedelta(days=200)
        ended_long_ago = user_sessions.start(learner, now=long_ago)
        ended_long_ago.record.ended_at = now - timedelta(days=91)
        ended_lately = user_sessions.start(learner, now=long_ago)
        ended_lately.record.ended_at = now - timedelta(days=89)
        idle_long_ago = user_sessions.start(learner, now=now - timedelta(days=92))
        remembered = user_sessions.start(learner, remember=True, now=now - timedelta(days=110))
        idle_lately = user_sessions.start(learner, now=now - timedelta(days=85))
        theirs = user_sessions.start(colleague, now=long_ago)
        theirs.record.ended_at = now - timedelta(days=150)
        db.session.commit()
        ids = {
            name: started.record.id
            for name, started in [
                ("ended long ago", ended_long_ago),
                ("ended lately", ended_lately),
                ("idle long ago", idle_long_ago),
                ("remembered", remembered),
                ("idle lately", idle_lately),
                ("theirs", theirs),
            ]
        }

        user_sessions.start(learner, now=now)
        db.session.commit()

        kept = {r.id for r in records(learner)}
        assert ids["ended long ago"] not in kept
        assert ids["idle long ago"] not in kept
        assert ids["remembered"] not in kept  # its cookie died 96 days ago
        assert {ids["ended lately"], ids["idle lately"]} <= kept
        assert len(kept) == 3
        assert [r.id for r in records(colleague)] == [ids["theirs"]]


def test_device_names(app: Flask) -> None:
    from flask_babel import force_locale

    assert device_name(CHROME_ON_WINDOWS) == "Chrome on Windows"
    assert device_name(SAFARI_ON_IPHONE) == "Safari on iPhone"
    assert device_name(FIREFOX_ON_LINUX) == "Firefox on Linux"
    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Mobile Safari/537.36"
    )
    assert device_name(android) == "Chrome on Android"
    mac = (
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
        "(KHTML, like Gecko) Version/17.5 Safari/605.1.15"
    )
    assert device_name(mac) == "Safari on macOS"
    for unknown in (None, "", "Werkzeug/3.1", "\u00e9\u00e9\u00e9"):
        assert device_name(unknown) == "Unknown device"
    with app.test_request_context(), force_locale("zh_Hant_HK"):
        assert device_name(CHROME_ON_WINDOWS) == "Windows 上的 Chrome"
        assert device_name(None) == "不明裝置"


# The account page -----------------------------------------------------------------------------


class TestAccountPage:
    def test_the_page_lists_each_live_session_with_this_device_first(
        self, app: Flask, learner: User
    ) -> None:
        phone = device(app, learner, SAFARI_ON_IPHONE)
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone.post("/logout")  # ends every session: the list starts afresh
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        body = page(laptop.get("/account"))
        section = body[body.index('id="sessions-section"') :]
        assert section.index("Chrome on Windows") < section.index("Safari on iPhone")
        assert section.count("This device") == 1
        assert section.count("With a password") == 2
        assert "127.0.0.1" in section
        assert "End all other sessions" in section
        phone_id = next(r for r in records(learner) if r.ended_at is None).id
        assert f"/account/sessions/{phone_id}/end" in section

    def test_alone_there_is_nothing_else_to_end(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, "Werkzeug/3.1")
        section = page(laptop.get("/account")).split('id="sessions-section"')[1]
        assert "Unknown device" in section
        assert "End all other sessions" not in section
        assert "You are not logged in anywhere else." in section

    def test_chinese(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        device(app, learner, SAFARI_ON_IPHONE)
        body = page(laptop.get("/account", headers={"Accept-Language": "zh-HK"}))
        assert "Windows 上的 Chrome" in body and "iPhone 上的 Safari" in body
        assert "此裝置" in body and "登出所有其他裝置" in body


class TestEndingSessions:
    def test_one_device_logs_the_other_out_remember_me_included(
        self, app: Flask, learner: User
    ) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        assert phone.get_cookie(REMEMBER_COOKIE, domain=HOST) is not None
        phone_record = records(learner)[-1]

        response = laptop.post(f"/account/sessions/{phone_record.id}/end", follow_redirects=True)
        assert response.status_code == 200
        assert "The session on Safari on iPhone has ended: it is logged out." in flashes(response)
        assert "Safari on iPhone" not in page(response).split('id="sessions-section"')[1]
        assert is_logged_in(laptop)
        # Its remember-me cookie is worthless too (the browser closed: no session cookie),
        # and is cleared.
        phone.delete_cookie(SESSION_COOKIE, domain=HOST)
        assert phone.get_cookie(REMEMBER_COOKIE, domain=HOST) is not None
        assert phone.get("/my-learning").status_code == 302
        assert phone.get_cookie(REMEMBER_COOKIE, domain=HOST) is None
        assert not is_logged_in(phone)
        assert records(learner)[-1].ended_at is not None
        assert audit_count("auth.session_ended") == 1

    def test_a_remember_me_cookie_alone_keeps_a_live_session(
        self, app: Flask, learner: User
    ) -> None:
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        phone.delete_cookie(SESSION_COOKIE, domain=HOST)
        assert phone.get("/my-learning").status_code == 200

    def test_ending_every_other_session(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        tablet = device(app, learner, FIREFOX_ON_LINUX)
        response = laptop.post("/account/sessions/end-others", follow_redirects=True)
        assert "2 other sessions have ended: they are logged out." in flashes(response)
        assert is_logged_in(laptop)
        assert not is_logged_in(phone) and not is_logged_in(tablet)
        phone.delete_cookie(SESSION_COOKIE, domain=HOST)
        assert phone.get("/my-learning").status_code == 302
        assert len(user_sessions.active_sessions(fresh(learner))) == 1
        again = laptop.post("/account/sessions/end-others", follow_redirects=True)
        assert "You were not logged in anywhere else." in flashes(again)
        assert audit_count("auth.other_sessions_ended") == 1

    def test_another_persons_session_is_not_found(
        self, app: Flask, make: Factory, learner: User
    ) -> None:
        colleague = make.user(company=learner.company)
        mine = device(app, learner, CHROME_ON_WINDOWS)
        theirs = device(app, colleague, SAFARI_ON_IPHONE)
        their_record = records(colleague)[0]
        response = mine.post(f"/account/sessions/{their_record.id}/end")
        assert response.status_code == 404
        assert is_logged_in(theirs)
        assert records(colleague)[0].ended_at is None

    def test_bad_ids_are_not_found(self, app: Flask, learner: User) -> None:
        mine = device(app, learner, CHROME_ON_WINDOWS)
        for bad in ("0", "999999", "abc", "-1", "1.5", "9" * 40, "%00"):
            response = mine.post(f"/account/sessions/{bad}/end")
            assert response.status_code in (400, 404), bad
            assert response.status_code != 500
        assert mine.get("/account/sessions/1/end").status_code == 405
        assert is_logged_in(mine)

    def test_ending_this_devices_session_is_logging_out(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        record = records(learner)[0]
        response = laptop.post(f"/account/sessions/{record.id}/end", follow_redirects=True)
        assert "You have logged out." in flashes(response)
        assert not is_logged_in(laptop)
        assert records(learner)[0].ended_at is not None

    def test_ending_a_session_that_has_ended(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone = device(app, learner, SAFARI_ON_IPHONE)
        phone_record = records(learner)[-1]
        laptop.post(f"/account/sessions/{phone_record.id}/end")
        response = laptop.post(f"/account/sessions/{phone_record.id}/end", follow_redirects=True)
        assert "That session had ended already." in flashes(response)
        assert not is_logged_in(phone)
        assert audit_count("auth.session_ended") == 1

    def test_anonymous_visitors_log_in_first(self, app: Flask, client: FlaskClient) -> None:
        response = client.post("/account/sessions/end-others")
        assert response.status_code == 302
        assert "/login" in response.headers["Location"]


class TestWhatEndsSessions:
    def test_a_password_change_ends_the_others_and_keeps_this_one(
        self, app: Flask, learner: User
    ) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        response = laptop.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "password": "a different long passphrase",
                "confirm": "a different long passphrase",
            },
        )
        assert response.status_code == 302
        assert is_logged_in(laptop) and not is_logged_in(phone)
        phone.delete_cookie(SESSION_COOKIE, domain=HOST)
        assert phone.get("/my-learning").status_code == 302
        section = page(laptop.get("/account")).split('id="sessions-section"')[1]
        assert "Chrome on Windows" in section and "Safari on iPhone" not in section
        alive = [r for r in records(learner) if r.ended_at is None]
        assert len(alive) == 1 and alive[0].session_version == 2

    def test_the_fresh_session_after_a_change_begins_as_the_ended_one_did(
        self, app: Flask, learner: User
    ) -> None:
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        db.session.execute(
            update(UserSession).where(UserSession.user_id == learner.id).values(method="sso")
        )
        db.session.commit()
        response = phone.post(
            "/account/password",
            data={
                "current_password": PASSWORD,
                "password": "a different long passphrase",
                "confirm": "a different long passphrase",
            },
        )
        assert response.status_code == 302
        alive = [r for r in records(learner) if r.ended_at is None]
        assert len(alive) == 1
        assert (alive[0].method, alive[0].remember) == ("sso", True)

    def test_logging_out_ends_the_record(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        laptop.post("/logout")
        assert [r.ended_at is not None for r in records(learner)] == [True]
        assert user_sessions.active_sessions(fresh(learner)) == []

    def test_deactivation_ends_every_session(
        self, app: Flask, learner: User, hr_officer: User
    ) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS)
        phone = device(app, learner, SAFARI_ON_IPHONE, remember=True)
        accounts.set_active(hr_officer, learner, False)
        db.session.commit()
        assert all(r.ended_at is not None for r in records(learner))
        assert not is_logged_in(laptop) and not is_logged_in(phone)
        # Reactivated, the old sessions stay ended.
        accounts.set_active(hr_officer, fresh(learner), True)
        db.session.commit()
        assert not is_logged_in(laptop)

    def test_an_idle_session_is_logged_out_and_not_listed(self, app: Flask, learner: User) -> None:
        laptop = device(app, learner, CHROME_ON_WINDOWS, remember=True)
        phone = device(app, learner, SAFARI_ON_IPHONE)
        lifetime = app.config["PERMANENT_SESSION_LIFETIME"]
        with time_machine.travel(utcnow() + lifetime + timedelta(minutes=5), tick=False):
            section = page(laptop.get("/account")).split('id="sessions-section"')[1]
            assert "Safari on iPhone" not in section and "Chrome on Windows" in section
            assert not is_logged_in(phone)


def test_requests_note_when_and_where_a_session_was_last_seen(app: Flask, learner: User) -> None:
    laptop = device(app, learner, CHROME_ON_WINDOWS)
    started = records(learner)[0].last_seen_at
    laptop.environ_base["HTTP_USER_AGENT"] = FIREFOX_ON_LINUX
    laptop.get("/my-learning")
    assert records(learner)[0].last_seen_at == started  # within the minute: nothing written
    later = utcnow() + timedelta(minutes=3)
    with time_machine.travel(later, tick=False):
        assert laptop.get("/my-learning").status_code == 200
    record = records(learner)[0]
    assert record.last_seen_at == later.replace(microsecond=later.microsecond)
    assert record.user_agent == FIREFOX_ON_LINUX and record.ip_address == "127.0.0.1"


def test_accepting_an_invitation_starts_a_session_by_invitation(
    app: Flask, make: Factory, company: Any
) -> None:
    from skillsup.services.tokens import Purpose, make_token

    invitee = make.user(
        company=company, password=None, email_confirmed_at=None, invited_at=utcnow()
    )
    token = make_token(invitee, Purpose.INVITATION)
    client = app.test_client()
    response = client.post(
        f"/invitation/{token}",
        data={"password": "a long new passphrase", "confirm": "a long new passphrase"},
    )
    assert response.status_code == 302
    assert [r.method for r in records(invitee)] == ["invitation"]
    body = page(client.get("/account"))
    assert "On accepting an invitation" in body
