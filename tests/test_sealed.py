"""Secrets sealed in the database open with the secret key (or a fallback) and no other."""

from __future__ import annotations

import pytest
from flask import Flask

from skillsup.services.sealed import SealBroken, seal, unseal


def test_a_sealed_secret_opens_and_does_not_show_in_the_sealed_text(app: Flask) -> None:
    with app.app_context():
        sealed = seal("client-secret-123")
        assert "client-secret-123" not in sealed
        assert sealed != seal("client-secret-123")  # each sealing is fresh
        assert unseal(sealed) == "client-secret-123"


def test_another_secret_key_cannot_open_it_but_a_fallback_can(app: Flask) -> None:
    with app.app_context():
        sealed = seal("totp-key")
        old_key = app.config["SECRET_KEY"]
        app.config["SECRET_KEY"] = "a-new-secret-key-that-is-long-enough-0123456789"
        try:
            with pytest.raises(SealBroken):
                unseal(sealed)
            app.config["SECRET_KEY_FALLBACKS"] = [old_key]
            assert unseal(sealed) == "totp-key"
        finally:
            app.config["SECRET_KEY"] = old_key
            app.config.pop("SECRET_KEY_FALLBACKS", None)


def test_altered_or_garbled_text_is_refused(app: Flask) -> None:
    with app.app_context():
        sealed = seal("secret")
        altered = sealed[:-4] + ("AAAA" if not sealed.endswith("AAAA") else "BBBB")
        for broken in (altered, "not sealed", "é"):
            with pytest.raises(SealBroken):
                unseal(broken)
