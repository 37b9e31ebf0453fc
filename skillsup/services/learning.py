"""A learner's view of their own learning, in a fixed number of queries.

Each class shows its attendance rate so far (:mod:`.attendance_rate`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Certificate,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
    utcnow,
)
from ..timeutil import hk_date
from . import certificates, dashboards
from .attendance_rate import AttendanceSoFar, attendance_so_far
from .certificate_expiry import Validity, validities
from .enrolment_requests import withdrawal_refusal
from .waitlist import waitlist_positions


@dataclass
class EnrolmentRow:
    enrolment: Enrolment
    waitlist_position: int | None
    attendance: AttendanceSoFar
    can_withdraw: bool
    history: list[EnrolmentStatusChange] = field(default_factory=list)

    @property
    def shows_attendance(self) -> bool:
        """Attendance so far is shown while the learner holds a place in a class under way."""
        return self.enrolment.status == EnrolmentStatus.CONFIRMED


@dataclass
class LearningOverview:
    upcoming: list[dashboards.UpcomingSession]
    current: list[EnrolmentRow]
    past: list[EnrolmentRow]
    requests: list[EnrolmentRow]
    certificates: list[Certificate] = field(default_factory=list)
    #: Where each certificate stands today (valid until, expired on, revoked), by id.
    certificate_validity: dict[int, Validity] = field(default_factory=dict)


PAST_STATUSES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)


def overview(learner: User, *, now: datetime | None = None) -> LearningOverview:
    """What "My learning" shows ``learner``: their next sessions, their current classes (with
    the waitlist position and whether they may still withdraw: an active enrolment up to the
    class's withdrawal deadline), their past classes, every request with its history, and
    their certificates, each with where it stands today (an expired or expiring one, not
    renewed, offers to enrol in its course again). Only the learner's own enrolments; five
    queries whatever their number.
    """
    now = now or utcnow()
    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.learner_id == learner.id)
            .options(joinedload(Enrolment.course_class).joinedload(CourseClass.course))
            .order_by(Enrolment.requested_at.desc(), Enrolment.id.desc())
        )
    )
    ids = [e.id for e in enrolments]
    positions = waitlist_positions(
        [e.id for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    )
    attendance = attendance_so_far(ids)
    history: dict[int, list[EnrolmentStatusChange]] = defaultdict(list)
    if ids:
        for change in db.session.scalars(
            select(EnrolmentStatusChange)
            .where(EnrolmentStatusChange.enrolment_id.in_(ids))
            .order_by(EnrolmentStatusChange.id)
        ):
            history[change.enrolment_id].append(change)

    rows = [
        EnrolmentRow(
            enrolment=e,
            waitlist_position=positions.get(e.id),
            attendance=attendance.get(e.id, AttendanceSoFar()),
            can_withdraw=withdrawal_refusal(learner, e, now=now) is None,
            history=history.get(e.id, []),
        )
        for e in enrolments
    ]
    current = sorted(
        (r for r in rows if r.enrolment.status in ACTIVE_STATUSES),
        key=lambda r: (r.enrolment.course_class.starts_on, r.enrolment.id),
    )
    past = sorted(
        (r for r in rows if r.enrolment.status in PAST_STATUSES),
        key=lambda r: r.enrolment.course_class.ends_on,
        reverse=True,
    )
    held = certificates.for_learner(learner.id)
    return LearningOverview(
        upcoming=dashboards.learner_upcoming_sessions(learner, now=now),
        current=current,
        past=past,
        requests=rows,
        certificates=held,
        certificate_validity=validities(held, hk_date(now)),
    )
