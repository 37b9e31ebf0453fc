"""Every role-guarded route refuses the wrong roles before it looks at anything else.

The routes are found by walking the URL map, so a new route cannot escape the check.
"""

from __future__ import annotations

import pytest

from skillsup import create_app

from .conftest import BASE_TEST_CONFIG

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


@pytest.mark.parametrize(("blueprint", "method", "path"), ROUTES)
def test_anonymous_visitors_are_sent_to_log_in(client, blueprint, method, path):
    response = client.open(path, method=method)
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


WRONG_ROLES = [
    (role, method, path)
    for blueprint, method, path in ROUTES
    for role in ROLES
    if role not in GUARDED[blueprint]
]


@pytest.mark.parametrize(("role", "method", "path"), WRONG_ROLES)
def test_wrong_roles_get_403(client, make, company, login_as, role, method, path):
    user = make.user(role=role, company=company if role in ("learner", "hr") else None)
    login_as(user)
    assert client.open(path, method=method).status_code == 403
