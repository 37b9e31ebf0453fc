"""Certificates that expire: the one home of the rule.

A course may say for how many months its certificates stay valid (compliance training,
:data:`MIN_MONTHS` to :data:`MAX_MONTHS`; none: they never expire). A certificate's expiry
date is fixed when it is issued: the Hong Kong date of issue plus that many months (the last
day of the month where the month is shorter, so 31 August plus six months is 28 or 29
February). It is valid up to the day before and has expired from its expiry date on, counted
in Hong Kong days: "valid until 11 March 2027", then "expired on 12 March 2027". Changing the
course's validity later leaves the certificates already issued as they are.

A certificate is *expiring* from :data:`EXPIRING_WITHIN_DAYS` days before its expiry date:
its holder's "My learning" offers to enrol in the course again and their HR officers see it
among the company's certificates to renew. A certificate is *renewed* once its holder has a
later certificate of the same course that is not revoked: it is then neither reminded of nor
listed (it still says, when checked, that it expired).

Reminders go :data:`REMINDER_DAYS` days before the expiry date (60 and 14), to the holder
and to their company's HR officers, each once (:mod:`.reminders` claims them): a run that
finds a certificate 59 days from expiry, the 60-day reminder never sent, still sends it; one
that finds it 13 days away sends only the 14-day one.
"""

from __future__ import annotations

import calendar
import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, and_, exists, or_, select
from sqlalchemy.orm import aliased, joinedload

from ..extensions import db
from ..models import Certificate, Course, CourseClass, Enrolment, Role, User
from ..timeutil import hk_date, today_hk
from .errors import ValidationFailed
from .hr_scope import company_staff

MIN_MONTHS = 1
MAX_MONTHS = 120
#: Days before the expiry date that reminders go out, furthest first.
REMINDER_DAYS = (60, 14)
#: From how many days before its expiry date a certificate is to be renewed.
EXPIRING_WITHIN_DAYS = 90

VALID_MONTHS_MESSAGE = _l(
    "Enter how many months the certificate stays valid: a whole number from %(min)d to "
    "%(max)d, or leave it empty if it never expires.",
    min=MIN_MONTHS,
    max=MAX_MONTHS,
)


class CertificateState(enum.StrEnum):
    #: Valid, and not expiring within :data:`EXPIRING_WITHIN_DAYS` days (or never).
    VALID = "valid"
    #: Valid, and expiring within :data:`EXPIRING_WITHIN_DAYS` days.
    EXPIRING = "expiring"
    EXPIRED = "expired"
    REVOKED = "revoked"


#: The meaning of each state as a badge (:mod:`skillsup.badges`).
STATE_TONES = {
    CertificateState.VALID: "ok",
    CertificateState.EXPIRING: "warning",
    CertificateState.EXPIRED: "ended",
    CertificateState.REVOKED: "bad",
}


def clean_valid_months(value: Any) -> int | None:
    """The course's certificate validity in months: ``None`` (never expires) or a whole
    number from :data:`MIN_MONTHS` to :data:`MAX_MONTHS`; otherwise
    :class:`ValidationFailed` on the field ``certificate_valid_months``."""
    if value is None or value == "":
        return None
    if (
        isinstance(value, bool)
        or not isinstance(value, int)
        or not (MIN_MONTHS <= value <= MAX_MONTHS)
    ):
        raise ValidationFailed(VALID_MONTHS_MESSAGE, field="certificate_valid_months")
    return value


def add_months(day: date, months: int) -> date:
    """``day`` plus ``months`` calendar months, on the month's last day where it is shorter."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def expiry_date(issued_at: datetime, valid_months: int | None) -> date | None:
    """The date from which a certificate issued at ``issued_at`` under a course valid for
    ``valid_months`` months has expired (Hong Kong days); ``None`` if it never expires."""
    if valid_months is None:
        return None
    return add_months(hk_date(issued_at), valid_months)


@dataclass(frozen=True)
class Validity:
    """Where a certificate stands on a day."""

    state: CertificateState
    expires_on: date | None
    revoked_on: date | None = None
    #: Days from the day asked about to the expiry date (0 or less once expired).
    days_left: int | None = None
    #: A later certificate of the same course has replaced it.
    renewed: bool = False

    @property
    def is_valid(self) -> bool:
        return self.state in (CertificateState.VALID, CertificateState.EXPIRING)

    @property
    def is_expired(self) -> bool:
        return self.state == CertificateState.EXPIRED

    @property
    def valid_until(self) -> date | None:
        """The last day it is valid, for one that expires."""
        return self.expires_on - timedelta(days=1) if self.expires_on else None

    @property
    def tone(self) -> str:
        return STATE_TONES[self.state]

    @property
    def offers_enrolling_again(self) -> bool:
        """Whether its holder should be offered to take the course again: it has expired or
        is expiring, and has not been renewed."""
        return (
            self.state in (CertificateState.EXPIRING, CertificateState.EXPIRED) and not self.renewed
        )


#: A certificate in force that never expires.
NEVER_EXPIRES = Validity(CertificateState.VALID, None)


def validity(
    certificate: Certificate, today: date | None = None, *, renewed: bool = False
) -> Validity:
    """Where ``certificate`` stands on ``today`` (the Hong Kong date now by default): revoked,
    expired (on or after its expiry date), expiring (within :data:`EXPIRING_WITHIN_DAYS`
    days of it) or valid."""
    today = today or today_hk()
    expires_on = certificate.expires_on
    if certificate.revoked_at is not None:
        return Validity(
            CertificateState.REVOKED, expires_on, hk_date(certificate.revoked_at), renewed=renewed
        )
    if expires_on is None:
        return Validity(CertificateState.VALID, None, renewed=renewed)
    days_left = (expires_on - today).days
    if days_left <= 0:
        state = CertificateState.EXPIRED
    elif days_left <= EXPIRING_WITHIN_DAYS:
        state = CertificateState.EXPIRING
    else:
        state = CertificateState.VALID
    return Validity(state, expires_on, days_left=days_left, renewed=renewed)


def renewed_ids(certificates: Iterable[Certificate]) -> set[int]:
    """The ids of those of ``certificates`` (with their enrolments and classes loaded) that a
    later one among them, of the same holder and course and not revoked, has replaced."""
    latest: dict[tuple[int, int], Certificate] = {}
    every = list(certificates)
    for certificate in every:
        if certificate.revoked_at is not None:
            continue
        key = _holder_and_course(certificate)
        current = latest.get(key)
        if current is None or (certificate.issued_at, certificate.id) > (
            current.issued_at,
            current.id,
        ):
            latest[key] = certificate
    return {
        c.id
        for c in every
        if (found := latest.get(_holder_and_course(c))) is not None
        and (found.issued_at, found.id) > (c.issued_at, c.id)
    }


def _holder_and_course(certificate: Certificate) -> tuple[int, int]:
    enrolment = certificate.enrolment
    return enrolment.learner_id, enrolment.course_class.course_id


def validities(
    certificates: Sequence[Certificate], today: date | None = None
) -> dict[int, Validity]:
    """Each of a holder's ``certificates`` (all of them, with enrolments and classes
    loaded) as it stands on ``today``, by id; no query."""
    renewed = renewed_ids(certificates)
    return {c.id: validity(c, today, renewed=c.id in renewed) for c in certificates}


# Queries -----------------------------------------------------------------------------------


def state_sql(state: CertificateState, today: date | None = None) -> ColumnElement[bool]:
    """SQL: the certificate is in ``state`` on ``today`` (the Hong Kong date now by default),
    as :func:`validity` decides it (``tests/test_certificate_expiry.py`` checks they agree)."""
    today = today or today_hk()
    not_revoked = Certificate.revoked_at.is_(None)
    expiring_from = today + timedelta(days=EXPIRING_WITHIN_DAYS)
    if state == CertificateState.REVOKED:
        return Certificate.revoked_at.is_not(None)
    if state == CertificateState.EXPIRED:
        return and_(not_revoked, Certificate.expires_on <= today)
    if state == CertificateState.EXPIRING:
        return and_(
            not_revoked, Certificate.expires_on > today, Certificate.expires_on <= expiring_from
        )
    return and_(
        not_revoked,
        or_(Certificate.expires_on.is_(None), Certificate.expires_on > expiring_from),
    )


_LATER = aliased(Certificate, name="later_certificate")
_LATER_ENROLMENT = aliased(Enrolment, name="later_enrolment")
_LATER_CLASS = aliased(CourseClass, name="later_class")


def _not_renewed() -> ColumnElement[bool]:
    """SQL: no later certificate of the same holder and course, not revoked (the query joins
    the certificate's ``Enrolment`` and ``CourseClass``)."""
    return ~exists(
        select(_LATER.id)
        .join(_LATER_ENROLMENT, _LATER.enrolment_id == _LATER_ENROLMENT.id)
        .join(_LATER_CLASS, _LATER_ENROLMENT.class_id == _LATER_CLASS.id)
        .where(
            _LATER_ENROLMENT.learner_id == Enrolment.learner_id,
            _LATER_CLASS.course_id == CourseClass.course_id,
            _LATER.revoked_at.is_(None),
            _LATER.issued_at > Certificate.issued_at,
        )
    )


def _expiring_by(last_day: date) -> Any:
    return (
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
        .where(
            Certificate.revoked_at.is_(None),
            Certificate.expires_on.is_not(None),
            Certificate.expires_on <= last_day,
            _not_renewed(),
        )
        .options(
            joinedload(Certificate.enrolment).joinedload(Enrolment.learner),
            joinedload(Certificate.enrolment)
            .joinedload(Enrolment.course_class)
            .joinedload(CourseClass.course),
        )
        .order_by(Certificate.expires_on, Certificate.id)
    )


@dataclass(frozen=True)
class DueReminder:
    """A certificate whose reminder ``days`` (60 or 14) before expiry is due."""

    certificate: Certificate
    days: int
    #: Days from the day of the run to the expiry date.
    days_left: int

    @property
    def key(self) -> str:
        return f"certificate:{self.certificate.id}:{self.days}"


def due_reminders(today: date) -> list[DueReminder]:
    """The certificates that expire after ``today`` and within the furthest of
    :data:`REMINDER_DAYS`, not renewed, each with the reminder due for it: the nearest
    reminder day not already passed (14 within 14 days, else 60). One query."""
    furthest = max(REMINDER_DAYS)
    found = db.session.scalars(
        _expiring_by(today + timedelta(days=furthest)).where(Certificate.expires_on > today)
    ).all()
    due = []
    for certificate in found:
        assert certificate.expires_on is not None  # the query keeps those that expire
        days_left = (certificate.expires_on - today).days
        due.append(
            DueReminder(certificate, min(d for d in REMINDER_DAYS if d >= days_left), days_left)
        )
    return due


def hr_officers(company_ids: Iterable[int]) -> dict[int, list[User]]:
    """The active HR officers who want reminders, of each of the companies."""
    officers: dict[int, list[User]] = {}
    ids = sorted(set(company_ids))
    if not ids:
        return officers
    for officer in db.session.scalars(
        select(User)
        .where(
            User.role == Role.HR,
            User.is_active.is_(True),
            User.wants_reminders.is_(True),
            User.company_id.in_(ids),
        )
        .order_by(User.id)
    ):
        assert officer.company_id is not None  # an officer of one of those companies
        officers.setdefault(officer.company_id, []).append(officer)
    return officers


@dataclass(frozen=True)
class CompanyCertificate:
    """One of a company's certificates to renew, for its HR officers."""

    certificate: Certificate
    validity: Validity

    @property
    def learner(self) -> User:
        return self.certificate.enrolment.learner

    @property
    def course(self) -> Course:
        return self.certificate.enrolment.course_class.course


def company_certificates_to_renew(
    company_id: int, *, today: date | None = None, learner_id: int | None = None
) -> list[CompanyCertificate]:
    """The certificates of the company's staff of today (or of one of them) that have expired
    or expire within :data:`EXPIRING_WITHIN_DAYS` days and have not been renewed, soonest
    (longest expired) first. A certificate goes with its holder: the company they work for now
    is the one that needs them to hold it. One query."""
    today = today or today_hk()
    statement = _expiring_by(today + timedelta(days=EXPIRING_WITHIN_DAYS)).where(
        *company_staff(company_id)
    )
    if learner_id is not None:
        statement = statement.where(User.id == learner_id)
    return [
        CompanyCertificate(certificate, validity(certificate, today))
        for certificate in db.session.scalars(statement)
    ]


def certificates_to_renew(actor: User, *, today: date | None = None) -> list[CompanyCertificate]:
    """What the HR officer ``actor`` sees of :func:`company_certificates_to_renew`: their own
    company's. Raises :class:`PermissionDenied` for anyone else."""
    # Imported here: the staff service's module imports much that needs nothing of this one.
    from .staff import hr_company_id

    return company_certificates_to_renew(hr_company_id(actor), today=today)


def split_by_state(
    rows: Sequence[CompanyCertificate],
) -> tuple[list[CompanyCertificate], list[CompanyCertificate]]:
    """``rows`` as (expiring, expired)."""
    expiring = [r for r in rows if r.validity.state != CertificateState.EXPIRED]
    expired = [r for r in rows if r.validity.state == CertificateState.EXPIRED]
    return expiring, expired
