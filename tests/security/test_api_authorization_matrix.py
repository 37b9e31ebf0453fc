"""The API's authorization matrix: every operation, every kind of token, real objects.

The operations come from the URL map (every route under ``/api/``); each must have a case in
one of ``tests/api/cases_*.py``, which says what each caller gets: 401 without a usable token
(none, revoked, expired), 403 for a token without the operation's scope, 404 for another
company's object, and the answer for the callers allowed. As in the pages' matrix, refused
requests run against one shared scene and must leave it unchanged; an allowed change runs on
a fresh copy of the scene.
"""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path
from typing import Any

import pytest
from flask import Flask

import tests.api
from tests.api.matrix import ApiCase

from .conftest import (
    API_PERSONAS,
    Scene,
    copy_sqlite,
    fresh_copy,
    sqlite_app,
    stored_fingerprint,
)

IGNORED_METHODS = {"HEAD", "OPTIONS"}


def _all_cases() -> dict[tuple[str, str], ApiCase]:
    cases: dict[tuple[str, str], ApiCase] = {}
    for module_info in pkgutil.iter_modules(tests.api.__path__):
        if not module_info.name.startswith("cases_"):
            continue
        module = importlib.import_module(f"tests.api.{module_info.name}")
        for case in module.CASES:
            key = (case.endpoint, case.method)
            assert key not in cases, f"{key} has two cases"
            cases[key] = case
    return cases


CASES = _all_cases()


def _api_routes() -> set[tuple[str, str]]:
    app = sqlite_app(Path("/nonexistent/never-opened.sqlite3"))
    return {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith("/api/")
        for method in rule.methods or ()
        if method not in IGNORED_METHODS
    }


def test_every_api_operation_is_in_the_matrix():
    routes = _api_routes()
    missing = sorted(f"{endpoint} {method}" for endpoint, method in routes - set(CASES))
    assert not missing, f"API operations missing from tests/api/cases_*.py: {missing}"
    stale = sorted(f"{endpoint} {method}" for endpoint, method in set(CASES) - routes)
    assert not stale, f"cases for operations that do not exist: {stale}"


@pytest.fixture(scope="module")
def shared_api(
    pristine: tuple[Path, Scene], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Flask, Scene]:
    path, scene = pristine
    copy = tmp_path_factory.mktemp("api-matrix-shared") / "shared.sqlite3"
    copy_sqlite(path, copy)
    return sqlite_app(copy), scene


def _request(app: Flask, scene: Scene, case: ApiCase, caller: str) -> Any:
    headers = dict(case.headers)
    if caller != "anonymous":
        headers["Authorization"] = f"Bearer {scene.api_tokens[caller]}"
    body = case.body(scene) if case.body is not None else None
    return app.test_client().open(case.path(scene), method=case.method, json=body, headers=headers)


def _check(response: Any, expected: int) -> None:
    text = response.get_data(as_text=True)
    assert response.status_code == expected, (
        f"{response.status} instead of {expected}: {text[:800]}"
    )
    if expected >= 400:
        assert response.mimetype == "application/problem+json", response.mimetype
        assert response.json["status"] == expected


PARAMS = [
    pytest.param(key, caller, id=f"{key[0]}-{key[1]}-{caller}")
    for key in sorted(CASES)
    for caller in API_PERSONAS
]


@pytest.mark.parametrize(("key", "caller"), PARAMS)
def test_api_operation_answers_each_caller(
    shared_api: tuple[Flask, Scene],
    pristine: tuple[Path, Scene],
    tmp_path: Path,
    key: tuple[str, str],
    caller: str,
) -> None:
    case = CASES[key]
    expected = case.expect[caller]
    app, scene = shared_api
    if case.method == "GET" or expected >= 400:
        before = stored_fingerprint(app) if case.method != "GET" else None
        _check(_request(app, scene, case, caller), expected)
        if before is not None:
            assert stored_fingerprint(app) == before, "a refused request changed something"
        return
    with fresh_copy(pristine, tmp_path) as fresh_app:
        _check(_request(fresh_app, scene, case, caller), expected)


def test_every_case_names_every_caller():
    for key, case in CASES.items():
        assert set(case.expect) == set(API_PERSONAS), key
