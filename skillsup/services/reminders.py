"""Reminders: the day before a session, approvals waiting too long, attendance at risk, a
subsidy at risk or lost (:mod:`.funding_warnings`), and certificates about to expire.

``flask send-reminders`` may run every few minutes, and two runs may overlap: each reminder
is claimed by a row in ``sent_reminders`` (unique per kind, subject and recipient) written in
the same transaction as its e-mail, so it goes out once whatever happens.

The reminders are written when they are claimed, with links to the portal that the command
passes in (:class:`ReminderLinks`): it runs outside a request, and services build no URLs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Protocol

from flask_babel import force_locale, ngettext
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import (
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    Role,
    SentReminder,
    User,
    utcnow,
)
from ..timeutil import hk_date, hong_kong_public_holidays, start_of_hk_day_utc
from . import certificate_expiry, funding_status, funding_warnings, notify, progress

APPROVAL_WAIT_WORKING_DAYS = 2


class ReminderLinks(Protocol):
    """The links that reminders carry, built by the web layer
    (:class:`skillsup.links.PortalLinks`)."""

    def my_learning(self) -> str: ...

    def approvals(self) -> str: ...

    def staff_member(self, user_id: int) -> str: ...

    def certificates_to_renew(self) -> str: ...

    def course_page(self, code: str) -> str: ...


@dataclass
class Reminder:
    """One e-mail to one person, claimed under ``kind`` and ``keys`` before it is sent."""

    kind: str
    recipient: User
    keys: list[str]
    send: Callable[[], None]


@dataclass
class ReminderReport:
    sent: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    skipped: int = 0
    #: Subsidies warned of as at risk or lost that have recovered since.
    recovered: int = 0

    def summary(self) -> str:
        parts = [f"{count} {kind}" for kind, count in sorted(self.sent.items())]
        summary = (", ".join(parts) or "no reminders") + f" sent; {self.skipped} already sent"
        if self.recovered:
            summary += f"; {self.recovered} subsidies no longer at risk"
        return summary


def due_reminders(now: datetime | None = None, *, links: ReminderLinks) -> Iterator[Reminder]:
    """Every reminder due now that has not been sent yet, to carry ``links``."""
    now = now or utcnow()
    yield from _session_reminders(links, now)
    yield from _approval_reminders(links, now)
    # The enrolments of running classes, and their statuses under their schemes, are worked
    # out once for the attendance and the funding warnings.
    running = funding_warnings.running_enrolments()
    statuses = funding_status.enrolment_statuses(e.id for e in running)
    yield from _attendance_warnings(running, statuses)
    for recipient, keys, send in funding_warnings.due_warnings(running, statuses, links):
        yield Reminder(funding_warnings.KIND, recipient, keys, send)
    yield from _certificate_expiry_reminders(links, now)


def claim_and_send(reminder: Reminder) -> bool:
    """Claim the reminder and queue its e-mail in one savepoint; ``False`` if another run
    already has it. The caller commits."""
    savepoint = db.session.begin_nested()
    try:
        for key in reminder.keys:
            db.session.add(
                SentReminder(
                    kind=reminder.kind, subject_key=key, recipient_id=reminder.recipient.id
                )
            )
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    reminder.send()
    savepoint.commit()
    return True


def _already_sent(kind: str) -> set[tuple[str, int]]:
    return {
        (key, recipient_id)
        for key, recipient_id in db.session.execute(
            select(SentReminder.subject_key, SentReminder.recipient_id).where(
                SentReminder.kind == kind
            )
        )
    }


# The day before a session -------------------------------------------------------------------


def _session_reminders(links: ReminderLinks, now: datetime) -> Iterator[Reminder]:
    tomorrow = hk_date(now) + timedelta(days=1)
    rows = db.session.execute(
        select(ClassSession, Enrolment)
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .join(Enrolment, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(
            ClassSession.starts_at >= start_of_hk_day_utc(tomorrow),
            ClassSession.starts_at < start_of_hk_day_utc(tomorrow + timedelta(days=1)),
            ClassSession.is_cancelled.is_(False),
            CourseClass.status.in_((ClassStatus.OPEN, ClassStatus.CLOSED, ClassStatus.RUNNING)),
            Enrolment.status == EnrolmentStatus.CONFIRMED,
            User.is_active.is_(True),
            User.wants_reminders.is_(True),
        )
        .options(
            joinedload(Enrolment.learner),
            joinedload(ClassSession.course_class).joinedload(CourseClass.course),
        )
    ).all()
    sent = _already_sent("session")
    for session, enrolment in rows:
        key = f"session:{session.id}"
        if (key, enrolment.learner_id) in sent:
            continue
        learner = enrolment.learner

        def send(session: ClassSession = session, learner: User = learner) -> None:
            course_class = session.course_class
            with force_locale(learner.preferred_language or "en"):
                notify.send(
                    learner,
                    _("Reminder: %(code)s tomorrow", code=course_class.code),
                    "session_reminder",
                    session=session,
                    course_class=course_class,
                    course=course_class.course,
                    link=links.my_learning(),
                )

        yield Reminder("session", learner, [key], send)


# Approvals waiting too long -----------------------------------------------------------------


def working_days_between(start: date, end: date) -> int:
    """Working days after ``start`` up to and including ``end`` (Hong Kong holidays off)."""
    if end <= start:
        return 0
    public_holidays = hong_kong_public_holidays(start.year, end.year)
    days = 0
    day = start
    while day < end:
        day += timedelta(days=1)
        if day.weekday() < 5 and day not in public_holidays:
            days += 1
    return days


def _approval_reminders(links: ReminderLinks, now: datetime) -> Iterator[Reminder]:
    today = hk_date(now)
    pending = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.status == EnrolmentStatus.PENDING, Enrolment.company_id.is_not(None))
        .options(
            joinedload(Enrolment.learner),
            joinedload(Enrolment.course_class).joinedload(CourseClass.course),
        )
        .order_by(Enrolment.requested_at)
    ).all()
    overdue_by_company: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in pending:
        waited = working_days_between(hk_date(enrolment.requested_at), today)
        if waited >= APPROVAL_WAIT_WORKING_DAYS:
            # The HR of the company the request was made under (skillsup.services.hr_scope).
            company_id = enrolment.company_id
            assert company_id is not None  # the query keeps requests made under a company
            overdue_by_company[company_id].append(enrolment)
    if not overdue_by_company:
        return
    officers = db.session.scalars(
        select(User).where(
            User.role == Role.HR,
            User.is_active.is_(True),
            User.wants_reminders.is_(True),
            User.company_id.in_(list(overdue_by_company)),
        )
    ).all()
    sent = _already_sent("approval")
    for officer in officers:
        assert officer.company_id is not None  # an officer of one of those companies
        waiting = [
            e
            for e in overdue_by_company[officer.company_id]
            if (f"enrolment:{e.id}", officer.id) not in sent
        ]
        if not waiting:
            continue

        def send(officer: User = officer, waiting: list[Enrolment] = waiting) -> None:
            with force_locale(officer.preferred_language or "en"):
                notify.send(
                    officer,
                    _("%(num)d requests are waiting for your approval", num=len(waiting)),
                    "approval_reminder",
                    waiting=waiting,
                    link=links.approvals(),
                )

        yield Reminder("approval", officer, [f"enrolment:{e.id}" for e in waiting], send)


# Attendance ---------------------------------------------------------------------------------


def _attendance_warnings(
    enrolments: list[Enrolment], statuses: dict[int, list[funding_status.SchemeStatus]]
) -> Iterator[Reminder]:
    # An enrolment whose scheme holds it to the class's minimum is warned of by the funding
    # warnings, which tell of the class's attendance too: never both.
    enrolments = [
        e
        for e in enrolments
        if not funding_warnings.covers_class_minimum(
            statuses.get(e.id, []), e.course_class.min_attendance_pct
        )
    ]
    if not enrolments:
        return
    standings = progress.standings([e.id for e in enrolments])
    flagged = []
    for enrolment in enrolments:
        standing = standings[enrolment.id]
        if standing.at_risk:
            flagged.append((enrolment, standing, "cannot_reach"))
        elif standing.falling_behind:
            flagged.append((enrolment, standing, "at_risk"))
    if not flagged:
        return
    # Each warning goes to the HR of the company the enrolment was made under, which may not
    # be the learner's company today (skillsup.services.hr_scope).
    companies = {e.company_id for e, _s, _l in flagged if e.company_id}
    officers_by_company: dict[int, list[User]] = defaultdict(list)
    for officer in db.session.scalars(
        select(User).where(
            User.role == Role.HR,
            User.is_active.is_(True),
            User.wants_attendance_warnings.is_(True),
            User.company_id.in_(companies),
        )
    ):
        assert officer.company_id is not None  # an officer of one of those companies
        officers_by_company[officer.company_id].append(officer)
    sent = _already_sent("attendance")
    for enrolment, standing, level in flagged:
        key = f"enrolment:{enrolment.id}:{level}"
        learner = enrolment.learner
        recipients = [learner] if learner.wants_attendance_warnings and learner.is_active else []
        recipients += officers_by_company.get(enrolment.company_id or 0, [])
        for recipient in recipients:
            if (key, recipient.id) in sent:
                continue

            def send(
                recipient: User = recipient,
                enrolment: Enrolment = enrolment,
                standing: progress.AttendanceStanding = standing,
                level: str = level,
            ) -> None:
                course_class = enrolment.course_class
                with force_locale(recipient.preferred_language or "en"):
                    if level == "cannot_reach":
                        subject = _(
                            "Attendance: %(name)s can no longer complete %(code)s",
                            name=enrolment.learner.name,
                            code=course_class.code,
                        )
                    else:
                        subject = _(
                            "Attendance: %(name)s is below the minimum in %(code)s",
                            name=enrolment.learner.name,
                            code=course_class.code,
                        )
                    notify.send(
                        recipient,
                        subject,
                        "attendance_warning",
                        enrolment=enrolment,
                        learner=enrolment.learner,
                        course_class=course_class,
                        course=course_class.course,
                        standing=standing,
                        level=level,
                        for_learner=recipient.id == enrolment.learner_id,
                    )

            yield Reminder("attendance", recipient, [key], send)


# Certificates about to expire ---------------------------------------------------------------


def _certificate_expiry_reminders(links: ReminderLinks, now: datetime) -> Iterator[Reminder]:
    """60 and 14 days before a certificate expires (:mod:`.certificate_expiry`): its holder,
    and in one message per run the HR officers of the company the holder works for now, each
    reminder once; only to those who want reminders."""
    today = hk_date(now)
    due = certificate_expiry.due_reminders(today)
    if not due:
        return
    sent = _already_sent("certificate_expiry")
    by_company: dict[int, list[certificate_expiry.DueReminder]] = defaultdict(list)
    for item in due:
        learner = item.certificate.enrolment.learner
        if learner.company_id is not None:
            by_company[learner.company_id].append(item)
        if not (learner.is_active and learner.wants_reminders):
            continue
        if (item.key, learner.id) in sent:
            continue

        def send(item: certificate_expiry.DueReminder = item, learner: User = learner) -> None:
            certificate = item.certificate
            course = certificate.enrolment.course_class.course
            with force_locale(learner.preferred_language or "en"):
                notify.send(
                    learner,
                    ngettext(
                        "Your certificate for %(code)s expires in %(num)d day",
                        "Your certificate for %(code)s expires in %(num)d days",
                        item.days_left,
                        code=course.code,
                    ),
                    "certificate_expiring",
                    certificate=certificate,
                    course=course,
                    validity=certificate_expiry.validity(certificate, today),
                    link=links.course_page(course.code),
                    my_learning=links.my_learning(),
                )

        yield Reminder("certificate_expiry", learner, [item.key], send)

    officers = certificate_expiry.hr_officers(by_company)
    for company_id, items in by_company.items():
        for officer in officers.get(company_id, []):
            waiting = [i for i in items if (i.key, officer.id) not in sent]
            if not waiting:
                continue

            def send_hr(
                officer: User = officer, waiting: list[certificate_expiry.DueReminder] = waiting
            ) -> None:
                with force_locale(officer.preferred_language or "en"):
                    notify.send(
                        officer,
                        ngettext(
                            "%(num)d staff certificate expires soon",
                            "%(num)d staff certificates expire soon",
                            len(waiting),
                        ),
                        "certificates_expiring",
                        rows=[
                            (i.certificate, certificate_expiry.validity(i.certificate, today))
                            for i in waiting
                        ],
                        link=links.certificates_to_renew(),
                    )

            yield Reminder("certificate_expiry", officer, [i.key for i in waiting], send_hr)
