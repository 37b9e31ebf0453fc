"""E-mail that changes cause, in each recipient's language.

Messages are queued on the database session and leave only after it commits. Services build
no URLs: a message that many changes cause at once is queued as what it needs (ids, and the
facts as they were at the change) and written at delivery by a renderer of the web layer
(:mod:`skillsup.emails`), which adds the links; a message rendered at once (:func:`send`) is
given its links by the caller, who has them from the web layer.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from ..extensions import db
from ..models import Enrolment, EnrolmentStatus, Role, User
from . import mail

#: The kinds of message written at delivery, each by the renderer of that name.
ENROLMENT_STATUS = "enrolment_status"
APPROVAL_REQUESTED = "approval_requested"
CERTIFICATE_ISSUED = "certificate_issued"
CERTIFICATE_REVOKED = "certificate_revoked"
SCHEDULE_CHANGED = "schedule_changed"
#: A reset link asked for an address (:func:`skillsup.services.accounts.request_password_reset`).
PASSWORD_RESET = "password_reset"  # noqa: S105 (a kind of message, not a password)

_SUBJECTS: dict[EnrolmentStatus, Callable[[str], Any]] = {
    EnrolmentStatus.CONFIRMED: lambda code: _l("You are confirmed in %(code)s", code=code),
    EnrolmentStatus.WAITLISTED: lambda code: _l("You are on the waitlist for %(code)s", code=code),
    EnrolmentStatus.PENDING: lambda code: _l(
        "Your request for %(code)s is waiting for HR approval", code=code
    ),
    EnrolmentStatus.REJECTED: lambda code: _l(
        "Your request for %(code)s was not approved", code=code
    ),
    EnrolmentStatus.WITHDRAWN: lambda code: _l("You have been withdrawn from %(code)s", code=code),
    EnrolmentStatus.CANCELLED: lambda code: _l("Class %(code)s has been cancelled", code=code),
    EnrolmentStatus.NOT_COMPLETED: lambda code: _l(
        "Your result for %(code)s: not completed", code=code
    ),
}

#: Told when a class closes, for a learner whose waitlist place or request it ends.
_CLOSED_SUBJECTS: dict[EnrolmentStatus, Callable[[str], Any]] = {
    EnrolmentStatus.WAITLISTED: lambda code: _l(
        "%(code)s has ended: your place on its waitlist has ended too", code=code
    ),
    EnrolmentStatus.PENDING: lambda code: _l(
        "%(code)s has ended: your request for it has ended too", code=code
    ),
}

#: The one status a learner hears of by another message: completing a class is told by the
#: certificate it brings (:func:`certificate_issued`).
TOLD_BY_CERTIFICATE = frozenset({EnrolmentStatus.COMPLETED})


def _reopened_subject(code: str) -> Any:
    return _l("Class %(code)s has been reopened", code=code)


def send(user: User, subject: Any, template: str, *, to: str | None = None, **context: Any) -> None:
    """Queue one e-mail to ``user`` (at the address ``to`` when given, else theirs), written
    now from ``emails/<template>`` in their language (none in a dry run). The caller gives the
    links it carries in ``context``."""
    if mail.in_dry_run(db.session()):
        return
    with force_locale(user.preferred_language or "en"):
        message = mail.render_message(
            to or user.email, str(subject), template, user=user, **context
        )
    mail.queue(db.session(), message)


def send_later(user: User, subject: Any, renderer: str, **context: Any) -> None:
    """Queue one e-mail to ``user`` that the renderer ``renderer`` writes from ``context``
    when it is delivered, in their language (none in a dry run). ``subject`` (a lazy string)
    is translated now."""
    if mail.in_dry_run(db.session()):
        return
    locale = user.preferred_language or "en"
    with force_locale(locale):
        title = str(subject)
    mail.queue_to_render(db.session(), user.email, title, renderer, context, locale=locale)


def enrolment_changed(enrolment: Enrolment, previous: EnrolmentStatus | None) -> None:
    """Tell the learner (and, for a new approval request, the HR officers of the company it was
    made under) what happened.

    The messages are written when they are delivered (:data:`ENROLMENT_STATUS`,
    :data:`APPROVAL_REQUESTED`): every enrolment request, decision and withdrawal causes
    them, a rush of them at once. What may change again before then (the status, the reason)
    goes with them as it is now.
    """
    subject = _SUBJECTS.get(enrolment.status)
    if previous in (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED):
        subject = _reopened_subject
    # A dry run (a CSV preview of thousands of rows) need not even look for the HR officers.
    if subject is None or mail.in_dry_run(db.session()):
        return
    course_class = enrolment.course_class
    learner = enrolment.learner
    send_later(
        learner,
        subject(course_class.code),
        ENROLMENT_STATUS,
        enrolment_id=enrolment.id,
        status=enrolment.status.value,
        previous=previous.value if previous else None,
        reasons=enrolment.status_reasons,
    )
    # The request waits for the HR of the company it was made under (skillsup.services.hr_scope).
    if enrolment.status == EnrolmentStatus.PENDING and enrolment.company_id is not None:
        for officer in db.session.scalars(
            select(User).where(
                User.company_id == enrolment.company_id,
                User.role == Role.HR,
                User.is_active.is_(True),
            )
        ):
            send_later(
                officer,
                _l("%(name)s asks to join %(code)s", name=learner.name, code=course_class.code),
                APPROVAL_REQUESTED,
                enrolment_id=enrolment.id,
                officer_id=officer.id,
            )


def class_closed(enrolment: Enrolment, previous: EnrolmentStatus) -> None:
    """Tell a learner what closing the class meant for them, unless a certificate tells them
    (:data:`TOLD_BY_CERTIFICATE`): that they did not complete it, and why (the reasons the
    closing recorded, codes with their figures, worded when the message is written in their
    language), or that their waitlist place or pending request has ended with the class.

    Written when it is delivered (:data:`ENROLMENT_STATUS`): closing a class tells all its
    learners in one request.
    """
    if enrolment.status in TOLD_BY_CERTIFICATE:
        return
    if enrolment.status == EnrolmentStatus.NOT_COMPLETED:
        subject = _SUBJECTS[EnrolmentStatus.NOT_COMPLETED]
    else:
        subject = _CLOSED_SUBJECTS.get(previous, _SUBJECTS[EnrolmentStatus.CANCELLED])
    send_later(
        enrolment.learner,
        subject(enrolment.course_class.code),
        ENROLMENT_STATUS,
        enrolment_id=enrolment.id,
        status=enrolment.status.value,
        previous=previous.value,
        reasons=enrolment.status_reasons,
        closed=True,
    )


def certificate_revoked(certificate: Any) -> None:
    """Tell the learner their certificate has been revoked, and why (the reason as the admin
    gave it). Written when it is delivered (:data:`CERTIFICATE_REVOKED`); the reason goes with
    it as it was at the change."""
    enrolment = certificate.enrolment
    send_later(
        enrolment.learner,
        _l("Your certificate %(serial)s has been revoked", serial=certificate.serial_number),
        CERTIFICATE_REVOKED,
        certificate_id=certificate.id,
        reasons=certificate.revoked_reasons,
    )


def schedule_changed(change: Any) -> None:
    """Tell every confirmed learner of the class what changed in its timetable.

    Written when it is delivered (:data:`SCHEDULE_CHANGED`); the session's times before and
    after go with it as they are at the change (a later change is a message of its own).
    """
    course_class = change.course_class
    learners = db.session.scalars(
        select(User)
        .join(Enrolment, Enrolment.learner_id == User.id)
        .where(
            Enrolment.class_id == course_class.id,
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            User.is_active.is_(True),
        )
    ).all()
    if not learners:
        return
    before = [_session_times(times) for times in change.before]
    after = [_session_times(times) for times in change.after]
    for learner in learners:
        send_later(
            learner,
            _l("Timetable change: %(code)s", code=course_class.code),
            SCHEDULE_CHANGED,
            class_id=course_class.id,
            learner_id=learner.id,
            before=before,
            after=after,
        )


def _session_times(times: Any) -> dict[str, Any]:
    """A session's place in the timetable, in JSON, as :func:`schedule_changed` queues it."""
    return {
        "starts_at": times.starts_at.isoformat(),
        "ends_at": times.ends_at.isoformat(),
        "room": times.room,
    }


def certificate_issued(certificate: Any, enrolment: Enrolment) -> None:
    """Tell the learner their certificate is ready, with the links to download and check it.

    Written when it is delivered (:data:`CERTIFICATE_ISSUED`): closing a class issues a
    certificate to each learner who completed it, in one request.
    """
    # A dry run sends nothing, so it need not build the links (which outside a request
    # needs a SERVER_NAME).
    if mail.in_dry_run(db.session()):
        return
    send_later(
        enrolment.learner,
        _l("Your certificate for %(code)s", code=enrolment.course_class.course.code),
        CERTIFICATE_ISSUED,
        certificate_id=certificate.id,
    )
