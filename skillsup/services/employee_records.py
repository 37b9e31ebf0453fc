"""An employee's record, as their HR officer sees it: enrolments, attendance, results, history.

Only a learner of the HR officer's own company has a record here (see
:func:`skillsup.services.staff.check_employee`). Everything the page shows comes in a fixed
number of queries, whatever the employee's history.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    EnrolmentStatusChange,
    StaffStatus,
    User,
    utcnow,
)
from .hr_scope import company_enrolments, person_events
from .progress import AttendanceStanding, standings
from .staff import check_employee, hr_company_id, staff_status
from .waitlist import waitlist_positions


class SessionState(enum.StrEnum):
    MARKED = "marked"
    NOT_MARKED = "not_marked"
    UPCOMING = "upcoming"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class SessionMark:
    session: ClassSession
    state: SessionState
    status: AttendanceStatus | None = None


#: Enrolments whose attendance is worth showing session by session.
ATTENDING_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)
FINISHED_STATUSES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)


@dataclass
class EnrolmentRecord:
    enrolment: Enrolment
    waitlist_position: int | None = None
    sessions: list[SessionMark] = field(default_factory=list)
    standing: AttendanceStanding | None = None
    certificate: Certificate | None = None

    @property
    def shows_attendance(self) -> bool:
        return self.enrolment.status in ATTENDING_STATUSES or any(
            mark.status is not None for mark in self.sessions
        )

    @property
    def has_result(self) -> bool:
        e = self.enrolment
        return (
            e.result_score is not None
            or e.result_passed is not None
            or e.status in FINISHED_STATUSES
        )

    @property
    def at_risk(self) -> bool:
        return (
            self.enrolment.status == EnrolmentStatus.CONFIRMED
            and self.standing is not None
            and self.standing.at_risk
        )

    @property
    def falling_behind(self) -> bool:
        """Below the minimum so far in a class still under way, though it can be reached."""
        return (
            self.enrolment.status == EnrolmentStatus.CONFIRMED
            and self.standing is not None
            and self.standing.falling_behind
        )

    @property
    def is_finished(self) -> bool:
        """The class is over for this learner: their attendance is final, not so far."""
        return self.enrolment.status in FINISHED_STATUSES

    @property
    def attendance_rate(self) -> float | None:
        """The attendance rate the record shows: the rate for completion once the class is
        over for the learner (final), the rate so far while it runs; ``None`` without a
        standing or before any hour counts (:mod:`.attendance_rate`)."""
        if self.standing is None:
            return None
        return self.standing.rate if self.is_finished else self.standing.rate_so_far

    @property
    def can_reach_minimum(self) -> bool | None:
        """Whether the class's minimum attendance is within reach: for a confirmed place,
        unless it is :attr:`at_risk`; once the class is over for the learner, whether it was
        met; ``None`` for anyone not holding a place (pending, waitlisted, withdrawn...)."""
        if self.standing is None:
            return None
        if self.is_finished:
            return self.standing.meets_minimum
        if self.enrolment.status == EnrolmentStatus.CONFIRMED:
            return not self.standing.at_risk
        return None


@dataclass(frozen=True)
class HistoryItem:
    change: EnrolmentStatusChange
    enrolment: Enrolment


@dataclass
class EmployeeRecord:
    employee: User
    status: StaffStatus
    enrolments: list[EnrolmentRecord]
    history: list[HistoryItem]
    account_history: list[AuditEntry]

    @property
    def attendance(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.shows_attendance]

    @property
    def results(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.has_result]

    @property
    def certificates(self) -> list[EnrolmentRecord]:
        return [record for record in self.enrolments if record.certificate is not None]


def employee_enrolments(employee: User, company_id: int | None) -> list[Enrolment]:
    """The employee's enrolments made under the company (:mod:`.hr_scope`), or under any
    company for ``None`` (the institute's view), the latest request first, with class, course
    and requester loaded."""
    made_under = (
        company_enrolments(company_id)
        if company_id is not None
        else [Enrolment.company_id.is_not(None)]
    )
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.learner_id == employee.id, *made_under)
            .options(
                joinedload(Enrolment.course_class).joinedload(CourseClass.course),
                joinedload(Enrolment.requested_by),
            )
            .order_by(Enrolment.requested_at.desc(), Enrolment.id.desc())
        )
    )


def enrolment_records(enrolments: Sequence[Enrolment], *, now: datetime) -> list[EnrolmentRecord]:
    """The record of each of ``enrolments``, in their order, as an employee's page shows it:
    the waitlist position of those waitlisted; for those confirmed or finished (or with a
    mark), attendance session by session as it stands at ``now`` and the standing from
    :func:`skillsup.services.progress.standings`; and their certificates. A fixed number of
    queries whatever their number. The caller decides whose enrolments they are (an HR
    officer's: those made under their company, :mod:`.hr_scope`)."""
    records = {e.id: EnrolmentRecord(e) for e in enrolments}
    ids = list(records)

    waitlisted = [e.id for e in enrolments if e.status == EnrolmentStatus.WAITLISTED]
    for enrolment_id, position in waitlist_positions(waitlisted).items():
        records[enrolment_id].waitlist_position = position

    marks: dict[int, dict[int, AttendanceStatus]] = defaultdict(dict)
    sessions_by_class: dict[int, list[ClassSession]] = defaultdict(list)
    if ids:
        for attendance in db.session.scalars(
            select(Attendance).where(Attendance.enrolment_id.in_(ids))
        ):
            marks[attendance.enrolment_id][attendance.session_id] = attendance.status
        class_ids = {e.class_id for e in enrolments}
        for session in db.session.scalars(
            select(ClassSession)
            .where(ClassSession.class_id.in_(class_ids))
            .order_by(ClassSession.starts_at, ClassSession.id)
        ):
            sessions_by_class[session.class_id].append(session)
        for certificate in db.session.scalars(
            # By issue: where a class was reopened, the newest certificate is the one shown.
            select(Certificate).where(Certificate.enrolment_id.in_(ids)).order_by(Certificate.id)
        ):
            records[certificate.enrolment_id].certificate = certificate

    for record in records.values():
        mine = marks.get(record.enrolment.id, {})
        for session in sessions_by_class.get(record.enrolment.class_id, []):
            status = mine.get(session.id)
            if status is not None:
                state = SessionState.MARKED
            elif session.is_cancelled:
                state = SessionState.CANCELLED
            elif session.starts_at > now:
                state = SessionState.UPCOMING
            else:
                state = SessionState.NOT_MARKED
            record.sessions.append(SessionMark(session, state, status))

    attending = [record.enrolment.id for record in records.values() if record.shows_attendance]
    for enrolment_id, standing in standings(attending).items():
        records[enrolment_id].standing = standing
    return list(records.values())


ACCOUNT_HISTORY_LIMIT = 50


def employee_record(actor: User, employee: User, *, now: datetime | None = None) -> EmployeeRecord:
    """Everything the employee page shows, in a fixed number of queries.

    Their enrolments made under the actor's company (:mod:`.hr_scope`: never one they made
    under another company before moving here), newest first, with class, course and
    requester; the waitlist position of those waitlisted, attendance session by session and
    the standing from :func:`skillsup.services.progress.standings` for those confirmed or
    finished, results, certificates, every status change of their requests, and the
    account's own history (invitation, deactivation, reactivation) from while they have been
    at the actor's company (:func:`.hr_scope.person_events`: never what happened at a
    company they worked for before). Raises :class:`NotFound`
    for anyone but a learner of the actor's company.
    """
    check_employee(actor, employee)
    company_id = hr_company_id(actor)
    enrolment_record_list = enrolment_records(
        employee_enrolments(employee, company_id), now=now or utcnow()
    )
    records = {record.enrolment.id: record for record in enrolment_record_list}
    ids = list(records)

    history: list[HistoryItem] = []
    if ids:
        for change in db.session.scalars(
            select(EnrolmentStatusChange)
            .where(EnrolmentStatusChange.enrolment_id.in_(ids))
            .options(joinedload(EnrolmentStatusChange.actor))
            .order_by(EnrolmentStatusChange.changed_at.desc(), EnrolmentStatusChange.id.desc())
        ):
            history.append(HistoryItem(change, records[change.enrolment_id].enrolment))

    account_history = list(
        db.session.scalars(
            select(AuditEntry)
            .where(
                *person_events(company_id),
                AuditEntry.object_id == employee.id,
                AuditEntry.action.like("account.%"),
            )
            .options(joinedload(AuditEntry.actor), joinedload(AuditEntry.api_token))
            .order_by(AuditEntry.occurred_at.desc(), AuditEntry.id.desc())
            .limit(ACCOUNT_HISTORY_LIMIT)
        )
    )
    return EmployeeRecord(
        employee=employee,
        status=staff_status(employee),
        enrolments=enrolment_record_list,
        history=history,
        account_history=account_history,
    )
