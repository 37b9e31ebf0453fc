"""The API against its own OpenAPI document, by Schemathesis, on SQLite and PostgreSQL.

Every operation in the document is called with data generated from its schema, valid and
invalid (Schemathesis' positive and negative generation), with a token of every scope of
company A's HR officer, over the security tests' scene. Valid data is sent both to the
scene's real objects (the path parameters of ``PATH_VALUES`` in ``cases_*.py``) and to
generated ones. No answer may be a server error, every answer must match the document (its
status, content type, headers and body schema), and invalid input must be refused with 4xx.
"""

from __future__ import annotations

import contextvars
import importlib
import pkgutil
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, given, settings
from schemathesis.generation import GenerationMode

import tests.api
from skillsup.extensions import db

from ..security.conftest import Scene, build_scene, sqlite_app

pytestmark = pytest.mark.slow

EXAMPLES = 20


def _path_values() -> dict[str, Callable[[Scene], dict[str, Any]]]:
    values: dict[str, Callable[[Scene], dict[str, Any]]] = {}
    for module_info in pkgutil.iter_modules(tests.api.__path__):
        if module_info.name.startswith("cases_"):
            module = importlib.import_module(f"tests.api.{module_info.name}")
            values.update(getattr(module, "PATH_VALUES", {}))
    return values


PATH_VALUES = _path_values()


def _operations() -> list[tuple[str, str]]:
    app = sqlite_app(Path("/nonexistent/never-opened.sqlite3"))
    document = app.test_client().get("/api/v1/openapi.json").get_json()
    return sorted(
        (path, method.upper())
        for path, operations in document["paths"].items()
        for method in operations
        if method in {"get", "post", "put", "patch", "delete"}
    )


OPERATIONS = _operations()


@pytest.fixture
def api_scene(app: Flask) -> Scene:
    with app.app_context():
        scene = build_scene()
        db.session.remove()
    return scene


def _run(operation: Any, strategy: Any, headers: dict[str, str], *, positive: bool = True) -> None:
    @given(case=strategy)
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def check(case: Any) -> None:
        if positive and case.query:
            # A cursor is opaque: only the API makes valid ones (the pagination's contract
            # tests follow them), and any other is refused as it should be.
            case.query.pop("cursor", None)
        if positive and case.headers and "Idempotency-Key" in case.headers:
            # A key names one change: the same key on another request is refused (422) as it
            # should be, so a valid request carries a key of its own.
            case.headers["Idempotency-Key"] = str(uuid.uuid4())
        # In a context of its own, as a request to a server is: the test's app context
        # (and the token its ``g`` would keep) is not the request's.
        contextvars.Context().run(case.call_and_validate, headers=headers)

    check()


@pytest.mark.parametrize(("path", "method"), OPERATIONS, ids=[f"{m} {p}" for p, m in OPERATIONS])
def test_operation_matches_the_document(
    app: Flask, api_scene: Scene, path: str, method: str
) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    operation = schema[path][method]
    headers = {"Authorization": f"Bearer {api_scene.api_tokens['hr_a']}"}
    if path in PATH_VALUES:
        real = PATH_VALUES[path](api_scene)
        _run(operation, operation.as_strategy(path_parameters=real), headers)
    _run(operation, operation.as_strategy(), headers)
    _run(operation, operation.as_strategy(GenerationMode.NEGATIVE), headers, positive=False)


def test_every_operation_with_path_parameters_has_real_values():
    missing = sorted({path for path, _ in OPERATIONS if "{" in path} - set(PATH_VALUES))
    assert not missing, f"add PATH_VALUES for {missing} in tests/api/cases_*.py"
