"""What a course's page offers its reader in each class, told before any click.

A signed-in learner is offered, in each class, only the action that a request would be granted
(enrol, join the waitlist or request HR approval), or is shown every reason it would be
refused: the class not open, its enrolment window not open yet or closed, its last session
over, their account or company inactive, prerequisites not completed (as courses, to link to),
a timetable clash with a class they are confirmed in (by code), or their company's quota used
up. The reasons come from the rules a request checks (:mod:`.eligibility`,
:mod:`.seat_quotas`), asked for every class of the page at once, in a fixed number of queries
whatever the number of classes. A visitor who is not signed in is offered to sign in where the
class takes enrolments; HR officers, trainers and admins are offered no learner action. Every
reader is told when a class's enrolment opens or closed.

The obstacles are values, not text: the page words them in the reader's language.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Select, bindparam, select

from .. import permissions
from ..extensions import db
from ..models import ACTIVE_STATUSES, Course, CourseClass, Enrolment, User
from .eligibility import (
    Window,
    can_hold_a_place,
    clashing_classes_by_class,
    enrolment_window,
    has_ended,
    missing_prerequisite_courses,
)
from .seat_quotas import QuotaUse, quota_uses_by_class


class ViewerAction(enum.StrEnum):
    LOG_IN = "log_in"
    ENROL = "enrol"
    JOIN_WAITLIST = "join_waitlist"
    REQUEST_APPROVAL = "request_approval"
    ENROLLED = "enrolled"
    #: A learner who cannot enrol: the offer's obstacles say why.
    UNAVAILABLE = "unavailable"
    #: The class takes no enrolments: the offer's obstacles say why.
    CLOSED = "closed"
    NONE = "none"


#: The actions that send a request to enrol.
REQUEST_ACTIONS = (ViewerAction.ENROL, ViewerAction.JOIN_WAITLIST, ViewerAction.REQUEST_APPROVAL)


class ObstacleKind(enum.StrEnum):
    #: The class is not open (a draft, closed, running or finished class) or its course is not
    #: published.
    NOT_OPEN = "not_open"
    #: Enrolment opens ``at``.
    NOT_YET_OPEN = "not_yet_open"
    #: Enrolment closed ``at``.
    CLOSED = "closed"
    #: The class's last session ended ``at``.
    OVER = "over"
    #: The learner's account or company is inactive.
    ACCOUNT_INACTIVE = "account_inactive"
    #: The learner has first to complete the ``courses``.
    PREREQUISITES = "prerequisites"
    #: The class's sessions clash with the learner's class ``code``.
    CLASH = "clash"
    #: The company has used all ``seats`` of its quota for ``period``.
    QUOTA = "quota"


@dataclass(frozen=True)
class Obstacle:
    kind: ObstacleKind
    at: datetime | None = None
    courses: tuple[Course, ...] = ()
    code: str = ""
    seats: int = 0
    period: str = ""


#: The obstacles of the class itself, which every reader is told.
CLASS_OBSTACLES = frozenset(
    {ObstacleKind.NOT_OPEN, ObstacleKind.NOT_YET_OPEN, ObstacleKind.CLOSED, ObstacleKind.OVER}
)


@dataclass(frozen=True)
class Offer:
    """What the reader may do in one class, and what stands in the way."""

    action: ViewerAction
    obstacles: list[Obstacle] = field(default_factory=list)
    enrolment: Enrolment | None = None

    @property
    def opens_at(self) -> datetime | None:
        """When the class's enrolment opens, if it has not yet."""
        return next((o.at for o in self.obstacles if o.kind == ObstacleKind.NOT_YET_OPEN), None)


def class_offers(
    viewer: object, course: Course, classes: Sequence[CourseClass], *, now: datetime
) -> dict[int, Offer]:
    """The offer to ``viewer`` in each of ``classes`` (of ``course``, their sessions loaded),
    by class id, at ``now``.

    A learner with an active enrolment in a class is shown it (``ENROLLED``). A learner
    without is offered what a request would be granted: ``REQUEST_APPROVAL`` at a company
    that approves its staff's enrolments, else ``ENROL`` while a seat is free and
    ``JOIN_WAITLIST`` when the class is full; or, where any rule of the request
    (:func:`~.eligibility.check_class_open`, :func:`~.eligibility.check_not_over`,
    :func:`~.eligibility.check_learner`, :func:`~.seat_quotas.check_quota`) would refuse
    it, ``UNAVAILABLE`` with every such obstacle. A visitor not signed in is offered
    ``LOG_IN`` where the class takes enrolments, others ``NONE``; both are told the class's
    own obstacles, and ``CLOSED`` where there are some. Runs at most four queries, whatever
    the number of classes; raises nothing.
    """
    class_obstacles = {c.id: _class_obstacles(c, now) for c in classes}
    if not getattr(viewer, "is_authenticated", False):
        return {
            class_id: Offer(ViewerAction.CLOSED if found else ViewerAction.LOG_IN, found)
            for class_id, found in class_obstacles.items()
        }
    if not permissions.is_learner(viewer):
        return {
            class_id: Offer(ViewerAction.NONE, found) for class_id, found in class_obstacles.items()
        }
    learner_obstacles = _learner_obstacles(viewer, course, classes)
    enrolments = _active_enrolments(viewer, classes)
    company = viewer.company
    needs_approval = company is not None and company.requires_approval
    offers = {}
    for course_class in classes:
        enrolment = enrolments.get(course_class.id)
        if enrolment is not None:
            offers[course_class.id] = Offer(ViewerAction.ENROLLED, enrolment=enrolment)
            continue
        found = class_obstacles[course_class.id] + learner_obstacles[course_class.id]
        if found:
            action = ViewerAction.UNAVAILABLE
        elif needs_approval:
            action = ViewerAction.REQUEST_APPROVAL
        elif course_class.seats_left > 0:
            action = ViewerAction.ENROL
        else:
            action = ViewerAction.JOIN_WAITLIST
        offers[course_class.id] = Offer(action, found)
    return offers


def _class_obstacles(course_class: CourseClass, now: datetime) -> list[Obstacle]:
    """The class's own rules: its status and enrolment window, and its last session."""
    found = []
    window = enrolment_window(course_class, now)
    if window == Window.NOT_OPEN:
        found.append(Obstacle(ObstacleKind.NOT_OPEN))
    elif window == Window.NOT_YET_OPEN:
        found.append(Obstacle(ObstacleKind.NOT_YET_OPEN, at=course_class.enrolment_opens_at))
    elif window == Window.CLOSED:
        found.append(Obstacle(ObstacleKind.CLOSED, at=course_class.enrolment_closes_at))
    last_end = max((s.ends_at for s in course_class.sessions if not s.is_cancelled), default=None)
    if has_ended(last_end, now):
        found.append(Obstacle(ObstacleKind.OVER, at=last_end))
    return found


def _learner_obstacles(
    learner: User, course: Course, classes: Sequence[CourseClass]
) -> dict[int, list[Obstacle]]:
    """The learner's rules and their company's quotas, for each class: three queries."""
    found: dict[int, list[Obstacle]] = {c.id: [] for c in classes}
    if not can_hold_a_place(learner):
        # A request checks no further (check_learner); nor is there a company to count.
        for obstacles in found.values():
            obstacles.append(Obstacle(ObstacleKind.ACCOUNT_INACTIVE))
        return found
    assert learner.company_id is not None
    missing = tuple(missing_prerequisite_courses(learner.id, course.id))
    clashes = clashing_classes_by_class(learner.id, [c.id for c in classes])
    quotas = quota_uses_by_class(learner.company_id, classes)
    for course_class in classes:
        obstacles = found[course_class.id]
        if missing:
            obstacles.append(Obstacle(ObstacleKind.PREREQUISITES, courses=missing))
        clash = clashes.get(course_class.id)
        if clash is not None:
            obstacles.append(Obstacle(ObstacleKind.CLASH, code=clash))
        used_up = _first_used_up(quotas.get(course_class.id, []))
        if used_up is not None:
            obstacles.append(
                Obstacle(ObstacleKind.QUOTA, seats=used_up.quota.seats, period=used_up.quota.label)
            )
    return found


def _first_used_up(uses: list[QuotaUse]) -> QuotaUse | None:
    return next((use for use in uses if use.is_used_up), None)


def _active_enrolments(learner: User, classes: Sequence[CourseClass]) -> dict[int, Enrolment]:
    if not classes:
        return {}
    rows = db.session.scalars(
        _active_enrolments_statement(),
        {"learner_id": learner.id, "class_ids": [c.id for c in classes]},
    )
    return {e.class_id: e for e in rows}


@functools.cache
def _active_enrolments_statement() -> Select[Enrolment]:
    # Built once: making the statement anew costs more than running it.
    return select(Enrolment).where(
        Enrolment.learner_id == bindparam("learner_id"),
        Enrolment.class_id.in_(bindparam("class_ids", expanding=True)),
        Enrolment.status.in_(ACTIVE_STATUSES),
    )
