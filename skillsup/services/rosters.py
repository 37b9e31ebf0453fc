"""Rosters: the classes a trainer runs and the learners on them.

A trainer sees the classes they are assigned to (an admin sees every class). This module loads
what a trainer may see and holds what the trainer's pages share: the learners on a class's
roster (confirmed, and after closing their outcome) and the refusals they share. The roster
page itself is here too: the learners with their attendance standing, the waitlist, the
pending requests and the sessions, and the roster as CSV.

The trainer's other pages have modules of their own: :mod:`.trainer_home`, taking attendance
(:mod:`.attendance_sheets`), recording results (:mod:`.assessment_results`) and closing a class
(:mod:`.class_closing`).

Reading functions run a fixed number of queries whatever the number of learners.
"""

from __future__ import annotations

import csv
import functools
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    Certificate,
    ClassSession,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    FundingState,
    PartnerCompany,
    User,
    utcnow,
)
from ..reasons import render as render_reasons
from .errors import DomainError, NotFound
from .exports import escape_cell
from .funding_status import SchemeStatus, loaded_class_statuses
from .progress import AttendanceStanding, class_standings

#: The scheme statuses a trainer is shown on the roster: those that need attention.
_FUNDING_ALERTS = (FundingState.AT_RISK, FundingState.LOST)

#: Enrolments that make up a class's roster: confirmed, and after closing their outcome.
ROSTER_STATUSES = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


class RosterRefused(DomainError):
    """A rule about rosters, attendance, results or closing refuses the action."""


class ClassFinished(RosterRefused):
    default_message = _l(
        "This class is completed or cancelled: its attendance and results can no longer change."
    )


class NotOnRoster(RosterRefused):
    default_message = _l(
        "Some of the learners are not confirmed in this class. Reload the page and try again."
    )


# Loading what a trainer may see --------------------------------------------------------------


def load_class(actor: User, code: str) -> CourseClass:
    """The class with ``code`` if ``actor`` manages it (its trainers, or an admin).

    Raises :class:`NotFound` for a class that does not exist and for one the actor does not
    manage: another trainer's class is not theirs to know about.
    """
    code = (code or "").strip().upper()
    course_class = (
        db.session.scalars(_class_by_code_statement(), {"code": code}).unique().one_or_none()
        if code and len(code) <= 40
        else None
    )
    if course_class is None or not permissions.can_manage_class(actor, course_class):
        raise NotFound()
    return course_class


@functools.cache
def _class_by_code_statement() -> Select[CourseClass]:
    # Built once, as the trainer pages' other statements: making a statement anew costs more
    # of the processor than running it.
    return (
        select(CourseClass)
        .where(CourseClass.code == bindparam("code"))
        # One query: a class has a trainer or two.
        .options(joinedload(CourseClass.course), joinedload(CourseClass.trainers))
    )


def load_session(course_class: CourseClass, session_id: int) -> ClassSession:
    """One session of the class; :class:`NotFound` for a session of another class."""
    session = db.session.get(ClassSession, session_id)
    if session is None or session.class_id != course_class.id:
        raise NotFound()
    return session


# What the trainer's pages share ------------------------------------------------------------


def learner_sort_key(enrolment: Enrolment) -> tuple[str, int]:
    """The order learners are listed in on every trainer page: by name, then enrolment."""
    return (enrolment.learner.name.casefold(), enrolment.id)


def roster_enrolments(course_class: CourseClass) -> list[Enrolment]:
    """The enrolments on the class's roster with their learner, company and certificate, by
    name; one query."""
    enrolments = db.session.scalars(
        _roster_enrolments_statement(), {"class_id": course_class.id}
    ).all()
    return sorted(enrolments, key=learner_sort_key)


@functools.cache
def _roster_enrolments_statement() -> Select[Enrolment]:
    return (
        select(Enrolment)
        .where(Enrolment.class_id == bindparam("class_id"), Enrolment.status.in_(ROSTER_STATUSES))
        .options(
            joinedload(Enrolment.learner).joinedload(User.company),
            joinedload(Enrolment.certificate),
        )
    )


def roster_members(course_class: CourseClass, enrolment_ids: Iterable[int]) -> dict[int, Enrolment]:
    """Those of ``enrolment_ids`` that are confirmed in the class, by id, locked for the rest
    of the transaction: attendance and results are recorded only for them."""
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


# The roster --------------------------------------------------------------------------------


class LearnerRow:
    """A row about one enrolment on a trainer's page: its learner and the learner's company."""

    enrolment: Enrolment

    @property
    def learner(self) -> User:
        return self.enrolment.learner

    @property
    def company(self) -> PartnerCompany | None:
        return self.enrolment.learner.company


@dataclass(frozen=True)
class RosterRow(LearnerRow):
    """A learner on the roster with their attendance standing so far."""

    enrolment: Enrolment
    standing: AttendanceStanding
    #: The enrolment's status under each scheme of the class.
    funding: tuple[SchemeStatus, ...] = ()

    @property
    def funding_alerts(self) -> list[SchemeStatus]:
        """The schemes under which a learner still in the class has their conditions at risk
        or lost."""
        if self.enrolment.status != EnrolmentStatus.CONFIRMED:
            return []
        return [status for status in self.funding if status.state in _FUNDING_ALERTS]

    @property
    def certificate(self) -> Certificate | None:
        return self.enrolment.certificate

    @property
    def at_risk(self) -> bool:
        """A learner still in the class who can no longer reach the minimum attendance."""
        return self.enrolment.status == EnrolmentStatus.CONFIRMED and self.standing.at_risk

    @property
    def falling_behind(self) -> bool:
        """A learner still in the class who is below the minimum so far but can reach it."""
        return self.enrolment.status == EnrolmentStatus.CONFIRMED and self.standing.falling_behind

    @property
    def why_not_completed(self) -> str | None:
        """Why a learner did not complete the class, once it is closed, in the reader's
        language."""
        if self.enrolment.status == EnrolmentStatus.NOT_COMPLETED:
            return render_reasons(self.enrolment.status_reasons) or None
        return None


@dataclass(frozen=True)
class WaitingRow(LearnerRow):
    enrolment: Enrolment
    position: int | None


@dataclass(frozen=True)
class SessionRow:
    session: ClassSession
    marked: int

    @property
    def hours(self) -> float:
        return self.session.hours


@dataclass
class Roster:
    """A class's roster page: its learners, waitlist, pending requests and sessions."""

    course_class: CourseClass
    rows: list[RosterRow]
    waitlist: list[WaitingRow]
    pending: list[WaitingRow]
    sessions: list[SessionRow]
    now: datetime

    @property
    def confirmed_count(self) -> int:
        return sum(1 for row in self.rows if row.enrolment.status == EnrolmentStatus.CONFIRMED)

    @property
    def funding_alert_count(self) -> int:
        """How many learners still in the class have a scheme's conditions at risk or lost."""
        return sum(1 for row in self.rows if row.funding_alerts)

    def has_started(self, session: ClassSession) -> bool:
        return session.starts_at <= self.now


def roster(course_class: CourseClass, *, now: datetime | None = None) -> Roster:
    """The class's roster (with each learner's status under the class's funding schemes),
    waitlist (first in line first), pending requests and sessions.

    A fixed number of queries whatever the number of learners.
    """
    now = now or utcnow()
    enrolments = roster_enrolments(course_class)
    class_sessions = db.session.scalars(
        _class_sessions_statement(), {"class_id": course_class.id}
    ).all()
    standing_of, marked = class_standings(course_class, [e.id for e in enrolments], class_sessions)
    funding = loaded_class_statuses(course_class, enrolments, standing_of)
    rows = [RosterRow(e, standing_of[e.id], tuple(funding.get(e.id, []))) for e in enrolments]

    waiting = db.session.scalars(_waiting_statement(), {"class_id": course_class.id}).all()
    waitlisted = [e for e in waiting if e.status == EnrolmentStatus.WAITLISTED]
    waitlist = [WaitingRow(e, position) for position, e in enumerate(waitlisted, start=1)]
    pending = [WaitingRow(e, None) for e in waiting if e.status == EnrolmentStatus.PENDING]

    # A session's marks counted among the learners on the roster.
    sessions = [SessionRow(session, marked[session.id]) for session in class_sessions]
    return Roster(course_class, rows, waitlist, pending, sessions, now)


@functools.cache
def _class_sessions_statement() -> Select[ClassSession]:
    return (
        select(ClassSession)
        .where(ClassSession.class_id == bindparam("class_id"))
        .order_by(ClassSession.starts_at, ClassSession.id)
    )


@functools.cache
def _waiting_statement() -> Select[Enrolment]:
    return (
        select(Enrolment)
        .where(
            Enrolment.class_id == bindparam("class_id"),
            Enrolment.status.in_((EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING)),
        )
        .options(joinedload(Enrolment.learner).joinedload(User.company))
        .order_by(Enrolment.waitlisted_at, Enrolment.requested_at, Enrolment.id)
    )


def csv_cell(value: Any) -> str:
    """A value as a CSV cell that a spreadsheet will not run as a formula."""
    return str(escape_cell("" if value is None else str(value)))


def _number(value: float | Decimal | None, places: int = 1) -> str:
    return "" if value is None else f"{value:.{places}f}"


def roster_csv(data: Roster, headings: Mapping[str, Any], labels: Mapping[Any, Any]) -> str:
    """The roster as CSV text (with a byte-order mark, so spreadsheets read it as UTF-8).

    ``headings`` names the columns and ``labels`` the statuses and yes/no, in the reader's
    language; the reasons for a learner's status are worded in the current locale. Every cell
    is escaped so that none starts a formula.
    """
    columns = (
        "name",
        "email",
        "staff_number",
        "company",
        "department",
        "status",
        "reason",
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
                    render_reasons(row.enrolment.status_reasons),
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
