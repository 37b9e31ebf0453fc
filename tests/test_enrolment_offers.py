"""What a course page offers its reader in each class, and why not: the same rules as a
request, asked before any click."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import pytest
from flask_login import AnonymousUserMixin

from skillsup.extensions import db
from skillsup.models import ClassStatus, EnrolmentStatus, Role, utcnow
from skillsup.services import eligibility, enrolment_requests, seat_quotas
from skillsup.services.enrolment_offers import ObstacleKind, ViewerAction, class_offers

from .queries import recorded_statements

pytestmark = pytest.mark.hong_kong_day


def _offer(viewer: Any, course_class: Any) -> Any:
    return class_offers(viewer, course_class.course, [course_class], now=utcnow())[course_class.id]


def _what_a_request_gets(learner: Any, course_class: Any) -> Any:
    """The request's own answer: the status it is given or the refusal it raises, undone."""
    try:
        return enrolment_requests.request_enrolment(learner, learner, course_class).status
    except Exception as refusal:
        return type(refusal)
    finally:
        db.session.rollback()


def _prerequisite_missing(make: Any, learner: Any) -> Any:
    prerequisite = make.course(code="SU-OFF-101", title_en="Basics")
    course = make.course(code="SU-OFF-201")
    course.prerequisites.append(prerequisite)
    db.session.commit()
    return make.course_class(course=course, sessions=2)


def _clash(make: Any, learner: Any) -> Any:
    mine = make.course_class(course=make.course(code="SU-OFF-301"), sessions=2, code="MINE-1")
    make.enrolment(mine, learner, EnrolmentStatus.CONFIRMED)
    return make.course_class(sessions=2)  # the same session times: the factory's default


def _quota_used_up(make: Any, learner: Any) -> Any:
    course_class = make.course_class(sessions=2)
    colleague = make.user(company=learner.company)
    elsewhere = make.course_class(sessions=1, first_session=utcnow() + timedelta(days=60))
    make.enrolment(elsewhere, colleague, EnrolmentStatus.CONFIRMED)
    make.quota(learner.company, 1, date(2000, 1, 1), date(2999, 12, 31), label="this term")
    return course_class


def _not_yet_open(make: Any, learner: Any) -> Any:
    return make.course_class(sessions=2, enrolment_opens_at=utcnow() + timedelta(days=3))


def _window_closed(make: Any, learner: Any) -> Any:
    return make.course_class(sessions=2, enrolment_closes_at=utcnow() - timedelta(hours=1))


def _class_closed(make: Any, learner: Any) -> Any:
    return make.course_class(sessions=2, status=ClassStatus.CLOSED)


def _company_inactive(make: Any, learner: Any) -> Any:
    learner.company.is_active = False
    db.session.commit()
    return make.course_class(sessions=2)


@pytest.mark.parametrize(
    ("scene", "kind", "refusal"),
    [
        (_prerequisite_missing, ObstacleKind.PREREQUISITES, eligibility.PrerequisitesMissing),
        (_clash, ObstacleKind.CLASH, eligibility.TimetableClash),
        (_quota_used_up, ObstacleKind.QUOTA, seat_quotas.QuotaExceeded),
        (_not_yet_open, ObstacleKind.NOT_YET_OPEN, eligibility.EnrolmentClosed),
        (_window_closed, ObstacleKind.CLOSED, eligibility.EnrolmentClosed),
        (_class_closed, ObstacleKind.NOT_OPEN, eligibility.ClassNotOpen),
        (_company_inactive, ObstacleKind.ACCOUNT_INACTIVE, eligibility.AccountInactive),
    ],
    ids=lambda v: getattr(v, "__name__", str(v)),
)
def test_each_reason_a_request_would_be_refused_is_told_before_it(
    make, learner, scene: Callable[[Any, Any], Any], kind, refusal
):
    course_class = scene(make, learner)
    offer = _offer(learner, course_class)
    assert offer.action == ViewerAction.UNAVAILABLE
    assert [o.kind for o in offer.obstacles] == [kind]
    assert _what_a_request_gets(learner, course_class) is refusal


def test_the_obstacles_carry_what_the_page_shows(make, learner):
    prerequisites = _prerequisite_missing(make, learner)
    (missing,) = _offer(learner, prerequisites).obstacles
    assert [(c.code, c.title_en) for c in missing.courses] == [("SU-OFF-101", "Basics")]
    (clash,) = _offer(learner, _clash(make, learner)).obstacles
    assert clash.code == "MINE-1"
    # The scenes below happen to clash with MINE-1 too: another learner of the company.
    learner = make.user(company=learner.company)
    (quota,) = _offer(learner, _quota_used_up(make, learner)).obstacles
    assert (quota.seats, quota.period) == (1, "this term")
    later = _not_yet_open(make, learner)
    (opens, used_up) = _offer(learner, later).obstacles
    assert used_up.kind == ObstacleKind.QUOTA
    assert opens.at == later.enrolment_opens_at
    assert _offer(learner, later).opens_at == later.enrolment_opens_at


def test_every_obstacle_is_told_at_once(make, learner):
    course_class = _prerequisite_missing(make, learner)
    course_class.enrolment_opens_at = utcnow() + timedelta(days=3)
    mine = make.course_class(course=make.course(), sessions=2, code="MINE-2")
    make.enrolment(mine, learner, EnrolmentStatus.CONFIRMED)
    db.session.commit()
    kinds = [o.kind for o in _offer(learner, course_class).obstacles]
    assert kinds == [ObstacleKind.NOT_YET_OPEN, ObstacleKind.PREREQUISITES, ObstacleKind.CLASH]


def test_completed_prerequisites_a_cancelled_clash_and_a_quota_with_seats_are_no_obstacles(
    make, learner
):
    course_class = _prerequisite_missing(make, learner)
    done = make.course_class(course=course_class.course.prerequisites[0], sessions=1)
    make.enrolment(done, learner, EnrolmentStatus.COMPLETED)
    waiting = make.course_class(sessions=2)
    make.enrolment(waiting, learner, EnrolmentStatus.WAITLISTED)  # only confirmed ones clash
    make.quota(learner.company, 5, date(2000, 1, 1), date(2999, 12, 31))
    offer = _offer(learner, course_class)
    assert offer.obstacles == []
    assert offer.action == ViewerAction.ENROL


@pytest.mark.parametrize(
    ("requires_approval", "capacity", "action", "status"),
    [
        (False, 3, ViewerAction.ENROL, EnrolmentStatus.CONFIRMED),
        (False, 0, ViewerAction.JOIN_WAITLIST, EnrolmentStatus.WAITLISTED),
        (True, 3, ViewerAction.REQUEST_APPROVAL, EnrolmentStatus.PENDING),
        (True, 0, ViewerAction.REQUEST_APPROVAL, EnrolmentStatus.PENDING),
    ],
)
def test_a_learner_is_offered_the_button_that_does_what_it_says(
    make, requires_approval, capacity, action, status
):
    learner = make.user(company=make.company(requires_approval=requires_approval))
    course_class = make.course_class(sessions=2, capacity=capacity)
    offer = _offer(learner, course_class)
    assert (offer.action, offer.obstacles) == (action, [])
    assert _what_a_request_gets(learner, course_class) == status


def test_a_learner_with_a_place_is_shown_it_and_nothing_else(make, learner):
    course_class = _not_yet_open(make, learner)
    enrolment = make.enrolment(course_class, learner, EnrolmentStatus.WAITLISTED)
    offer = _offer(learner, course_class)
    assert (offer.action, offer.enrolment, offer.obstacles) == (
        ViewerAction.ENROLLED,
        enrolment,
        [],
    )


def test_a_visitor_is_offered_to_sign_in_where_the_class_takes_enrolments(make):
    open_class = make.course_class(sessions=1)
    later = make.course_class(
        course=open_class.course, sessions=1, enrolment_opens_at=utcnow() + timedelta(days=3)
    )
    offers = class_offers(
        AnonymousUserMixin(), open_class.course, [open_class, later], now=utcnow()
    )
    assert (offers[open_class.id].action, offers[open_class.id].obstacles) == (
        ViewerAction.LOG_IN,
        [],
    )
    assert offers[later.id].action == ViewerAction.CLOSED
    assert [o.kind for o in offers[later.id].obstacles] == [ObstacleKind.NOT_YET_OPEN]


@pytest.mark.parametrize("role", [Role.HR, Role.TRAINER, Role.ADMIN])
def test_staff_are_offered_no_learner_action(make, company, role):
    user = make.user(role=role, company=company if role == Role.HR else None)
    course_class = _not_yet_open(make, None)
    offer = _offer(user, course_class)
    assert offer.action == ViewerAction.NONE
    assert [o.kind for o in offer.obstacles] == [ObstacleKind.NOT_YET_OPEN]


def _as_the_page_loads_them(learner: Any, course: Any, classes: list[Any]) -> tuple[Any, ...]:
    """Fresh objects, with what the course page loads before it asks for the offers."""
    db.session.expire_all()
    learner = db.session.get(type(learner), learner.id)
    learner.company  # noqa: B018
    course = db.session.get(type(course), course.id)
    classes = [db.session.get(type(c), c.id) for c in classes]
    for course_class in classes:
        course_class.sessions  # noqa: B018
        course_class.course  # noqa: B018
    return learner, course, classes


def test_the_offers_cost_the_same_queries_for_one_class_and_for_twenty(make, learner):
    prerequisite = make.course(code="SU-OFF-900")
    course = make.course(code="SU-OFF-901")
    course.prerequisites.append(prerequisite)
    db.session.commit()
    make.quota(learner.company, 1, date(2000, 1, 1), date(2999, 12, 31))
    classes = [make.course_class(course=course, sessions=3)]
    learner, course, classes = _as_the_page_loads_them(learner, course, classes)
    with recorded_statements() as one:
        class_offers(learner, course, classes, now=utcnow())
    for _ in range(19):
        other = make.course_class(sessions=3)
        make.enrolment(other, learner, EnrolmentStatus.CONFIRMED)
        classes.append(make.course_class(course=course, sessions=3))
    learner, course, classes = _as_the_page_loads_them(learner, course, classes)
    with recorded_statements() as twenty:
        offers = class_offers(learner, course, classes, now=utcnow())
    assert len(one) == len(twenty) <= 4, twenty
    assert all(o.action == ViewerAction.UNAVAILABLE for o in offers.values())
    assert all(
        {o.kind for o in offer.obstacles}
        == {ObstacleKind.PREREQUISITES, ObstacleKind.CLASH, ObstacleKind.QUOTA}
        for offer in offers.values()
    )
