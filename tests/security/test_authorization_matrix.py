"""The authorization matrix: every route, every persona, real objects.

The routes come from the application's URL map. Each one is either on the short PUBLIC list
(pages meant for anyone) or in TABLE, which says what each persona gets: a redirect to the
login page for anonymous visitors, 403 for a wrong role, 404 for another company's or another
trainer's object, and the status of the page or action for the people allowed. A route in
neither fails the first test, so that no new route escapes review.

Each route is requested with the scene's real objects (see ``conftest.py``), by GET and by
every POST it accepts, with an empty body: what counts here is who gets through, not what
the forms do with their input. The scene is built once for the module in an SQLite file:
these tests are about HTTP and the permission checks in front of the queries, which are the
same on every database. A request that must be refused runs against that shared scene and
must leave it unchanged; a POST that is allowed may change things, so it runs against a
fresh copy of the scene.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask, url_for
from sqlalchemy import select

from skillsup.extensions import db
from skillsup.models import ClassSession, Enrolment, EnrolmentStatus

from .conftest import (
    PERSONAS,
    Scene,
    client_for,
    copy_sqlite,
    fresh_copy,
    sqlite_app,
    stored_fingerprint,
)

LOGIN = "login"  # a redirect to the login page
IGNORED_METHODS = {"HEAD", "OPTIONS"}

# Pages meant for anyone, signed in or not: what each is for.
PUBLIC = {
    "static": "stylesheets, images and sample files",
    "main.index": "the front page (signed-in users are sent to their home page)",
    "main.healthz": "the health check for the load balancer",
    "main.set_language": "the language switch",
    "main.calendar_feed": "a private calendar feed: the unguessable token is the key",
    "auth.login": "signing in",
    "auth.sso_callback": "coming back from a company's identity provider (state in the session)",
    "auth.register": "registering with a partner company's address",
    "auth.confirm_email": "the link that confirms an address (signed token)",
    "auth.accept_invitation": "the link in an invitation (signed token)",
    "auth.confirm_email_change": "the link that confirms a new address (signed token)",
    "auth.forgot_password": "asking for a password reset",
    "auth.reset_password": "the link that resets a password (signed token)",
    "catalogue.course_list": "the public catalogue",
    "catalogue.course_detail": "a published course's page",
    "catalogue.class_calendar": "a published class's timetable as iCalendar",
    "certificates.verify": "checking a certificate by its verification code",
}

#: Public routes that answer a sign-in started elsewhere: without one (its state kept in the
#: session) they refuse with 400, saying so.
ANSWERS_A_SIGN_IN = {"auth.sso_callback"}


def expect(default: int | str, **personas: int | str) -> dict[str, int | str]:
    """Every signed-in persona gets ``default`` unless named; anonymous visitors log in."""
    row: dict[str, int | str] = dict.fromkeys(PERSONAS, default)
    row["anonymous"] = LOGIN
    row.update(personas)
    return row


def admin_only(status: int) -> dict[str, int | str]:
    return expect(403, admin=status)


def hr_only(status: int, hr_b: int | None = None) -> dict[str, int | str]:
    """HR officers of either company; ``hr_b`` when the object belongs to company A."""
    return expect(403, hr_a=status, hr_b=status if hr_b is None else hr_b)


def learner_only(status: int, learner_b: int | None = None) -> dict[str, int | str]:
    return expect(403, learner_a=status, learner_b=status if learner_b is None else learner_b)


def trainer_home(status: int) -> dict[str, int | str]:
    return expect(403, trainer=status, other_trainer=status, admin=status)


def class_trainer(status: int) -> dict[str, int | str]:
    """The class's own trainer and admins; another trainer does not learn it exists."""
    return expect(403, trainer=status, admin=status, other_trainer=404)


GET, POST = "GET", "POST"

TABLE: dict[tuple[str, str], dict[str, int | str]] = {
    # One's own account: anyone signed in.
    ("auth.account", GET): expect(200),
    ("auth.update_profile", POST): expect(400),
    ("auth.change_password", POST): expect(400),
    ("auth.calendar_feed", POST): expect(302),
    # The CEF subsidy used elsewhere: a learner's own to enter.
    ("auth.cef_used_elsewhere", POST): learner_only(302),
    ("auth.logout", POST): expect(302),
    # Two-factor sign-in from one's account: anyone signed in. An empty post is the form again,
    # saying what to type.
    ("auth.account_two_factor_setup", GET): expect(200),
    ("auth.account_two_factor_setup", POST): expect(400),
    ("auth.account_recovery_codes", POST): expect(400),
    ("auth.account_two_factor_off", POST): expect(400),
    # The second step of a sign-in opens only for a pending sign-in (tests/test_two_factor_views):
    # without one, visitors are sent to log in and signed-in people home.
    ("auth.two_factor_code", GET): expect(302),
    ("auth.two_factor_code", POST): expect(302),
    ("auth.two_factor_recovery", GET): expect(302),
    ("auth.two_factor_recovery", POST): expect(302),
    ("auth.two_factor_setup", GET): expect(302),
    ("auth.two_factor_setup", POST): expect(302),
    ("auth.two_factor_continue", GET): expect(302),
    ("auth.two_factor_continue", POST): expect(302),
    # One's own sessions: another person's is not there.
    ("auth.end_session", POST): expect(404, learner_a=302),
    ("auth.end_other_sessions", POST): expect(302),
    # Certificates: the owner, their company's HR and admins download; admins revoke.
    ("certificates.download", GET): expect(
        404, learner_a=200, hr_a=200, trainer=200, other_trainer=403, admin=200
    ),
    ("certificates.revoke", GET): admin_only(200),
    # Without a reason the confirmation page shows again, saying a reason is needed.
    ("certificates.revoke", POST): admin_only(400),
    # Learners.
    ("learning.my_learning", GET): learner_only(200),
    ("learning.enrol", POST): learner_only(302),
    ("learning.withdraw", GET): learner_only(200, learner_b=404),
    ("learning.withdraw", POST): learner_only(302, learner_b=404),
    # A statement of attendance and result: the learner's own only.
    ("learning.statement", GET): learner_only(200, learner_b=404),
    # HR officers: their own company only.
    ("hr.dashboard", GET): hr_only(200),
    ("hr.approvals", GET): hr_only(200),
    ("hr.decide", POST): hr_only(400),  # nothing ticked: the queue again, saying so
    ("hr.withdraw", GET): hr_only(200, hr_b=404),
    ("hr.withdraw", POST): hr_only(400, hr_b=404),
    ("hr.invite_employee", GET): hr_only(200),
    ("hr.invite_employee", POST): hr_only(200),
    ("hr.staff_list", GET): hr_only(200),
    ("hr.employee_detail", GET): hr_only(200, hr_b=404),
    ("hr.deactivate_employee", GET): hr_only(200, hr_b=404),
    ("hr.deactivate_employee", POST): hr_only(400, hr_b=404),
    ("hr.reactivate_employee", POST): hr_only(302, hr_b=404),
    ("hr.nominate_employee", POST): hr_only(200, hr_b=404),
    ("hr.class_list", GET): hr_only(200),
    ("hr.class_detail", GET): hr_only(200),
    ("hr.nominate_staff", POST): hr_only(302),
    ("hr.staff_import", GET): hr_only(200),
    ("hr.staff_import", POST): hr_only(200),
    ("hr.staff_import_confirm", POST): hr_only(400),
    ("hr.staff_import_sample", GET): hr_only(200),
    ("hr.nominations_import", GET): hr_only(200),
    ("hr.nominations_import", POST): hr_only(200),
    ("hr.nominations_import_confirm", POST): hr_only(400),
    ("hr.nominations_import_sample", GET): hr_only(200),
    ("hr.progress", GET): hr_only(200),
    ("hr.reports_index", GET): hr_only(200),
    ("hr.progress_csv", GET): hr_only(200),
    ("hr.progress_xlsx", GET): hr_only(200),
    ("hr.enrolments_csv", GET): hr_only(200),
    ("hr.enrolments_xlsx", GET): hr_only(200),
    ("hr.audit_log", GET): hr_only(200),
    ("hr.certificates_to_renew", GET): hr_only(200),
    ("hr.audit_log_csv", GET): hr_only(200),
    ("hr.funding", GET): hr_only(200),
    ("hr.claims", GET): hr_only(200),
    ("hr.claims_csv", GET): hr_only(200),
    ("hr.claims_xlsx", GET): hr_only(200),
    # A claim of company A's enrolment: company B's HR officer does not learn it exists.
    ("hr.claim_received", GET): hr_only(200, hr_b=404),
    ("hr.claim_received", POST): hr_only(400, hr_b=404),
    ("hr.value", GET): hr_only(200),
    ("hr.value_csv", GET): hr_only(200),
    ("hr.value_xlsx", GET): hr_only(200),
    # Webhooks: company A's endpoint; company B's HR officer does not learn it exists.
    ("hr.webhook_list", GET): hr_only(200),
    ("hr.webhook_new", GET): hr_only(200),
    ("hr.webhook_new", POST): hr_only(400),  # no address: the form again, saying so
    ("hr.webhook_detail", GET): hr_only(200, hr_b=404),
    ("hr.webhook_edit", GET): hr_only(200, hr_b=404),
    ("hr.webhook_edit", POST): hr_only(400, hr_b=404),
    ("hr.webhook_disable", GET): hr_only(200, hr_b=404),
    ("hr.webhook_disable", POST): hr_only(302, hr_b=404),
    # Active already: refused with a flash on the endpoint's page.
    ("hr.webhook_enable", POST): hr_only(302, hr_b=404),
    ("hr.webhook_rotate", GET): hr_only(200, hr_b=404),
    ("hr.webhook_rotate", POST): hr_only(302, hr_b=404),
    ("hr.webhook_test", POST): hr_only(302, hr_b=404),
    ("hr.webhook_redeliver", POST): hr_only(302, hr_b=404),
    # API tokens: the company's own; another company's token is not there. An empty form is
    # refused by the service (a name is needed), and shown again.
    ("hr.api_tokens", GET): hr_only(200),
    ("hr.api_tokens", POST): hr_only(400),
    ("hr.revoke_api_token", GET): hr_only(200, hr_b=404),
    ("hr.revoke_api_token", POST): hr_only(302, hr_b=404),
    # Trainers: the classes they teach; admins every class.
    ("trainer.home", GET): trainer_home(200),
    ("trainer.roster", GET): class_trainer(200),
    ("trainer.roster_csv", GET): class_trainer(200),
    ("trainer.sign_in_sheet", GET): class_trainer(200),
    ("trainer.attendance", GET): class_trainer(200),
    ("trainer.attendance", POST): class_trainer(302),
    ("trainer.results", GET): class_trainer(200),
    ("trainer.results", POST): class_trainer(302),
    ("trainer.close", GET): class_trainer(200),
    # Before the last session has ended the trainer is turned back; an admin may close it,
    # but only with a reason (400: the form asks for it).
    ("trainer.close", POST): expect(403, trainer=302, admin=400, other_trainer=404),
    # Admins.
    ("admin.home", GET): admin_only(200),
    ("admin.user_list", GET): admin_only(200),
    ("admin.invite_user", GET): admin_only(200),
    ("admin.invite_user", POST): admin_only(200),
    ("admin.deactivate_user", GET): admin_only(200),
    ("admin.deactivate_user", POST): admin_only(302),
    ("admin.invitation_list", GET): admin_only(200),
    ("admin.user_detail", GET): admin_only(200),
    ("admin.user_edit", GET): admin_only(200),
    ("admin.user_edit", POST): admin_only(200),
    # Refused for the scene's learner (nothing pending, invitation accepted): a flash.
    ("admin.cancel_email_change", POST): admin_only(302),
    ("admin.resend_invitation", POST): admin_only(302),
    ("admin.revoke_invitation", POST): admin_only(302),
    ("admin.reactivate_user", POST): admin_only(302),
    # The scene's learner does not use two-factor sign-in: the page says so, a post is refused
    # with a flash on the person's page.
    ("admin.user_two_factor_reset", GET): admin_only(200),
    ("admin.user_two_factor_reset", POST): admin_only(302),
    ("admin.audit_log", GET): admin_only(200),
    ("admin.audit_log_csv", GET): admin_only(200),
    ("admin.course_list", GET): admin_only(200),
    ("admin.new_course", GET): admin_only(200),
    ("admin.new_course", POST): admin_only(200),
    ("admin.course_detail", GET): admin_only(200),
    ("admin.edit_course", GET): admin_only(200),
    ("admin.edit_course", POST): admin_only(200),
    ("admin.publish_course", POST): admin_only(302),
    ("admin.unpublish_course", POST): admin_only(302),
    ("admin.archive_course", POST): admin_only(302),
    ("admin.class_list", GET): admin_only(200),
    ("admin.class_create", GET): admin_only(200),
    ("admin.class_create", POST): admin_only(200),
    ("admin.class_detail", GET): admin_only(200),
    ("admin.class_reopen", GET): admin_only(200),
    ("admin.class_reopen", POST): admin_only(400),
    ("admin.class_edit", GET): admin_only(200),
    ("admin.class_edit", POST): admin_only(200),
    # Only cancelling asks first (GET); opening enrolment, the scene's action, is a POST.
    ("admin.class_status", GET): admin_only(405),
    ("admin.class_status", POST): admin_only(302),
    ("admin.class_enrol", POST): admin_only(302),
    ("admin.session_add", POST): admin_only(200),
    ("admin.session_edit", GET): admin_only(200),
    ("admin.session_edit", POST): admin_only(200),
    ("admin.session_delete", GET): admin_only(200),
    ("admin.session_delete", POST): admin_only(302),
    ("admin.sessions_generate", POST): admin_only(200),
    ("admin.enrolment_withdraw", GET): admin_only(200),
    ("admin.enrolment_withdraw", POST): admin_only(400),
    ("admin.enrolment_approve", POST): admin_only(302),
    ("admin.company_list", GET): admin_only(200),
    ("admin.company_new", GET): admin_only(200),
    ("admin.company_new", POST): admin_only(200),
    ("admin.company_detail", GET): admin_only(200),
    ("admin.company_edit", GET): admin_only(200),
    ("admin.company_edit", POST): admin_only(302),
    ("admin.company_quota_add", POST): admin_only(200),
    ("admin.company_quota_edit", GET): admin_only(200),
    ("admin.company_quota_edit", POST): admin_only(200),
    ("admin.company_quota_remove", POST): admin_only(302),
    ("admin.company_hr_invite", POST): admin_only(200),
    # A company's identity provider: an empty post is the form again, saying what is missing.
    ("admin.company_sso", GET): admin_only(200),
    ("admin.company_sso", POST): admin_only(400),
    ("admin.company_hr_deactivate", GET): admin_only(200),
    ("admin.company_hr_deactivate", POST): admin_only(302),
    ("admin.company_hr_reactivate", POST): admin_only(302),
    ("admin.scheme_list", GET): admin_only(200),
    ("admin.scheme_new", GET): admin_only(200),
    ("admin.scheme_new", POST): admin_only(200),
    ("admin.scheme_detail", GET): admin_only(200),
    ("admin.scheme_edit", GET): admin_only(200),
    ("admin.scheme_edit", POST): admin_only(200),
    ("admin.scheme_figures", GET): admin_only(200),
    # An empty post: the form again, saying what is missing.
    ("admin.scheme_figures", POST): admin_only(400),
    # The institute-wide API tokens.
    ("admin.api_tokens", GET): admin_only(200),
    ("admin.api_tokens", POST): admin_only(400),
    ("admin.revoke_api_token", GET): admin_only(200),
    ("admin.revoke_api_token", POST): admin_only(302),
}


# The URL of each route, with the scene's objects ---------------------------------------------


def url_values(scene: Scene, endpoint: str, arguments: set[str]) -> dict[str, Any]:
    """The scene's value for each of the route's URL arguments."""
    by_name: dict[str, Any] = {
        "course_id": scene.course_id,
        "class_id": scene.class_id,
        "class_code": scene.class_code,
        "session_id": scene.started_session_id,
        "company_id": scene.company_a,
        "quota_id": scene.quota_id,
        "scheme_id": scene.scheme_id,
        "enrolment_id": scene.confirmed_enrolment_id,
        "certificate_id": scene.certificate_id,
        "user_id": scene.users["learner_a"],
        # Company A's HR officer's token (the admins' pages take the admin's, below).
        "token_id": scene.api_token_ids["hr_a"],
        "scheme_code": "NITTP",
        "endpoint_id": scene.webhook_endpoint_id,
        "delivery_id": scene.webhook_delivery_id,
        "filename": "css/skillsup.css",
        # A transition that the running class refuses: the refusal is a flash, not a change.
        "action": "open-enrolment",
    }
    per_endpoint: dict[str, dict[str, Any]] = {
        "catalogue.course_detail": {"code": scene.course_code},
        "certificates.verify": {"code": scene.verification_code},
        "main.calendar_feed": {"token": scene.calendar_token},
        "auth.confirm_email": {"token": scene.confirm_token},
        "auth.accept_invitation": {"token": scene.invitation_token},
        "auth.confirm_email_change": {"token": scene.email_change_token},
        "auth.reset_password": {"token": scene.reset_token},
        "admin.company_hr_deactivate": {"user_id": scene.users["hr_a"]},
        "admin.company_hr_reactivate": {"user_id": scene.users["hr_a"]},
        "admin.enrolment_approve": {"enrolment_id": scene.pending_enrolment_id},
        "admin.revoke_api_token": {"token_id": scene.api_token_ids["admin"]},
        # A's learner's other session (on a phone): theirs to end, no one else's.
        "auth.end_session": {"session_id": scene.other_session_id},
    }
    values = {**by_name, **per_endpoint.get(endpoint, {})}
    missing = arguments - values.keys()
    assert not missing, f"no scene value for {sorted(missing)} of {endpoint}: add one"
    return {name: values[name] for name in arguments}


def all_routes(app: Flask) -> list[tuple[str, str]]:
    """(endpoint, method) of every route in the URL map but the API's, whose callers are
    tokens rather than signed-in people (``test_api_authorization_matrix.py``)."""
    return sorted(
        {
            (rule.endpoint, method)
            for rule in app.url_map.iter_rules()
            if not rule.rule.startswith("/api/")
            for method in rule.methods or ()
            if method not in IGNORED_METHODS
        }
    )


def route_urls(app: Flask, scene: Scene) -> dict[str, str]:
    with app.test_request_context():
        return {
            rule.endpoint: url_for(
                rule.endpoint, **url_values(scene, rule.endpoint, set(rule.arguments))
            )
            for rule in app.url_map.iter_rules()
            if not rule.rule.startswith("/api/")
        }


# Fixtures ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shared(
    pristine: tuple[Path, Scene], tmp_path_factory: pytest.TempPathFactory
) -> tuple[Flask, Scene, dict[str, str]]:
    """One application on one copy of the scene, for the requests that change nothing."""
    path, scene = pristine
    copy = tmp_path_factory.mktemp("matrix-shared") / "shared.sqlite3"
    copy_sqlite(path, copy)
    app = sqlite_app(copy)
    return app, scene, route_urls(app, scene)


@pytest.fixture
def fresh(pristine: tuple[Path, Scene], tmp_path: Path) -> Iterator[tuple[Flask, Scene]]:
    with fresh_copy(pristine, tmp_path) as app:
        yield app, pristine[1]


# The walk ------------------------------------------------------------------------------------


def _url_map_routes() -> list[tuple[str, str]]:
    return all_routes(sqlite_app(Path("/nonexistent/never-opened.sqlite3")))


ROUTES = _url_map_routes()


def test_every_route_is_public_or_in_the_table():
    unreviewed = [
        f"{endpoint} {method}"
        for endpoint, method in ROUTES
        if endpoint not in PUBLIC and (endpoint, method) not in TABLE
    ]
    assert not unreviewed, (
        "routes missing from the authorization matrix (add them to TABLE, or to PUBLIC if "
        f"anyone may use them): {unreviewed}"
    )


def test_the_table_names_only_routes_that_exist_and_every_persona():
    assert set(TABLE) <= set(ROUTES), set(TABLE) - set(ROUTES)
    assert set(PUBLIC) <= {endpoint for endpoint, _method in ROUTES}
    assert not {endpoint for endpoint, _method in TABLE} & set(PUBLIC)
    for key, row in TABLE.items():
        assert set(row) == set(PERSONAS), key
        assert row["anonymous"] == LOGIN, f"{key}: a guarded route sends visitors to log in"


CASES = [
    pytest.param(endpoint, method, persona, id=f"{endpoint}-{method}-{persona}")
    for (endpoint, method) in sorted(TABLE)
    for persona in PERSONAS
]


def _is_refusal(expected: int | str) -> bool:
    return expected in (LOGIN, 403, 404)


def _check(response: Any, expected: int | str) -> None:
    response.close()
    location = urlsplit(response.headers.get("Location", ""))
    if expected == LOGIN:
        assert response.status_code == 302, response.status
        assert location.path == "/login", response.headers["Location"]
        return
    assert response.status_code == expected, (
        f"{response.status} instead of {expected}: {response.get_data(as_text=True)[:800]}"
    )
    if response.status_code == 302:
        assert location.path != "/login", "an allowed persona was sent to log in"


@pytest.mark.parametrize(("endpoint", "method", "persona"), CASES)
def test_route_answers_each_persona(
    shared: tuple[Flask, Scene, dict[str, str]],
    pristine: tuple[Path, Scene],
    tmp_path: Path,
    endpoint: str,
    method: str,
    persona: str,
) -> None:
    expected = TABLE[(endpoint, method)][persona]
    app, scene, urls = shared
    if method == GET or _is_refusal(expected):
        before = stored_fingerprint(app) if method != GET else None
        response = client_for(app, scene, persona).open(urls[endpoint], method=method)
        _check(response, expected)
        if before is not None:
            assert stored_fingerprint(app) == before, "a refused request changed something"
        return
    # An allowed change: on a fresh copy of the scene, so that the shared one stays as it is.
    with fresh_copy(pristine, tmp_path) as fresh_app:
        response = client_for(fresh_app, scene, persona).open(urls[endpoint], method=method)
        _check(response, expected)


PUBLIC_CASES = [
    pytest.param(endpoint, method, persona, id=f"{endpoint}-{method}-{persona}")
    for (endpoint, method) in ROUTES
    if endpoint in PUBLIC
    for persona in PERSONAS
]


@pytest.mark.parametrize(("endpoint", "method", "persona"), PUBLIC_CASES)
def test_public_routes_answer_everyone(
    shared: tuple[Flask, Scene, dict[str, str]],
    pristine: tuple[Path, Scene],
    tmp_path: Path,
    endpoint: str,
    method: str,
    persona: str,
) -> None:
    """Public pages answer any persona (a signed-in user may be sent home), never 403/500.

    A public POST may change something (confirming an address, saving a language), so it
    runs on a fresh copy of the scene."""
    app, scene, urls = shared
    if method == GET:
        response = client_for(app, scene, persona).open(urls[endpoint], method=method)
    else:
        with fresh_copy(pristine, tmp_path) as fresh_app:
            response = client_for(fresh_app, scene, persona).open(urls[endpoint], method=method)
    response.close()
    if persona == "anonymous" and method == GET and endpoint not in ANSWERS_A_SIGN_IN:
        assert response.status_code == 200, response.status
    else:
        assert response.status_code in (200, 302, 400), response.status


def test_the_public_links_with_a_secret_need_the_right_secret(shared):
    """A calendar feed, a certificate and the e-mailed links are found by their secret only."""
    app, scene, _urls = shared
    client = client_for(app, scene, "anonymous")
    assert client.get(f"/calendar/{'x' * 32}.ics").status_code == 404
    assert client.get(f"/calendar/{scene.calendar_token}.ics").status_code == 200
    assert client.get(f"/verify/{'A' * 32}").status_code == 404
    ending = "BBBB" if scene.reset_token.endswith("AAAA") else "AAAA"
    forged = scene.reset_token[:-4] + ending
    for url in (f"/reset-password/{forged}", f"/invitation/{forged}", f"/confirm/{forged}"):
        response = client.get(url)
        assert response.status_code == 400, url
        assert 'name="password"' not in response.get_data(as_text=True), url
    # A token made for one purpose does not open another.
    assert client.get(f"/invitation/{scene.reset_token}").status_code == 400
    assert client.get(f"/reset-password/{scene.invitation_token}").status_code == 400


# Objects named in the body or paired in the URL ----------------------------------------------
#
# The matrix above names objects in the URL. These name another company's or another class's
# objects where the route takes them from the form, or pair a URL's objects that do not belong
# together: each is refused and changes nothing.


def _post_refused(
    app: Flask, scene: Scene, persona: str, url: str, data: Any, expected: int
) -> Any:
    before = stored_fingerprint(app)
    response = client_for(app, scene, persona).post(url, data=data)
    assert response.status_code == expected, response.get_data(as_text=True)[:800]
    assert stored_fingerprint(app) == before, "a refused request changed something"
    return response


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_hr_cannot_decide_another_companys_request(fresh, decision):
    app, scene = fresh
    _post_refused(
        app,
        scene,
        "hr_b",
        "/hr/approvals",
        {"enrolment_ids": [scene.pending_enrolment_id], "decision": decision, "reason": "No"},
        404,
    )
    with app.app_context():
        pending = db.session.get(Enrolment, scene.pending_enrolment_id)
        assert pending is not None and pending.status == EnrolmentStatus.PENDING


def test_hr_cannot_nominate_another_companys_employee_into_a_class(fresh):
    app, scene = fresh
    _post_refused(
        app,
        scene,
        "hr_b",
        f"/hr/classes/{scene.open_class_code}/nominate",
        {"employee_ids": [scene.users["learner_a"]]},
        404,
    )


def test_hr_cannot_withdraw_another_companys_enrolment(fresh):
    app, scene = fresh
    _post_refused(
        app,
        scene,
        "hr_a",
        f"/hr/enrolments/{scene.waitlisted_enrolment_id}/withdraw",
        {"reason": "Not ours"},
        404,
    )


def test_hr_cannot_nominate_another_companys_employee_by_csv(fresh):
    """The preview says the row is not one of your staff, reveals nothing about them, and
    offers nothing to confirm."""
    app, scene = fresh
    csv = f"email,class code\n{scene.emails['learner_a']},{scene.open_class_code}\n"
    response = _post_refused(
        app,
        scene,
        "hr_b",
        "/hr/nominations/import",
        {"file": (io.BytesIO(csv.encode()), "nominations.csv")},
        200,
    )
    body = response.get_data(as_text=True)
    assert "Not one of your staff" in body
    assert "Amy Chan" not in body
    assert 'name="payload"' not in body


def test_a_trainer_cannot_mark_a_learner_of_another_class(fresh):
    app, scene = fresh
    with app.app_context():
        other = db.session.scalar(select(Enrolment.id).where(Enrolment.class_id != scene.class_id))
    _post_refused(
        app,
        scene,
        "trainer",
        f"/trainer/classes/{scene.class_code}/sessions/{scene.started_session_id}/attendance",
        {f"mark-{other}": "present"},
        400,
    )


def test_a_trainer_cannot_record_a_result_for_a_learner_of_another_class(fresh):
    app, scene = fresh
    with app.app_context():
        other = db.session.scalar(select(Enrolment.id).where(Enrolment.class_id != scene.class_id))
    _post_refused(
        app,
        scene,
        "trainer",
        f"/trainer/classes/{scene.class_code}/results",
        {f"score-{other}": "90", f"passed-{other}": "pass"},
        400,
    )


def test_a_session_of_another_class_is_not_found_under_this_class(fresh):
    app, scene = fresh
    with app.app_context():
        foreign = db.session.scalar(
            select(ClassSession.id).where(ClassSession.class_id == scene.open_class_id)
        )
    own_class = f"/trainer/classes/{scene.class_code}/sessions/{foreign}"
    client = client_for(app, scene, "trainer")
    assert client.get(f"{own_class}/attendance").status_code == 404
    assert client.get(f"{own_class}/sign-in").status_code == 404
    _post_refused(app, scene, "trainer", f"{own_class}/attendance", {}, 404)
    admin_url = f"/admin/classes/{scene.class_id}/sessions/{foreign}"
    assert client_for(app, scene, "admin").get(f"{admin_url}/edit").status_code == 404
    _post_refused(app, scene, "admin", f"{admin_url}/delete", {}, 404)


def test_a_quota_or_hr_officer_of_another_company_is_not_found_under_this_one(fresh):
    app, scene = fresh
    company_b = f"/admin/companies/{scene.company_b}"
    admin = client_for(app, scene, "admin")
    assert admin.get(f"{company_b}/quotas/{scene.quota_id}/edit").status_code == 404
    _post_refused(app, scene, "admin", f"{company_b}/quotas/{scene.quota_id}/delete", {}, 404)
    hr_a = scene.users["hr_a"]
    _post_refused(app, scene, "admin", f"{company_b}/hr-officers/{hr_a}/deactivate", {}, 404)


def test_hr_pages_and_exports_show_only_their_own_company(shared):
    """Company B's HR officer sees nothing of company A's people anywhere."""
    app, scene, _urls = shared
    client = client_for(app, scene, "hr_b")
    pages = [
        "/hr/",
        "/hr/approvals",
        "/hr/staff",
        "/hr/staff?q=amy",
        "/hr/progress",
        "/hr/classes",
        f"/hr/classes/{scene.class_code}",
        f"/hr/classes/{scene.open_class_code}?q=a",
        "/hr/reports/progress.csv?starts_on=2000-01-01&ends_on=2100-12-31",
        "/hr/reports/enrolments.csv?starts_on=2000-01-01&ends_on=2100-12-31",
        "/hr/certificates",
    ]
    for page in pages:
        response = client.get(page)
        body = response.get_data(as_text=True)
        assert response.status_code == 200, page
        for secret in ("Amy Chan", "Carol Lee", "harbour-it.test", "Cloud Operations"):
            assert secret not in body, f"{page} shows {secret}"
    own = client.get("/hr/reports/enrolments.csv?starts_on=2000-01-01&ends_on=2100-12-31")
    assert "Ben Wong" in own.get_data(as_text=True)
