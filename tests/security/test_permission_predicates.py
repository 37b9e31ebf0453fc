"""Every who-may rule of ``skillsup/permissions.py``, for every persona, on the scene's objects.

The route matrix (``test_authorization_matrix.py``) checks what each persona gets from each
page; this one checks the predicates themselves, which services call again behind the pages.
Each row names a predicate, the object it is asked about, and the personas for whom it is
true: every other persona must get false. A public predicate with no row fails the first test.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_login import AnonymousUserMixin

from skillsup import permissions
from skillsup.extensions import db
from skillsup.models import (
    ApiToken,
    Certificate,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    PartnerCompany,
    Role,
    User,
)

from .conftest import PERSONAS, Scene, build_scene, sqlite_app

ALL_SIGNED_IN = {p for p in PERSONAS if p != "anonymous"}


class World:
    """The scene's objects, loaded, and its personas as users (anonymous as Flask-Login's)."""

    def __init__(self, scene: Scene) -> None:
        self.scene = scene
        self.people: dict[str, Any] = {
            name: db.session.get(User, user_id) for name, user_id in scene.users.items()
        }
        self.people["anonymous"] = AnonymousUserMixin()
        self.course = db.session.get(Course, scene.course_id)
        self.running_class = db.session.get(CourseClass, scene.class_id)
        self.open_class = db.session.get(CourseClass, scene.open_class_id)
        self.confirmed = db.session.get(Enrolment, scene.confirmed_enrolment_id)
        self.waitlisted = db.session.get(Enrolment, scene.waitlisted_enrolment_id)
        self.certificate = db.session.get(Certificate, scene.certificate_id)
        self.company_a = db.session.get(PartnerCompany, scene.company_a)

    def token(self, caller: str) -> ApiToken:
        """The scene's API token of ``caller`` (see ``API_CALLERS``)."""
        token = db.session.get(ApiToken, self.scene.api_token_ids[caller])
        assert token is not None
        return token

    def user(self, persona: str) -> Any:
        return self.people[persona]


# predicate name -> cases: (what the predicate is asked, its arguments after the actor, and the
# personas for whom it is true).
Case = tuple[str, Callable[[World], tuple[Any, ...]], set[str]]

CASES: dict[str, list[Case]] = {
    "is_admin": [("-", lambda w: (), {"admin"})],
    "is_hr": [("-", lambda w: (), {"hr_a", "hr_b"})],
    "is_trainer": [("-", lambda w: (), {"trainer", "other_trainer"})],
    "is_learner": [("-", lambda w: (), {"learner_a", "learner_b"})],
    "can_invite": [
        ("a learner of A", lambda w: (Role.LEARNER, w.company_a), {"admin", "hr_a"}),
        ("an HR officer of A", lambda w: (Role.HR, w.company_a), {"admin"}),
        ("a trainer", lambda w: (Role.TRAINER, None), {"admin"}),
    ],
    "can_manage_account": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"admin", "hr_a"}),
        ("A's HR officer", lambda w: (w.user("hr_a"),), {"admin"}),
        ("the admin", lambda w: (w.user("admin"),), set()),
    ],
    "can_reset_two_factor": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"admin"}),
        ("the admin", lambda w: (w.user("admin"),), set()),
    ],
    # The predicate's person is the actor; the argument is whether the setting requires it.
    "must_use_two_factor": [
        ("while required", lambda w: (True,), {"admin", "hr_a", "hr_b"}),
        ("while not required", lambda w: (False,), set()),
    ],
    "can_turn_off_two_factor": [
        (
            "while required",
            lambda w: (True,),
            {"learner_a", "learner_b", "trainer", "other_trainer"},
        ),
        ("while not required", lambda w: (False,), {*PERSONAS} - {"anonymous"}),
    ],
    "can_edit_person": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"admin"}),
        ("the admin", lambda w: (w.user("admin"),), {"admin"}),
    ],
    "can_change_role": [
        ("A's HR officer", lambda w: (w.user("hr_a"),), {"admin"}),
        ("the admin", lambda w: (w.user("admin"),), set()),
    ],
    "can_view_employee": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"admin", "hr_a", "learner_a"}),
        ("B's learner", lambda w: (w.user("learner_b"),), {"admin", "hr_b", "learner_b"}),
    ],
    "can_act_on_employee": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"hr_a"}),
        ("A's HR officer", lambda w: (w.user("hr_a"),), set()),
        ("a trainer", lambda w: (w.user("trainer"),), set()),
    ],
    "can_manage_staff_member": [
        ("A's learner", lambda w: (w.user("learner_a"),), {"admin", "hr_a"}),
        ("B's learner", lambda w: (w.user("learner_b"),), {"admin", "hr_b"}),
        ("A's HR officer", lambda w: (w.user("hr_a"),), set()),
        ("a trainer", lambda w: (w.user("trainer"),), set()),
        ("the admin", lambda w: (w.user("admin"),), set()),
    ],
    "can_manage_companies": [("-", lambda w: (), {"admin"})],
    "can_close_class_early": [("-", lambda w: (), {"admin"})],
    "can_manage_catalogue": [("-", lambda w: (), {"admin"})],
    "can_manage_class": [
        ("the trainer's class", lambda w: (w.running_class,), {"admin", "trainer"}),
        ("another trainer's class", lambda w: (w.open_class,), {"admin", "other_trainer"}),
    ],
    "can_see_course": [
        ("a published course", lambda w: (w.course,), {*PERSONAS}),
        ("a draft course", lambda w: (_draft(w.course),), {"admin"}),
    ],
    "can_request_enrolment": [
        (
            "A's learner, for themself",
            lambda w: (w.user("learner_a"), EnrolmentSource.SELF),
            {"learner_a"},
        ),
        (
            "A's learner, nominated",
            lambda w: (w.user("learner_a"), EnrolmentSource.NOMINATED),
            {"hr_a"},
        ),
        ("A's learner, by CSV", lambda w: (w.user("learner_a"), EnrolmentSource.CSV), {"hr_a"}),
        (
            "A's learner, by an admin",
            lambda w: (w.user("learner_a"), EnrolmentSource.ADMIN),
            {"admin"},
        ),
        ("an HR officer", lambda w: (w.user("hr_a"), EnrolmentSource.ADMIN), set()),
    ],
    "can_see_enrolment": [
        ("A's learner's enrolment", lambda w: (w.confirmed,), {"admin", "hr_a", "learner_a"}),
        ("B's learner's enrolment", lambda w: (w.waitlisted,), {"admin", "hr_b", "learner_b"}),
        (
            "made under A by a learner now at B",
            lambda w: (_made_under_a_by_b_learner(w),),
            {"admin", "hr_a", "learner_b"},
        ),
    ],
    "can_decide_enrolment": [
        ("A's learner's enrolment", lambda w: (w.confirmed,), {"admin", "hr_a"}),
        ("B's learner's enrolment", lambda w: (w.waitlisted,), {"admin", "hr_b"}),
        (
            "made under A by a learner now at B",
            lambda w: (_made_under_a_by_b_learner(w),),
            {"admin", "hr_a"},
        ),
    ],
    "can_withdraw_own_enrolment": [
        ("A's learner's enrolment", lambda w: (w.confirmed,), {"learner_a"}),
        ("B's learner's enrolment", lambda w: (w.waitlisted,), {"learner_b"}),
    ],
    "can_enter_cef_used_elsewhere": [("-", lambda w: (), {"learner_a", "learner_b"})],
    "can_download_certificate": [
        (
            "A's learner's certificate, of a class of the trainer",
            lambda w: (w.certificate,),
            {"admin", "hr_a", "learner_a", "trainer"},
        ),
    ],
    "can_download_class_certificates": [
        ("the trainer's class", lambda w: (w.running_class,), {"admin", "trainer"}),
        ("another trainer's class", lambda w: (w.open_class,), {"admin", "other_trainer"}),
    ],
    "can_revoke_certificate": [("-", lambda w: (), {"admin"})],
    "can_read_whole_audit_log": [("-", lambda w: (), {"admin"})],
    "is_hr_officer_of": [("company A", lambda w: (w.company_a,), {"hr_a"})],
    "can_manage_api_tokens": [("-", lambda w: (), {"admin", "hr_a", "hr_b"})],
    "can_manage_api_token": [
        ("a token of A's HR officer", lambda w: (w.token("hr_a"),), {"hr_a"}),
        ("a token of B's HR officer", lambda w: (w.token("hr_b"),), {"hr_b"}),
        ("an institute-wide token", lambda w: (w.token("admin"),), {"admin"}),
    ],
    "can_act_through_api_token": [
        ("A's token, by its creator", lambda w: (w.token("hr_a"),), {"hr_a"}),
        ("an institute-wide token", lambda w: (w.token("admin"),), {"admin"}),
    ],
    "can_manage_webhooks": [("-", lambda w: (), {"hr_a", "hr_b"})],
}


def _made_under_a_by_b_learner(w: World) -> Enrolment:
    """An enrolment made under company A by B's learner, as if they had moved from A to B
    since (not saved: what the predicates read)."""
    learner = w.user("learner_b")
    return Enrolment(
        company_id=w.company_a.id, learner=learner, learner_id=learner.id, status="completed"
    )


def _draft(course: Course) -> Course:
    """The course as a draft, without saving it: what the predicate reads."""
    course.status = CourseStatus.DRAFT
    return course


def _public_predicates() -> set[str]:
    return {
        name
        for name, member in inspect.getmembers(permissions, inspect.isfunction)
        if member.__module__ == permissions.__name__ and not name.startswith("_")
    }


@pytest.fixture(scope="module")
def world_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Flask]:
    path: Path = tmp_path_factory.mktemp("predicates") / "scene.sqlite3"
    app = sqlite_app(path)
    with app.app_context():
        db.create_all()
        app.config["SCENE"] = build_scene()
        db.session.remove()
    yield app


@pytest.fixture
def world(world_app: Flask) -> Iterator[World]:
    with world_app.app_context():
        yield World(world_app.config["SCENE"])
        db.session.rollback()
        db.session.remove()


def test_every_predicate_is_in_the_matrix():
    assert _public_predicates() == set(CASES)


@pytest.mark.parametrize(
    ("predicate", "case"),
    [(name, case) for name, cases in CASES.items() for case in cases],
    ids=lambda value: value if isinstance(value, str) else value[0],
)
@pytest.mark.parametrize("persona", PERSONAS)
def test_the_predicate_holds_for_exactly_the_personas_named(world, predicate, case, persona):
    _about, arguments, allowed = case
    check = getattr(permissions, predicate)
    actor = world.user(persona)
    assert check(actor, *arguments(world)) is (persona in allowed)


@pytest.mark.parametrize("change", [None, "deactivated", "moved", "no_longer_hr"])
def test_a_token_may_act_while_its_creator_could_on_the_pages(world, change):
    token = world.token("hr_a")
    officer = world.user("hr_a")
    if change == "deactivated":
        officer.is_active = False
    elif change == "moved":
        officer.company_id = world.scene.company_b
        db.session.flush()
        db.session.refresh(officer)
    elif change == "no_longer_hr":
        officer.role = Role.LEARNER
    assert permissions.can_act_through_api_token(officer, token) is (change is None)
    assert permissions.can_act_through_api_token(world.user("admin"), world.token("admin"))


def test_an_institute_wide_token_acts_while_its_creator_is_an_admin(world):
    token = world.token("admin")
    admin = world.user("admin")
    admin.role = Role.TRAINER
    assert not permissions.can_act_through_api_token(admin, token)
