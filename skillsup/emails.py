"""The e-mail that services queue to be written at delivery, and the renderers that write it.

Services queue what a message needs: ids, and the facts that must read as they were at the
change (:mod:`skillsup.services.notify`). The renderers here write each message when it is
delivered (right after the commit in a request, or by ``flask send-mail``), in the
recipient's language, with links to the portal from :func:`skillsup.links.current_links`.
:func:`register_renderers` is called when the app is built.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import Session

from .links import current_links
from .models import Certificate, CourseClass, Enrolment, EnrolmentStatus, User
from .reasons import render as render_reasons
from .reasons import render_one as render_reason
from .services import calendar, mail, notify
from .services.tokens import Purpose, make_token


def register_renderers() -> None:
    """Make every kind of message that :mod:`skillsup.services.notify` queues writable."""
    mail.register_renderer(notify.ENROLMENT_STATUS, render_enrolment_status)
    mail.register_renderer(notify.APPROVAL_REQUESTED, render_approval_requested)
    mail.register_renderer(notify.CERTIFICATE_ISSUED, render_certificate_issued)
    mail.register_renderer(notify.CERTIFICATE_REVOKED, render_certificate_revoked)
    mail.register_renderer(notify.SCHEDULE_CHANGED, render_schedule_changed)
    mail.register_renderer(notify.PASSWORD_RESET, render_password_reset)


def render_enrolment_status(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`~skillsup.services.notify.enrolment_changed` queued: the class as it
    is when the message is written, the status and reason as they were at the change; a
    confirmed place comes with the class's sessions as a calendar file. A learner who did not
    complete a class that has closed is told why, worded now in their language from their
    closing's recorded reasons (:mod:`skillsup.reasons`)."""
    enrolment = session.get(Enrolment, context["enrolment_id"])
    if enrolment is None:
        raise LookupError(f"no enrolment {context['enrolment_id']}")
    course_class = enrolment.course_class
    learner = enrolment.learner
    status = EnrolmentStatus(context["status"])
    previous = EnrolmentStatus(context["previous"]) if context.get("previous") else None
    # A learner who did not complete reads the closing's reasons one by one; any other change
    # gives its reason in a sentence. In the learner's language either way; a message queued
    # before reasons had codes kept a text.
    coded = context.get("reasons")
    reasons: list[str] = []
    reason = render_reasons(coded) or context.get("reason")
    if status == EnrolmentStatus.NOT_COMPLETED and coded:
        reasons = [text for text in map(render_reason, coded) if text]
        reason = None
    message = mail.render_message(
        learner.email,
        subject,
        "enrolment_status",
        user=learner,
        status=status,
        reason=reason,
        course_class=course_class,
        course=course_class.course,
        previous=previous,
        promoted=previous == EnrolmentStatus.WAITLISTED and status == EnrolmentStatus.CONFIRMED,
        reopened=previous in (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED),
        closed=bool(context.get("closed")),
        reasons=reasons,
        link=current_links().my_learning(),
    )
    if status == EnrolmentStatus.CONFIRMED:
        # The class's sessions, so that they can go straight into the learner's calendar.
        message.attachments.append(_class_calendar(course_class, session))
    return message


def render_approval_requested(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`~skillsup.services.notify.enrolment_changed` queued for each HR
    officer of a learner whose request waits for their approval: who asks for which class,
    and the way to the queue."""
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
        link=current_links().approvals(),
    )


def render_certificate_issued(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`~skillsup.services.notify.certificate_issued` queued: the
    certificate and its course, with the links to download it and to check it."""
    certificate = session.get(Certificate, context["certificate_id"])
    if certificate is None:
        raise LookupError(f"no certificate {context['certificate_id']}")
    enrolment = certificate.enrolment
    course_class = enrolment.course_class
    links = current_links()
    return mail.render_message(
        enrolment.learner.email,
        subject,
        "certificate_issued",
        user=enrolment.learner,
        certificate=certificate,
        course_class=course_class,
        course=course_class.course,
        download_link=links.certificate_download(certificate.id),
        verify_link=links.certificate_verification(certificate.verification_code),
    )


def render_certificate_revoked(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`~skillsup.services.notify.certificate_revoked` queued: which
    certificate, why (as the admin gave it at the change), and the public page that now says
    it is withdrawn."""
    certificate = session.get(Certificate, context["certificate_id"])
    if certificate is None:
        raise LookupError(f"no certificate {context['certificate_id']}")
    enrolment = certificate.enrolment
    course_class = enrolment.course_class
    return mail.render_message(
        enrolment.learner.email,
        subject,
        "certificate_revoked",
        user=enrolment.learner,
        certificate=certificate,
        course_class=course_class,
        course=course_class.course,
        reason=render_reasons(context.get("reasons")),
        verify_link=current_links().certificate_verification(certificate.verification_code),
        link=current_links().my_learning(),
    )


def render_password_reset(session: Session, subject: str, context: dict[str, Any]) -> mail.Message:
    """The message :func:`~skillsup.services.accounts.request_password_reset` queued for an
    address, whatever the address: to the active account at it, in its owner's language, a
    link to choose a new password, made now (it works once, for an hour). Raises
    :class:`~skillsup.services.mail.NothingToSend` when the address has no active account."""
    user = session.scalar(select(User).where(User.email == context["email"]))
    if user is None:
        raise mail.NothingToSend("no account at this address")
    if not user.is_active:
        raise mail.NothingToSend("the account at this address is deactivated")
    link = current_links().reset_password(make_token(user, Purpose.PASSWORD_RESET))
    with force_locale(user.preferred_language or "en"):
        return mail.render_message(
            user.email, _("Reset your SkillsUp password"), "password_reset", user=user, link=link
        )


@dataclass(frozen=True)
class _SessionTimes:
    starts_at: datetime
    ends_at: datetime
    room: str | None


@dataclass(frozen=True)
class _ScheduleChange:
    before: list[_SessionTimes]
    after: list[_SessionTimes]


def render_schedule_changed(
    session: Session, subject: str, context: dict[str, Any]
) -> mail.Message:
    """The message :func:`~skillsup.services.notify.schedule_changed` queued for each
    confirmed learner: the session's times before and after the change, as they were then,
    and the class's whole timetable, as it is now, as a calendar file."""
    learner = session.get(User, context["learner_id"])
    course_class = session.get(CourseClass, context["class_id"])
    if learner is None or course_class is None:
        raise LookupError(f"no learner {context['learner_id']} or class {context['class_id']}")
    change = _ScheduleChange(
        before=[_session_times(times) for times in context["before"]],
        after=[_session_times(times) for times in context["after"]],
    )
    message = mail.render_message(
        learner.email,
        subject,
        "schedule_changed",
        user=learner,
        change=change,
        course_class=course_class,
        course=course_class.course,
        link=current_links().my_learning(),
    )
    message.attachments.append(_class_calendar(course_class, session))
    return message


def _session_times(times: dict[str, Any]) -> _SessionTimes:
    return _SessionTimes(
        starts_at=datetime.fromisoformat(times["starts_at"]),
        ends_at=datetime.fromisoformat(times["ends_at"]),
        room=times.get("room"),
    )


def _class_calendar(course_class: CourseClass, session: Session) -> mail.Attachment:
    return mail.Attachment(
        f"{course_class.code}.ics",
        calendar.class_calendar(course_class, session),
        "text",
        "calendar",
    )
