"""Reopening a closed class: an admin undoes its closing for a while after it.

A completed class may be reopened by an admin within a set time of its closing (the setting
``REOPEN_DAYS``, passed in by the caller). Reopening withdraws the certificates in force of
the class's learners (revoked with the reason, so that their public page says they are
withdrawn), moves every completed and not-completed learner back to confirmed and tells them
by e-mail, and puts the class back to running, all in one transaction with the class row
locked and every change in the enrolments' history and the audit log. The class can then be
closed again (:mod:`.class_closing`), with new outcomes and new certificates. Waitlist places
and requests that the closing cancelled stay cancelled.

Functions flush but never commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..i18n import fmt_date
from ..models import (
    Certificate,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    User,
    utcnow,
)
from ..reasons import CLASS_REOPENED, free_text
from ..reasons import reason as reason_of
from . import audit, certificates
from . import enrolment as enrolment_service
from .errors import DomainError, PermissionDenied, ValidationFailed

#: The outcomes that reopening takes back.
FINISHED_OUTCOMES = (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
REASON_MAX_LENGTH = 500


class ReopenRefused(DomainError):
    """A rule about reopening refuses it."""


class NotClosed(ReopenRefused):
    default_message = _l("Only a closed (completed) class can be reopened.")


class ReopenWindowPassed(ReopenRefused):
    def __init__(self, closed_on: object, days: int) -> None:
        super().__init__(
            _l(
                "This class was closed on %(date)s, more than %(days)d days ago: it can no "
                "longer be reopened.",
                date=closed_on,
                days=days,
            )
        )


def reopen_deadline(course_class: CourseClass, window: timedelta) -> datetime | None:
    """Until when the class may be reopened, or ``None`` if it is not closed."""
    if course_class.status != ClassStatus.COMPLETED or course_class.completed_at is None:
        return None
    return course_class.completed_at + window


def reopen_refusal(
    course_class: CourseClass, window: timedelta, now: datetime
) -> ReopenRefused | None:
    """Why the class cannot be reopened now, or ``None`` when it can: it must be completed,
    and closed no longer than ``window`` ago."""
    deadline = reopen_deadline(course_class, window)
    if deadline is None:
        return NotClosed()
    if now > deadline:
        closed_at = course_class.completed_at or now
        return ReopenWindowPassed(fmt_date(closed_at), window.days)
    return None


@dataclass
class ReopeningPreview:
    """What reopening the class now would do, and whether it may be done."""

    course_class: CourseClass
    enrolments: list[Enrolment]
    certificates: list[Certificate]
    refusal: ReopenRefused | None
    deadline: datetime | None

    @property
    def can_reopen(self) -> bool:
        return self.refusal is None


def _finished_enrolments(course_class: CourseClass, *, lock: bool = False) -> list[Enrolment]:
    query = (
        select(Enrolment)
        .where(Enrolment.class_id == course_class.id, Enrolment.status.in_(FINISHED_OUTCOMES))
        .order_by(Enrolment.id)
    )
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    else:
        query = query.options(joinedload(Enrolment.learner))
    return list(db.session.scalars(query))


def _certificates_in_force(
    course_class: CourseClass, *, with_learners: bool = False
) -> list[Certificate]:
    # Those to be revoked are loaded plain: revoking reloads each under a row lock, which
    # PostgreSQL refuses over the outer joins that loading the learners adds.
    query = (
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .where(Enrolment.class_id == course_class.id, Certificate.revoked_at.is_(None))
        .order_by(Certificate.serial_number)
    )
    if with_learners:
        query = query.options(joinedload(Certificate.enrolment).joinedload(Enrolment.learner))
    return list(db.session.scalars(query))


def reopening_preview(
    course_class: CourseClass, window: timedelta, *, now: datetime | None = None
) -> ReopeningPreview:
    """Who reopening the class would move back to confirmed (and tell), which certificates
    it would withdraw, and whether it may be reopened now. Changes nothing."""
    now = now or utcnow()
    return ReopeningPreview(
        course_class,
        _finished_enrolments(course_class),
        _certificates_in_force(course_class, with_learners=True),
        reopen_refusal(course_class, window, now),
        reopen_deadline(course_class, window),
    )


@dataclass
class ReopeningResult:
    """What reopening the class changed."""

    course_class: CourseClass
    reopened: list[Enrolment] = field(default_factory=list)
    withdrawn: list[Certificate] = field(default_factory=list)


def reopen_class(
    actor: User,
    course_class: CourseClass,
    reason: str | None,
    window: timedelta,
    *,
    now: datetime | None = None,
) -> ReopeningResult:
    """Reopen a closed class: withdraw its certificates in force (revoked with the reason),
    move its completed and not-completed learners back to confirmed, telling each by e-mail,
    and put the class back to running. Admins only, with a reason, within ``window`` of the
    closing. Every change is kept in the enrolments' history and the audit log.

    Raises :class:`PermissionDenied`, :class:`ValidationFailed` (field ``reason``) without a
    reason or with one too long, :class:`NotClosed` or :class:`ReopenWindowPassed`.
    """
    now = now or utcnow()
    if not permissions.can_close_class_early(actor):
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the class is reopened."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            _l("Keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
            field="reason",
        )
    locked = enrolment_service.lock_class(course_class.id)
    refusal = reopen_refusal(locked, window, now)
    if refusal is not None:
        raise refusal
    result = ReopeningResult(locked)
    for certificate in _certificates_in_force(locked):
        # The learner hears of it in the message that the class is reopened.
        certificates.revoke(
            actor,
            certificate,
            reason,
            cause=reason_of(CLASS_REOPENED),
            now=now,
            tell_learner=False,
        )
        result.withdrawn.append(certificate)
    for enrolment in _finished_enrolments(locked, lock=True):
        enrolment.ended_at = None
        enrolment_service.record_transition(
            enrolment, EnrolmentStatus.CONFIRMED, actor, free_text(reason), now
        )
        result.reopened.append(enrolment)
    closed_at = locked.completed_at
    locked.status = ClassStatus.RUNNING
    locked.status_reasons = None
    locked.completed_at = None
    db.session.flush()
    audit.record(
        actor,
        "class.status_changed",
        locked,
        f"reopen: class {locked.code} completed -> running: {reason}",
        {
            "from": ClassStatus.COMPLETED.value,
            "to": ClassStatus.RUNNING.value,
            "reason": reason,
            "closed_at": closed_at.isoformat() if closed_at else None,
            "reopened": len(result.reopened),
            "certificates_withdrawn": [c.serial_number for c in result.withdrawn],
        },
    )
    return result
