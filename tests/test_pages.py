"""The layout, error pages, health check, security headers and CSRF."""

from __future__ import annotations

import pytest
from flask import abort

from skillsup import create_app

from .conftest import BASE_TEST_CONFIG


def test_healthz_answers_200_when_the_database_is_reachable(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok"}


def test_healthz_answers_503_without_the_database(tmp_path):
    app = create_app(
        {
            **BASE_TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/missing-dir/nothing.sqlite3",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.status_code == 503
    assert response.get_json()["database"] == "unreachable"


def test_unknown_page_is_a_friendly_404(client):
    response = client.get("/no-such-page")
    assert response.status_code == 404
    body = response.get_data(as_text=True)
    assert "Page not found" in body
    assert "<html" in body


@pytest.mark.own_app
def test_a_server_error_shows_a_generic_page_without_details(app):
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/explode-for-test")
    def explode():
        raise RuntimeError("secret internal detail SELECT * FROM users")

    response = app.test_client().get("/explode-for-test")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Something went wrong" in body
    assert "secret internal detail" not in body
    assert "Traceback" not in body


@pytest.mark.own_app
def test_forbidden_page(app):
    @app.get("/forbidden-for-test")
    def forbidden():
        abort(403)

    response = app.test_client().get("/forbidden-for-test")
    assert response.status_code == 403
    assert "Not allowed" in response.get_data(as_text=True)


def test_security_headers_on_every_response(client):
    for path in ("/", "/login", "/no-such-page", "/static/css/skillsup.css"):
        response = client.get(path)
        response.close()
        csp = response.headers["Content-Security-Policy"]
        assert "frame-ancestors 'none'" in csp
        assert "script-src 'self'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        # Not in development or testing: HSTS would pin plain-HTTP local servers.
        assert "Strict-Transport-Security" not in response.headers


def test_hsts_in_production(tmp_path, monkeypatch):
    monkeypatch.delenv("SKILLSUP_ENV", raising=False)
    app = create_app(
        {
            "SECRET_KEY": "p" * 40,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/prod.sqlite3",
        }
    )
    response = app.test_client().get("/healthz")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_pages_carry_no_external_assets(client):
    body = client.get("/login").get_data(as_text=True)
    assert "http://" not in body.replace("http://skillsup.test", "")
    assert "https://" not in body
    assert "/static/css/skillsup.css" in body


@pytest.fixture
def csrf_client(app):
    app.config["WTF_CSRF_ENABLED"] = True
    return app.test_client()


def test_a_change_without_a_csrf_token_is_refused(csrf_client, learner):
    response = csrf_client.post(
        "/login", data={"email": learner.email, "password": "correct horse battery staple"}
    )
    assert response.status_code == 400
    assert "The form has expired" in response.get_data(as_text=True)


def test_logout_requires_post(client, login_as, learner):
    login_as(learner)
    assert client.get("/logout").status_code == 405


def test_html_lang_follows_the_browser_language(client):
    english = client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert '<html lang="en">' in english.get_data(as_text=True)
    for tag in ("zh-HK", "zh-TW", "zh-Hant"):
        chinese = client.get("/", headers={"Accept-Language": f"{tag},en;q=0.5"})
        assert '<html lang="zh-Hant-HK">' in chinese.get_data(as_text=True)


def test_language_switch_is_kept_for_anonymous_visitors(client):
    response = client.post("/language", data={"lang": "zh_Hant_HK", "next": "/login"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/login"
    assert '<html lang="zh-Hant-HK">' in client.get("/login").get_data(as_text=True)


def test_language_switch_ignores_foreign_next(client):
    response = client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/"


def test_language_switch_saves_the_signed_in_users_preference(client, login_as, learner):
    login_as(learner)
    client.post("/language", data={"lang": "zh_Hant_HK", "next": "/my-learning"})
    from skillsup.extensions import db
    from skillsup.models import User

    db.session.expire_all()
    assert db.session.get(User, learner.id).preferred_language == "zh_Hant_HK"


def test_navigation_matches_the_role(client, login_as, hr_officer):
    login_as(hr_officer)
    body = client.get("/hr/").get_data(as_text=True)
    assert 'href="/hr/"' in body
    assert 'href="/admin/"' not in body
    assert 'href="/my-learning"' not in body


def test_behind_a_proxy_the_visitors_address_is_used(tmp_path):
    app = create_app(
        {
            **BASE_TEST_CONFIG,
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/proxy.sqlite3",
            "PROXY_FIX_X_FOR": 1,
        }
    )
    seen: list[str | None] = []

    @app.get("/address-for-test")
    def address():
        from flask import request

        seen.append(request.remote_addr)
        return "ok"

    app.test_client().get(
        "/address-for-test",
        headers={"X-Forwarded-For": "203.0.113.9"},
        environ_base={"REMOTE_ADDR": "10.0.0.1"},
    )
    assert seen == ["203.0.113.9"]
