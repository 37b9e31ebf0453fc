"""Taking attendance: a session's attendance sheet and recording its marks.

Rules kept here, whatever the path: attendance is taken only by the class's trainers (and
admins), only for a session that has started and was not cancelled, in a class not completed
or cancelled, only for learners confirmed in that class, and only with a known status (present,
late, absent or excused). A save is all or nothing, and every change (a first mark or a
correction) is in the audit log with the old and new status. What the marks add up to is
:mod:`.attendance_rate`'s rule.

Functions flush but never commit.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, bindparam, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    Attendance,
    AttendanceStatus,
    ClassSession,
    CourseClass,
    Enrolment,
    User,
    utcnow,
)
from . import audit
from . import enrolment as enrolment_service
from .errors import PermissionDenied
from .rosters import (
    ROSTER_STATUSES,
    ClassFinished,
    LearnerRow,
    NotOnRoster,
    RosterRefused,
    learner_sort_key,
    roster_members,
)


class SessionNotStarted(RosterRefused):
    default_message = _l(
        "This session has not started yet: attendance can be taken once it has begun."
    )


class SessionCancelled(RosterRefused):
    default_message = _l("This session was cancelled: there is no attendance to take.")


class UnknownAttendanceStatus(RosterRefused):
    default_message = _l("Choose present, late, absent or excused for each learner.")


@dataclass(frozen=True)
class AttendanceRow(LearnerRow):
    enrolment: Enrolment
    attendance: Attendance | None

    @property
    def status(self) -> AttendanceStatus | None:
        return self.attendance.status if self.attendance else None


@dataclass
class AttendanceSheet:
    """A session's learners with their marks, and why marking is refused now, if it is."""

    course_class: CourseClass
    session: ClassSession
    rows: list[AttendanceRow]
    refusal: Any = None

    @property
    def can_mark(self) -> bool:
        return self.refusal is None

    @property
    def marked(self) -> int:
        return sum(1 for row in self.rows if row.attendance is not None)


def attendance_sheet(
    course_class: CourseClass, session: ClassSession, *, now: datetime | None = None
) -> AttendanceSheet:
    """The learners of the class with their mark for the session, if any; in one query.

    ``refusal`` says why attendance cannot be taken now (``None`` when it can).
    """
    now = now or utcnow()
    rows = [
        AttendanceRow(enrolment, attendance)
        for enrolment, attendance in db.session.execute(
            _sheet_statement(), {"class_id": course_class.id, "session_id": session.id}
        ).all()
    ]
    rows.sort(key=lambda row: learner_sort_key(row.enrolment))
    refusal = _marking_refusal(course_class, session, now)
    return AttendanceSheet(course_class, session, rows, None if refusal is None else refusal)


@functools.cache
def _sheet_statement() -> Select[Enrolment, Attendance]:
    # Built once: making a statement anew costs more of the processor than running it.
    return (
        select(Enrolment, Attendance)
        .outerjoin(
            Attendance,
            and_(
                Attendance.enrolment_id == Enrolment.id,
                Attendance.session_id == bindparam("session_id"),
            ),
        )
        .where(Enrolment.class_id == bindparam("class_id"), Enrolment.status.in_(ROSTER_STATUSES))
        .options(joinedload(Enrolment.learner).joinedload(User.company))
    )


def _marking_refusal(
    course_class: CourseClass, session: ClassSession, now: datetime
) -> RosterRefused | None:
    if course_class.is_finished:
        return ClassFinished()
    if session.is_cancelled:
        return SessionCancelled()
    if session.starts_at > now:
        return SessionNotStarted()
    return None


@dataclass(frozen=True)
class FilledMarks:
    """The marks of an attendance form after "all present": the marks chosen on it, and
    ``status`` for each learner with neither a saved mark nor one chosen."""

    marks: dict[int, str]
    filled: int


def fill_unmarked(
    sheet: AttendanceSheet,
    chosen: Mapping[int, str],
    status: AttendanceStatus = AttendanceStatus.PRESENT,
) -> FilledMarks:
    """Fill in ``status`` for the learners of the sheet not yet marked: those with no saved
    mark and no mark ``chosen`` on the form. A saved mark is never overwritten, nor a mark
    chosen but not yet saved; nothing is saved (the trainer checks the form, then saves it).
    ``chosen`` maps enrolment ids to the form's values (as :func:`record_attendance` takes
    them). Returns the marks to show and how many learners were filled in."""
    known = {status.value for status in AttendanceStatus}
    marks = {enrolment_id: value for enrolment_id, value in chosen.items() if value in known}
    filled = 0
    for row in sheet.rows:
        enrolment_id = row.enrolment.id
        if row.attendance is None and enrolment_id not in marks:
            marks[enrolment_id] = status.value
            filled += 1
    return FilledMarks(marks, filled)


@dataclass(frozen=True)
class AttendanceChange:
    enrolment_id: int
    learner_id: int
    old: AttendanceStatus | None
    new: AttendanceStatus


def record_attendance(
    actor: User,
    session: ClassSession,
    marks: Mapping[int, AttendanceStatus | str],
    *,
    now: datetime | None = None,
) -> list[AttendanceChange]:
    """Record the attendance of learners at a session: ``marks`` maps enrolment ids to a
    status (present, late, absent or excused). Learners left out keep what they had.

    Only the class's trainers (and admins) take attendance, only once the session has
    started, never for a cancelled session or a completed or cancelled class, and only for
    learners confirmed in the class. Marks equal to the recorded ones change nothing; each
    first mark and each correction is in the audit log with who, when, old and new status.
    All or nothing: one refused mark saves none.

    Returns the changes. Raises :class:`PermissionDenied`, :class:`ClassFinished`,
    :class:`SessionCancelled`, :class:`SessionNotStarted`, :class:`UnknownAttendanceStatus`
    or :class:`NotOnRoster`.
    """
    now = now or utcnow()
    if not permissions.can_manage_class(actor, session.course_class):
        raise PermissionDenied()
    course_class = enrolment_service.lock_class(session.class_id)
    refusal = _marking_refusal(course_class, session, now)
    if refusal is not None:
        raise refusal
    wanted: dict[int, AttendanceStatus] = {}
    for enrolment_id, value in marks.items():
        try:
            wanted[int(enrolment_id)] = AttendanceStatus(value)
        except (TypeError, ValueError) as error:
            raise UnknownAttendanceStatus() from error
    if not wanted:
        return []
    members = roster_members(course_class, wanted)
    if set(wanted) - set(members):
        raise NotOnRoster()
    recorded = {
        a.enrolment_id: a
        for a in db.session.scalars(
            select(Attendance)
            .where(Attendance.session_id == session.id, Attendance.enrolment_id.in_(list(wanted)))
            .with_for_update()
        )
    }
    changes: list[tuple[Attendance, AttendanceChange]] = []
    for enrolment_id, status in sorted(wanted.items()):
        attendance = recorded.get(enrolment_id)
        old = attendance.status if attendance is not None else None
        if old == status:
            continue
        if attendance is None:
            attendance = Attendance(enrolment_id=enrolment_id, session_id=session.id)
            db.session.add(attendance)
        attendance.status = status
        attendance.marked_by_id = actor.id
        attendance.marked_at = now
        change = AttendanceChange(enrolment_id, members[enrolment_id].learner_id, old, status)
        changes.append((attendance, change))
    db.session.flush()
    for attendance, change in changes:
        audit.record(
            actor,
            "attendance.marked" if change.old is None else "attendance.corrected",
            attendance,
            f"session {session.id} of {course_class.code}: enrolment {change.enrolment_id} "
            f"{change.old.value if change.old else 'unmarked'} -> {change.new.value}",
            {
                "class_id": course_class.id,
                "session_id": session.id,
                "session_starts_at": session.starts_at.isoformat(),
                "enrolment_id": change.enrolment_id,
                "learner_id": change.learner_id,
                "from": change.old.value if change.old else None,
                "to": change.new.value,
            },
        )
    return [change for _attendance, change in changes]
