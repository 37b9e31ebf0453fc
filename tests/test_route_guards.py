"""Every role-guarded route refuses the wrong roles before it looks at anything else.

The routes are found by walking the URL map, so a new route cannot escape the check.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from skillsup import create_app
from skillsup.extensions import db

from . import factories
from .conftest import BASE_TEST_CONFIG, _truncate_all

# Blueprint -> the roles that may use it.
GUARDED = {
    "admin": {"admin"},
    "hr": {"hr"},
    "trainer": {"trainer", "admin"},
    "learning": {"learner"},
}
ROLES = ("learner", "hr", "trainer", "admin")


def _guarded_routes() -> list[tuple[str, str, str]]:
    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": "sqlite://"})
    routes = []
    for rule in app.url_map.iter_rules():
        blueprint = rule.endpoint.split(".", 1)[0]
        if blueprint not in GUARDED:
            continue
        values = {name: ("1" if "id" in name else "X-1") for name in rule.arguments}
        path = rule.build(values, append_unknown=False)[1]
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            routes.append((blueprint, method, path))
    return routes


ROUTES = _guarded_routes()


def test_the_walk_finds_routes_of_every_guarded_blueprint():
    assert {blueprint for blueprint, _m, _p in ROUTES} == set(GUARDED)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def guarded_portal(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Flask, dict[str, FlaskClient]]]:
    """One portal per database for the whole module, with a client signed in for each role:
    every check here is a refusal, which changes nothing, so the cases can share them (a
    portal and a sign-in per case cost more than the request they check)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('guards')}/guards.sqlite3"
    else:
        url = str(request.getfixturevalue("postgres_url"))
    app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
    with app.app_context():
        if request.param == "sqlite":
            db.create_all()
        else:
            _truncate_all()
        make = factories.Factory()
        company = make.company(name="Harbour IT Services", code="HBIT", domains=["harbour-it.test"])
        people = {
            role: make.user(role=role, company=company if role in ("learner", "hr") else None)
            for role in ROLES
        }
        db.session.commit()
        emails = {role: person.email for role, person in people.items()}
        db.session.remove()
    # Each sign-in a request of its own, outside this set-up's app context (whose `g` the
    # requests would otherwise share).
    clients = {}
    for role, email in emails.items():
        client = app.test_client()
        response = client.post("/login", data={"email": email, "password": factories.PASSWORD})
        assert response.status_code == 302, response.get_data(as_text=True)
        clients[role] = client
    yield app, clients
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@pytest.mark.parametrize(("blueprint", "method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(
    guarded_portal: tuple[Flask, Any], blueprint: str, method: str, path: str
) -> None:
    app, _clients = guarded_portal
    response = app.test_client().open(path, method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


WRONG_ROLES = [
    (role, method, path)
    for blueprint, method, path in ROUTES
    for role in ROLES
    if role not in GUARDED[blueprint]
]


@pytest.mark.parametrize(("role", "method", "path"), WRONG_ROLES)
def test_wrong_roles_get_403(
    guarded_portal: tuple[Flask, dict[str, FlaskClient]], role: str, method: str, path: str
) -> None:
    _app, clients = guarded_portal
    assert clients[role].open(path, method=method).status_code == 403
