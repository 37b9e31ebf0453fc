"""A learner's view of their own learning, in a fixed number of queries."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassSession,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
    utcnow,
)
from . import certificates, dashboards
from .waitlist import waitlist_positions


@dataclass
class AttendanceSoFar:
    attended_sessions: int = 0
    marked_sessions: int = 0
    attended_hours: float = 0.0
    counted_hours: float = 0.0

    @property
    def rate(self) -> float | None:
        """Share of contact hours attended; excused sessions are left out of the total."""
        if self.counted_hours == 0:
            return None
        return self.attended_hours / self.counted_hours


def attendance_summaries(enrolment_ids: list[int]) -> dict[int, AttendanceSoFar]:
    """Attendance so far per enrolment: present and late count, absent does not, excused
    sessions are left out."""
    summaries: dict[int, AttendanceSoFar] = defaultdict(AttendanceSoFar)
    if not enrolment_ids:
        return summaries
    rows = db.session.execute(
        select(
            Attendance.enrolment_id, Attendance.status, ClassSession.starts_at, ClassSession.ends_at
        )
        .join(ClassSession, Attendance.session_id == ClassSession.id)
        .where(Attendance.enrolment_id.in_(enrolment_ids), ClassSession.is_cancelled.is_(False))
    ).all()
    for enrolment_id, status, starts_at, ends_at in rows:
        summary = summaries[enrolment_id]
        hours = (ends_at - starts_at).total_seconds() / 3600
        summary.marked_sessions += 1
        if status == AttendanceStatus.EXCUSED:
            continue
        summary.counted_hours += hours
        if status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE):
            summary.attended_sessions += 1
            summary.attended_hours += hours
    return summaries


@dataclass
class EnrolmentRow:
    enrolment: Enrolment
    waitlist_position: int | None
    attendance: AttendanceSoFar
    can_withdraw: bool
    history: list[EnrolmentStatusChange] = field(default_factory=list)


@dataclass
class LearningOverview:
    upcoming: list[dashboards.UpcomingSession]
    current: list[EnrolmentRow]
    past: list[EnrolmentRow]
    requests: list[EnrolmentRow]
    certificates: list[Certificate] = field(default_factory=list)


PAST_STATUSES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)


def overview(learner: User, *, now: datetime | None = None) -> LearningOverview:
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
    attendance = attendance_summaries(ids)
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
            can_withdraw=e.status in ACTIVE_STATUSES
            and now <= e.course_class.withdrawal_deadline_at,
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
    return LearningOverview(
        upcoming=dashboards.learner_upcoming_sessions(learner, now=now),
        current=current,
        past=past,
        requests=rows,
        certificates=certificates.for_learner(learner.id),
    )
