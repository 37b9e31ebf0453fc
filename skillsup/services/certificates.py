"""Certificates: issued when a learner completes a class, checked by anyone with the code.

A certificate has a serial number (``SU-<year of issue>-<sequence>``, the sequence counting
the certificates of that year) and an unguessable verification code that leads to a public
page. Certificates are issued in the transaction that closes the class; the PDF is made on
request, never stored, and is bilingual (English and Traditional Chinese) with its fonts
embedded and a QR code that leads to the verification page.

Serial numbers are safe under concurrency: the next number is the year's highest plus one,
read with the class row locked and, on PostgreSQL, under a transaction-level advisory lock
that closings of other classes also take (SQLite holds its write lock from the start of the
transaction); the unique constraint is the last line of defence.
"""

from __future__ import annotations

import functools
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import segno
from flask import render_template
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, bindparam, func, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from .. import permissions
from ..extensions import db
from ..i18n import fmt_date
from ..models import Certificate, CourseClass, Enrolment, User, utcnow
from ..reasons import Reason, free_text
from ..timeutil import hk_date
from . import audit, notify, webhook_events
from .certificate_expiry import NEVER_EXPIRES, Validity, expiry_date, validity
from .class_sessions import hours_run
from .errors import DomainError, PermissionDenied, ValidationFailed
from .progress import standings

SERIAL_PREFIX = "SU"
#: What a verification code can look like (``secrets.token_urlsafe(24)`` gives 32 of these).
CODE_PATTERN = re.compile(r"[A-Za-z0-9_-]{16,64}")
REASON_MAX_LENGTH = 500
# Any fixed number will do: every closing takes the same lock before numbering.
_SERIAL_LOCK_KEY = 0x53550001


class CertificateRefused(DomainError):
    """A rule about certificates refuses the action."""


class AlreadyRevoked(CertificateRefused):
    default_message = _l("This certificate has already been revoked.")


class SerialNumbersBusy(CertificateRefused):
    default_message = _l(
        "Certificate numbers could not be given out because another class was closed at the "
        "same moment. Nothing has been changed: please try again."
    )


# Issuing -----------------------------------------------------------------------------------


def _lock_serials() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SERIAL_LOCK_KEY})


def _highest_number(prefix: str) -> int:
    serial = db.session.scalar(
        select(Certificate.serial_number)
        .where(Certificate.serial_number.like(prefix + "%"))
        .order_by(func.length(Certificate.serial_number).desc(), Certificate.serial_number.desc())
        .limit(1)
    )
    tail = serial[len(prefix) :] if serial else ""
    return int(tail) if tail.isdigit() else 0


def serial_number(year: int, number: int) -> str:
    """``SU-2026-000123``: the year of issue and the number within it."""
    return f"{SERIAL_PREFIX}-{year}-{number:06d}"


def issue_certificates(
    actor: User | None,
    course_class: CourseClass,
    enrolments: Sequence[Enrolment],
    *,
    now: datetime | None = None,
) -> list[Certificate]:
    """Issue a certificate to each of ``enrolments`` (completed learners of the class).

    To be called in the transaction that closes the class, with the class row locked.
    Enrolments that already have a certificate in force are left alone (one whose certificate
    was withdrawn, when its class was reopened, gets a new one). Each issue is audited.
    Raises :class:`SerialNumbersBusy` should a serial number be taken after all (the
    caller rolls back).
    """
    now = now or utcnow()
    ids = [e.id for e in enrolments]
    already = (
        set(
            db.session.scalars(
                select(Certificate.enrolment_id).where(
                    Certificate.enrolment_id.in_(ids), Certificate.revoked_at.is_(None)
                )
            )
        )
        if ids
        else set()
    )
    wanted = [e for e in enrolments if e.id not in already]
    if not wanted:
        return []
    _lock_serials()
    expires_on = expiry_date(now, course_class.course.certificate_valid_months)
    year = hk_date(now).year
    prefix = f"{SERIAL_PREFIX}-{year}-"
    number = _highest_number(prefix)
    issued: list[Certificate] = []
    savepoint = db.session.begin_nested()
    try:
        for enrolment in wanted:
            number += 1
            certificate = Certificate(
                enrolment_id=enrolment.id,
                serial_number=serial_number(year, number),
                verification_code=secrets.token_urlsafe(24),
                issued_at=now,
                expires_on=expires_on,
            )
            db.session.add(certificate)
            issued.append(certificate)
        db.session.flush()
        savepoint.commit()
    except IntegrityError as error:
        savepoint.rollback()
        raise SerialNumbersBusy() from error
    for certificate, enrolment in zip(issued, wanted, strict=True):
        audit.record(
            actor,
            "certificate.issued",
            certificate,
            f"{certificate.serial_number} for enrolment {enrolment.id} in {course_class.code}",
            {
                "serial_number": certificate.serial_number,
                **({"expires_on": expires_on.isoformat()} if expires_on else {}),
                "enrolment_id": enrolment.id,
                "learner_id": enrolment.learner_id,
                "class_id": course_class.id,
            },
        )
        notify.certificate_issued(certificate, enrolment)
        webhook_events.certificate_issued(certificate, enrolment, now)
    return issued


# Finding and checking ----------------------------------------------------------------------


def _with_details() -> Any:
    return (
        joinedload(Certificate.enrolment).joinedload(Enrolment.learner),
        joinedload(Certificate.enrolment)
        .joinedload(Enrolment.course_class)
        .joinedload(CourseClass.course),
    )


def is_well_formed_code(code: str | None) -> bool:
    """Whether ``code`` could be a verification code at all."""
    return bool(code) and CODE_PATTERN.fullmatch(code or "") is not None


def find_by_code(code: str | None) -> Certificate | None:
    """The certificate with this verification code, or ``None``.

    A code that cannot be one (too long, too short, odd characters) is not looked up.
    """
    if not is_well_formed_code(code):
        return None
    return db.session.scalar(
        select(Certificate).where(Certificate.verification_code == code).options(*_with_details())
    )


def get(certificate_id: int) -> Certificate | None:
    """The certificate with its learner, class and course loaded, or ``None``."""
    return db.session.scalar(
        select(Certificate).where(Certificate.id == certificate_id).options(*_with_details())
    )


def for_learner(learner_id: int) -> list[Certificate]:
    """The learner's certificates, newest first, with class and course loaded; one query."""
    return list(db.session.scalars(_for_learner_statement(), {"learner_id": learner_id}))


@functools.cache
def _for_learner_statement() -> Select[Certificate]:
    # Built once: "My learning" runs it on every visit.
    return (
        select(Certificate)
        .join(Enrolment, Certificate.enrolment_id == Enrolment.id)
        .where(Enrolment.learner_id == bindparam("learner_id"))
        .options(*_with_details())
        .order_by(Certificate.issued_at.desc(), Certificate.id.desc())
    )


def revoke_refusal(certificate: Certificate) -> CertificateRefused | None:
    """Why ``certificate`` cannot be revoked (it already is), or ``None``."""
    return AlreadyRevoked() if certificate.revoked_at is not None else None


def revoke(
    actor: User,
    certificate: Certificate,
    reason: str,
    *,
    cause: Reason | None = None,
    now: datetime | None = None,
    tell_learner: bool = True,
) -> None:
    """Revoke a certificate, with a reason; the verification page then says it is revoked,
    and the learner is told by e-mail with the reason (unless ``tell_learner`` is false: a
    reopened class tells them in its own message that their certificate is withdrawn).
    The typed ``reason`` is kept as free text after the ``cause`` (a coded reason, such as
    the class being reopened), when there is one.

    Admins only. Raises :class:`PermissionDenied`, :class:`ValidationFailed` (field
    ``reason``) without a reason or with one that is too long, or :class:`AlreadyRevoked`.
    """
    now = now or utcnow()
    if not permissions.can_revoke_certificate(actor):
        raise PermissionDenied()
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed(_l("Say why the certificate is revoked."), field="reason")
    if len(reason) > REASON_MAX_LENGTH:
        raise ValidationFailed(
            _l("Keep the reason under %(max)d characters.", max=REASON_MAX_LENGTH),
            field="reason",
        )
    db.session.refresh(certificate, with_for_update=True)
    refusal = revoke_refusal(certificate)
    if refusal is not None:
        raise refusal
    certificate.revoked_at = now
    certificate.revoked_reasons = [*([cause] if cause else []), *free_text(reason)]
    certificate.revoked_by_id = actor.id
    db.session.flush()
    audit.record(
        actor,
        "certificate.revoked",
        certificate,
        f"{certificate.serial_number} revoked",
        {"serial_number": certificate.serial_number, "reason": reason},
    )
    webhook_events.certificate_revoked(certificate, now)
    if tell_learner:
        notify.certificate_revoked(certificate)


# The PDF -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class CertificateFacts:
    """What a certificate states, in both languages where there are two."""

    serial_number: str
    learner_name: str
    course_code: str
    title_en: str
    title_zh: str | None
    qf_level: int
    qf_credits: int
    #: The contact hours the class ran (its held sessions), not the course's nominal hours;
    #: ``None`` where not asked for (the public page).
    hours_run: Decimal | None
    attendance_rate: float | None
    completed_on: date
    issued_on: date
    revoked_on: date | None
    #: Where it stands today: valid (until when, if it expires), expired (on which day) or
    #: revoked (:mod:`.certificate_expiry`).
    validity: Validity = NEVER_EXPIRES

    @property
    def attendance_pct(self) -> str:
        if self.attendance_rate is None:
            return "—"
        return f"{self.attendance_rate * 100:.0f}%"

    @property
    def hours_run_text(self) -> str:
        if self.hours_run is None:
            return "—"
        return f"{self.hours_run.normalize():f}"

    @property
    def is_long(self) -> bool:
        """Whether the name or titles are long enough to need a tighter layout."""
        return (
            len(self.learner_name) > 40 or len(self.title_en) > 70 or len(self.title_zh or "") > 30
        )

    @property
    def is_very_long(self) -> bool:
        return (
            len(self.learner_name) > 100
            or len(self.title_en) > 140
            or len(self.title_zh or "") > 60
        )

    def date_in(self, value: date, locale: str) -> str:
        """A date as the certificate prints it in one of its two languages."""
        return fmt_date(value, "long", locale)


def facts(certificate: Certificate, *, with_attendance: bool = True) -> CertificateFacts:
    """What the certificate states: the learner, the course, the hours the class ran,
    attendance and dates.

    The completion date is the Hong Kong date on which the class was closed for the learner;
    the hours are those of the class's sessions held by then (:func:`.class_sessions.hours_run`).
    Without ``with_attendance`` (the public page shows neither attendance nor hours) no query
    is made beyond what the certificate has loaded.
    """
    enrolment = certificate.enrolment
    course = enrolment.course_class.course
    completed_at = enrolment.ended_at or certificate.issued_at
    rate = None
    hours = None
    if with_attendance:
        standing = standings([enrolment.id]).get(enrolment.id)
        rate = standing.rate if standing else None
        hours = hours_run(enrolment.class_id, until=completed_at)
    return CertificateFacts(
        serial_number=certificate.serial_number,
        learner_name=enrolment.learner.name,
        course_code=course.code,
        title_en=course.title_en,
        title_zh=course.title_zh,
        qf_level=course.qf_level,
        qf_credits=course.qf_credits,
        hours_run=hours,
        attendance_rate=rate,
        completed_on=hk_date(completed_at),
        issued_on=hk_date(certificate.issued_at),
        revoked_on=hk_date(certificate.revoked_at) if certificate.revoked_at else None,
        validity=validity(certificate),
    )


def qr_data_uri(url: str) -> str:
    """A QR code of ``url`` as an SVG data URI, for an ``<img>`` in the certificate."""
    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=4))


def render_pdf(certificate_facts: CertificateFacts, verify_url: str) -> bytes:
    """The certificate as a PDF, made now: Noto Sans CJK embedded, with a QR code of
    ``verify_url`` (the absolute address of its verification page).

    It reads nothing from the database: call it after the transaction has ended, so that no
    lock is held while the PDF is made.
    """
    # Imported here: WeasyPrint takes a moment to load and only this needs it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_template(
        "certificates/pdf.html",
        facts=certificate_facts,
        qr=qr_data_uri(verify_url),
        verify_url=verify_url,
    )
    # The page embeds everything it needs; it never fetches anything from anywhere.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())
