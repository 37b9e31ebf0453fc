"""A class's status: opening and closing enrolment, starting, completing and cancelling.

A class lives draft → open ⇄ closed → running → completed, and can be cancelled from anything
but completed or cancelled. Completing a class is closing it (:mod:`.class_closing`), which
records every learner's outcome; cancelling cancels every active enrolment and tells its
learner. Every function takes the acting admin, flushes but never commits, and records the
change in the audit log.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..labels import label
from ..models import ClassStatus, CourseClass, Enrolment, EnrolmentStatus, User
from ..reasons import free_text, or_none
from ..timeutil import now_utc
from . import audit, class_closing
from . import enrolment as enrolment_service
from .classes import lock_for_change, require_admin
from .errors import DomainError, ValidationFailed


class InvalidTransition(DomainError):
    """The class's status does not allow the requested status change."""


class ClassNotReady(DomainError):
    """The class lacks something the requested status needs (sessions, a trainer, dates)."""


class StatusAction(enum.StrEnum):
    OPEN_ENROLMENT = "open-enrolment"
    CLOSE_ENROLMENT = "close-enrolment"
    START = "start"
    COMPLETE = "complete"
    CANCEL = "cancel"


#: For each action: the statuses it may start from and the status it leads to.
TRANSITIONS: dict[StatusAction, tuple[frozenset[ClassStatus], ClassStatus]] = {
    StatusAction.OPEN_ENROLMENT: (
        frozenset({ClassStatus.DRAFT, ClassStatus.CLOSED}),
        ClassStatus.OPEN,
    ),
    StatusAction.CLOSE_ENROLMENT: (frozenset({ClassStatus.OPEN}), ClassStatus.CLOSED),
    StatusAction.START: (
        frozenset({ClassStatus.OPEN, ClassStatus.CLOSED}),
        ClassStatus.RUNNING,
    ),
    StatusAction.COMPLETE: (frozenset({ClassStatus.RUNNING}), ClassStatus.COMPLETED),
    StatusAction.CANCEL: (
        frozenset(ClassStatus) - {ClassStatus.COMPLETED, ClassStatus.CANCELLED},
        ClassStatus.CANCELLED,
    ),
}

_TRANSITION_REFUSALS = {
    StatusAction.OPEN_ENROLMENT: _l(
        "Enrolment can be opened only for a draft class or one whose enrolment is closed; "
        "this class is “%(status)s”."
    ),
    StatusAction.CLOSE_ENROLMENT: _l(
        "Enrolment can be closed only while it is open; this class is “%(status)s”."
    ),
    StatusAction.START: _l(
        "Only a class whose enrolment is open or closed can start; this class is “%(status)s”."
    ),
    StatusAction.COMPLETE: _l("Only a running class can be completed; this class is “%(status)s”."),
    StatusAction.CANCEL: _l("A class that is “%(status)s” cannot be cancelled."),
}


@dataclass(frozen=True)
class StatusChange:
    """A status change and, for a cancellation, the enrolments it cancelled."""

    course_class: CourseClass
    old: ClassStatus
    new: ClassStatus
    cancelled_enrolments: list[Enrolment] = field(default_factory=list)


def allowed_actions(course_class: CourseClass) -> list[StatusAction]:
    """The status actions the class's current status allows, in the order of its life."""
    return [
        action for action, (sources, _) in TRANSITIONS.items() if course_class.status in sources
    ]


def transition_refusal(course_class: CourseClass, action: StatusAction) -> InvalidTransition | None:
    """Why the class's status does not allow ``action``, or ``None`` if it does."""
    sources, _target = TRANSITIONS[action]
    if course_class.status in sources:
        return None
    return InvalidTransition(
        str(_TRANSITION_REFUSALS[action]) % {"status": label(course_class.status)}
    )


@dataclass
class CancellationPreview:
    """What cancelling the class now would do (:func:`cancellation_preview`)."""

    course_class: CourseClass
    #: Why it cannot be cancelled, if it cannot.
    refusal: InvalidTransition | None
    #: The active enrolments that would be cancelled (each learner told), by status.
    confirmed: int = 0
    waitlisted: int = 0
    pending: int = 0

    @property
    def cancelled(self) -> int:
        return self.confirmed + self.waitlisted + self.pending


def cancellation_preview(course_class: CourseClass) -> CancellationPreview:
    """What :func:`change_status` with :attr:`StatusAction.CANCEL` would do now: whether the
    class may be cancelled, and how many active enrolments of each status it would cancel
    (every one of their learners is told by e-mail, with the reason). Changes nothing."""
    counts = enrolment_service.active_enrolment_counts(course_class.id)
    return CancellationPreview(
        course_class,
        transition_refusal(course_class, StatusAction.CANCEL),
        confirmed=counts.get(EnrolmentStatus.CONFIRMED, 0),
        waitlisted=counts.get(EnrolmentStatus.WAITLISTED, 0),
        pending=counts.get(EnrolmentStatus.PENDING, 0),
    )


def change_status(
    actor: User,
    course_class: CourseClass,
    action: StatusAction,
    reason: str | None = None,
    *,
    now: datetime | None = None,
) -> StatusChange:
    """Move a class along its life: open enrolment (from draft or closed), close enrolment
    (from open), start (from open or closed), complete (from running, by
    :func:`skillsup.services.class_closing.close_class`, which records every learner's outcome) or
    cancel (from anything but completed or cancelled).

    Opening enrolment needs at least one session, a trainer and an enrolment closing time
    still ahead. Cancelling needs a reason, which is kept on the class; every active
    enrolment in the class is cancelled and its learner told.

    Raises :class:`PermissionDenied`, :class:`InvalidTransition` for a status the action
    cannot start from, :class:`ClassNotReady` when opening is premature, and
    :class:`ValidationFailed` (field ``reason``) for a cancellation without a reason.
    """
    require_admin(actor)
    lock_for_change(course_class)
    _sources, target = TRANSITIONS[action]
    old = course_class.status
    refusal = transition_refusal(course_class, action)
    if refusal is not None:
        raise refusal
    reason = (reason or "").strip() or None
    if action is StatusAction.OPEN_ENROLMENT:
        _check_ready_to_open(course_class, now or now_utc())
    if action is StatusAction.CANCEL and reason is None:
        raise ValidationFailed(
            _l("Say why the class is cancelled: the learners will be told."), field="reason"
        )
    if action is StatusAction.COMPLETE:
        # Completing is closing: outcomes, the waitlist let go, certificates, as a trainer's
        # closing does it, never the status alone.
        class_closing.close_class(actor, course_class, reason=reason, now=now)
        return StatusChange(course_class, old, target)
    course_class.status = target
    if action is StatusAction.CANCEL:
        course_class.status_reasons = or_none(free_text(reason))
    db.session.flush()
    audit.record(
        actor,
        "class.status_changed",
        course_class,
        f"{action.value}: class {course_class.code} {old.value} -> {target.value}",
        {"from": old.value, "to": target.value, **({"reason": reason} if reason else {})},
    )
    cancelled: list[Enrolment] = []
    if action is StatusAction.CANCEL:
        cancelled = list(
            enrolment_service.cancel_class_enrolments(
                course_class, actor, free_text(reason), now=now
            )
        )
    return StatusChange(course_class, old, target, cancelled)


def _check_ready_to_open(course_class: CourseClass, now: datetime) -> None:
    if not any(not s.is_cancelled for s in course_class.sessions):
        raise ClassNotReady(_l("Add at least one session before opening enrolment."))
    if not course_class.trainers:
        raise ClassNotReady(_l("Assign a trainer before opening enrolment."))
    if course_class.enrolment_closes_at <= now:
        raise ClassNotReady(
            _l("The enrolment closing time has passed: change it before opening enrolment.")
        )
