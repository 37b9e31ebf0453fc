"""Secrets the portal keeps in its database and must read back (an identity provider's client
secret, a person's two-factor key): sealed with a key derived from the application's secret key.

A copy of the database alone (a backup, a dump) does not give them away. Sealing uses Fernet
(AES-128-CBC with HMAC-SHA256, from ``cryptography``) under a key derived with HKDF from
``SECRET_KEY``; secrets sealed under a key listed in ``SECRET_KEY_FALLBACKS`` still open, so the
secret key can be rotated without losing them (re-saving a secret seals it under the new key).
"""

from __future__ import annotations

import base64

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from flask import current_app

#: Tells these keys apart from any other use of the secret key.
_PURPOSE = b"skillsup sealed secrets v1"


class SealBroken(Exception):
    """A sealed value that none of the keys opens: sealed under a key since retired, or altered."""


def _fernet_key(secret_key: str | bytes) -> bytes:
    material = secret_key.encode() if isinstance(secret_key, str) else secret_key
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_PURPOSE).derive(material)
    return base64.urlsafe_b64encode(derived)


def _keys() -> MultiFernet:
    secret_keys = [current_app.config["SECRET_KEY"]]
    secret_keys += list(current_app.config.get("SECRET_KEY_FALLBACKS") or ())
    return MultiFernet([Fernet(_fernet_key(key)) for key in secret_keys])


def seal(secret: str) -> str:
    """``secret`` sealed under the current secret key, as ASCII text for a database column."""
    return _keys().encrypt(secret.encode()).decode("ascii")


def unseal(sealed: str) -> str:
    """The secret ``sealed`` holds. Raises :class:`SealBroken` if no key opens it."""
    try:
        return _keys().decrypt(sealed.encode("ascii")).decode()
    except (InvalidToken, UnicodeError) as error:
        raise SealBroken() from error
