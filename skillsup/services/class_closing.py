"""Closing a class: the preview of who completes, and the closing itself.

A class is closed once its last session has ended (whether running, or open or closed for
enrolment); an admin may close it earlier, with a reason kept in the audit log and on the
class. A closed class is not closed twice (an admin may reopen it: :mod:`.class_reopening`).
Closing records each confirmed learner's outcome (:mod:`.outcomes`: attendance in
contact hours against the class's minimum, and the assessment where one is required), cancels
the waitlist and pending requests, marks the class completed and issues the certificates, all in
one transaction with the class row locked.

Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from .. import permissions
from ..extensions import db
from ..models import (
    ACTIVE_STATUSES,
    Attendance,
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
    utcnow,
)
from ..reasons import CLASS_COMPLETED, Reason, free_text, or_none
from ..reasons import reason as reason_of
from . import audit, certificates, notify
from . import enrolment as enrolment_service
from .errors import PermissionDenied, ValidationFailed
from .outcomes import Outcome, class_outcomes, recorded_reasons
from .rosters import RosterRefused, roster_enrolments

#: The longest reason an admin may give for closing a class early.
REASON_MAX_LENGTH = 500


class AlreadyClosed(RosterRefused):
    default_message = _l("This class has already been closed: nothing has changed.")


class ClassNotClosable(RosterRefused):
    default_message = _l(
        "Only a class that is running, or open or closed for enrolment, can be closed."
    )


class SessionsNotOver(RosterRefused):
    default_message = _l(
        "The class can be closed only after its last session has ended: closing it now would "
        "fail every learner for the sessions still to come."
    )


#: The statuses from which a class may be closed.
CLOSABLE_STATUSES = (ClassStatus.RUNNING, ClassStatus.OPEN, ClassStatus.CLOSED)


def closing_refusal(
    course_class: CourseClass, last_session_end: datetime | None, now: datetime
) -> RosterRefused | None:
    """Why the class cannot be closed now in the ordinary way, or ``None`` when it can: it must
    be running, or open or closed for enrolment, with its last session over (a class without
    sessions has none over); never closed twice. :class:`SessionsNotOver` is the one refusal
    an admin may override with a reason (:func:`close_class`)."""
    if course_class.status == ClassStatus.COMPLETED:
        return AlreadyClosed()
    if course_class.status not in CLOSABLE_STATUSES:
        return ClassNotClosable()
    if last_session_end is None or last_session_end > now:
        return SessionsNotOver()
    return None


@dataclass
class ClosingPreview:
    """What closing the class now would record, whether it may be closed, and warnings.

    ``early`` says that the last session has not ended yet; ``may_close_early`` that the
    viewer (an admin) may still close the class, giving a reason."""

    course_class: CourseClass
    outcomes: list[Outcome]
    waiting: int
    refusal: RosterRefused | None
    sessions_ahead: int
    sessions_unmarked: int
    may_close_early: bool = False

    @property
    def early(self) -> bool:
        return isinstance(self.refusal, SessionsNotOver)

    @property
    def can_close(self) -> bool:
        return self.refusal is None or (self.early and self.may_close_early)

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


def closing_preview(
    course_class: CourseClass, *, actor: User | None = None, now: datetime | None = None
) -> ClosingPreview:
    """Who closing the class now would mark completed and who not, and why; whether it can
    be closed at all (and whether ``actor`` may close it before its last session has ended);
    and warnings (sessions ahead, sessions not fully marked)."""
    now = now or utcnow()
    enrolments = [
        e for e in roster_enrolments(course_class) if e.status == EnrolmentStatus.CONFIRMED
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
        class_outcomes(course_class, enrolments),
        int(waiting or 0),
        closing_refusal(course_class, last_end, now),
        ahead,
        unmarked,
        may_close_early=permissions.can_close_class_early(actor),
    )


@dataclass
class ClosingResult:
    """What closing the class recorded."""

    course_class: CourseClass
    completed: list[Enrolment]
    not_completed: list[Enrolment]
    cancelled: list[Enrolment]
    certificates: list[Certificate]


def close_class(
    actor: User,
    course_class: CourseClass,
    *,
    reason: str | None = None,
    now: datetime | None = None,
) -> ClosingResult:
    """Close the class: record each confirmed learner's outcome, cancel the waitlist and
    pending requests (:data:`~skillsup.reasons.CLASS_COMPLETED`), mark the class completed
    and issue certificates.

    The last session must have ended; only an admin may close the class before then, and
    must say why: the reason is kept on the class and in the audit log.

    Each learner's outcome follows :mod:`.outcomes` (attendance against the class's minimum,
    the assessment where one is required); one who does not complete keeps the reasons
    (codes with their figures) as the transition's reasons. Each transition is recorded in
    the enrolment's history and the audit log, and every learner is told by e-mail after the
    commit: a certificate to those who complete, the reasons to those who do not, and the end
    of their place to those waitlisted or waiting for approval. The class row is locked first,
    so that closing twice at once closes once.

    Raises :class:`PermissionDenied`, :class:`AlreadyClosed`, :class:`ClassNotClosable`,
    :class:`SessionsNotOver` (a trainer, before the last session has ended) or
    :class:`ValidationFailed` (field ``reason``: an admin's early closing without a reason,
    or with one that is too long).
    """
    now = now or utcnow()
    if not permissions.can_manage_class(actor, course_class):
        raise PermissionDenied()
    locked = enrolment_service.lock_class(course_class.id)
    last_end, _ahead, _unmarked = _session_facts(locked, now)
    refusal = closing_refusal(locked, last_end, now)
    early_reason = None
    if isinstance(refusal, SessionsNotOver) and permissions.can_close_class_early(actor):
        early_reason = _early_reason(reason)
    elif refusal is not None:
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
    for outcome in class_outcomes(locked, confirmed):
        enrolment = outcome.enrolment
        if outcome.completes:
            _finish(enrolment, EnrolmentStatus.COMPLETED, actor, None, now)
            result.completed.append(enrolment)
        else:
            reasons = recorded_reasons(outcome)
            _finish(enrolment, EnrolmentStatus.NOT_COMPLETED, actor, reasons, now)
            result.not_completed.append(enrolment)
    closed = reason_of(CLASS_COMPLETED)
    for enrolment in enrolments:
        if enrolment.status in (EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING):
            _finish(enrolment, EnrolmentStatus.CANCELLED, actor, [closed], now)
            result.cancelled.append(enrolment)

    old = locked.status
    locked.status = ClassStatus.COMPLETED
    locked.completed_at = now
    locked.status_reasons = or_none(free_text(early_reason))
    db.session.flush()
    summary = f"close: class {locked.code} {old.value} -> {ClassStatus.COMPLETED.value}"
    audit.record(
        actor,
        "class.status_changed",
        locked,
        summary + (f" before its last session ended: {early_reason}" if early_reason else ""),
        {
            "from": old.value,
            "to": ClassStatus.COMPLETED.value,
            "completed": len(result.completed),
            "not_completed": len(result.not_completed),
            "cancelled": len(result.cancelled),
            **({"early": True, "reason": early_reason} if early_reason else {}),
        },
    )
    result.certificates = certificates.issue_certificates(actor, locked, result.completed, now=now)
    return result


def _early_reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(
            _l("Say why the class is closed before its last session has ended."), field="reason"
        )
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            _l("Keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
            field="reason",
        )
    return reason


def _finish(
    enrolment: Enrolment,
    to: EnrolmentStatus,
    actor: User,
    reasons: list[Reason] | None,
    now: datetime,
) -> None:
    """End an enrolment with ``to``, recorded as every enrolment transition is, and tell the
    learner what the closing meant for them (:func:`.notify.class_closed`: a learner who
    completes hears of it by the certificate e-mail; one who does not, why, from the reasons
    recorded here)."""
    previous = enrolment.status
    enrolment.ended_at = now
    enrolment_service.record_transition(enrolment, to, actor, reasons, now, tell_learner=False)
    notify.class_closed(enrolment, previous)
