"""Signed, expiring, single-use links for e-mail confirmation, invitations and password resets.

A token carries the user's id and a fingerprint of the state it is meant to change (the
password hash, or whether the address is confirmed). Once that state changes the fingerprint
no longer matches, so every token works once; no table of tokens is needed.
"""

from __future__ import annotations

import enum
import hashlib
import hmac

from flask import current_app
from flask_babel import lazy_gettext as _l
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..extensions import db
from ..models import User
from .errors import InvalidToken


class Purpose(enum.StrEnum):
    CONFIRM_EMAIL = "confirm-email"
    INVITATION = "invitation"
    PASSWORD_RESET = "password-reset"  # noqa: S105 (a purpose, not a password)
    CHANGE_EMAIL = "change-email"


_MAX_AGE_SETTING = {
    Purpose.CONFIRM_EMAIL: "EMAIL_CONFIRMATION_MAX_AGE",
    Purpose.INVITATION: "INVITATION_MAX_AGE",
    Purpose.PASSWORD_RESET: "PASSWORD_RESET_MAX_AGE",
    Purpose.CHANGE_EMAIL: "EMAIL_CONFIRMATION_MAX_AGE",
}


def _serializer(purpose: Purpose) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=f"skillsup.{purpose}")


def _fingerprint(user: User, purpose: Purpose) -> str:
    if purpose is Purpose.CONFIRM_EMAIL:
        state = f"{user.email}|{user.email_confirmed_at}"
    elif purpose is Purpose.CHANGE_EMAIL:
        # Tied to the address asked for: asking for another one, or confirming, voids it.
        state = f"{user.email}|{user.pending_email}"
    elif purpose is Purpose.INVITATION:
        # Sending the invitation again (a new invited_at) voids the links sent before.
        sent = user.invited_at.timestamp() if user.invited_at is not None else None
        state = f"{user.email}|{user.password_hash}|{user.is_active}|{sent}"
    else:
        state = f"{user.email}|{user.password_hash}|{user.is_active}"
    return hashlib.sha256(state.encode()).hexdigest()[:24]


def make_token(user: User, purpose: Purpose) -> str:
    return _serializer(purpose).dumps({"u": user.id, "f": _fingerprint(user, purpose)})


def user_for_token(token: str, purpose: Purpose) -> User:
    """The user a token was made for. Raises :class:`InvalidToken` when it is forged,
    expired, already used, or its user is gone or deactivated."""
    max_age = current_app.config[_MAX_AGE_SETTING[purpose]]
    try:
        payload = _serializer(purpose).loads(token, max_age=max_age)
    except SignatureExpired as exc:
        raise InvalidToken(_l("This link has expired. Ask for a new one.")) from exc
    except BadSignature as exc:
        raise InvalidToken() from exc
    if not isinstance(payload, dict) or not isinstance(payload.get("u"), int):
        raise InvalidToken()
    user = db.session.get(User, payload["u"])
    if user is None:
        raise InvalidToken()
    unaccepted = purpose is Purpose.INVITATION and user.is_awaiting_first_sign_in
    if not user.is_active:
        if unaccepted:
            raise InvalidToken(
                _l(
                    "This invitation has been withdrawn. Ask the person who invited you if "
                    "you still need an account."
                )
            )
        raise InvalidToken()
    if not hmac.compare_digest(str(payload.get("f", "")), _fingerprint(user, purpose)):
        if unaccepted:
            raise InvalidToken(
                _l("A newer invitation has been sent: use the link in the latest e-mail.")
            )
        raise InvalidToken()
    if purpose is Purpose.INVITATION and not unaccepted:
        # Accepted by signing in through the company's identity provider.
        raise InvalidToken()
    return user
