"""Password hashing (argon2id) and the password policy."""

from __future__ import annotations

import gzip
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app
from flask_babel import lazy_gettext as _l

from .errors import WeakPassword

MIN_LENGTH = 8
MAX_LENGTH = 128


@cache
def _hasher(time_cost: int, memory_cost: int, parallelism: int) -> PasswordHasher:
    return PasswordHasher(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism)


def hasher() -> PasswordHasher:
    config = current_app.config
    return _hasher(
        config["ARGON2_TIME_COST"], config["ARGON2_MEMORY_COST"], config["ARGON2_PARALLELISM"]
    )


def hash_password(password: str) -> str:
    return hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    return hasher().check_needs_rehash(password_hash)


# An unmatchable hash for the case of an unknown address, so that a login takes as long
# whether or not the address has an account.
def dummy_verify(password: str) -> None:
    verify_password(_dummy_hash(), password)


def _dummy_hash() -> str:
    return _dummy_hash_for(
        current_app.config["ARGON2_TIME_COST"],
        current_app.config["ARGON2_MEMORY_COST"],
        current_app.config["ARGON2_PARALLELISM"],
    )


@cache
def _dummy_hash_for(time_cost: int, memory_cost: int, parallelism: int) -> str:
    return _hasher(time_cost, memory_cost, parallelism).hash("not a password anyone has")


@cache
def common_passwords() -> frozenset[str]:
    """The 20,000 most common passwords (the list Django ships, by Royce Williams)."""
    data = resources.files("skillsup").joinpath("data/common-passwords.txt.gz").read_bytes()
    return frozenset(gzip.decompress(data).decode().split())


def check_password_policy(password: str, *, email: str = "", name: str = "") -> None:
    """Refuse a password that is too short or long, common, or made from the user's details.

    Raises :class:`WeakPassword` with a message for the user.
    """
    if len(password) < MIN_LENGTH:
        raise WeakPassword(
            _l("Use at least %(count)d characters.", count=MIN_LENGTH), field="password"
        )
    if len(password) > MAX_LENGTH:
        raise WeakPassword(
            _l("Use at most %(count)d characters.", count=MAX_LENGTH), field="password"
        )
    lowered = password.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        raise WeakPassword(
            _l("This password is too common. Choose one that is harder to guess."),
            field="password",
        )
    personal = {email.lower(), email.split("@", 1)[0].lower(), name.lower().replace(" ", "")}
    if lowered.replace(" ", "") in {p for p in personal if p}:
        raise WeakPassword(
            _l("The password must not be your e-mail address or name."), field="password"
        )
