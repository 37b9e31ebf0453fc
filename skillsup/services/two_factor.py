"""Two-factor sign-in: a time-based one-time code (TOTP, RFC 6238) after the password.

The rules:

- A person sets it up by scanning a new key into an authenticator app (the key is kept
  sealed, :mod:`skillsup.services.sealed`) and confirming with a code the app shows; from
  then on every sign-in asks for a code, whatever the portal's setting.
- A code is six digits, for 30-second time steps; the one of the step before or after now is
  taken too (clocks drift), but a code works once: a step at or before the last one accepted
  is refused (:class:`TwoFactorCodeUsed`), even within its 30 seconds. The step is recorded
  by one conditional UPDATE, so that two requests racing with the same code cannot both pass.
- Confirming the setup gives ten recovery codes, shown once and stored hashed; each stands
  in for a code once (:class:`RecoveryCodeUsed` after that). Making new ones (with a current
  code) replaces them all.
- While ``REQUIRE_TWO_FACTOR`` is on, admins and HR officers must have it: they set it up at
  their next sign-in and cannot turn it off (:class:`TwoFactorRequired`). Anyone may set it up.
- An admin may reset someone else's (the person lost their phone): it is turned off, the
  person's sessions end and they are told by e-mail.

Every change is audited. Services flush and never commit; the view's unit of work commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyotp
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm.attributes import set_committed_value

from .. import permissions
from ..extensions import db
from ..models import RecoveryCode, User, utcnow
from . import accounts, audit, notify, sealed
from .errors import (
    InvalidRecoveryCode,
    InvalidTwoFactorCode,
    PermissionDenied,
    RecoveryCodeUsed,
    TwoFactorCodeUsed,
    TwoFactorRequired,
    TwoFactorStateConflict,
)

#: The name authenticator apps show the key under.
ISSUER = "SkillsUp"
#: Seconds per time step, and digits per code (RFC 6238's usual values, which every app uses).
STEP_SECONDS = 30
DIGITS = 6
#: How many steps before or after now a code may be from.
TOLERANCE_STEPS = 1

#: How many recovery codes a person has, and their shape: ten characters of an alphabet
#: without look-alikes (no 0/o, 1/l/i), about 49 bits each, shown as ``abcde-fghjk``.
RECOVERY_CODE_COUNT = 10
RECOVERY_CODE_LENGTH = 10
RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
#: PBKDF2 rounds for a recovery code's hash: codes are random, so this only has to make a
#: stolen table slow to search, while checking a person's ten stays quick.
_HASH_ITERATIONS = 20_000
_HASH_SCHEME = "pbkdf2_sha256"

#: What people type around a code: spaces (an app groups the digits) and dashes.
_SEPARATORS = str.maketrans("", "", " -\u00a0\u2010\u2011\u2012\u2013\u2212\t")


@dataclass(frozen=True)
class SetupKey:
    """A key being set up: the key itself (base32, for typing into an app) and the
    ``otpauth://`` URI that a QR code carries."""

    key: str
    uri: str

    @property
    def grouped(self) -> str:
        """The key in groups of four characters, easier to type."""
        return " ".join(self.key[i : i + 4] for i in range(0, len(self.key), 4))


# ---------------------------------------------------------------------------------------------
# Who must use it


def setting_requires() -> bool:
    """Whether the portal requires two-factor sign-in of admins and HR officers."""
    return bool(current_app.config.get("REQUIRE_TWO_FACTOR"))


def is_required_for(user: User) -> bool:
    """Whether ``user``'s role must use two-factor sign-in under the portal's setting."""
    return permissions.must_use_two_factor(user, setting_requires=setting_requires())


def must_set_up(user: User) -> bool:
    """Whether ``user`` must set two-factor sign-in up before they reach any page."""
    return is_required_for(user) and not user.two_factor_enabled


# ---------------------------------------------------------------------------------------------
# Codes


def normalise_code(text: str | None) -> str | None:
    """The six digits of a typed code (spaces and dashes dropped), or ``None`` if it is not
    six ASCII digits."""
    digits = (text or "")[:64].translate(_SEPARATORS)
    if len(digits) != DIGITS or not (digits.isascii() and digits.isdigit()):
        return None
    return digits


def normalise_recovery_code(text: str | None) -> str | None:
    """A typed recovery code as stored (lower case, spaces and dashes dropped), or ``None``
    if it cannot be one."""
    code = (text or "")[:64].translate(_SEPARATORS).lower()
    if len(code) != RECOVERY_CODE_LENGTH or any(c not in RECOVERY_ALPHABET for c in code):
        return None
    return code


def _totp(key: str) -> pyotp.TOTP:
    return pyotp.TOTP(key, digits=DIGITS, interval=STEP_SECONDS)


def _current_step() -> int:
    return int(utcnow().timestamp()) // STEP_SECONDS


def _matching_step(key: str, code: str) -> int | None:
    """The step within the tolerance whose code ``code`` is, if any (every step compared)."""
    totp = _totp(key)
    now = _current_step()
    found = None
    for step in range(now - TOLERANCE_STEPS, now + TOLERANCE_STEPS + 1):
        if hmac.compare_digest(totp.generate_otp(step), code) and found is None:
            found = step
    return found


def _key_of(user: User) -> str:
    if user.totp_key_sealed is None:
        raise TwoFactorStateConflict(_l("Two-factor sign-in is not set up."))
    return _unseal(user.totp_key_sealed)


def _unseal(value: str) -> str:
    try:
        return sealed.unseal(value)
    except sealed.SealBroken as error:
        # Sealed under a secret key since retired without a fallback: only a reset helps.
        raise TwoFactorStateConflict(
            _l(
                "Your two-factor key can no longer be read. Ask an admin to reset your "
                "two-factor sign-in."
            )
        ) from error


def _accept(user: User, key: str, code: str | None) -> None:
    """Accept ``code`` for ``key`` once: record its step, or raise."""
    digits = normalise_code(code)
    if digits is None:
        raise InvalidTwoFactorCode(field="code")
    step = _matching_step(key, digits)
    if step is None:
        raise InvalidTwoFactorCode(field="code")
    if user.totp_last_step is not None and step <= user.totp_last_step:
        raise TwoFactorCodeUsed(field="code")
    # One conditional UPDATE: of two requests with the same code, only one records its step.
    recorded = db.session.execute(
        update(User)
        .where(
            User.id == user.id,
            or_(User.totp_last_step.is_(None), User.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    )
    if getattr(recorded, "rowcount", 0) != 1:
        raise TwoFactorCodeUsed(field="code")
    set_committed_value(user, "totp_last_step", step)


def verify_code(user: User, code: str | None) -> None:
    """Check a one-time code at sign-in (or before a change that asks for one).

    ``code`` may hold spaces and dashes. Raises :class:`InvalidTwoFactorCode` (field
    ``code``) for a malformed or wrong code, :class:`TwoFactorCodeUsed` for a code of a time
    step already used, :class:`TwoFactorStateConflict` when ``user`` has not turned two-factor
    sign-in on. Records the code's step, so that it cannot be used again.
    """
    if not user.two_factor_enabled:
        raise TwoFactorStateConflict(_l("Two-factor sign-in is not turned on."))
    _accept(user, _key_of(user), code)


# ---------------------------------------------------------------------------------------------
# Setting it up


def pending_setup(user: User) -> SetupKey | None:
    """The key ``user`` is setting up (made by :func:`start_setup`, not yet confirmed)."""
    if user.two_factor_enabled or user.totp_key_sealed is None:
        return None
    return _setup_key(user, _unseal(user.totp_key_sealed))


def _setup_key(user: User, key: str) -> SetupKey:
    return SetupKey(key, _totp(key).provisioning_uri(name=user.email, issuer_name=ISSUER))


def start_setup(user: User) -> SetupKey:
    """Give ``user`` a new key to scan into their app, replacing any key not yet confirmed.

    Two-factor sign-in stays off until :func:`confirm_setup`. Raises
    :class:`TwoFactorStateConflict` when it is on already.
    """
    if user.two_factor_enabled:
        raise TwoFactorStateConflict(_l("Two-factor sign-in is already turned on."))
    key = pyotp.random_base32()
    user.totp_key_sealed = sealed.seal(key)
    user.totp_last_step = None
    return _setup_key(user, key)


def confirm_setup(user: User, code: str | None) -> list[str]:
    """Turn two-factor sign-in on for ``user`` with a code from the key being set up, and
    return their ten new recovery codes (shown once; only their hashes are kept).

    Raises :class:`TwoFactorStateConflict` when it is on already or no setup was started,
    :class:`InvalidTwoFactorCode` (field ``code``) for a malformed or wrong code.
    """
    if user.two_factor_enabled:
        raise TwoFactorStateConflict(_l("Two-factor sign-in is already turned on."))
    if user.totp_key_sealed is None:
        raise TwoFactorStateConflict(_l("Start setting up two-factor sign-in first."))
    _accept(user, _unseal(user.totp_key_sealed), code)
    user.two_factor_enabled_at = utcnow()
    codes = _replace_recovery_codes(user)
    audit.record(user, "account.two_factor_enabled", user, "turned on two-factor sign-in")
    return codes


# ---------------------------------------------------------------------------------------------
# Recovery codes


def _hash_recovery_code(code: str, salt: bytes | None = None) -> str:
    salt = salt if salt is not None else secrets.token_bytes(16)
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), salt, _HASH_ITERATIONS)
    return f"{_HASH_SCHEME}${_HASH_ITERATIONS}${salt.hex()}${digest.hex()}"


def _recovery_code_matches(stored: str, code: str) -> bool:
    scheme, iterations, salt, digest = [*stored.split("$"), "", "", "", ""][:4]
    if scheme != _HASH_SCHEME or not iterations.isdigit():
        return False
    try:
        rounds = int(iterations)
        expected = hashlib.pbkdf2_hmac("sha256", code.encode(), bytes.fromhex(salt), rounds)
    except ValueError:
        return False
    return hmac.compare_digest(expected.hex(), digest)


def _new_recovery_code() -> str:
    return "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))


def format_recovery_code(code: str) -> str:
    """A recovery code as shown: two groups of five."""
    half = RECOVERY_CODE_LENGTH // 2
    return f"{code[:half]}-{code[half:]}"


def _replace_recovery_codes(user: User) -> list[str]:
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))
    codes = [_new_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    now = utcnow()
    db.session.add_all(
        RecoveryCode(user_id=user.id, code_hash=_hash_recovery_code(code), created_at=now)
        for code in codes
    )
    db.session.flush()
    return [format_recovery_code(code) for code in codes]


def recovery_codes_left(user: User) -> int:
    """How many of ``user``'s recovery codes have not been used."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.user_id == user.id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def use_recovery_code(user: User, code: str | None) -> int:
    """Sign in with a recovery code instead of a one-time code: mark it used and return how
    many are left.

    ``code`` may hold spaces and dashes, in any case. Raises :class:`InvalidRecoveryCode`
    (field ``recovery_code``) for one that is not ``user``'s, :class:`RecoveryCodeUsed` for
    one used already (also when another request used it at the same moment),
    :class:`TwoFactorStateConflict` when two-factor sign-in is off.
    """
    if not user.two_factor_enabled:
        raise TwoFactorStateConflict(_l("Two-factor sign-in is not turned on."))
    typed = normalise_recovery_code(code)
    if typed is None:
        raise InvalidRecoveryCode(field="recovery_code")
    stored: Sequence[RecoveryCode] = db.session.scalars(
        select(RecoveryCode).where(RecoveryCode.user_id == user.id).order_by(RecoveryCode.id)
    ).all()
    match = next((row for row in stored if _recovery_code_matches(row.code_hash, typed)), None)
    if match is None:
        raise InvalidRecoveryCode(field="recovery_code")
    if match.used_at is not None:
        raise RecoveryCodeUsed(field="recovery_code")
    now = utcnow()
    used = db.session.execute(
        update(RecoveryCode)
        .where(RecoveryCode.id == match.id, RecoveryCode.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if getattr(used, "rowcount", 0) != 1:
        raise RecoveryCodeUsed(field="recovery_code")
    set_committed_value(match, "used_at", now)
    left = sum(1 for row in stored if row.used_at is None)
    audit.record(
        user,
        "auth.recovery_code_used",
        user,
        f"signed in with a recovery code; {left} left",
        {"left": left},
    )
    return left


def regenerate_recovery_codes(user: User, code: str | None) -> list[str]:
    """Replace ``user``'s recovery codes with ten new ones (the old ones stop working), after
    a current one-time code; return the new ones, shown once.

    Raises what :func:`verify_code` raises.
    """
    verify_code(user, code)
    codes = _replace_recovery_codes(user)
    audit.record(user, "account.recovery_codes_renewed", user, "made new recovery codes")
    return codes


# ---------------------------------------------------------------------------------------------
# Turning it off


def _clear(user: User) -> None:
    user.totp_key_sealed = None
    user.two_factor_enabled_at = None
    user.totp_last_step = None
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user.id))


def turn_off(user: User, code: str | None) -> None:
    """Turn ``user``'s own two-factor sign-in off, after a current one-time code; their key
    and recovery codes are forgotten.

    Raises :class:`TwoFactorRequired` for an admin or HR officer while the portal requires
    it, and what :func:`verify_code` raises.
    """
    if not permissions.can_turn_off_two_factor(user, setting_requires=setting_requires()):
        raise TwoFactorRequired()
    verify_code(user, code)
    _clear(user)
    audit.record(user, "account.two_factor_disabled", user, "turned off two-factor sign-in")


def reset(actor: User, user: User, reason: str = "", *, login_url: str) -> None:
    """An admin turns off someone else's two-factor sign-in (a lost phone): their key and
    recovery codes are forgotten, every session they have ends, and they are told by e-mail
    (with ``reason``, and ``login_url`` to sign in again, when they will set it up afresh if
    their role must use it).

    Raises :class:`PermissionDenied` unless ``actor`` is an admin acting on someone else,
    :class:`TwoFactorStateConflict` when ``user`` does not have it on.
    """
    if not permissions.can_reset_two_factor(actor, user):
        raise PermissionDenied()
    if not user.two_factor_enabled:
        raise TwoFactorStateConflict(
            _l("%(name)s does not use two-factor sign-in.", name=user.name)
        )
    reason = reason.strip()
    _clear(user)
    accounts.end_all_sessions(user)
    details: dict[str, Any] = {"reason": reason}
    audit.record(actor, "account.two_factor_reset", user, reason, details)
    notify.send(
        user,
        _l("Your two-factor sign-in has been reset"),
        "two_factor_reset",
        reason=reason,
        login_url=login_url,
        must_set_up=is_required_for(user),
    )
