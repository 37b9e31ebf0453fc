"""Web security: CSRF, security headers, cookies, open redirects, stored and reflected XSS,
SQL injection, oversized uploads and what error pages give away.

Tests about HTTP alone (headers, cookies, CSRF, redirects, error pages, upload limits) run on
SQLite only, on a scene built once per module or on an application of their own: what they
check happens before or after any query, the same on every database. Tests that store
hostile text or send hostile search terms to the database (XSS, SQL injection) use the
standard ``app`` fixture, so they run on SQLite and on PostgreSQL.
"""

from __future__ import annotations

import csv
import html
import io
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urljoin, urlsplit

import openpyxl
import pytest
from flask import Flask, url_for
from flask.testing import FlaskClient
from sqlalchemy import func, inspect, select, text
from werkzeug.exceptions import BadRequest

from skillsup import PROJECT_ROOT, create_app
from skillsup.extensions import db
from skillsup.models import (
    Certificate,
    ClassStatus,
    Course,
    CourseClass,
    EnrolmentStatus,
    PartnerCompany,
    User,
    utcnow,
)
from skillsup.timeutil import HONG_KONG

from ..factories import PASSWORD, Factory
from .conftest import Scene, build_scene, client_for, fingerprint, sqlite_app
from .test_authorization_matrix import LOGIN, PUBLIC, ROUTES, TABLE, route_urls

SITE = "skillsup.test"
PRODUCTION_SECRET = "a-production-secret-key-of-forty-characters"


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


@contextmanager
def scene_app(folder: Path, **overrides: Any) -> Iterator[tuple[Flask, Scene, dict[str, str]]]:
    """An SQLite application with the scene, and the URL of each route in it."""
    app = sqlite_app(folder / "scene.sqlite3", **overrides)
    with app.app_context():
        db.create_all()
        scene = build_scene()
        db.session.remove()
    try:
        yield app, scene, route_urls(app, scene)
    finally:
        _dispose(app)


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Scene, dict[str, str]]]:
    """The scene, for the tests that change nothing in it."""
    with scene_app(tmp_path_factory.mktemp("web")) as found:
        yield found


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """No SKILLSUP_* setting from the shell may change what an application under test is."""
    for name in list(os.environ):
        if name.startswith("SKILLSUP_") and not name.startswith("SKILLSUP_TEST_"):
            monkeypatch.delenv(name)


def production_app(path: Path, **overrides: Any) -> Flask:
    """A production application (its own defaults: CSRF on, Secure cookies, HSTS)."""
    return create_app(
        {
            "SECRET_KEY": PRODUCTION_SECRET,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SERVER_NAME": SITE,
            **overrides,
        }
    )


def development_app(path: Path, **overrides: Any) -> Flask:
    return create_app(
        {
            "SKILLSUP_ENV": "development",
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}",
            "SERVER_NAME": SITE,
            **overrides,
        }
    )


def csrf_token(client: FlaskClient, url: str = "/login", **kwargs: Any) -> str:
    body = client.get(url, **kwargs).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', body)
    assert match, "the page has no CSRF token"
    return match.group(1)


# CSRF ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def csrf_web(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Flask, Scene, dict[str, str]]]:
    """The scene in an application that checks CSRF tokens, as in production."""
    with scene_app(tmp_path_factory.mktemp("csrf"), WTF_CSRF_ENABLED=True) as found:
        yield found


def _allowed_persona(endpoint: str, method: str) -> str:
    """Someone the route lets through: the victim a forged request would ride on."""
    if endpoint in PUBLIC:
        return "anonymous"
    row = TABLE[(endpoint, method)]
    return next(p for p, expected in row.items() if expected not in (LOGIN, 403, 404))


POST_ROUTES = [
    pytest.param(endpoint, id=endpoint) for endpoint, method in ROUTES if method == "POST"
]


@pytest.mark.parametrize("endpoint", POST_ROUTES)
def test_every_post_without_a_csrf_token_is_refused(csrf_web, endpoint):
    app, scene, urls = csrf_web
    persona = _allowed_persona(endpoint, "POST")
    client = client_for(app, scene, persona)
    with app.app_context():
        before = fingerprint()
    response = client.post(urls[endpoint], data={"reason": "forged", "lang": "en"})
    assert response.status_code == 400, response.status
    assert "The form has expired" in response.get_data(as_text=True)
    with app.app_context():
        assert fingerprint() == before


def test_the_walk_finds_the_post_routes():
    endpoints = {param.values[0] for param in POST_ROUTES}
    assert {"auth.login", "auth.logout", "admin.deactivate_user", "hr.decide"} <= endpoints


def test_a_post_with_its_token_goes_through_and_another_sessions_token_does_not(csrf_web):
    app, scene, _urls = csrf_web
    learner = client_for(app, scene, "learner_a")
    token = csrf_token(learner, "/account")
    stranger = client_for(app, scene, "learner_b")
    forged = stranger.post("/account/calendar", data={"csrf_token": token})
    assert forged.status_code == 400
    genuine = learner.post("/account/calendar", data={"csrf_token": token})
    assert genuine.status_code == 302
    assert urlsplit(genuine.headers["Location"]).path == "/account"


# Security headers ----------------------------------------------------------------------------


def csp_directives(header: str) -> dict[str, list[str]]:
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            directives[words[0].lower()] = words[1:]
    return directives


def check_security_headers(response: Any, *, hsts: bool) -> None:
    headers = response.headers
    csp = csp_directives(headers.get("Content-Security-Policy", ""))
    scripts = csp.get("script-src", csp.get("default-src"))
    assert scripts, "the CSP does not restrict scripts"
    assert "'unsafe-inline'" not in scripts and "'unsafe-eval'" not in scripts
    assert "*" not in scripts and "data:" not in scripts
    styles = csp.get("style-src", csp.get("default-src"))
    assert styles and "'unsafe-inline'" not in styles
    assert csp.get("object-src") == ["'none'"]
    assert csp.get("frame-ancestors") == ["'none'"]
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") in {
        "no-referrer",
        "same-origin",
        "strict-origin",
        "strict-origin-when-cross-origin",
    }
    if hsts:
        value = headers.get("Strict-Transport-Security", "")
        max_age = re.search(r"max-age=(\d+)", value)
        assert max_age and int(max_age.group(1)) >= 31_536_000, value
        assert "includesubdomains" in value.lower()
    else:
        assert "Strict-Transport-Security" not in headers


def _response_kinds(scene: Scene) -> dict[str, tuple[str, str, str]]:
    """persona, method and URL of each kind of response."""
    everything = "starts_on=2000-01-01&ends_on=2100-12-31"
    return {
        "html page": ("anonymous", "GET", "/courses"),
        "signed-in page": ("admin", "GET", "/admin/"),
        "not found": ("anonymous", "GET", "/no-such-page"),
        "forbidden": ("learner_a", "GET", "/admin/"),
        "method not allowed": ("learner_a", "GET", "/logout"),
        "bad request": ("hr_a", "POST", "/hr/staff/import/confirm"),
        "redirect to log in": ("anonymous", "GET", "/hr/"),
        "redirect after a change": ("learner_a", "POST", "/language"),
        "json health check": ("anonymous", "GET", "/healthz"),
        "static file": ("anonymous", "GET", "/static/css/skillsup.css"),
        "csv roster": ("trainer", "GET", f"/trainer/classes/{scene.class_code}/roster.csv"),
        "csv report": ("hr_a", "GET", f"/hr/reports/progress.csv?{everything}"),
        "xlsx report": ("hr_a", "GET", f"/hr/reports/enrolments.xlsx?{everything}"),
        "csv sample": ("hr_a", "GET", "/hr/staff/import/sample.csv"),
        "calendar": ("anonymous", "GET", f"/calendar/{scene.calendar_token}.ics"),
        "pdf": ("learner_a", "GET", f"/certificates/{scene.certificate_id}.pdf"),
    }


KINDS = list(_response_kinds(Scene()))
EXPECTED_STATUS = {
    "not found": 404,
    "forbidden": 403,
    "method not allowed": 405,
    "bad request": 400,
    "redirect to log in": 302,
    "redirect after a change": 302,
}


@pytest.mark.parametrize("kind", KINDS)
def test_security_headers_on_every_kind_of_response(web, kind):
    app, scene, _urls = web
    persona, method, url = _response_kinds(scene)[kind]
    response = client_for(app, scene, persona).open(url, method=method, data={"lang": "en"})
    response.close()
    assert response.status_code == EXPECTED_STATUS.get(kind, 200), response.status
    check_security_headers(response, hsts=False)


def test_downloads_are_not_sniffed_or_shown_inline(web):
    app, scene, _urls = web
    kinds = _response_kinds(scene)
    for kind in ("csv roster", "csv report", "xlsx report", "pdf"):
        persona, _method, url = kinds[kind]
        response = client_for(app, scene, persona).get(url)
        response.close()
        assert response.headers["Content-Disposition"].startswith("attachment"), kind
        assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.usefixtures("clean_environment")
def test_hsts_and_headers_in_production(tmp_path):
    app = production_app(tmp_path / "production.sqlite3")
    with app.app_context():
        db.create_all()
    client = app.test_client()
    for url, status in (
        ("/login", 200),
        ("/healthz", 200),
        ("/no-such-page", 404),
        ("/hr/", 302),
        ("/static/css/skillsup.css", 200),
    ):
        response = client.get(url, base_url=f"https://{SITE}")
        response.close()
        assert response.status_code == status, url
        check_security_headers(response, hsts=True)
    assert app.debug is False
    _dispose(app)


@pytest.mark.usefixtures("clean_environment")
def test_no_hsts_in_development(tmp_path):
    app = development_app(tmp_path / "development.sqlite3")
    with app.app_context():
        db.create_all()
    for url in ("/login", "/healthz", "/no-such-page"):
        response = app.test_client().get(url)
        check_security_headers(response, hsts=False)
    _dispose(app)


# Cookies -------------------------------------------------------------------------------------


def set_cookies(response: Any) -> dict[str, str]:
    """The Set-Cookie headers of a response, by cookie name."""
    cookies = {}
    for header in response.headers.getlist("Set-Cookie"):
        cookies[header.split("=", 1)[0]] = header
    return cookies


def cookie_flags(header: str) -> dict[str, str]:
    flags = {}
    for part in header.split(";")[1:]:
        name, _, value = part.strip().partition("=")
        flags[name.lower()] = value
    return flags


def _log_in_with_token(app: Flask, base_url: str) -> Any:
    with app.app_context():
        db.create_all()
        # A trainer: production asks admins and HR officers to set up two-factor sign-in
        # first, and only the session that follows sets the "remember me" cookie.
        user = Factory().user(role="trainer", email="cookie.trainer@skillsup.test")
        email = user.email
        db.session.remove()
    client = app.test_client()
    token = csrf_token(client, "/login", base_url=base_url)
    return client.post(
        "/login",
        base_url=base_url,
        # Over HTTPS, Flask-WTF also wants the page the form came from to be on the site.
        headers={"Referer": f"{base_url}/login"},
        data={"email": email, "password": PASSWORD, "remember": "y", "csrf_token": token},
    )


@pytest.mark.usefixtures("clean_environment")
def test_cookies_in_production_are_secure_httponly_and_lax(tmp_path):
    app = production_app(tmp_path / "cookies.sqlite3")
    response = _log_in_with_token(app, f"https://{SITE}")
    assert response.status_code == 302
    cookies = set_cookies(response)
    for name in ("skillsup_session", "skillsup_remember"):
        flags = cookie_flags(cookies[name])
        assert "httponly" in flags, name
        assert "secure" in flags, name
        assert flags.get("samesite", "").lower() == "lax", name
    _dispose(app)


@pytest.mark.usefixtures("clean_environment")
def test_cookies_in_development_are_httponly_and_lax_but_not_secure(tmp_path):
    app = development_app(tmp_path / "cookies.sqlite3")
    response = _log_in_with_token(app, f"http://{SITE}")
    assert response.status_code == 302
    cookies = set_cookies(response)
    for name in ("skillsup_session", "skillsup_remember"):
        flags = cookie_flags(cookies[name])
        assert "httponly" in flags, name
        assert "secure" not in flags, name
        assert flags.get("samesite", "").lower() == "lax", name
    _dispose(app)


def test_an_anonymous_session_cookie_has_the_same_flags(web):
    app, scene, _urls = web
    response = client_for(app, scene, "anonymous").post("/language", data={"lang": "en"})
    flags = cookie_flags(set_cookies(response)["skillsup_session"])
    assert "httponly" in flags
    assert flags.get("samesite", "").lower() == "lax"


# Open redirects ------------------------------------------------------------------------------

HOSTILE_NEXT = [
    "//evil.example",
    "https://evil.example",
    "http://evil.example/path",
    "/\\evil.example",
    "/\\\\evil.example",
    "\\\\evil.example",
    "\\/evil.example",
    "javascript:alert(1)",
    "%2F%2Fevil.example",
    "/%09/evil.example",
    "/\t/evil.example",
    " //evil.example",
    "///evil.example",
    "https:evil.example",
]


def browser_destination(location: str) -> tuple[str, str]:
    """Where a browser goes with this Location: as the WHATWG URL parser reads it, it strips
    surrounding spaces and controls, drops tabs and newlines and reads a backslash as a
    slash."""
    cleaned = location.strip("".join(chr(c) for c in range(33)))
    cleaned = re.sub(r"[\t\n\r]", "", cleaned).replace("\\", "/")
    target = urlsplit(urljoin(f"http://{SITE}/some/page", cleaned))
    return target.scheme, target.netloc


def assert_stays_on_site(response: Any) -> str:
    assert response.status_code in (302, 303), response.status
    location = response.headers["Location"]
    scheme, host = browser_destination(location)
    assert scheme in ("http", "https") and host == SITE, f"redirected off site: {location!r}"
    return location


def _payloads() -> list[Any]:
    values = []
    for payload in HOSTILE_NEXT:
        values.append(pytest.param(payload, id=repr(payload)))
        if unquote(payload) != payload:
            values.append(pytest.param(unquote(payload), id=f"decoded {payload!r}"))
    return values


PAYLOADS = _payloads()


@pytest.fixture(scope="module")
def redirect_web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Flask, Scene]]:
    """The scene, for the redirect tests (which deactivate and reactivate a user)."""
    with scene_app(tmp_path_factory.mktemp("redirects")) as (app, scene, _urls):
        yield app, scene


def _next_cases(scene: Scene) -> list[tuple[str, str, str, dict[str, Any]]]:
    """persona, URL, where ``next`` goes (query or form), and the rest of the form."""
    withdraw = f"/hr/enrolments/{scene.confirmed_enrolment_id}/withdraw"
    target = scene.users["learner_b"]
    login = {"email": scene.emails["learner_a"], "password": PASSWORD}
    return [
        ("anonymous", "/login", "query", login),
        ("anonymous", "/login", "form", login),
        ("anonymous", "/language", "form", {"lang": "en"}),
        ("learner_a", "/language", "form", {"lang": "zh_Hant_HK"}),
        # With a reason: without one the confirmation page is shown again (400). Once
        # withdrawn, a further post is refused as no longer active, and still goes to next.
        ("hr_a", withdraw, "form", {"reason": "Reassigned"}),
        ("hr_a", withdraw, "query", {"reason": "Reassigned"}),
        ("admin", f"/admin/users/{target}/reactivate", "form", {}),
        ("admin", f"/admin/users/{target}/reactivate", "query", {}),
    ]


def _post_with_next(
    app: Flask, scene: Scene, case: tuple[str, str, str, dict[str, Any]], value: str
) -> Any:
    persona, url, where, form = case
    data = dict(form)
    query_string = None
    if where == "form":
        data["next"] = value
    else:
        query_string = {"next": value}
    client = client_for(app, scene, persona)
    return client.post(url, data=data, query_string=query_string)


@pytest.mark.parametrize("payload", PAYLOADS)
def test_every_next_parameter_refuses_other_sites(redirect_web, payload):
    app, scene = redirect_web
    for case in _next_cases(scene):
        response = _post_with_next(app, scene, case, payload)
        assert_stays_on_site(response)


def test_every_next_parameter_follows_a_path_on_the_site(redirect_web):
    """The same requests do follow a local path: the refusals above are not a broken next."""
    app, scene = redirect_web
    for case in _next_cases(scene):
        response = _post_with_next(app, scene, case, "/courses?q=cloud")
        assert response.headers["Location"].endswith("/courses?q=cloud"), case


def test_deactivation_with_next_refuses_other_sites(redirect_web):
    app, scene = redirect_web
    with app.app_context():
        throwaway = Factory().user(email="throwaway@kowloon-data.test").id
        db.session.remove()
    admin = client_for(app, scene, "admin")
    for payload in HOSTILE_NEXT:
        response = admin.post(
            f"/admin/users/{throwaway}/deactivate", data={"next": payload, "reason": "test"}
        )
        assert_stays_on_site(response)
        admin.post(f"/admin/users/{throwaway}/reactivate")


def test_the_login_redirect_keeps_the_page_asked_for(redirect_web):
    app, scene = redirect_web
    response = client_for(app, scene, "anonymous").get("/hr/staff?q=a")
    location = assert_stays_on_site(response)
    assert urlsplit(location).path == "/login"
    follow = client_for(app, scene, "anonymous").post(
        location, data={"email": scene.emails["hr_a"], "password": PASSWORD}
    )
    assert follow.headers["Location"].endswith("/hr/staff?q=a")


# Error pages ---------------------------------------------------------------------------------

LEAKS = (
    "Traceback",
    'File "',
    ".py",
    PROJECT_ROOT,
    "/work/",
    "site-packages",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "werkzeug",
    "SELECT",
    "no_such_table",
    "RuntimeError",
    "OperationalError",
    "secret internal detail",
    "per 1 minute",
    "Debugger",
)


def assert_no_leak(response: Any) -> str:
    body = response.get_data(as_text=True)
    for leak in LEAKS:
        assert leak not in body, f"the {response.status} page shows {leak!r}"
    assert "<html" in body
    return body


@pytest.fixture
def error_app(tmp_path: Path) -> Iterator[Flask]:
    """A fresh application with routes that fail, registered for this test only."""
    app = sqlite_app(
        tmp_path / "errors.sqlite3",
        LOGIN_LIMIT_PER_ACCOUNT="2 per minute",
        MAX_CONTENT_LENGTH=64 * 1024,
        MAX_FORM_MEMORY_SIZE=16 * 1024,
    )
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/crash")
    def crash() -> str:
        raise RuntimeError(f"secret internal detail SELECT * FROM users in {PROJECT_ROOT}/x.py")

    @app.get("/test-only/bad-sql")
    def bad_sql() -> str:
        db.session.execute(text("SELECT secret FROM no_such_table"))
        return "unreachable"

    @app.get("/test-only/bad-request")
    def bad_request() -> str:
        raise BadRequest(f"secret internal detail {PROJECT_ROOT}/skillsup/x.py")

    with app.app_context():
        db.create_all()
    yield app
    _dispose(app)


def test_error_pages_give_nothing_away(error_app):
    client = error_app.test_client()
    cases = [
        ("GET", "/no-such-page/<b>", {}, 404, "Page not found"),
        ("GET", "/logout", {}, 405, "does not accept that kind of request"),
        ("GET", "/test-only/bad-request", {}, 400, "Bad request"),
        ("POST", "/login", {"email": "x@y.test", "password": "p" * 100_000}, 413, "Too large"),
        ("GET", "/test-only/crash", {}, 500, "Something went wrong"),
        ("GET", "/test-only/bad-sql", {}, 500, "Something went wrong"),
    ]
    for method, url, data, status, message in cases:
        response = client.open(url, method=method, data=data)
        assert response.status_code == status, url
        body = assert_no_leak(response)
        assert message in body, url
        assert "<b>" not in body
        check_security_headers(response, hsts=False)


def test_too_many_attempts_gives_nothing_away(error_app):
    client = error_app.test_client()
    for _attempt in range(2):
        client.post("/login", data={"email": "who@harbour-it.test", "password": "wrong-guess"})
    response = client.post("/login", data={"email": "who@harbour-it.test", "password": "again"})
    assert response.status_code == 429
    body = assert_no_leak(response)
    assert "Too many attempts" in body
    check_security_headers(response, hsts=False)


def test_a_csrf_failure_gives_nothing_away(tmp_path):
    app = sqlite_app(tmp_path / "csrf-error.sqlite3", WTF_CSRF_ENABLED=True)
    response = app.test_client().post("/login", data={"email": "x@y.test"})
    assert response.status_code == 400
    body = assert_no_leak(response)
    assert "The form has expired" in body
    assert "CSRF token is missing" not in body
    _dispose(app)


@pytest.mark.usefixtures("clean_environment")
def test_a_server_error_in_production_gives_nothing_away(tmp_path):
    app = production_app(tmp_path / "production-errors.sqlite3")

    @app.get("/test-only/crash")
    def crash() -> str:
        raise RuntimeError(f"secret internal detail SELECT * FROM users in {PROJECT_ROOT}/x.py")

    response = app.test_client().get("/test-only/crash", base_url=f"https://{SITE}")
    assert response.status_code == 500
    assert "Something went wrong" in assert_no_leak(response)
    _dispose(app)


# Oversized uploads ---------------------------------------------------------------------------


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes]]) -> dict[str, Any]:
    """A multipart/form-data body built in memory, as keyword arguments for ``client.post``.

    (Given a large ``data`` dict, Werkzeug's test client spools the body to a temporary file
    that it never closes, which fails a run where warnings are errors.)
    """
    boundary = "----skillsup-test-boundary"
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    for name, (filename, content) in files.items():
        parts.append(
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
                f'filename="{filename}"\r\nContent-Type: text/csv\r\n\r\n'
            ).encode()
            + content
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return {"data": body, "content_type": f"multipart/form-data; boundary={boundary}"}


def test_an_upload_over_the_limit_gets_a_friendly_413(web):
    app, scene, _urls = web
    limit = app.config["MAX_CONTENT_LENGTH"]
    client = client_for(app, scene, "hr_a")
    with app.app_context():
        before = fingerprint()
    for url in ("/hr/staff/import", "/hr/nominations/import"):
        big = b"email,name\n" + b"x" * (limit + 1024)
        response = client.post(url, **multipart({}, {"file": ("staff.csv", big)}))
        assert response.status_code == 413, url
        body = assert_no_leak(response)
        assert "Too large" in body
        assert "The upload is larger than allowed." in body
    with app.app_context():
        assert fingerprint() == before


def test_an_oversized_form_gets_a_friendly_413(web):
    """A body over MAX_CONTENT_LENGTH, and a multipart text field over MAX_FORM_MEMORY_SIZE."""
    app, scene, _urls = web
    client = client_for(app, scene, "anonymous")
    huge = "p" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post(
        "/login",
        data=f"email=amy.chan%40harbour-it.test&password={huge}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 413
    assert "Too large" in assert_no_leak(response)
    big_field = "p" * (app.config["MAX_FORM_MEMORY_SIZE"] + 1)
    response = client.post("/login", **multipart({"password": big_field}, {}))
    assert response.status_code == 413
    assert "Too large" in assert_no_leak(response)


def test_a_file_over_the_import_limit_but_under_the_request_limit_gets_a_form_error(web):
    app, scene, _urls = web
    big = b"email,name\n" + b"a@harbour-it.test,A\n" * 120_000  # about 2.3 MB
    response = client_for(app, scene, "hr_a").post(
        "/hr/staff/import", **multipart({}, {"file": ("staff.csv", big)})
    )
    assert response.status_code == 200
    assert "larger than 2 MB" in response.get_data(as_text=True)


# Helpers for the tests that store hostile text -----------------------------------------------

SCRIPT = '<script>alert("xss")</script>'
IMG = '"><img src=x onerror=alert(1)>'
RAW = ('<script>alert("xss")', "<img src=x onerror=alert(1)>")


def hostile(marker: str, *, short: bool = False) -> str:
    """A value for one field: a marker to find it by, then the payloads."""
    return f"{marker}{IMG}" if short else f"{marker}{SCRIPT}{IMG}"


def escaped(marker: str) -> str:
    """How the start of :func:`hostile` looks when it is escaped for HTML."""
    return html.escape(marker, quote=False)


def _main_text(body: str) -> str:
    """The text of the page's main element, for a failure message."""
    main = body[body.find("<main") :]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))[:1500]


def assert_escaped(response: Any, *markers: str, where: str = "") -> str:
    """No payload is live on the page; each marker's value is shown, escaped."""
    body = response.get_data(as_text=True)
    label = where or response.request.path
    assert response.status_code == 200, f"{label}: {response.status}"
    lowered = body.lower()
    for raw in RAW:
        assert raw not in lowered, f"{label} shows a live payload"
    for marker in markers:
        assert marker.lower() in lowered, f"{label} does not show {marker}: {_main_text(body)}"
        for follower in ("&lt;script&gt;alert(", "&#34;&gt;&lt;img src=x", "&lt;img src=x"):
            if f"{marker}{follower}".lower() in lowered:
                break
        else:
            raise AssertionError(f"{label} shows {marker} without its escaped payload")
    return body


def log_in(app: Flask, user: Any) -> FlaskClient:
    client = app.test_client()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return client


def ok(response: Any) -> Any:
    """A form submission that must have been accepted (a redirect after saving)."""
    assert response.status_code == 302, response.get_data(as_text=True)[:2000]
    return response


def _id_from(response: Any) -> int:
    """The id at the end of the path a creation redirected to."""
    return int(urlsplit(response.headers["Location"]).path.rstrip("/").rsplit("/", 1)[1])


def _hk(moment: Any) -> str:
    return moment.astimezone(HONG_KONG).strftime("%Y-%m-%dT%H:%M")


# Stored XSS: courses, classes and sessions ---------------------------------------------------

COURSE_FIELDS = {
    "title_en": "TITLE-EN",
    "title_zh": "TITLE-ZH",
    "summary_en": "SUMMARY-EN",
    "summary_zh": "SUMMARY-ZH",
    "description_en": "DESCRIPTION-EN",
    "description_zh": "DESCRIPTION-ZH",
    "outcomes_en": "OUTCOMES-EN",
    "outcomes_zh": "OUTCOMES-ZH",
    "audience_en": "AUDIENCE-EN",
    "audience_zh": "AUDIENCE-ZH",
    "skills": "KEYWORDS",
}
CLASS_CODE = "KLS-CODE"  # codes refuse markup: pages are checked for the other fields
VENUE, ONLINE, ROOM = "VENUE", "https://meet.example/ONLINE", "ROOM"
ZH = {"Accept-Language": "zh-HK"}


@pytest.mark.slow
def test_course_class_and_session_text_is_escaped_on_every_page(app, make, trainer, learner):
    admin = make.user(role="admin", email="xss.admin@skillsup.test")
    hr = make.user(role="hr", company=learner.company, email="xss.hr@harbour-it.test")
    admin_client = log_in(app, admin)
    form = {field: hostile(marker) for field, marker in COURSE_FIELDS.items()}
    form["outcomes_en"] += "\nOUTCOME-TWO" + SCRIPT
    form.update(
        code="SU-XSS-101",
        skill_area="cloud",
        qf_level="4",
        qf_credits="3",
        contact_hours="24",
        delivery_mode="hybrid",
        teaching_language="english",
        fee="4800",
    )
    course_id = _id_from(ok(admin_client.post("/admin/courses/new", data=form)))
    ok(admin_client.post(f"/admin/courses/{course_id}/publish"))

    now = utcnow()
    starts_on = (now + timedelta(days=30)).astimezone(HONG_KONG).date()
    class_form = {
        "course_id": str(course_id),
        "code": CLASS_CODE,
        "trainer_ids": [str(trainer.id)],
        "venue": hostile(VENUE),
        "online_url": hostile(ONLINE),
        "capacity": "10",
        "enrolment_opens_at": _hk(now - timedelta(days=1)),
        "enrolment_closes_at": _hk(now + timedelta(days=20)),
        "withdrawal_deadline_at": _hk(now + timedelta(days=20)),
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + timedelta(days=7)).isoformat(),
        "min_attendance_pct": "80",
    }
    # Markup in a class code is refused outright: the code is part of the class's addresses.
    refused = admin_client.post(
        "/admin/classes/new", data={**class_form, "code": hostile(CLASS_CODE, short=True)}
    )
    assert refused.status_code == 200
    assert "Use only letters, digits and hyphens" in refused.get_data(as_text=True)
    assert IMG not in refused.get_data(as_text=True)
    class_id = _id_from(ok(admin_client.post("/admin/classes/new", data=class_form)))
    ok(
        admin_client.post(
            f"/admin/classes/{class_id}/sessions",
            data={
                "session-day": starts_on.isoformat(),
                "session-start_time": "19:00",
                "session-end_time": "22:00",
                "session-room": hostile(ROOM),
            },
        )
    )
    ok(admin_client.post(f"/admin/classes/{class_id}/status/open-enrolment"))
    course_class = db.session.get(CourseClass, class_id)
    code, session_id = course_class.code, course_class.sessions[0].id
    assert code == CLASS_CODE
    enrol_url = url_for("learning.enrol", class_code=code)
    learner_client = log_in(app, learner)
    ok(learner_client.post(enrol_url))
    finished = make.course_class(
        course=db.session.get(Course, course_id), status=ClassStatus.COMPLETED
    )
    certificate = Certificate(
        enrolment=make.enrolment(finished, learner, EnrolmentStatus.COMPLETED),
        serial_number="SU-2026-009999",
        verification_code="x" * 32,
    )
    db.session.add(certificate)
    db.session.commit()

    anonymous = app.test_client()
    trainer_client = log_in(app, trainer)
    hr_client = log_in(app, hr)
    title = COURSE_FIELDS["title_en"]
    everything_en = [m for f, m in COURSE_FIELDS.items() if f.endswith("_en")]
    everything_zh = [m for f, m in COURSE_FIELDS.items() if f.endswith("_zh")]
    everything = list(COURSE_FIELDS.values())
    roster = url_for("trainer.roster", class_code=code)
    pages: list[tuple[FlaskClient, str, dict[str, str], list[str]]] = [
        (anonymous, "/courses", {}, [title]),
        (anonymous, "/courses?q=TITLE-EN", {}, [title]),
        (anonymous, "/courses?q=KEYWORDS", {}, [title]),
        (anonymous, "/courses", ZH, ["TITLE-ZH"]),
        (anonymous, "/courses/SU-XSS-101", {}, [*everything_en, VENUE]),
        (anonymous, "/courses/SU-XSS-101", ZH, [*everything_zh, VENUE]),
        (anonymous, "/verify/" + "x" * 32, {}, [title, "TITLE-ZH"]),
        (admin_client, "/admin/courses", {}, [title]),
        (admin_client, "/admin/courses?q=XSS", {}, [title]),
        (admin_client, f"/admin/courses/{course_id}", {}, everything),
        (admin_client, f"/admin/courses/{course_id}/edit", {}, everything),
        (admin_client, "/admin/classes", {}, [title]),
        (admin_client, "/admin/classes?q=KLS", {}, [title]),
        (
            admin_client,
            f"/admin/classes/{class_id}",
            {},
            [title, VENUE, ONLINE, ROOM],
        ),
        (admin_client, f"/admin/classes/{class_id}/edit", {}, [VENUE, ONLINE]),
        (
            admin_client,
            f"/admin/classes/{class_id}/sessions/{session_id}/edit",
            {},
            [ROOM],
        ),
        (admin_client, "/admin/classes/new", {}, [title]),
        (trainer_client, "/trainer/", {}, [title, ROOM]),
        (trainer_client, roster, {}, [title, VENUE, ROOM]),
        (trainer_client, f"{roster}/sessions/{session_id}/attendance", {}, [title]),
        (trainer_client, f"{roster}/sessions/{session_id}/sign-in", {}, [ROOM]),
        (trainer_client, f"{roster}/results", {}, [title]),
        (trainer_client, f"{roster}/close", {}, [title]),
        (learner_client, "/my-learning", {}, [title, ONLINE, ROOM]),
        (learner_client, "/my-learning", ZH, ["TITLE-ZH"]),
        (hr_client, "/hr/classes", {}, [title]),
        (hr_client, "/hr/classes?q=KLS", {}, [title]),
        (hr_client, url_for("hr.class_detail", class_code=code), {}, [title, VENUE]),
        (hr_client, f"/hr/staff/{learner.id}", {}, [title]),
    ]
    for client, url, headers, markers in pages:
        assert_escaped(client.get(url, headers=headers), *markers, where=url)


def assert_mail_escaped(outbox: list[Any]) -> None:
    """E-mails carry the same text: their HTML part escapes it too."""
    assert outbox, "no e-mail was sent"
    for message in outbox:
        if message.html:
            lowered = message.html.lower()
            for raw in RAW:
                assert raw not in lowered, f"the e-mail {message.subject!r} has a live payload"


# Stored XSS: people, companies and quotas ----------------------------------------------------


@pytest.mark.slow
def test_people_company_and_quota_text_is_escaped_on_every_page(app, make, trainer, outbox):
    admin = make.user(role="admin", email="xss.admin@skillsup.test")
    admin_client = log_in(app, admin)
    company_id = _id_from(
        ok(
            admin_client.post(
                "/admin/companies/new",
                data={
                    "name": hostile("COMPANY-NAME"),
                    "code": "XSSCO",
                    "domains": "xss-co.test",
                    "is_active": "y",
                },
            )
        )
    )
    company = db.session.get(PartnerCompany, company_id)
    today = utcnow().astimezone(HONG_KONG).date()
    ok(
        admin_client.post(
            f"/admin/companies/{company_id}/quotas",
            data={
                "quota-label": hostile("QUOTA-LABEL"),
                "quota-starts_on": (today - timedelta(days=30)).isoformat(),
                "quota-ends_on": (today + timedelta(days=300)).isoformat(),
                "quota-seats": "10",
                "quota-course_id": "0",
            },
        )
    )
    quota_id = company.quotas[0].id
    ok(
        admin_client.post(
            f"/admin/companies/{company_id}/hr-officers",
            data={"hr-name": hostile("HR-OFFICER"), "hr-email": "officer@xss-co.test"},
        )
    )
    ok(
        admin_client.post(
            "/admin/users/invite",
            data={
                "name": hostile("ADMIN-INVITEE"),
                "email": "admin.invitee@xss-co.test",
                "role": "learner",
                "company": str(company_id),
                "staff_number": hostile("SN-A", short=True),
                "department": hostile("DEPT-A"),
                "job_title": hostile("JOB-A"),
            },
        )
    )
    hr = make.user(role="hr", company=company, email="hr@xss-co.test")
    hr_client = log_in(app, hr)
    ok(
        hr_client.post(
            "/hr/staff/invite",
            data={
                "name": hostile("HR-INVITEE"),
                "email": "hr.invitee@xss-co.test",
                "staff_number": hostile("SN-H", short=True),
                "department": hostile("DEPT-H"),
                "job_title": hostile("JOB-H"),
            },
        )
    )
    ok(
        app.test_client().post(
            "/register",
            data={
                "name": hostile("REGISTERED"),
                "email": "registered@xss-co.test",
                "password": "a long and unusual passphrase",
                "confirm": "a long and unusual passphrase",
            },
        )
    )
    learner = make.user(company=company, email="self@xss-co.test")
    learner_client = log_in(app, learner)
    ok(
        learner_client.post(
            "/account/profile",
            data={"name": hostile("SELF-NAME"), "preferred_language": "", "wants_reminders": "y"},
        )
    )

    # The people in a class, to be seen on the trainer's and HR's pages.
    invitee = db.session.scalar(select(User).where(User.email == "admin.invitee@xss-co.test"))
    course_class = make.course_class(
        trainers=[trainer],
        sessions=2,
        first_session=(utcnow() - timedelta(hours=1)).replace(microsecond=0),
        status=ClassStatus.RUNNING,
    )
    for person in (learner, invitee):
        make.enrolment(course_class, person)
    pending_class = make.course_class(trainers=[trainer])
    pending = make.enrolment(pending_class, learner, EnrolmentStatus.PENDING)
    certificate = Certificate(
        enrolment=make.enrolment(
            make.course_class(status=ClassStatus.COMPLETED), learner, EnrolmentStatus.COMPLETED
        ),
        serial_number="SU-2026-009998",
        verification_code="y" * 32,
    )
    db.session.add(certificate)
    db.session.commit()
    assert pending.id

    people = ["HR-INVITEE", "ADMIN-INVITEE", "REGISTERED", "SELF-NAME"]
    roster = f"/trainer/classes/{course_class.code}"
    session_id = sorted(course_class.sessions, key=lambda s: s.starts_at)[0].id
    trainer_client = log_in(app, trainer)
    pages: list[tuple[FlaskClient, str, list[str]]] = [
        (admin_client, "/admin/users", [*people, "HR-OFFICER", "COMPANY-NAME"]),
        (admin_client, "/admin/users?q=xss-co", [*people, "HR-OFFICER"]),
        (admin_client, "/admin/users/invite", ["COMPANY-NAME"]),
        (admin_client, "/admin/companies", ["COMPANY-NAME"]),
        (admin_client, "/admin/companies?q=XSSCO", ["COMPANY-NAME"]),
        (
            admin_client,
            f"/admin/companies/{company_id}",
            ["COMPANY-NAME", "QUOTA-LABEL", "HR-OFFICER"],
        ),
        (admin_client, f"/admin/companies/{company_id}/edit", ["COMPANY-NAME"]),
        (
            admin_client,
            f"/admin/companies/{company_id}/quotas/{quota_id}/edit",
            ["COMPANY-NAME", "QUOTA-LABEL"],
        ),
        (admin_client, f"/admin/classes/{course_class.id}", ["SELF-NAME", "ADMIN-INVITEE"]),
        (hr_client, "/hr/", ["COMPANY-NAME", "QUOTA-LABEL"]),
        (hr_client, "/hr/approvals", ["SELF-NAME"]),
        (hr_client, "/hr/staff", [*people, "DEPT-A", "DEPT-H"]),
        (hr_client, "/hr/staff?q=xss-co", [*people]),
        (hr_client, f"/hr/staff/{invitee.id}", ["ADMIN-INVITEE", "DEPT-A", "JOB-A", "SN-A"]),
        (hr_client, f"/hr/staff/{learner.id}", ["SELF-NAME"]),
        (hr_client, "/hr/progress", ["SELF-NAME", "ADMIN-INVITEE", "DEPT-A", "DEPT-H"]),
        (hr_client, "/hr/reports", ["DEPT-A", "DEPT-H"]),
        (hr_client, f"/hr/classes/{course_class.code}", ["SELF-NAME", "QUOTA-LABEL"]),
        (trainer_client, roster, ["SELF-NAME", "ADMIN-INVITEE", "DEPT-A", "COMPANY-NAME"]),
        (trainer_client, f"{roster}/sessions/{session_id}/attendance", ["SELF-NAME"]),
        (trainer_client, f"{roster}/sessions/{session_id}/sign-in", ["SELF-NAME"]),
        (trainer_client, f"{roster}/close", ["SELF-NAME"]),
        (learner_client, "/account", ["SELF-NAME"]),
        (learner_client, "/my-learning", ["SELF-NAME"]),
        (app.test_client(), "/verify/" + "y" * 32, ["SELF-NAME"]),
    ]
    for client, url, markers in pages:
        assert_escaped(client.get(url), *markers, where=url)
    assert_mail_escaped(outbox)


# Stored XSS: reasons for rejections, withdrawals, cancellations, deactivations, revocations ---


@pytest.mark.slow
def test_reasons_are_escaped_on_every_page(app, make, trainer, outbox):
    admin = make.user(role="admin", email="xss.admin@skillsup.test")
    company = make.company(code="RSN", domains=["reasons.test"], requires_approval=True)
    hr = make.user(role="hr", company=company, email="hr@reasons.test")
    rejected, hr_withdrawn, admin_withdrawn, cancelled, deactivated, owner = (
        make.user(company=company, email=f"{who}@reasons.test")
        for who in ("rejected", "hr-withdrawn", "admin-withdrawn", "cancelled", "gone", "owner")
    )
    course_class = make.course_class(trainers=[trainer], capacity=10)
    doomed_class = make.course_class(trainers=[trainer], capacity=10)
    pending = make.enrolment(course_class, rejected, EnrolmentStatus.PENDING)
    by_hr = make.enrolment(course_class, hr_withdrawn)
    by_admin = make.enrolment(course_class, admin_withdrawn)
    make.enrolment(doomed_class, cancelled)
    make.enrolment(course_class, deactivated)
    make.course_class(trainers=[trainer], sessions=1)
    certificate = Certificate(
        enrolment=make.enrolment(
            make.course_class(status=ClassStatus.COMPLETED), owner, EnrolmentStatus.COMPLETED
        ),
        serial_number="SU-2026-009997",
        verification_code="z" * 32,
    )
    db.session.add(certificate)
    db.session.commit()
    ids = {
        "pending": pending.id,
        "by_hr": by_hr.id,
        "by_admin": by_admin.id,
        "class": course_class.id,
        "doomed": doomed_class.id,
        "certificate": certificate.id,
    }

    hr_client, admin_client = log_in(app, hr), log_in(app, admin)
    # Confirming a rejection shows each request's outcome on the page it answers with.
    rejection = hr_client.post(
        "/hr/approvals",
        data={
            "enrolment_ids": [str(ids["pending"])],
            "decision": "reject",
            "confirmed": "yes",
            "reason": hostile("REJECTED-BECAUSE"),
        },
    )
    assert rejection.status_code == 200, rejection.get_data(as_text=True)[:2000]
    assert "Rejected: the learner has been told by e-mail." in rejection.get_data(as_text=True)
    ok(
        hr_client.post(
            f"/hr/enrolments/{ids['by_hr']}/withdraw",
            data={"reason": hostile("HR-WITHDREW-BECAUSE")},
        )
    )
    ok(
        admin_client.post(
            f"/admin/enrolments/{ids['by_admin']}/withdraw",
            data={"reason": hostile("ADMIN-WITHDREW-BECAUSE")},
        )
    )
    ok(
        admin_client.post(
            f"/admin/classes/{ids['doomed']}/status/cancel",
            data={"cancel-reason": hostile("CANCELLED-BECAUSE")},
        )
    )
    ok(
        hr_client.post(
            f"/hr/staff/{deactivated.id}/deactivate",
            data={"reason": hostile("DEACTIVATED-BECAUSE")},
        )
    )
    ok(
        hr_client.post(
            f"/hr/staff/{deactivated.id}/reactivate",
            data={"reason": hostile("REACTIVATED-BECAUSE")},
        )
    )
    ok(
        admin_client.post(
            f"/admin/users/{owner.id}/deactivate", data={"reason": hostile("ADMIN-DEACTIVATED")}
        )
    )
    ok(
        admin_client.post(
            f"/certificates/{ids['certificate']}/revoke", data={"reason": hostile("REVOKE-REASON")}
        )
    )

    def learner_page(user: User, *markers: str) -> tuple[FlaskClient, str, list[str]]:
        return log_in(app, user), "/my-learning", list(markers)

    pages: list[tuple[FlaskClient, str, list[str]]] = [
        learner_page(rejected, "REJECTED-BECAUSE"),
        learner_page(hr_withdrawn, "HR-WITHDREW-BECAUSE"),
        learner_page(admin_withdrawn, "ADMIN-WITHDREW-BECAUSE"),
        learner_page(cancelled, "CANCELLED-BECAUSE"),
        learner_page(deactivated, "DEACTIVATED-BECAUSE"),
        (hr_client, f"/hr/staff/{rejected.id}", ["REJECTED-BECAUSE"]),
        (hr_client, f"/hr/staff/{hr_withdrawn.id}", ["HR-WITHDREW-BECAUSE"]),
        (hr_client, f"/hr/staff/{admin_withdrawn.id}", ["ADMIN-WITHDREW-BECAUSE"]),
        (hr_client, f"/hr/staff/{cancelled.id}", ["CANCELLED-BECAUSE"]),
        (
            hr_client,
            f"/hr/staff/{deactivated.id}",
            ["DEACTIVATED-BECAUSE", "REACTIVATED-BECAUSE"],
        ),
        (hr_client, f"/hr/staff/{owner.id}", ["ADMIN-DEACTIVATED"]),
        (
            admin_client,
            f"/admin/classes/{ids['class']}",
            ["REJECTED-BECAUSE", "HR-WITHDREW-BECAUSE", "ADMIN-WITHDREW-BECAUSE"],
        ),
        (admin_client, f"/admin/classes/{ids['doomed']}", ["CANCELLED-BECAUSE"]),
        (admin_client, "/verify/" + "z" * 32, ["REVOKE-REASON"]),
    ]
    for client, url, markers in pages:
        assert_escaped(client.get(url), *markers, where=url)
    public = assert_escaped(app.test_client().get("/verify/" + "z" * 32))
    assert "REVOKE-REASON" not in public, "the public page shows why it was revoked"
    assert_mail_escaped(outbox)


# Stored XSS: values read from CSV files, and a file's name ------------------------------------


def _upload(client: FlaskClient, url: str, content: str, filename: str) -> Any:
    return client.post(url, data={"file": (io.BytesIO(content.encode()), filename)})


def _payload_field(response: Any) -> str:
    match = re.search(r'name="payload"[^>]*value="([^"]+)"', response.get_data(as_text=True))
    assert match, "the preview offers nothing to confirm"
    return html.unescape(match.group(1))


@pytest.mark.slow
def test_csv_imported_values_and_file_names_are_escaped(app, make, trainer, outbox):
    company = make.company(code="CSVX", domains=["csv-xss.test"])
    hr = make.user(role="hr", company=company, email="hr@csv-xss.test")
    colleague = make.user(company=company, email="colleague@csv-xss.test", staff_number="C-1")
    course_class = make.course_class(trainers=[trainer], sessions=1)
    hr_client = log_in(app, hr)

    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    staff_csv = "\n".join(
        [
            "E-mail,Name,Staff number,Department,Job title",
            ",".join(
                [
                    "imported@csv-xss.test",
                    cell(hostile("CSV-NAME")),
                    cell(hostile("CSV-SN", short=True)),
                    cell(hostile("CSV-DEPT")),
                    cell(hostile("CSV-JOB")),
                ]
            ),
            ",".join([cell(hostile("CSV-BAD-EMAIL", short=True)), "Someone", "", "", ""]),
        ]
    )
    # A browser sends a double quote in a file name as %22, so the name has none.
    filename = "FILE-NAME<img src=x onerror=alert(1)>.csv"
    preview = _upload(hr_client, "/hr/staff/import", staff_csv + "\n", filename)
    assert_escaped(
        preview, "CSV-NAME", "CSV-SN", "CSV-DEPT", "CSV-JOB", "FILE-NAME", where="staff preview"
    )
    # Only the good row, so that the preview can be confirmed.
    good = "\n".join(staff_csv.splitlines()[:2]) + "\n"
    preview = _upload(hr_client, "/hr/staff/import", good, filename)
    payload = _payload_field(preview)
    ok(hr_client.post("/hr/staff/import/confirm", data={"payload": payload}))
    imported = db.session.scalar(select(User).where(User.email == "imported@csv-xss.test"))
    assert imported is not None
    for url, markers in (
        ("/hr/staff", ["CSV-NAME", "CSV-DEPT"]),
        (f"/hr/staff/{imported.id}", ["CSV-NAME", "CSV-DEPT", "CSV-JOB", "CSV-SN"]),
        ("/hr/progress", ["CSV-NAME", "CSV-DEPT"]),
        ("/hr/staff/import", []),
    ):
        assert_escaped(hr_client.get(url), *markers, where=url)

    nominations_csv = "\n".join(
        [
            "E-mail,Staff number,Class code",
            f"{colleague.email},,{cell(hostile('NOM-CODE', short=True))}",
            f"{cell(hostile('NOM-EMAIL', short=True))},,{course_class.code}",
            f",{cell(hostile('NOM-SN', short=True))},{course_class.code}",
        ]
    )
    preview = _upload(hr_client, "/hr/nominations/import", nominations_csv + "\n", filename)
    assert_escaped(preview, "NOM-CODE", "NOM-EMAIL", "NOM-SN", where="nominations preview")

    nominate = hr_client.post(
        f"/hr/staff/{colleague.id}/nominate",
        data={"class_code": hostile("TYPED-CODE", short=True)},
    )
    assert_escaped(nominate, "TYPED-CODE", where="nominating by a typed class code")
    assert_mail_escaped(outbox)


# Reflected XSS: what a URL says is shown escaped ---------------------------------------------

REFLECTED = hostile("REFLECTED")


def _reflecting_pages(scene: Scene) -> list[tuple[str, str, dict[str, str], bool]]:
    """persona, path, query, and whether the page shows the value back (in a search box)."""
    code = scene.class_code
    session = scene.started_session_id
    p = REFLECTED
    return [
        ("anonymous", "/courses", {"q": p, "skill_area": p, "start_month": p, "sort": p}, True),
        ("anonymous", "/login", {"next": p}, True),
        ("anonymous", "/register", {"x": p}, False),
        ("anonymous", "/no-such-page", {"x": p}, False),
        ("anonymous", f"/verify/{p}", {}, False),
        ("anonymous", f"/courses/{p}", {}, False),
        ("admin", "/admin/users", {"q": p}, True),
        ("admin", "/admin/courses", {"q": p, "status": p, "skill_area": p}, True),
        ("admin", "/admin/classes", {"q": p, "status": p, "month": p, "page": p}, True),
        ("admin", "/admin/companies", {"q": p, "status": p}, True),
        ("hr_a", "/hr/", {"period": p}, False),
        ("hr_a", "/hr/staff", {"q": p, "department": p, "status": p, "sort": p}, True),
        ("hr_a", "/hr/classes", {"q": p}, True),
        ("hr_a", f"/hr/classes/{scene.open_class_code}", {"q": p, "department": p}, True),
        ("hr_a", "/hr/progress", {"department": p}, False),
        ("hr_a", "/hr/progress", {"sort": p}, False),
        ("hr_a", "/hr/reports", {"starts_on": p, "ends_on": p, "department": p}, False),
        ("hr_a", "/hr/reports/progress.csv", {"starts_on": p, "department": p}, False),
        (
            "trainer",
            f"/trainer/classes/{code}/sessions/{session}/attendance",
            {"prefill": p},
            False,
        ),
    ]


def test_values_from_the_url_are_shown_escaped(web):
    app, scene, _urls = web
    for persona, path, query, echoed in _reflecting_pages(scene):
        response = client_for(app, scene, persona).get(path, query_string=query)
        body = response.get_data(as_text=True)
        where = f"{path}?{query}"
        assert response.status_code in (200, 400, 404), f"{where}: {response.status}"
        for raw in RAW:
            assert raw not in body.lower(), f"{where} shows a live payload"
        if echoed:
            assert escaped("REFLECTED") + "&lt;script&gt;" in body, where
        assert_no_leak(response)


# SQL injection -------------------------------------------------------------------------------

INJECTIONS = [
    "' OR 1=1--",
    "' OR '1'='1",
    '" OR ""="',
    "%' UNION SELECT id, email, password_hash FROM users--",
    "1; DROP TABLE users",
    "1'); DROP TABLE users;--",
    "\\' OR 1=1 /*",
]
# Filters and sorts are read from a short list of choices: fewer attempts cover them.
FILTER_INJECTIONS = [INJECTIONS[0], INJECTIONS[3], INJECTIONS[4]]
COURSE_TITLE = "Quokka Networking Essentials"
CLASS_CODE_SQLI = "SU-QNE-101-2026A"
EMPLOYEE = ("Xavier Quill", "xavier.quill@sqli-harbour.test")
PARTNER = "Zephyr Holdings"


@pytest.fixture
def sqli_scene(app, make, trainer):
    company = make.company(name=PARTNER, code="ZEPH", domains=["sqli-harbour.test"])
    hr = make.user(role="hr", company=company, email="hr@sqli-harbour.test", name="Hana Reyes")
    make.user(company=company, name=EMPLOYEE[0], email=EMPLOYEE[1], department="Networks")
    course = make.course(code="SU-QNE-101", title_en=COURSE_TITLE, title_zh="網絡基礎")
    make.course_class(course=course, code=CLASS_CODE_SQLI, trainers=[trainer], sessions=1)
    admin = make.user(role="admin", email="sqli.admin@skillsup.test", name="Ada Admin")
    return {"hr": hr, "admin": admin}


def _searches() -> list[tuple[str, str, str]]:
    """persona, search page, and what a matching row shows."""
    return [
        ("anonymous", "/courses", COURSE_TITLE),
        ("admin", "/admin/users", EMPLOYEE[1]),
        ("admin", "/admin/courses", COURSE_TITLE),
        ("admin", "/admin/classes", CLASS_CODE_SQLI),
        ("admin", "/admin/companies", PARTNER),
        ("hr", "/hr/staff", EMPLOYEE[0]),
        ("hr", "/hr/classes", CLASS_CODE_SQLI),
        ("hr", f"/hr/classes/{CLASS_CODE_SQLI}", EMPLOYEE[0]),
    ]


def _filters() -> list[tuple[str, str, list[str]]]:
    """persona, page, and the query parameters it reads."""
    reports = ["starts_on", "ends_on", "department"]
    return [
        (
            "anonymous",
            "/courses",
            [
                "skill_area",
                "qf_level",
                "delivery_mode",
                "teaching_language",
                "start_month",
                "open_seats",
                "sort",
                "page",
            ],
        ),
        # "role" is left out here: see test_an_unknown_role_in_the_user_list_is_not_an_error.
        ("admin", "/admin/users", ["page"]),
        ("admin", "/admin/courses", ["status", "skill_area", "page"]),
        ("admin", "/admin/classes", ["status", "skill_area", "month", "page"]),
        ("admin", "/admin/companies", ["status", "page"]),
        ("hr", "/hr/", ["period"]),
        ("hr", "/hr/staff", ["department", "status", "sort", "page"]),
        ("hr", "/hr/classes", ["page"]),
        ("hr", f"/hr/classes/{CLASS_CODE_SQLI}", ["department", "page"]),
        ("hr", "/hr/progress", ["department", "sort", "dir"]),
        ("hr", "/hr/reports", reports),
        ("hr", "/hr/reports/progress.csv", reports),
        ("hr", "/hr/reports/enrolments.xlsx", reports),
    ]


DATABASE_ERRORS = (
    "Traceback",
    "sqlalchemy",
    "sqlite3",
    "psycopg",
    "OperationalError",
    "ProgrammingError",
    "DataError",
    "syntax error",
    "Something went wrong",
)


def assert_no_database_error(response: Any) -> str:
    """The page may show the search term back, but nothing of a database error."""
    body = response.get_data(as_text=True)
    for leak in DATABASE_ERRORS:
        assert leak not in body, f"{response.request.path} shows {leak!r}"
    return body


def _counts() -> tuple[Any, ...]:
    tables = set(inspect(db.engine).get_table_names())
    assert {table.name for table in db.metadata.sorted_tables} <= tables
    return tuple(
        db.session.scalar(select(func.count()).select_from(table))
        for table in db.metadata.sorted_tables
    )


@pytest.mark.slow
def test_sql_injection_in_searches_finds_nothing_and_breaks_nothing(app, sqli_scene):
    clients = {
        "anonymous": app.test_client(),
        "admin": log_in(app, sqli_scene["admin"]),
        "hr": log_in(app, sqli_scene["hr"]),
    }
    before = _counts()
    for persona, page, row in _searches():
        client = clients[persona]
        # The row is there to be found: a plain search finds it.
        found = client.get(page, query_string={"q": row.split()[0].split("@")[0][:6]})
        assert row in html.unescape(found.get_data(as_text=True)), page
        for injection in INJECTIONS:
            response = client.get(page, query_string={"q": injection})
            assert response.status_code == 200, f"{page} q={injection}: {response.status}"
            body = html.unescape(assert_no_database_error(response))
            assert row not in body, f"{page} q={injection} found rows"
            assert "$argon2" not in body
    db.session.rollback()
    assert _counts() == before


@pytest.mark.slow
def test_sql_injection_in_filters_and_sorts_is_harmless(app, sqli_scene):
    clients = {
        "anonymous": app.test_client(),
        "admin": log_in(app, sqli_scene["admin"]),
        "hr": log_in(app, sqli_scene["hr"]),
    }
    before = _counts()
    for persona, page, parameters in _filters():
        for parameter in parameters:
            for injection in FILTER_INJECTIONS:
                response = clients[persona].get(page, query_string={parameter: injection})
                where = f"{page} {parameter}={injection}"
                # Refused (400 with a reason) or ignored (200), never an error; a page
                # number that is not one may also be a page that is not found.
                allowed = (200, 400, 404) if parameter == "page" else (200, 400)
                assert response.status_code in allowed, f"{where}: {response.status}"
                content_type = response.headers["Content-Type"]
                if content_type.startswith("text/html"):
                    assert_no_database_error(response)
                else:
                    response.close()
    db.session.rollback()
    assert _counts() == before


def _wildcard_finds_nothing(client: FlaskClient, search_page: str, row: str) -> None:
    for wildcard in ("%", "_"):
        response = client.get(search_page, query_string={"q": wildcard})
        assert response.status_code == 200
        assert row not in html.unescape(response.get_data(as_text=True)), (search_page, wildcard)


def test_like_wildcards_in_a_search_are_plain_characters(app, sqli_scene):
    """A search for "%" or "_" finds what contains that character, not everything."""
    clients = {
        "anonymous": app.test_client(),
        "admin": log_in(app, sqli_scene["admin"]),
        "hr": log_in(app, sqli_scene["hr"]),
    }
    for persona, search_page, row in _searches():
        if search_page != "/admin/users":
            _wildcard_finds_nothing(clients[persona], search_page, row)


def test_like_wildcards_in_the_admin_user_search_are_plain_characters(app, sqli_scene):
    _wildcard_finds_nothing(log_in(app, sqli_scene["admin"]), "/admin/users", EMPLOYEE[1])


def test_an_unknown_role_in_the_user_list_is_not_an_error(web):
    """An unknown role in the query string is ignored (or refused), like every other filter."""
    app, scene, _urls = web
    response = client_for(app, scene, "admin").get(
        "/admin/users", query_string={"role": "' OR 1=1--"}
    )
    assert response.status_code in (200, 400)


# Spreadsheet formulas in downloads -----------------------------------------------------------

FORMULAS = {
    "name": '=HYPERLINK("https://evil.example","Open")',
    "department": "+1+cmd|' /C calc'!A0",
    "job_title": "@SUM(A1:A9)",
    "staff_number": "-2+3",
}


def _cells(response: Any) -> list[str]:
    """Every text cell of a CSV or XLSX download."""
    content = response.get_data()
    if response.mimetype == "text/csv":
        rows = csv.reader(io.StringIO(content.decode("utf-8-sig")))
        return [cell for row in rows for cell in row]
    workbook = openpyxl.load_workbook(io.BytesIO(content), read_only=True)
    cells = [
        cell
        for sheet in workbook.worksheets
        for row in sheet.iter_rows(values_only=True)
        for cell in row
        if isinstance(cell, str)
    ]
    workbook.close()
    return cells


def test_downloads_never_start_a_cell_with_a_formula(app, make, trainer, hr_officer, company):
    """A name typed as a formula is plain text in every CSV and Excel download."""
    learner = make.user(company=company, email="formula@harbour-it.test", **FORMULAS)
    course_class = make.course_class(trainers=[trainer], sessions=1)
    make.enrolment(course_class, learner)
    everything = "starts_on=2000-01-01&ends_on=2100-12-31"
    downloads = [
        (trainer, f"/trainer/classes/{course_class.code}/roster.csv"),
        (hr_officer, f"/hr/reports/progress.csv?{everything}"),
        (hr_officer, f"/hr/reports/enrolments.csv?{everything}"),
        (hr_officer, f"/hr/reports/progress.xlsx?{everything}"),
        (hr_officer, f"/hr/reports/enrolments.xlsx?{everything}"),
    ]
    for user, url in downloads:
        # Buffered: a streamed download is read inside the request's own context.
        response = log_in(app, user).get(url, buffered=True)
        assert response.status_code == 200, url
        cells = _cells(response)
        shown = [cell for cell in cells if any(f.lstrip("=+-@") in cell for f in FORMULAS.values())]
        assert shown, f"{url} shows none of the values"
        for cell in shown:
            assert not cell.startswith(("=", "+", "-", "@")), f"{url}: {cell!r}"
