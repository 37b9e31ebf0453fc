"""Each role's "at a glance" panel: what needs the reader next, at the top of their home page.

Every figure comes from the rule that already answers it elsewhere: a learner's next session
(:func:`.dashboards.learner_upcoming_sessions`), an HR officer's requests waiting for approval
and staff at risk (:mod:`.hr_scope`, :mod:`.progress`), the classes a trainer teaches
(:func:`skillsup.permissions.can_manage_class`'s rule), the classes ready to be closed
(:func:`.class_closing.closing_refusal`) and the invitations not yet accepted
(:func:`.people.pending_invitations`). Each panel costs a fixed number of queries, whatever
the size of the data; the learner's none beyond its page's own.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Select, and_, bindparam, func, select
from sqlalchemy.orm import contains_eager

from .. import permissions
from ..extensions import db
from ..models import (
    FINISHED_STATUSES,
    ClassSession,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
    class_trainers,
    utcnow,
)
from ..timeutil import hk_date, start_of_hk_day_utc
from .class_closing import CLOSABLE_STATUSES, closing_refusal
from .dashboards import UpcomingSession
from .errors import PermissionDenied
from .hr_scope import company_enrolments
from .learning import LearningOverview
from .people import pending_invitations
from .progress import at_risk_sql
from .staff import hr_company_id

# ---------------------------------------------------------------------------------------------
# Learner


@dataclass(frozen=True)
class LearnerGlance:
    #: The learner's next session in a class they are confirmed in, if any.
    next_session: UpcomingSession | None
    #: Their requests waiting for their company's HR approval.
    pending: int
    #: Their places on a waitlist.
    waitlisted: int


def learner_glance(overview: LearningOverview) -> LearnerGlance:
    """What a learner does next, read from their "My learning" overview (no query of its
    own): the first of their upcoming sessions (a session of a class they are confirmed in,
    not cancelled and not over), and how many of their enrolments are pending or
    waitlisted."""
    statuses = [row.enrolment.status for row in overview.current]
    return LearnerGlance(
        next_session=overview.upcoming[0] if overview.upcoming else None,
        pending=statuses.count(EnrolmentStatus.PENDING),
        waitlisted=statuses.count(EnrolmentStatus.WAITLISTED),
    )


# ---------------------------------------------------------------------------------------------
# HR officer


@dataclass(frozen=True)
class HrGlance:
    #: Whether the company's enrolments need HR approval.
    approves_requests: bool
    #: Requests made under the company waiting for approval now.
    waiting: int
    #: People with a confirmed place, made under the company, whose class's minimum
    #: attendance they can no longer reach.
    at_risk: int

    @property
    def shows_approvals(self) -> bool:
        """The approvals are shown where the company approves requests, and wherever some
        still wait (made before the company stopped approving them)."""
        return self.approves_requests or self.waiting > 0


def hr_glance(actor: User) -> HrGlance:
    """The HR officer's own company's figures, never another's (the company is the actor's,
    inside each query): its requests waiting for approval, and how many people hold a
    confirmed place made under it that is at risk (:attr:`.progress.AttendanceStanding.at_risk`,
    the rule of the staff progress page, added up in the database). Three queries at most. Raises
    :class:`PermissionDenied` unless the actor is an HR officer of a company."""
    company_id = hr_company_id(actor)
    waiting_statement, at_risk_statement = _hr_glance_statements()
    waiting = db.session.scalar(waiting_statement, {"company_id": company_id})
    at_risk = db.session.scalar(at_risk_statement, {"company_id": company_id})
    company = actor.company
    return HrGlance(
        approves_requests=bool(company is not None and company.requires_approval),
        waiting=int(waiting or 0),
        at_risk=int(at_risk or 0),
    )


@functools.cache
def _hr_glance_statements() -> tuple[Select[int], Select[int]]:
    """:func:`hr_glance`'s two counts, built once, for the parameter ``company_id``."""
    made_here = company_enrolments(bindparam("company_id"))
    waiting = select(func.count(Enrolment.id)).where(
        *made_here, Enrolment.status == EnrolmentStatus.PENDING
    )
    at_risk_rows = at_risk_sql(*made_here, Enrolment.status == EnrolmentStatus.CONFIRMED).subquery()
    at_risk = select(func.count(func.distinct(at_risk_rows.c.learner_id)))
    return waiting, at_risk


# ---------------------------------------------------------------------------------------------
# Trainer


@dataclass(frozen=True)
class GlanceSession:
    session: ClassSession
    course_class: CourseClass
    #: Under way or over: its attendance can be taken.
    started: bool


@dataclass(frozen=True)
class TrainerGlance:
    #: Today's sessions (Hong Kong day), those already over included.
    today: list[GlanceSession] = field(default_factory=list)
    #: When there is none today: the next session to come, if any.
    next_session: GlanceSession | None = None


def trainer_glance(actor: User, *, now: datetime | None = None) -> TrainerGlance:
    """The sessions of the classes the actor teaches (every class, for an admin: who may
    manage a class, :func:`skillsup.permissions.can_manage_class`) on today's Hong Kong
    date, not cancelled, in classes not completed or cancelled; when there is none, the next
    such session. Two queries at most. Raises :class:`PermissionDenied` for anyone else."""
    if not (permissions.is_trainer(actor) or permissions.is_admin(actor)):
        raise PermissionDenied()
    now = now or utcnow()
    today_starts = start_of_hk_day_utc(hk_date(now))
    statement = (
        select(ClassSession)
        .join(ClassSession.course_class)
        .where(ClassSession.is_cancelled.is_(False), CourseClass.status.not_in(FINISHED_STATUSES))
        .options(contains_eager(ClassSession.course_class).joinedload(CourseClass.course))
        .order_by(ClassSession.starts_at, ClassSession.id)
    )
    if not permissions.is_admin(actor):
        statement = statement.join(
            class_trainers,
            and_(
                class_trainers.c.class_id == CourseClass.id,
                class_trainers.c.trainer_id == actor.id,
            ),
        )

    def glance(session: ClassSession) -> GlanceSession:
        return GlanceSession(session, session.course_class, session.starts_at <= now)

    today = [
        glance(s)
        for s in db.session.scalars(
            statement.where(
                ClassSession.starts_at >= today_starts,
                ClassSession.starts_at < today_starts + timedelta(days=1),
            )
        )
    ]
    if today:
        return TrainerGlance(today=today)
    upcoming = db.session.scalars(statement.where(ClassSession.starts_at >= now).limit(1)).first()
    return TrainerGlance(next_session=glance(upcoming) if upcoming is not None else None)


# ---------------------------------------------------------------------------------------------
# Admin

#: How many of the classes waiting to be closed the panel names.
CLASSES_NAMED = 5


@dataclass(frozen=True)
class AdminGlance:
    #: Classes whose last session is over but which are not closed yet, the longest waiting
    #: first (at most :data:`CLASSES_NAMED` of them).
    to_close: list[CourseClass]
    #: How many such classes there are in all.
    to_close_count: int
    #: Invitations neither accepted nor withdrawn.
    invitations: int


def admin_glance(actor: User, *, now: datetime | None = None) -> AdminGlance:
    """What waits for the institute's admins: the classes that may be closed now in the
    ordinary way (:func:`.class_closing.closing_refusal`: running, or open or closed for
    enrolment, with their last session over) and the invitations not yet accepted
    (:func:`.people.pending_invitations`). Two queries. Raises :class:`PermissionDenied`
    unless the actor is an admin."""
    if not permissions.is_admin(actor):
        raise PermissionDenied()
    now = now or utcnow()
    last_end = func.max(ClassSession.ends_at)
    rows = db.session.execute(
        select(CourseClass, last_end)
        .join(ClassSession, ClassSession.class_id == CourseClass.id)
        .where(CourseClass.status.in_(CLOSABLE_STATUSES), ClassSession.is_cancelled.is_(False))
        .group_by(CourseClass.id)
        .having(last_end <= now)
        .order_by(last_end, CourseClass.code)
    ).all()
    # The query only narrows the search; the closing rule decides.
    to_close = [c for c, ended in rows if closing_refusal(c, ended, now) is None]
    invitations = db.session.scalar(
        select(func.count()).select_from(pending_invitations().order_by(None).subquery())
    )
    return AdminGlance(
        to_close=to_close[:CLASSES_NAMED],
        to_close_count=len(to_close),
        invitations=int(invitations or 0),
    )
