"""A learner's statement of attendance and result for one class, to claim a subsidy with.

The statement is a bilingual PDF (English and Traditional Chinese side by side), made on
request and never stored, like a certificate (:mod:`.certificates`): the learner, the class
and course, the training provider (its name and address are settings), the funding schemes
the class runs under with the version of each, every session with its date, time, contact
hours and the learner's mark, the hours attended and the rate for completion
(:mod:`.progress`), the assessment result, the enrolment's status under each scheme
(:mod:`.funding_status`) and the date it was issued.

A statement exists for an enrolment that holds a place or has finished (those with a status
under their schemes); the web layer asks :func:`skillsup.permissions.can_see_enrolment` who
may have it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from ..extensions import db
from ..i18n import fmt_date, fmt_time
from ..labels import label
from ..models import (
    Attendance,
    AttendanceStatus,
    ClassSession,
    Enrolment,
    FundingState,
    PartnerCompany,
)
from ..reasons import render as render_reasons
from ..timeutil import today_hk
from .attendance_rate import is_attended, session_counts, session_hours
from .errors import NotFound
from .funding_status import WITH_STATUS, SchemeStatus, loaded_class_statuses
from .progress import AttendanceStanding, class_standings

ENGLISH = "en"
CHINESE = "zh_Hant_HK"


@dataclass(frozen=True)
class Both:
    """A text in English and in Traditional Chinese (the same text when it has one form)."""

    en: str
    zh: str


def in_both(make: Callable[[str], Any]) -> Both:
    """``make(locale)`` worded in each of the statement's two languages."""
    texts = []
    for locale in (ENGLISH, CHINESE):
        with force_locale(locale):
            texts.append(str(make(locale)))
    return Both(*texts)


@dataclass(frozen=True)
class Provider:
    """The training provider the statement names."""

    name: Both
    address: Both


@dataclass(frozen=True)
class SessionLine:
    """One session of the class: when, its contact hours, and the learner's mark."""

    when: Both
    hours: float
    #: The mark in both languages; "not marked" or "cancelled" where there is none.
    mark: Both
    counted: bool
    attended: bool


@dataclass(frozen=True)
class SchemeLine:
    """The enrolment's status under one scheme."""

    code: str
    name: Both
    version_from: Both
    minimum_pct: int
    assessment_needed: bool
    state: FundingState
    state_label: Both
    reasons: Both
    must_attend: tuple[Both, ...]


@dataclass(frozen=True)
class ClaimStatement:
    """What a statement states (see the module)."""

    enrolment_id: int
    learner_name: str
    company_name: str | None
    class_code: str
    course_code: str
    title: Both
    dates: Both
    venue: str
    enrolment_status: Both
    provider: Provider
    sessions: tuple[SessionLine, ...]
    attended_hours: float
    counted_hours: float
    rate: float | None
    class_minimum_pct: int
    assessment_required: bool
    result_score: Decimal | None
    result: Both
    schemes: tuple[SchemeLine, ...]
    issued_on: Both

    @property
    def rate_text(self) -> str:
        return "—" if self.rate is None else f"{self.rate * 100:.1f}%"


def hours_text(hours: float) -> str:
    """Contact hours as the statement prints them: "3", "2.5", "1.25"."""
    return f"{Decimal(str(round(hours, 2))).normalize():f}"


def statement(
    enrolment: Enrolment, provider: Mapping[str, str], *, today: date | None = None
) -> ClaimStatement:
    """The statement of ``enrolment``, with ``provider`` (the ``PROVIDER_*`` settings), issued
    ``today`` (Hong Kong's date unless given).

    Raises :class:`NotFound` for an enrolment that neither holds a place nor has finished
    (pending, waitlisted, rejected, withdrawn, cancelled): it has nothing to state. A fixed
    number of queries.
    """
    if enrolment.status not in WITH_STATUS:
        raise NotFound()
    course_class = enrolment.course_class
    course = course_class.course
    class_sessions = db.session.scalars(
        select(ClassSession)
        .where(ClassSession.class_id == course_class.id)
        .order_by(ClassSession.starts_at, ClassSession.id)
    ).all()
    marks: dict[int, AttendanceStatus] = {
        session_id: status
        for session_id, status in db.session.execute(
            select(Attendance.session_id, Attendance.status).where(
                Attendance.enrolment_id == enrolment.id
            )
        )
    }
    # The sessions loaded above serve the standing and the statuses too.
    standing_of, _marked = class_standings(course_class, [enrolment.id], class_sessions)
    standing = standing_of.get(enrolment.id, AttendanceStanding())
    statuses = loaded_class_statuses(course_class, [enrolment], standing_of).get(enrolment.id, [])
    # The company the place was made under, whose claim it is, even if the learner has moved.
    company = db.session.get(PartnerCompany, enrolment.company_id) if enrolment.company_id else None
    day = today or today_hk()
    return ClaimStatement(
        enrolment_id=enrolment.id,
        learner_name=enrolment.learner.name,
        company_name=company.name if company else None,
        class_code=course_class.code,
        course_code=course.code,
        title=Both(course.title_en, course.title_zh or course.title_en),
        dates=in_both(
            lambda locale: (
                f"{fmt_date(course_class.starts_on, 'long', locale)} – "
                f"{fmt_date(course_class.ends_on, 'long', locale)}"
            )
        ),
        venue=course_class.venue or "",
        enrolment_status=in_both(lambda _locale: label(enrolment.status)),
        provider=Provider(
            name=Both(provider["PROVIDER_NAME_EN"], provider["PROVIDER_NAME_ZH"]),
            address=Both(provider["PROVIDER_ADDRESS_EN"], provider["PROVIDER_ADDRESS_ZH"]),
        ),
        sessions=tuple(_session_line(s, marks.get(s.id)) for s in class_sessions),
        attended_hours=standing.attended_hours,
        counted_hours=standing.counted_hours,
        rate=standing.rate,
        class_minimum_pct=int(course_class.min_attendance_pct),
        assessment_required=bool(course_class.assessment_required),
        result_score=enrolment.result_score,
        result=in_both(lambda _locale: _result(enrolment.result_passed)),
        schemes=tuple(_scheme_line(status) for status in statuses),
        issued_on=in_both(lambda locale: fmt_date(day, "long", locale)),
    )


def _scheme_line(status: SchemeStatus) -> SchemeLine:
    version = status.version

    def version_from(locale: str) -> str:
        return fmt_date(version.effective_from, "long", locale)

    def when(at: datetime) -> Both:
        return in_both(lambda locale: f"{fmt_date(at, 'full', locale)} {fmt_time(at, locale)}")

    return SchemeLine(
        code=status.scheme.code,
        name=Both(status.scheme.name_en, status.scheme.name_zh or status.scheme.name_en),
        version_from=in_both(version_from),
        minimum_pct=status.minimum_pct,
        assessment_needed=status.assessment_needed,
        state=status.state,
        state_label=in_both(lambda _locale: label(status.state)),
        reasons=in_both(lambda _locale: render_reasons(list(status.reasons))),
        must_attend=tuple(when(session.starts_at) for session in status.must_attend),
    )


def _session_line(session: ClassSession, mark: AttendanceStatus | None) -> SessionLine:
    def when(locale: str) -> str:
        return (
            f"{fmt_date(session.starts_at, 'medium', locale)} "
            f"{fmt_time(session.starts_at, locale)}–{fmt_time(session.ends_at, locale)}"
        )

    counts = session_counts(session)
    if not counts:
        shown = in_both(lambda _locale: _("Cancelled"))
    elif mark is None:
        shown = in_both(lambda _locale: _("Not marked"))
    else:
        shown = in_both(lambda _locale: label(mark))
    return SessionLine(
        when=in_both(when),
        hours=session_hours(session.starts_at, session.ends_at),
        mark=shown,
        counted=counts,
        attended=counts and mark is not None and is_attended(mark),
    )


def _result(passed: bool | None) -> str:
    if passed is True:
        return str(_("Pass"))
    if passed is False:
        return str(_("Fail"))
    return str(_("No result recorded"))


def render_pdf(facts: ClaimStatement) -> bytes:
    """The statement as a PDF, made now, Noto Sans CJK embedded. It reads nothing from the
    database: call it after the transaction has ended, so that no lock is held meanwhile."""
    # Imported here: WeasyPrint takes a moment to load and only the PDFs need it.
    from weasyprint import HTML
    from weasyprint.urls import URLFetcher

    html = render_template("learning/statement_pdf.html", facts=facts, hours=hours_text)
    # The page embeds everything it needs; it never fetches anything from anywhere.
    fetcher = URLFetcher(allowed_protocols={"data"})
    return bytes(HTML(string=html, url_fetcher=fetcher).write_pdf())
