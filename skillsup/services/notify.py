"""E-mail that changes to enrolments cause, in each recipient's language.

Messages are queued on the database session and leave only after it commits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..extensions import db
from ..models import Certificate, Enrolment, EnrolmentStatus, Role, User
from . import calendar, mail

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
}


def send(
    user: User,
    subject: Any,
    template: str,
    *,
    attachments: list[mail.Attachment] | None = None,
    **context: Any,
) -> None:
    """Queue one templated e-mail to ``user`` in their language (none in a dry run)."""
    if mail.in_dry_run(db.session()):
        return
    with force_locale(user.preferred_language or "en"):
        message = mail.render_message(user.email, str(subject), template, user=user, **context)
    message.attachments.extend(attachments or [])
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
    """Tell the learner (and, for a new approval request, their HR officers) what happened.

    The messages are written when they are delivered (:func:`render_enrolment_status`,
    :func:`render_approval_requested`): every enrolment request, decision and withdrawal
    causes them, a rush of them at once. What may change again before then (the status, the
    reason) goes with them as it is now.
    """
    subject = _SUBJECTS.get(enrolment.status)
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
        reason=enrolment.status_reason,
        link=url_for("learning.my_learning", _external=True),
    )
    if enrolment.status == EnrolmentStatus.PENDING and learner.company_id is not None:
        link = url_for("hr.approvals", _external=True)
        for officer in db.session.scalars(
            select(User).where(
                User.company_id == learner.company_id,
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
                link=link,
            )


ENROLMENT_STATUS = "enrolment_status"
APPROVAL_REQUESTED = "approval_requested"
CERTIFICATE_ISSUED = "certificate_issued"


@mail.renderer(ENROLMENT_STATUS)
def render_enrolment_status(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`enrolment_changed` queued: the class as it is when the message is
    written, the status and reason as they were at the change; a confirmed place comes with
    the class's sessions as a calendar file."""
    enrolment = session.get(Enrolment, context["enrolment_id"])
    if enrolment is None:
        raise LookupError(f"no enrolment {context['enrolment_id']}")
    course_class = enrolment.course_class
    learner = enrolment.learner
    status = EnrolmentStatus(context["status"])
    previous = EnrolmentStatus(context["previous"]) if context.get("previous") else None
    message = mail.render_message(
        learner.email,
        subject,
        "enrolment_status",
        user=learner,
        status=status,
        reason=context.get("reason"),
        course_class=course_class,
        course=course_class.course,
        previous=previous,
        promoted=previous == EnrolmentStatus.WAITLISTED and status == EnrolmentStatus.CONFIRMED,
        link=context["link"],
    )
    if status == EnrolmentStatus.CONFIRMED:
        # The class's sessions, so that they can go straight into the learner's calendar.
        message.attachments.append(
            mail.Attachment(
                f"{course_class.code}.ics",
                calendar.class_calendar(course_class, session),
                "text",
                "calendar",
            )
        )
    return message


@mail.renderer(APPROVAL_REQUESTED)
def render_approval_requested(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`enrolment_changed` queued for each HR officer of a learner whose
    request waits for their approval: who asks for which class, and the way to the queue."""
    enrolment = session.get(Enrolment, context["enrolment_id"])
    officer = session.get(User, context["officer_id"])
    if enrolment is None or officer is None:
        raise LookupError(f"no enrolment {context['enrolment_id']} or officer")
    course_class = enrolment.course_class
    return mail.render_message(
        officer.email,
        subject,
        "approval_requested",
        user=officer,
        learner=enrolment.learner,
        course_class=course_class,
        course=course_class.course,
        link=context["link"],
    )


def schedule_changed(change: Any) -> None:
    """Tell every confirmed learner of the class what changed in its timetable."""
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
    ics = calendar.class_calendar(course_class)
    for learner in learners:
        with force_locale(learner.preferred_language or "en"):
            send(
                learner,
                _("Timetable change: %(code)s", code=course_class.code),
                "schedule_changed",
                attachments=[mail.Attachment(f"{course_class.code}.ics", ics, "text", "calendar")],
                change=change,
                course_class=course_class,
                course=course_class.course,
                link=url_for("learning.my_learning", _external=True),
            )


def certificate_issued(certificate: Any, enrolment: Enrolment) -> None:
    """Tell the learner their certificate is ready, with the links to download and check it.

    Written when it is delivered (:func:`render_certificate_issued`): closing a class issues
    a certificate to each learner who completed it, in one request.
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
        download_link=url_for(
            "certificates.download", certificate_id=certificate.id, _external=True
        ),
        verify_link=url_for(
            "certificates.verify", code=certificate.verification_code, _external=True
        ),
    )


@mail.renderer(CERTIFICATE_ISSUED)
def render_certificate_issued(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`certificate_issued` queued: the certificate and its course, with
    the links worked out when it was issued."""
    certificate = session.get(Certificate, context["certificate_id"])
    if certificate is None:
        raise LookupError(f"no certificate {context['certificate_id']}")
    enrolment = certificate.enrolment
    course_class = enrolment.course_class
    return mail.render_message(
        enrolment.learner.email,
        subject,
        "certificate_issued",
        user=enrolment.learner,
        certificate=certificate,
        course_class=course_class,
        course=course_class.course,
        download_link=context["download_link"],
        verify_link=context["verify_link"],
    )
