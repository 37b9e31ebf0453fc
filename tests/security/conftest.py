"""What the security tests share: a scene with real objects, logged-in clients, and a
fingerprint of the data that a refused request must leave unchanged.

The scene has two partner companies (A needs HR approval, B does not), their learners and HR
officers, two trainers and an admin; a published course with a running class taught by the
first trainer (its first session has started) in which A's learner is confirmed, another of
A's learners is pending and B's learner is waitlisted; a completed class with a certificate
for A's learner; an open class of the second trainer; a seat quota for A; and valid links
(calendar feed, e-mail confirmation, invitation, password reset).
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from skillsup import create_app
from skillsup.extensions import db
from skillsup.models import (
    ApiScope,
    Attendance,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    OutboxMessage,
    SeatQuota,
    User,
    WebhookDelivery,
    WebhookDeliveryStatus,
    WebhookEndpoint,
    utcnow,
)
from skillsup.services import api_tokens, funding_figures, funding_schemes, user_sessions
from skillsup.services.funding_figures import NITTP
from skillsup.services.tokens import Purpose, make_token
from skillsup.timeutil import today_hk

from ..conftest import BASE_TEST_CONFIG
from ..factories import Factory

PERSONAS = (
    "learner_a",
    "learner_b",
    "hr_a",
    "hr_b",
    "trainer",
    "other_trainer",
    "admin",
    "anonymous",
)
SIGNED_IN = PERSONAS[:-1]
#: The browser of A's learner's second session.
PHONE_BROWSER = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
#: The browser the scene's sessions were started in.
SCENE_BROWSER = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)


@dataclass
class Scene:
    """The ids, codes and secrets of the scene's objects (plain values: no session needed)."""

    users: dict[str, int] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    company_a: int = 0
    company_b: int = 0
    course_id: int = 0
    course_code: str = ""
    class_id: int = 0
    class_code: str = ""
    started_session_id: int = 0
    later_session_id: int = 0
    open_class_id: int = 0
    open_class_code: str = ""
    confirmed_enrolment_id: int = 0
    pending_enrolment_id: int = 0
    waitlisted_enrolment_id: int = 0
    certificate_id: int = 0
    verification_code: str = ""
    quota_id: int = 0
    calendar_token: str = ""
    confirm_token: str = ""
    invitation_token: str = ""
    reset_token: str = ""
    email_change_token: str = ""
    scheme_id: int = 0
    #: API tokens by caller (see ``API_CALLERS``): their secrets.
    api_tokens: dict[str, str] = field(default_factory=dict)
    webhook_endpoint_id: int = 0
    webhook_delivery_id: int = 0
    #: The same tokens' ids, for the pages that manage them.
    api_token_ids: dict[str, int] = field(default_factory=dict)
    #: Each signed-in persona's session: the id Flask-Login keeps (its secret), and its
    #: record's id, for the pages that end sessions.
    session_keys: dict[str, str] = field(default_factory=dict)
    session_ids: dict[str, int] = field(default_factory=dict)
    #: A second session of A's learner, on a phone.
    other_session_id: int = 0


def build_scene() -> Scene:
    """Create the scene in the current application's database and commit it."""
    make = Factory()
    now = utcnow().replace(microsecond=0)
    scene = Scene()

    company_a = make.company(
        name="Harbour IT Services",
        code="HBIT",
        domains=["harbour-it.test"],
        requires_approval=True,
    )
    company_b = make.company(name="Kowloon Data Ltd", code="KLDT", domains=["kowloon-data.test"])
    scene.company_a, scene.company_b = company_a.id, company_b.id

    people: dict[str, User] = {
        "learner_a": make.user(
            company=company_a,
            email="amy.chan@harbour-it.test",
            name="Amy Chan",
            department="Cloud Operations",
            calendar_token=secrets.token_urlsafe(24),
        ),
        "learner_b": make.user(
            company=company_b, email="ben.wong@kowloon-data.test", name="Ben Wong"
        ),
        "hr_a": make.user(role="hr", company=company_a, email="hr@harbour-it.test"),
        "hr_b": make.user(role="hr", company=company_b, email="hr@kowloon-data.test"),
        "trainer": make.user(role="trainer", email="tina.lau@skillsup.test", name="Tina Lau"),
        "other_trainer": make.user(role="trainer", email="oscar.ho@skillsup.test", name="Oscar Ho"),
        "admin": make.user(role="admin", email="admin@skillsup.test", name="Ada Admin"),
    }
    pending_learner = make.user(
        company=company_a, email="carol.lee@harbour-it.test", name="Carol Lee"
    )
    # Someone invited who has not set a password yet, and someone who has not confirmed.
    invitee = make.user(
        company=company_a,
        email="dora.ng@harbour-it.test",
        name="Dora Ng",
        password=None,
        email_confirmed_at=None,
        invited_at=now,
    )
    unconfirmed = make.user(
        company=company_b, email="eric.yip@kowloon-data.test", email_confirmed_at=None
    )
    scene.users = {name: user.id for name, user in people.items()}
    for name, user in people.items():
        started = user_sessions.start(user, ip_address="192.0.2.10", user_agent=SCENE_BROWSER)
        scene.session_keys[name], scene.session_ids[name] = started.secret, started.record.id
    phone = user_sessions.start(
        people["learner_a"], ip_address="198.51.100.7", user_agent=PHONE_BROWSER
    )
    scene.other_session_id = phone.record.id
    scene.emails = {name: user.email for name, user in people.items()}

    # Offered under a scheme that pays the company: its enrolments have claims.
    nittp = funding_schemes.ensure_published_schemes()[NITTP]
    course = make.course(
        code="SU-CLD-101",
        title_en="Cloud Foundations",
        title_zh="雲端基礎",
        funding_schemes=[nittp],
    )
    scene.course_id, scene.course_code = course.id, course.code

    running = make.course_class(
        course=course,
        code="SU-CLD-101-2026A",
        capacity=2,
        trainers=[people["trainer"]],
        sessions=3,
        first_session=now.replace(minute=0, second=0) - timedelta(days=2),
        status=ClassStatus.RUNNING,
        assessment_required=True,
    )
    scene.class_id, scene.class_code = running.id, running.code
    sessions = sorted(running.sessions, key=lambda s: s.starts_at)
    scene.started_session_id, scene.later_session_id = sessions[0].id, sessions[1].id

    confirmed = make.enrolment(running, people["learner_a"], EnrolmentStatus.CONFIRMED)
    pending = make.enrolment(running, pending_learner, EnrolmentStatus.PENDING)
    waitlisted = make.enrolment(running, people["learner_b"], EnrolmentStatus.WAITLISTED)
    scene.confirmed_enrolment_id = confirmed.id
    scene.pending_enrolment_id = pending.id
    scene.waitlisted_enrolment_id = waitlisted.id

    finished = make.course_class(
        course=course,
        code="SU-CLD-101-2025B",
        trainers=[people["trainer"]],
        sessions=2,
        first_session=now.replace(minute=0, second=0) - timedelta(days=60),
        status=ClassStatus.COMPLETED,
    )
    completed = make.enrolment(finished, people["learner_a"], EnrolmentStatus.COMPLETED)
    certificate = Certificate(
        enrolment=completed,
        serial_number=f"SU-{today_hk().year}-000001",
        verification_code=secrets.token_urlsafe(24),
    )
    db.session.add(certificate)
    db.session.commit()
    scene.certificate_id = certificate.id
    scene.verification_code = certificate.verification_code

    upcoming = make.course_class(
        course=course,
        code="SU-CLD-101-2026B",
        trainers=[people["other_trainer"]],
        sessions=2,
        status=ClassStatus.OPEN,
    )
    scene.open_class_id, scene.open_class_code = upcoming.id, upcoming.code

    today = today_hk()
    quota = make.quota(
        company_a,
        seats=10,
        starts_on=today - timedelta(days=100),
        ends_on=today + timedelta(days=200),
        label="2026 Term 1",
    )
    scene.quota_id = quota.id
    scene.scheme_id = funding_schemes.ensure_published_schemes()[funding_figures.CEF].id

    scene.calendar_token = people["learner_a"].calendar_token or ""
    scene.confirm_token = make_token(unconfirmed, Purpose.CONFIRM_EMAIL)
    scene.invitation_token = make_token(invitee, Purpose.INVITATION)
    scene.reset_token = make_token(people["learner_a"], Purpose.PASSWORD_RESET)
    # An admin has asked to change B's learner's address: the link sent to the new one.
    people["learner_b"].pending_email = "ben.wong.new@kowloon-data.test"
    scene.email_change_token = make_token(people["learner_b"], Purpose.CHANGE_EMAIL)
    scene.api_tokens, scene.api_token_ids = _api_tokens(people)
    # A's HR system hears of its events, and one of them failed.
    endpoint = WebhookEndpoint(
        company_id=company_a.id,
        url="https://hr.harbour-it.example/skillsup",
        secret="whsec_scene-secret",
        event_types=["enrolment.status_changed"],
        created_by_id=people["hr_a"].id,
    )
    db.session.add(endpoint)
    db.session.flush()
    delivery = WebhookDelivery(
        endpoint_id=endpoint.id,
        event_id="0" * 32,
        event_type="enrolment.status_changed",
        body="{}",
        status=WebhookDeliveryStatus.FAILED,
        attempts=8,
    )
    db.session.add(delivery)
    db.session.commit()
    scene.webhook_endpoint_id, scene.webhook_delivery_id = endpoint.id, delivery.id
    return scene


#: The API's callers in the matrix: a token's creator and its scopes, and the tokens that may
#: no longer be used. ``anonymous`` sends no token.
API_CALLERS: dict[str, tuple[str, tuple[ApiScope, ...]]] = {
    "hr_a_read": ("hr_a", (ApiScope.READ,)),
    "hr_a_staff": ("hr_a", (ApiScope.STAFF_WRITE,)),
    "hr_a_enrolments": ("hr_a", (ApiScope.ENROLMENTS_WRITE,)),
    "hr_a": ("hr_a", tuple(ApiScope)),
    "hr_b": ("hr_b", tuple(ApiScope)),
    "admin_read": ("admin", (ApiScope.READ,)),
    "admin": ("admin", tuple(ApiScope)),
    "revoked": ("hr_a", tuple(ApiScope)),
    "expired": ("hr_a", tuple(ApiScope)),
}
API_PERSONAS = ("anonymous", *API_CALLERS)


def _api_tokens(people: dict[str, User]) -> tuple[dict[str, str], dict[str, int]]:
    secrets_by_caller, ids_by_caller = {}, {}
    for caller, (person, scopes) in API_CALLERS.items():
        created = api_tokens.create_token(
            people[person], f"{caller} sync", [scope.value for scope in scopes]
        )
        secrets_by_caller[caller] = created.secret
        ids_by_caller[caller] = created.token.id
        if caller == "revoked":
            api_tokens.revoke_token(people[person], created.token)
        if caller == "expired":
            created.token.expires_at = utcnow() - timedelta(minutes=1)
    db.session.flush()
    return secrets_by_caller, ids_by_caller


def fingerprint() -> str:
    """A digest of everything a request could change that matters to the rules.

    Left out on purpose: ``last_login_at`` and ``preferred_language``, which signing in and
    the language switch change.
    """
    parts: list[Any] = [
        db.session.scalar(select(func.count()).select_from(AuditEntry)),
        db.session.scalar(select(func.count()).select_from(OutboxMessage)),
        db.session.scalar(select(func.count()).select_from(Attendance)),
        db.session.execute(
            select(
                User.id,
                User.name,
                User.email,
                User.role,
                User.is_active,
                User.session_version,
                User.password_hash,
                User.calendar_token,
                User.department,
            ).order_by(User.id)
        ).all(),
        db.session.execute(
            select(Enrolment.id, Enrolment.status, Enrolment.status_reasons).order_by(Enrolment.id)
        ).all(),
        db.session.execute(
            select(
                CourseClass.id, CourseClass.status, CourseClass.capacity, CourseClass.seats_taken
            ).order_by(CourseClass.id)
        ).all(),
        db.session.execute(
            select(ClassSession.id, ClassSession.starts_at, ClassSession.room).order_by(
                ClassSession.id
            )
        ).all(),
        db.session.execute(
            select(Course.id, Course.status, Course.title_en).order_by(Course.id)
        ).all(),
        db.session.execute(
            select(SeatQuota.id, SeatQuota.seats, SeatQuota.label).order_by(SeatQuota.id)
        ).all(),
        db.session.execute(
            select(Certificate.id, Certificate.revoked_at).order_by(Certificate.id)
        ).all(),
        db.session.execute(
            select(
                WebhookEndpoint.id,
                WebhookEndpoint.url,
                WebhookEndpoint.is_active,
                WebhookEndpoint.secret,
                WebhookEndpoint.event_types,
            ).order_by(WebhookEndpoint.id)
        ).all(),
        db.session.execute(
            select(WebhookDelivery.id, WebhookDelivery.status, WebhookDelivery.attempts).order_by(
                WebhookDelivery.id
            )
        ).all(),
    ]
    return hashlib.sha256(repr(parts).encode()).hexdigest()


def sqlite_app(path: Path, **overrides: Any) -> Flask:
    """An application on an SQLite file, for tests that are about HTTP rather than the
    database: what they check happens before or after any query, the same on any backend."""
    return create_app(
        {**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{path}", **overrides}
    )


def copy_sqlite(source: Path, target: Path) -> None:
    """Copy an SQLite database, whatever is still in its write-ahead log."""
    with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def sign_in(client: FlaskClient, session_key: str) -> FlaskClient:
    """Give ``client`` the session a login would give it: the id Flask-Login keeps, the
    secret of a session record (``Scene.session_keys``, or :func:`start_session`)."""
    with client.session_transaction() as session:
        session["_user_id"] = session_key
        session["_fresh"] = True
    return client


def start_session(user_id: int) -> str:
    """Start a session of the user as a login would, commit it, and return the id for
    Flask-Login to keep (in an application context)."""
    user = db.session.get(User, user_id)
    assert user is not None
    key = user_sessions.start(user, ip_address="192.0.2.10", user_agent=SCENE_BROWSER).secret
    db.session.commit()
    return key


def client_for(app: Flask, scene: Scene, persona: str) -> FlaskClient:
    """A new client, signed in as ``persona`` (or anonymous)."""
    client = app.test_client()
    if persona != "anonymous":
        sign_in(client, scene.session_keys[persona])
    return client


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, Scene]]:
    """The scene, built once, in an SQLite file that fresh copies are made from."""
    path = tmp_path_factory.mktemp("matrix") / "pristine.sqlite3"
    app = sqlite_app(path)
    with app.app_context():
        db.create_all()
        scene = build_scene()
        db.session.remove()
        db.engine.dispose()
    yield path, scene


@contextmanager
def fresh_copy(pristine: tuple[Path, Scene], folder: Path) -> Iterator[Flask]:
    """An application on a copy of the scene of its own, for a request that changes it."""
    path, _scene = pristine
    copy = folder / "fresh.sqlite3"
    copy_sqlite(path, copy)
    app = sqlite_app(copy)
    try:
        yield app
    finally:
        with app.app_context():
            db.engine.dispose()


def stored_fingerprint(app: Flask) -> str:
    """The fingerprint of the data of an application's database."""
    with app.app_context():
        value = fingerprint()
        db.session.remove()
    return value
