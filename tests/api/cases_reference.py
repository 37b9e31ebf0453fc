"""The API's reference for people answers everyone, with any token or none: it is a page, not
an operation of the document (tests/api/test_reference.py)."""

from __future__ import annotations

from .matrix import ApiCase, public

CASES = [
    ApiCase("api_reference.reference", "GET", lambda s: "/api/v1/docs", public()),
]
