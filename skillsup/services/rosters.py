"""Rosters: what a trainer sees of and does with their classes.

A trainer sees the classes they are assigned to (an admin sees every class): the roster of
confirmed learners with their attendance standing, the waitlist, the attendance of each
session, the assessment results, and finally the closing of the class, which decides who
completed it and issues their certificates.

Rules kept here, whatever the path:

- attendance is taken only for a session that has started and was not cancelled, only for
  learners confirmed in that class, and only with a known status; a save is all or nothing
  and every change (first mark or correction) is in the audit log with the old and new status;
- results are a score from 0 to 100 (two decimals at most) and a pass or fail, only for a
  class that requires an assessment; one invalid entry saves nothing;
- a class is closed once: when running, or when its last session has ended. Learners whose
  attendance (in contact hours, excused sessions left out) reaches the class's minimum and
  who passed the assessment where one is required complete it; the others do not, each with
  the reason. The waitlist and pending requests are cancelled. Certificates are issued in
  the same transaction.

Functions flush but never commit. Reading functions run a fixed number of queries whatever
the number of learners.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import force_locale, format_percent
from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    FINISHED_STATUSES,
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    User,
    class_trainers,
    utcnow,
)
from ..timeutil import hk_date
from . import audit, certificates
from . import enrolment as enrolment_service
from .errors import DomainError, NotFound, PermissionDenied
from .progress import AttendanceStanding, class_standings, standings
from .reports import escape_cell

#: Enrolments that make up a class's roster: confirmed, and after closing their outcome.
ROSTER_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)
#: Kept with the cancelled waitlist places and requests of a class that has been closed.
CLASS_COMPLETED_REASON = "class completed"
MAX_SCORE = Decimal("100")
_CENTS = Decimal("0.01")


class RosterRefused(DomainError):
    """A rule about rosters, attendance, results or closing refuses the action."""


class SessionNotStarted(RosterRefused):
    default_message = _l(
        "This session has not started yet: attendance can be taken once it has begun."
    )


class SessionCancelled(RosterRefused):
    default_message = _l("This session was cancelled: there is no attendance to take.")


class ClassFinished(RosterRefused):
    default_message = _l(
        "This class is completed or cancelled: its attendance and results can no longer change."
    )


class NotOnRoster(RosterRefused):
    default_message = _l(
        "Some of the learners are not confirmed in this class. Reload the page and try again."
    )


class UnknownAttendanceStatus(RosterRefused):
    default_message = _l("Choose present, late, absent or excused for each learner.")


class NoAssessment(RosterRefused):
    default_message = _l("This class has no assessment, so there are no results to record.")


class InvalidResults(RosterRefused):
    """One or more results are invalid; ``errors`` maps form field names to messages."""

    default_message = _l("Some results are not valid: correct the fields marked below.")

    def __init__(self, errors: dict[str, Any]) -> None:
        super().__init__()
        self.errors = errors


class AlreadyClosed(RosterRefused):
    default_message = _l("This class has already been closed: nothing has changed.")


class ClassNotClosable(RosterRefused):
    default_message = _l(
        "Only a running class, or one whose last session has ended, can be closed."
    )


# Loading what a trainer may see --------------------------------------------------------------


def load_class(actor: User, code: str) -> CourseClass:
    """The class with ``code`` if ``actor`` manages it (its trainers, or an admin).

    Raises :class:`NotFound` for a class that does not exist and for one the actor does not
    manage: another trainer's class is not theirs to know about.
    """
    code = (code or "").strip().upper()
    course_class = (
        db.session.scalars(
            select(CourseClass)
            .where(CourseClass.code == code)
            # One query: a class has a trainer or two.
            .options(joinedload(CourseClass.course), joinedload(CourseClass.trainers))
        )
        .unique()
        .one_or_none()
        if code and len(code) <= 40
        else None
    )
    if course_class is None or not permissions.can_manage_class(actor, course_class):
        raise NotFound()
    return course_class


def load_session(course_class: CourseClass, session_id: int) -> ClassSession:
    """One session of the class; :class:`NotFound` for a session of another class."""
    session = db.session.get(ClassSession, session_id)
    if session is None or session.class_id != course_class.id:
        raise NotFound()
    return session


# The trainer's home page -------------------------------------------------------------------


@dataclass(frozen=True)
class HomeClass:
    """A class on the trainer's home page, with its counts and the span of its sessions."""

    course_class: CourseClass
    confirmed: int
    waitlisted: int
    first_start: datetime | None
    last_end: datetime | None
    next_session: datetime | None
    now: datetime

    @property
    def is_finished(self) -> bool:
        return self.course_class.is_finished

    @property
    def has_ended(self) -> bool:
        """Its last session is over (or, without sessions, its last day has passed)."""
        if self.last_end is not None:
            return self.last_end <= self.now
        return self.course_class.ends_on < hk_date(self.now)

    @property
    def has_started(self) -> bool:
        if self.first_start is not None:
            return self.first_start <= self.now
        return self.course_class.starts_on <= hk_date(self.now)

    @property
    def needs_closing(self) -> bool:
        """Over, but the outcomes are not recorded yet."""
        return closing_refusal(self.course_class, self.last_end, self.now) is None and (
            self.has_ended
        )

    @property
    def group(self) -> str:
        if self.is_finished or self.has_ended:
            return "past"
        if self.course_class.status == ClassStatus.RUNNING or self.has_started:
            return "running"
        return "upcoming"


@dataclass(frozen=True)
class NextSession:
    session: ClassSession
    course_class: CourseClass
    course: Course
    #: Under way: its attendance can be taken.
    started: bool


@dataclass
class TrainerHome:
    running: list[HomeClass] = field(default_factory=list)
    upcoming: list[HomeClass] = field(default_factory=list)
    past: list[HomeClass] = field(default_factory=list)
    next_sessions: list[NextSession] = field(default_factory=list)
    sees_all: bool = False


def _aware(value: Any) -> datetime | None:
    # SQLite returns an aggregate over a UTC column as text without the column's type.
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def trainer_home(
    actor: User, *, now: datetime | None = None, session_limit: int = 10
) -> TrainerHome:
    """A trainer's classes grouped running, upcoming and past, and their next sessions.

    A trainer sees the classes they are assigned to; an admin sees every class that is not
    yet completed or cancelled (running, upcoming, and over but not closed). Two queries.
    """
    now = now or utcnow()
    sees_all = permissions.is_admin(actor)

    def _session_bound(aggregate: Any, *conditions: Any) -> Any:
        return (
            select(aggregate)
            .where(
                ClassSession.class_id == CourseClass.id,
                ClassSession.is_cancelled.is_(False),
                *conditions,
            )
            .scalar_subquery()
        )

    def _count(status: EnrolmentStatus) -> Any:
        return (
            select(func.count(Enrolment.id))
            .where(Enrolment.class_id == CourseClass.id, Enrolment.status == status)
            .scalar_subquery()
        )

    statement = select(
        CourseClass,
        _count(EnrolmentStatus.CONFIRMED),
        _count(EnrolmentStatus.WAITLISTED),
        _session_bound(func.min(ClassSession.starts_at)),
        _session_bound(func.max(ClassSession.ends_at)),
        _session_bound(func.min(ClassSession.starts_at), ClassSession.starts_at >= now),
    ).options(joinedload(CourseClass.course))
    if sees_all:
        statement = statement.where(CourseClass.status.not_in(FINISHED_STATUSES))
    else:
        statement = statement.where(
            CourseClass.id.in_(
                select(class_trainers.c.class_id).where(class_trainers.c.trainer_id == actor.id)
            )
        )
    home = TrainerHome(sees_all=sees_all)
    rows = db.session.execute(statement.order_by(CourseClass.starts_on, CourseClass.code))
    for course_class, confirmed, waitlisted, first, last, upcoming in rows:
        item = HomeClass(
            course_class,
            int(confirmed or 0),
            int(waitlisted or 0),
            _aware(first),
            _aware(last),
            _aware(upcoming),
            now,
        )
        getattr(home, item.group).append(item)
    home.past.sort(key=lambda item: (item.course_class.ends_on, item.course_class.code))
    home.past.reverse()

    sessions = (
        select(ClassSession, CourseClass, Course)
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .where(
            ClassSession.ends_at >= now,
            ClassSession.is_cancelled.is_(False),
            CourseClass.status.not_in(FINISHED_STATUSES),
        )
        .order_by(ClassSession.starts_at, ClassSession.id)
        .limit(session_limit)
    )
    if not sees_all:
        sessions = sessions.join(
            class_trainers,
            and_(
                class_trainers.c.class_id == CourseClass.id,
                class_trainers.c.trainer_id == actor.id,
            ),
        )
    home.next_sessions = [
        NextSession(s, c, course, s.starts_at <= now)
        for s, c, course in db.session.execute(sessions)
    ]
    return home


# The roster --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterRow:
    """A learner on the roster with their attendance standing so far."""

    enrolment: Enrolment
    standing: AttendanceStanding

    @property
    def learner(self) -> User:
        return self.enrolment.learner

    @property
    def company(self) -> PartnerCompany | None:
        return self.enrolment.learner.company

    @property
    def certificate(self) -> Certificate | None:
        return self.enrolment.certificate


@dataclass(frozen=True)
class WaitingRow:
    enrolment: Enrolment
    position: int | None

    @property
    def learner(self) -> User:
        return self.enrolment.learner


@dataclass(frozen=True)
class SessionRow:
    session: ClassSession
    marked: int

    @property
    def hours(self) -> float:
        return self.session.hours


@dataclass
class Roster:
    course_class: CourseClass
    rows: list[RosterRow]
    waitlist: list[WaitingRow]
    pending: list[WaitingRow]
    sessions: list[SessionRow]
    now: datetime

    @property
    def confirmed_count(self) -> int:
        return sum(1 for row in self.rows if row.enrolment.status == EnrolmentStatus.CONFIRMED)

    def has_started(self, session: ClassSession) -> bool:
        return session.starts_at <= self.now


def _learner_sort_key(enrolment: Enrolment) -> tuple[str, int]:
    return (enrolment.learner.name.casefold(), enrolment.id)


def _roster_enrolments(course_class: CourseClass) -> list[Enrolment]:
    enrolments = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.class_id == course_class.id, Enrolment.status.in_(ROSTER_STATUSES))
        .options(
            joinedload(Enrolment.learner).joinedload(User.company),
            joinedload(Enrolment.certificate),
        )
    ).all()
    return sorted(enrolments, key=_learner_sort_key)


def roster(course_class: CourseClass, *, now: datetime | None = None) -> Roster:
    """The class's roster, waitlist (first in line first), pending requests and sessions.

    Four queries whatever the number of learners.
    """
    now = now or utcnow()
    enrolments = _roster_enrolments(course_class)
    class_sessions = db.session.scalars(
        select(ClassSession)
        .where(ClassSession.class_id == course_class.id)
        .order_by(ClassSession.starts_at, ClassSession.id)
    ).all()
    standing_of, marked = class_standings(course_class, [e.id for e in enrolments], class_sessions)
    rows = [RosterRow(e, standing_of[e.id]) for e in enrolments]

    waiting = db.session.scalars(
        select(Enrolment)
        .where(
            Enrolment.class_id == course_class.id,
            Enrolment.status.in_((EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING)),
        )
        .options(joinedload(Enrolment.learner).joinedload(User.company))
        .order_by(Enrolment.waitlisted_at, Enrolment.requested_at, Enrolment.id)
    ).all()
    waitlisted = [e for e in waiting if e.status == EnrolmentStatus.WAITLISTED]
    waitlist = [WaitingRow(e, position) for position, e in enumerate(waitlisted, start=1)]
    pending = [WaitingRow(e, None) for e in waiting if e.status == EnrolmentStatus.PENDING]

    # A session's marks counted among the learners on the roster.
    sessions = [SessionRow(session, marked[session.id]) for session in class_sessions]
    return Roster(course_class, rows, waitlist, pending, sessions, now)


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet will not run as a formula."""
    return str(escape_cell("" if value is None else str(value)))


def _number(value: float | Decimal | None, places: int = 1) -> str:
    return "" if value is None else f"{value:.{places}f}"


def roster_csv(data: Roster, headings: Mapping[str, Any], labels: Mapping[Any, Any]) -> str:
    """The roster as CSV text (with a byte-order mark, so spreadsheets read it as UTF-8).

    ``headings`` names the columns and ``labels`` the statuses and yes/no, in the reader's
    language. Every cell is escaped so that none starts a formula.
    """
    columns = (
        "name",
        "email",
        "staff_number",
        "company",
        "department",
        "status",
        "attended_sessions",
        "marked_sessions",
        "attended_hours",
        "marked_hours",
        "rate",
        "at_risk",
        "score",
        "passed",
        "certificate",
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(headings[name]) for name in columns])
    for row in data.rows:
        standing = row.standing
        passed = row.enrolment.result_passed
        writer.writerow(
            [
                csv_cell(value)
                for value in (
                    row.learner.name,
                    row.learner.email,
                    row.learner.staff_number,
                    row.company.name if row.company else "",
                    row.learner.department,
                    labels[row.enrolment.status],
                    standing.attended_sessions,
                    standing.marked_sessions,
                    _number(standing.attended_hours),
                    _number(standing.attended_hours + standing.absent_hours),
                    _number(None if standing.rate_so_far is None else standing.rate_so_far * 100),
                    labels[standing.at_risk],
                    _number(row.enrolment.result_score, 2)
                    if row.enrolment.result_score is not None
                    else "",
                    "" if passed is None else labels[passed],
                    row.certificate.serial_number if row.certificate else "",
                )
            ]
        )
    return "\ufeff" + buffer.getvalue()


# Attendance --------------------------------------------------------------------------------


@dataclass(frozen=True)
class AttendanceRow:
    enrolment: Enrolment
    attendance: Attendance | None

    @property
    def learner(self) -> User:
        return self.enrolment.learner

    @property
    def company(self) -> PartnerCompany | None:
        return self.enrolment.learner.company

    @property
    def status(self) -> AttendanceStatus | None:
        return self.attendance.status if self.attendance else None


@dataclass
class AttendanceSheet:
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
            select(Enrolment, Attendance)
            .outerjoin(
                Attendance,
                and_(Attendance.enrolment_id == Enrolment.id, Attendance.session_id == session.id),
            )
            .where(Enrolment.class_id == course_class.id, Enrolment.status.in_(ROSTER_STATUSES))
            .options(joinedload(Enrolment.learner).joinedload(User.company))
        ).all()
    ]
    rows.sort(key=lambda row: _learner_sort_key(row.enrolment))
    refusal = _marking_refusal(course_class, session, now)
    return AttendanceSheet(course_class, session, rows, None if refusal is None else refusal)


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
class AttendanceChange:
    enrolment_id: int
    learner_id: int
    old: AttendanceStatus | None
    new: AttendanceStatus


def _roster_members(
    course_class: CourseClass, enrolment_ids: Iterable[int]
) -> dict[int, Enrolment]:
    ids = list(enrolment_ids)
    if not ids:
        return {}
    return {
        e.id: e
        for e in db.session.scalars(
            select(Enrolment)
            .where(
                Enrolment.id.in_(ids),
                Enrolment.class_id == course_class.id,
                Enrolment.status == EnrolmentStatus.CONFIRMED,
            )
            .with_for_update()
        )
    }


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
    members = _roster_members(course_class, wanted)
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


# Results -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResultEntry:
    """What was entered for one learner: a score (text as typed, or a number) and whether
    they passed; ``None`` for nothing entered. Anything but ``True``, ``False`` or ``None``
    for ``passed`` is refused."""

    score: str | Decimal | int | float | None = None
    passed: bool | str | None = None


@dataclass(frozen=True)
class ResultChange:
    enrolment_id: int
    learner_id: int
    old_score: Decimal | None
    old_passed: bool | None
    new_score: Decimal | None
    new_passed: bool | None


def score_field(enrolment_id: int) -> str:
    """The name of the results form's score input for an enrolment."""
    return f"score-{enrolment_id}"


def passed_field(enrolment_id: int) -> str:
    """The name of the results form's pass-or-fail input for an enrolment."""
    return f"passed-{enrolment_id}"


def parse_score(value: str | Decimal | int | float | None) -> Decimal | None:
    """A score from 0 to 100 with at most two decimals, or ``None`` for nothing entered.

    Raises ``ValueError`` with a message for the user.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5."))
    text = str(value).strip()
    if not text:
        return None
    try:
        score = Decimal(text)
    except InvalidOperation as error:
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5.")) from error
    if not score.is_finite():
        raise ValueError(_l("Enter the score as a number from 0 to 100, such as 72.5."))
    if score < 0 or score > MAX_SCORE:
        raise ValueError(_l("The score must be from 0 to 100."))
    if score != score.quantize(_CENTS):
        raise ValueError(_l("Give the score with at most two decimal places."))
    return score.quantize(_CENTS)


def result_refusal(course_class: CourseClass) -> RosterRefused | None:
    """Why results cannot be recorded for the class now, or ``None`` when they can."""
    if not course_class.assessment_required:
        return NoAssessment()
    if course_class.is_finished:
        return ClassFinished()
    return None


def result_rows(course_class: CourseClass) -> list[Enrolment]:
    """The learners on the roster, by name, for the results page; in one query."""
    return _roster_enrolments(course_class)


def record_results(
    actor: User,
    course_class: CourseClass,
    results: Mapping[int, ResultEntry],
    *,
    now: datetime | None = None,
) -> list[ResultChange]:
    """Record assessment results: ``results`` maps enrolment ids to a score from 0 to 100
    (two decimals at most; empty for none) and pass or fail.

    A score needs a pass or fail; a pass or fail alone (an assessment without a score) is
    allowed, and an entry with neither clears the result. Only for a class that requires an
    assessment and is not completed or cancelled, by its trainers or an admin, and only for
    learners confirmed in it. One invalid entry saves nothing. Each change is audited.

    Returns the changes. Raises :class:`PermissionDenied`, :class:`NoAssessment`,
    :class:`ClassFinished`, :class:`NotOnRoster`, or :class:`InvalidResults` whose
    ``errors`` name the fields (``score-<id>``, ``passed-<id>``) at fault.
    """
    if not permissions.can_manage_class(actor, course_class):
        raise PermissionDenied()
    locked = enrolment_service.lock_class(course_class.id)
    refusal = result_refusal(locked)
    if refusal is not None:
        raise refusal
    ids = {int(enrolment_id) for enrolment_id in results}
    members = _roster_members(locked, ids)
    if ids - set(members):
        raise NotOnRoster()
    errors: dict[str, Any] = {}
    parsed: dict[int, tuple[Decimal | None, bool | None]] = {}
    for enrolment_id, entry in results.items():
        enrolment_id = int(enrolment_id)
        try:
            score = parse_score(entry.score)
        except ValueError as error:
            errors[score_field(enrolment_id)] = error.args[0]
            continue
        if entry.passed not in (None, True, False):
            errors[passed_field(enrolment_id)] = _l("Choose pass or fail.")
            continue
        if score is not None and entry.passed is None:
            errors[passed_field(enrolment_id)] = _l("Choose pass or fail for this score.")
            continue
        parsed[enrolment_id] = (score, bool(entry.passed) if entry.passed is not None else None)
    if errors:
        raise InvalidResults(errors)

    changes: list[ResultChange] = []
    for enrolment_id, (score, passed) in sorted(parsed.items()):
        enrolment = members[enrolment_id]
        if enrolment.result_score == score and enrolment.result_passed is passed:
            continue
        change = ResultChange(
            enrolment_id,
            enrolment.learner_id,
            enrolment.result_score,
            enrolment.result_passed,
            score,
            passed,
        )
        enrolment.result_score = score
        enrolment.result_passed = passed
        changes.append(change)
        audit.record(
            actor,
            "enrolment.result_recorded",
            enrolment,
            f"result in {locked.code}: {_describe_result(change.old_score, change.old_passed)}"
            f" -> {_describe_result(score, passed)}",
            {
                "class_id": locked.id,
                "learner_id": enrolment.learner_id,
                "from": {"score": change.old_score, "passed": change.old_passed},
                "to": {"score": score, "passed": passed},
            },
        )
    db.session.flush()
    return changes


def _describe_result(score: Decimal | None, passed: bool | None) -> str:
    if score is None and passed is None:
        return "none"
    verdict = "" if passed is None else ("pass" if passed else "fail")
    return " ".join(part for part in (str(score) if score is not None else "", verdict) if part)


# Closing -----------------------------------------------------------------------------------


def _percent(value: float) -> str:
    return str(format_percent(value, "#,##0.#%"))


@dataclass(frozen=True)
class Outcome:
    """What closing the class will record for one learner, and why."""

    enrolment: Enrolment
    standing: AttendanceStanding
    completes: bool
    reasons: tuple[Any, ...]

    @property
    def learner(self) -> User:
        return self.enrolment.learner

    @property
    def company(self) -> PartnerCompany | None:
        return self.enrolment.learner.company

    @property
    def attendance_text(self) -> str:
        """The attendance rate as the reasons give it (one decimal), or a dash."""
        rate = self.standing.rate
        return "—" if rate is None else _percent(rate)


def _reasons(
    course_class: CourseClass, enrolment: Enrolment, standing: AttendanceStanding
) -> list[Any]:
    reasons: list[Any] = []
    if not standing.meets_minimum:
        rate = standing.rate
        minimum = _percent(course_class.min_attendance_pct / 100)
        if rate is None:
            reasons.append(
                _l("No attendance can be counted against the %(minimum)s minimum.", minimum=minimum)
            )
        else:
            reasons.append(
                _l(
                    "Attendance %(rate)s is below the %(minimum)s minimum.",
                    rate=_percent(rate),
                    minimum=minimum,
                )
            )
    if course_class.assessment_required:
        if enrolment.result_passed is None:
            reasons.append(_l("No assessment result recorded."))
        elif enrolment.result_passed is False:
            reasons.append(_l("Assessment failed."))
    return reasons


def closing_refusal(
    course_class: CourseClass, last_session_end: datetime | None, now: datetime
) -> RosterRefused | None:
    """Why the class cannot be closed now, or ``None`` when it can: it must be running, or
    open or closed for enrolment with its last session over; never closed twice."""
    if course_class.status == ClassStatus.COMPLETED:
        return AlreadyClosed()
    if course_class.status == ClassStatus.RUNNING:
        return None
    if (
        course_class.status in (ClassStatus.OPEN, ClassStatus.CLOSED)
        and last_session_end is not None
        and last_session_end <= now
    ):
        return None
    return ClassNotClosable()


@dataclass
class ClosingPreview:
    course_class: CourseClass
    outcomes: list[Outcome]
    waiting: int
    refusal: RosterRefused | None
    sessions_ahead: int
    sessions_unmarked: int

    @property
    def can_close(self) -> bool:
        return self.refusal is None

    @property
    def completing(self) -> list[Outcome]:
        return [o for o in self.outcomes if o.completes]

    @property
    def not_completing(self) -> list[Outcome]:
        return [o for o in self.outcomes if not o.completes]


def _session_facts(course_class: CourseClass, now: datetime) -> tuple[datetime | None, int, int]:
    """The end of the last session, the sessions still ahead, and the sessions already held
    that are not marked for every confirmed learner."""
    sessions = db.session.execute(
        select(ClassSession.id, ClassSession.starts_at, ClassSession.ends_at).where(
            ClassSession.class_id == course_class.id, ClassSession.is_cancelled.is_(False)
        )
    ).all()
    confirmed = select(Enrolment.id).where(
        Enrolment.class_id == course_class.id, Enrolment.status == EnrolmentStatus.CONFIRMED
    )
    marked = dict(
        db.session.execute(
            select(Attendance.session_id, func.count(Attendance.id))
            .where(Attendance.enrolment_id.in_(confirmed))
            .group_by(Attendance.session_id)
        ).all()
    )
    confirmed_count = db.session.scalar(select(func.count()).select_from(confirmed.subquery()))
    last_end = max((ends_at for _id, _starts, ends_at in sessions), default=None)
    ahead = sum(1 for _id, starts_at, _ends in sessions if starts_at > now)
    unmarked = sum(
        1
        for session_id, starts_at, _ends in sessions
        if starts_at <= now and marked.get(session_id, 0) < (confirmed_count or 0)
    )
    return last_end, ahead, unmarked


def _outcomes(course_class: CourseClass, enrolments: list[Enrolment]) -> list[Outcome]:
    standing_of = standings([e.id for e in enrolments])
    outcomes = []
    for enrolment in enrolments:
        standing = standing_of.get(enrolment.id, AttendanceStanding())
        reasons = _reasons(course_class, enrolment, standing)
        outcomes.append(Outcome(enrolment, standing, not reasons, tuple(reasons)))
    return outcomes


def closing_preview(course_class: CourseClass, *, now: datetime | None = None) -> ClosingPreview:
    """Who closing the class now would mark completed and who not, and why; whether it can
    be closed at all; and warnings (sessions ahead, sessions not fully marked)."""
    now = now or utcnow()
    enrolments = [
        e for e in _roster_enrolments(course_class) if e.status == EnrolmentStatus.CONFIRMED
    ]
    last_end, ahead, unmarked = _session_facts(course_class, now)
    waiting = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.class_id == course_class.id,
            Enrolment.status.in_((EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING)),
        )
    )
    return ClosingPreview(
        course_class,
        _outcomes(course_class, enrolments),
        int(waiting or 0),
        closing_refusal(course_class, last_end, now),
        ahead,
        unmarked,
    )


@dataclass
class ClosingResult:
    course_class: CourseClass
    completed: list[Enrolment]
    not_completed: list[Enrolment]
    cancelled: list[Enrolment]
    certificates: list[Certificate]


def close_class(
    actor: User, course_class: CourseClass, *, now: datetime | None = None
) -> ClosingResult:
    """Close the class: record each confirmed learner's outcome, cancel the waitlist and
    pending requests ("class completed"), mark the class completed and issue certificates.

    A learner completes when their attendance in contact hours (excused sessions left out)
    reaches the class's minimum and, where the class requires an assessment, they passed it;
    otherwise they have not completed, with the reasons. Each transition is recorded in the
    enrolment's history and the audit log. The class row is locked first, so that closing
    twice at once closes once.

    Raises :class:`PermissionDenied`, :class:`AlreadyClosed` or :class:`ClassNotClosable`.
    """
    now = now or utcnow()
    if not permissions.can_manage_class(actor, course_class):
        raise PermissionDenied()
    locked = enrolment_service.lock_class(course_class.id)
    last_end, _ahead, _unmarked = _session_facts(locked, now)
    refusal = closing_refusal(locked, last_end, now)
    if refusal is not None:
        raise refusal

    enrolments = list(
        db.session.scalars(
            select(Enrolment)
            .where(Enrolment.class_id == locked.id, Enrolment.status.in_(ACTIVE_STATUSES))
            .order_by(Enrolment.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    confirmed = [e for e in enrolments if e.status == EnrolmentStatus.CONFIRMED]
    result = ClosingResult(locked, [], [], [], [])
    for outcome in _outcomes(locked, confirmed):
        enrolment = outcome.enrolment
        if outcome.completes:
            _finish(enrolment, EnrolmentStatus.COMPLETED, actor, None, now)
            result.completed.append(enrolment)
        else:
            # Kept in English, like every reason in the history; pages show their own.
            with force_locale("en"):
                reason = " ".join(
                    str(reason) for reason in _reasons(locked, enrolment, outcome.standing)
                )
            _finish(enrolment, EnrolmentStatus.NOT_COMPLETED, actor, reason, now)
            result.not_completed.append(enrolment)
    for enrolment in enrolments:
        if enrolment.status in (EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING):
            _finish(enrolment, EnrolmentStatus.CANCELLED, actor, CLASS_COMPLETED_REASON, now)
            result.cancelled.append(enrolment)

    old = locked.status
    locked.status = ClassStatus.COMPLETED
    db.session.flush()
    audit.record(
        actor,
        "class.status_changed",
        locked,
        f"close: class {locked.code} {old.value} -> {ClassStatus.COMPLETED.value}",
        {
            "from": old.value,
            "to": ClassStatus.COMPLETED.value,
            "completed": len(result.completed),
            "not_completed": len(result.not_completed),
            "cancelled": len(result.cancelled),
        },
    )
    result.certificates = certificates.issue_certificates(actor, locked, result.completed, now=now)
    return result


def _finish(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User,
    reason: str | None,
    now: datetime,
) -> None:
    """End an enrolment with ``to``, recorded as every enrolment transition is. The learner
    hears of the outcome through the certificate e-mail, not a status e-mail."""
    enrolment.ended_at = now
    enrolment_service.record_transition(enrolment, to, actor, reason, now, tell_learner=False)
