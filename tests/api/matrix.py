"""The API's authorization matrix, resource by resource: each ``cases_<resource>.py`` module
lists its operations with what each caller gets (``tests/security/test_api_authorization_matrix.py``
runs them all and fails on any API operation left out).

A case's ``path`` and ``body`` are built from the security tests' scene (``Scene``), whose
objects mostly belong to company A: B's HR officer asking for one of them gets 404, as if it
were not there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skillsup.models import ApiScope

from ..security.conftest import API_CALLERS, API_PERSONAS, Scene

#: The token could not be used: none, revoked or expired.
UNAUTHENTICATED = ("anonymous", "revoked", "expired")


@dataclass(frozen=True)
class ApiCase:
    endpoint: str
    method: str
    #: Built from the scene: ``lambda scene: f"/api/v1/classes/{scene.class_code}"``.
    path: Callable[[Scene], str]
    expect: dict[str, int]
    #: The JSON body of a change, built from the scene.
    body: Callable[[Scene], Any] | None = None
    headers: dict[str, str] = field(default_factory=dict)


def public(status: int = 200) -> dict[str, int]:
    """Anyone, with any token or none."""
    return dict.fromkeys(API_PERSONAS, status)


def needs(
    scope: ApiScope,
    ok: int,
    *,
    hr_b: int | None = None,
    admin: int | None = None,
) -> dict[str, int]:
    """A token with ``scope``: 401 without a usable token, 403 without the scope, ``ok``
    with it. ``hr_b`` is what company B's token gets (404 for an object of A's; ``ok`` by
    default, for lists of its own), ``admin`` what an institute-wide token gets (``ok`` by
    default)."""
    row = dict.fromkeys(UNAUTHENTICATED, 401)
    for caller, (person, scopes) in API_CALLERS.items():
        if caller in UNAUTHENTICATED:
            continue
        if scope not in scopes:
            row[caller] = 403
        elif person == "hr_b":
            row[caller] = ok if hr_b is None else hr_b
        elif person == "admin":
            row[caller] = ok if admin is None else admin
        else:
            row[caller] = ok
    return row
