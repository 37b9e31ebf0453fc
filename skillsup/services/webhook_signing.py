"""Signing webhook deliveries, and checking a signature as a receiver does.

Each delivery carries ``SkillsUp-Timestamp`` (Unix seconds when it was sent) and
``SkillsUp-Signature: v1=<hex>``, where ``<hex>`` is the HMAC-SHA256, keyed with the endpoint's
signing secret, of the timestamp, a full stop and the raw body: ``f"{timestamp}.".encode() +
body``. For 24 hours after a secret is rotated, deliveries are signed with the new and the old
secret (``v1=<new>,v1=<old>``), so that a receiver still holding the old one goes on accepting
them until it has the new one. A receiver accepts a delivery when one of the ``v1`` signatures
matches and the timestamp is recent (:func:`verify_signature`): a delivery recorded and played
again later is refused.

This module needs nothing but the standard library: a receiver written in Python may copy
:func:`verify_signature` as it is.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Iterable

#: How a signing secret begins, so that one pasted in the wrong place is recognised.
SECRET_PREFIX = "whsec_"  # noqa: S105 (how a secret begins, not a secret)
SCHEME = "v1"
#: How old (or how far in the future) a delivery's timestamp may be, in seconds, by default.
DEFAULT_TOLERANCE = 300


def new_secret() -> str:
    """A new random signing secret."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def _bytes(value: str | bytes) -> bytes:
    return value.encode("utf-8") if isinstance(value, str) else value


def signature(secret: str, timestamp: int | str, body: str | bytes) -> str:
    """The hex HMAC-SHA256 of ``f"{timestamp}.{body}"`` keyed with ``secret``."""
    signed = f"{timestamp}.".encode() + _bytes(body)
    return hmac.new(_bytes(secret), signed, hashlib.sha256).hexdigest()


def signature_header(signing_secrets: Iterable[str], timestamp: int, body: str | bytes) -> str:
    """The ``SkillsUp-Signature`` value: one ``v1=`` signature per secret, comma-separated."""
    return ",".join(f"{SCHEME}={signature(s, timestamp, body)}" for s in signing_secrets)


def verify_signature(
    secret: str,
    timestamp: str | int,
    body: str | bytes,
    header: str,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> bool:
    """Whether a delivery is genuine: ``header`` (the ``SkillsUp-Signature`` value) holds a
    ``v1`` signature of ``timestamp`` (the ``SkillsUp-Timestamp`` value) and ``body`` (the
    raw bytes received) made with ``secret``, and the timestamp is within ``tolerance``
    seconds of ``now`` (by default the present time). Never raises on malformed input.
    """
    text = str(timestamp).strip()
    if not (text.isascii() and text.isdigit()):
        return False
    moment = time.time() if now is None else now
    if abs(moment - int(text)) > tolerance:
        return False
    expected = signature(secret, text, body)
    for part in (header or "").split(","):
        scheme, _, value = part.strip().partition("=")
        if scheme == SCHEME and hmac.compare_digest(value.strip(), expected):
            return True
    return False
