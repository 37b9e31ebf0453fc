"""What happens once the first factor of a sign-in (a password, company single sign-on) has
succeeded: the session starts, or a second factor is asked for first.

Someone who has turned two-factor sign-in on is always asked for a code; an admin or HR
officer without it, while the portal requires it (``REQUIRE_TWO_FACTOR``), sets it up first.
Meanwhile the session holds only a short-lived *pending sign-in* (who, their session version,
"keep me signed in", the first factor's method, when, the page asked for): nobody is signed in,
so every other page treats the visitor as signed out, and the two-factor pages
(:mod:`skillsup.auth.two_factor`) are the only ones it opens. It ends after
:data:`PENDING_SECONDS`, or at once when the person's sessions are ended (a password change
bumps the session version it holds).
"""

from __future__ import annotations

import enum
import time
from dataclasses import asdict, dataclass
from typing import Any

from flask import current_app, redirect, request, session, url_for
from flask_login import login_user
from werkzeug.wrappers import Response

from ..extensions import db
from ..models import User
from ..services import two_factor, user_sessions
from ..web import (
    current_session,
    home_url_for,
    is_safe_next,
    redirect_to_next,
    remember_session,
    unit_of_work,
)

#: Where the pending sign-in is kept in the session.
PENDING_KEY = "two_factor_pending"
#: How long a pending sign-in lasts, in seconds.
PENDING_SECONDS = 10 * 60


class Stage(enum.StrEnum):
    """Where a pending sign-in stands."""

    #: A one-time code (or a recovery code) is asked for.
    CODE = "code"
    #: The person must set two-factor sign-in up first.
    SETUP = "setup"
    #: Set up: the recovery codes have been shown; the session starts on "continue".
    CODES_SHOWN = "codes_shown"


@dataclass
class PendingSignIn:
    """A sign-in waiting for its second factor, as the session keeps it."""

    user_id: int
    session_version: int
    remember: bool
    method: str
    started_at: float
    stage: str
    next: str | None = None

    @classmethod
    def from_session(cls, value: Any) -> PendingSignIn | None:
        if not isinstance(value, dict):
            return None
        try:
            pending = cls(**value)
        except TypeError:
            return None
        return pending if isinstance(pending.user_id, int) else None


def _fresh_session() -> None:
    """Empty the cookie session but for the language the person reads in."""
    language = session.get("lang")
    session.clear()
    if language:
        session["lang"] = language


def _start_session(user: User, remember: bool = False, *, method: str = "password") -> None:
    # A fresh session on every login, so that a planted session id is worthless.
    _fresh_session()
    # Its record, saved on its own (after the change that let the person in), so that the
    # cookies never name one that is not there; the cookies keep its secret as the user's id.
    with unit_of_work():
        started = user_sessions.start(
            user,
            method=method,
            remember=remember,
            ip_address=request.remote_addr,
            user_agent=request.user_agent.string,
        )
    remember_session(started.record, started.secret)
    login_user(user, remember=remember)
    session.permanent = True


def carry_on_after_change(user: User) -> None:
    """After a change of the person's own that ended every session of theirs (a new password,
    a change to their second factor): carry on here in a fresh session, begun as the ended
    one was (how, and whether to keep them signed in)."""
    ended = current_session()
    _start_session(
        user,
        remember=ended.remember if ended is not None else False,
        method=ended.method if ended is not None else "password",
    )


def complete_first_factor(user: User, *, remember: bool, method: str) -> Response:
    """The answer to a first factor that has succeeded for ``user`` (``method``: how, such as
    ``"password"`` or ``"sso"``; ``remember``: whether to keep them signed in).

    When no second factor is needed, the session starts and the answer goes to the ``next``
    page asked for, else the person's home. Otherwise a fresh session holds a pending sign-in
    and the answer goes to the page that asks for a code, or to the setup of two-factor
    sign-in for someone who must have it.
    """
    if not user.two_factor_enabled and not two_factor.must_set_up(user):
        _start_session(user, remember=remember, method=method)
        current_app.logger.info(
            "login: user %s by %s from %s", user.id, method, request.remote_addr
        )
        return redirect_to_next(home_url_for(user))
    stage = Stage.CODE if user.two_factor_enabled else Stage.SETUP
    target = request.values.get("next")
    pending = PendingSignIn(
        user_id=user.id,
        session_version=user.session_version,
        remember=remember,
        method=method,
        started_at=time.time(),
        stage=stage.value,
        next=target if is_safe_next(target) else None,
    )
    # A fresh session, as for a sign-in: nothing planted in the old one survives.
    _fresh_session()
    session[PENDING_KEY] = asdict(pending)
    current_app.logger.info(
        "login: user %s passed %s, two-factor %s next", user.id, method, stage.value
    )
    if stage is Stage.CODE:
        return redirect(url_for("auth.two_factor_code"))
    return redirect(url_for("auth.two_factor_setup"))


def pending_sign_in() -> tuple[PendingSignIn, User] | None:
    """The pending sign-in of this session and its person, if there is one still valid: not
    expired, the person still able to sign in, their sessions not ended since. An invalid
    one is dropped from the session."""
    pending = PendingSignIn.from_session(session.get(PENDING_KEY))
    if pending is None:
        session.pop(PENDING_KEY, None)
        return None
    age = time.time() - float(pending.started_at)
    user = db.session.get(User, pending.user_id)
    if (
        not 0 <= age <= PENDING_SECONDS
        or user is None
        or not user.can_log_in
        or user.session_version != pending.session_version
    ):
        session.pop(PENDING_KEY, None)
        return None
    return pending, user


def had_pending_sign_in() -> bool:
    """Whether this session holds a pending sign-in, valid or not (to tell someone whose
    sign-in has expired from someone who never started one)."""
    return PENDING_KEY in session


def advance(pending: PendingSignIn, stage: Stage) -> None:
    """Move the pending sign-in to ``stage`` (its time goes on running)."""
    pending.stage = stage.value
    session[PENDING_KEY] = asdict(pending)


def finish_sign_in(pending: PendingSignIn, user: User) -> Response:
    """Start the session of a pending sign-in whose second factor has passed, and go on to
    the page asked for at the start, else the person's home."""
    _start_session(user, remember=pending.remember, method=pending.method)
    current_app.logger.info(
        "login: user %s by %s and two-factor from %s",
        user.id,
        pending.method,
        request.remote_addr,
    )
    target = pending.next
    return redirect(target if is_safe_next(target) else home_url_for(user))
