"""Seat quotas: how many seats a partner company's staff may fill, and what counts against them.

A quota caps the seats a company's staff fill in classes starting within a period, either
across all classes or for one course; a company without quotas is not limited. Pending,
confirmed and finished enrolments count against it
(:data:`skillsup.services.enrolment.QUOTA_STATUSES`); waitlist places, withdrawals, rejections
and cancellations do not. Every count here comes from one expression (:func:`_seats_counted`),
so the numbers an admin sees always agree with what an enrolment request is told.

An enrolment request checks the quotas under their row locks, taken after the class's (see
the lock order in :mod:`skillsup.services.enrolment`). Admins give, change and remove quotas;
a quota's seats never go below what is already used, and once a seat has been counted against
it the quota is part of the record and stays. Nothing here commits.
"""

from __future__ import annotations

import functools
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext as _nl
from sqlalchemy import (
    BindParameter,
    ColumnElement,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    func,
    select,
    true,
)
from sqlalchemy.orm import aliased, joinedload

from .. import permissions
from ..extensions import db
from ..models import (
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentStatus,
    PartnerCompany,
    SeatQuota,
    User,
)
from . import audit
from .enrolment import QUOTA_STATUSES, EnrolmentRefused
from .errors import PermissionDenied, ValidationFailed

LABEL_MAX_LENGTH = 100
#: More seats than any company could use; keeps the number inside the column's range.
MAX_SEATS = 100_000


class QuotaExceeded(EnrolmentRefused):
    pass


@dataclass(frozen=True)
class QuotaUse:
    quota: SeatQuota
    used: int

    @property
    def left(self) -> int:
        return max(self.quota.seats - self.used, 0)

    @property
    def is_used_up(self) -> bool:
        """No seat left: the quota refuses another enrolment (:func:`check_quota`)."""
        return self.left < 1


@dataclass
class QuotaData:
    """A seat quota as an admin enters it. ``course_id`` ``None`` covers every course."""

    label: str
    starts_on: date | None
    ends_on: date | None
    seats: int | None
    course_id: int | None = None


# ---------------------------------------------------------------------------------------------
# Counting


def _seats_counted(
    company_id: Any, starts_on: Any, ends_on: Any, course: ColumnElement[bool]
) -> Select[int]:
    """The one count of seats a quota has used, for quota columns or values: pending,
    confirmed and finished enrolments of the company's staff in classes that start within the
    quota's period and match ``course``. Waitlist places, withdrawals, rejections and
    cancellations take no seat."""
    return (
        select(func.count(Enrolment.id))
        .select_from(Enrolment)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(
            Enrolment.company_id == company_id,
            Enrolment.status.in_(QUOTA_STATUSES),
            CourseClass.starts_on >= starts_on,
            CourseClass.starts_on <= ends_on,
            course,
        )
    )


def seats_used_by_quota() -> ScalarSelect[int]:
    """The seats a quota has used, as a subquery to select beside ``SeatQuota`` (of the
    quota's course, if it has one)."""
    return (
        _seats_counted(
            SeatQuota.company_id,
            SeatQuota.starts_on,
            SeatQuota.ends_on,
            SeatQuota.course_id.is_(None) | (CourseClass.course_id == SeatQuota.course_id),
        )
        .correlate(SeatQuota)
        .scalar_subquery()
    )


def seats_used(quota: SeatQuota) -> int:
    """The seats ``quota`` has used, counted as :func:`seats_used_by_quota` counts them, for a
    quota that may not be saved yet (a proposed change)."""
    course = true() if quota.course_id is None else CourseClass.course_id == quota.course_id
    statement = _seats_counted(quota.company_id, quota.starts_on, quota.ends_on, course)
    return int(db.session.scalar(statement) or 0)


def quota_uses(company_id: int, course_class: CourseClass, *, lock: bool = False) -> list[QuotaUse]:
    """The company's quotas that cover the class, with the seats each has used.

    With ``lock``, the quotas' rows are locked first (in id order) and their seats counted
    after, in a statement of its own. Counted in the statement that locks them, the count
    would come from a snapshot taken before the wait for the lock (PostgreSQL's READ
    COMMITTED reads the locked row again after the wait, not the count beside it), and would
    miss the enrolment of the transaction it waited for: that oversold quotas in a rush.
    """
    parameters = {
        "company_id": company_id,
        "starts_on": course_class.starts_on,
        "course_id": course_class.course_id,
    }
    if lock and not db.session.execute(_covering_quotas_lock_statement(), parameters).all():
        return []
    rows = db.session.execute(_quota_uses_statement(), parameters)
    return [QuotaUse(quota, int(used or 0)) for quota, used in rows]


def _covering(
    company: ColumnElement[bool], starts_on: Any = None, course_id: Any = None
) -> list[ColumnElement[bool]]:
    """The quotas matching ``company`` that cover a class starting on ``starts_on``, of the
    course ``course_id`` (by default the parameters ``starts_on`` and ``course_id``; columns
    of a class for many classes at once)."""
    if starts_on is None:
        starts_on_parameter: BindParameter[date] = bindparam("starts_on")
        starts_on = starts_on_parameter
    if course_id is None:
        course_id = bindparam("course_id")
    return [
        company,
        SeatQuota.starts_on <= starts_on,
        SeatQuota.ends_on >= starts_on,
        (SeatQuota.course_id.is_(None)) | (SeatQuota.course_id == course_id),
    ]


@functools.cache
def _covering_quotas_lock_statement() -> Select[int]:
    return (
        select(SeatQuota.id)
        .where(*_covering(SeatQuota.company_id == bindparam("company_id")))
        .order_by(SeatQuota.id)
        .with_for_update()
    )


@functools.cache
def _quota_uses_statement() -> Select[SeatQuota, int]:
    # Built once: making the statement anew costs more than running it. Quotas read afresh,
    # since a locked quota may be in the session already.
    return (
        select(SeatQuota, seats_used_by_quota())
        .where(*_covering(SeatQuota.company_id == bindparam("company_id")))
        .order_by(SeatQuota.id)
        .execution_options(populate_existing=True)
    )


def quota_uses_by_class(
    company_id: int, classes: Collection[CourseClass]
) -> dict[int, list[QuotaUse]]:
    """For each class, the company's quotas that cover it with the seats each has used, as
    :func:`quota_uses` finds and counts them, for many classes in one query and without
    locks: for a page that shows, before any request, what a request would be told."""
    if not classes:
        return {}
    rows = db.session.execute(
        _quota_uses_by_class_statement(),
        {"company_id": company_id, "class_ids": sorted({c.id for c in classes})},
    )
    uses: dict[int, list[QuotaUse]] = {c.id: [] for c in classes}
    for class_id, quota, used in rows:
        uses[class_id].append(QuotaUse(quota, int(used or 0)))
    return uses


@functools.cache
def _quota_uses_by_class_statement() -> Select[int, SeatQuota, int]:
    covered = aliased(CourseClass, name="covered_class")
    return (
        select(covered.id, SeatQuota, seats_used_by_quota())
        .where(
            covered.id.in_(bindparam("class_ids", expanding=True)),
            *_covering(
                SeatQuota.company_id == bindparam("company_id"),
                covered.starts_on,
                covered.course_id,
            ),
        )
        .order_by(covered.id, SeatQuota.id)
    )


def lock_company_quotas(company_id: int) -> None:
    """Lock every quota of the company, in id order: for a transaction that enrols its staff in
    several classes (a CSV import), whose classes' quotas, locked one class at a time, would
    not come in id order."""
    db.session.execute(
        select(SeatQuota.id)
        .where(SeatQuota.company_id == company_id)
        .order_by(SeatQuota.id)
        .with_for_update()
    ).all()


def lock_quotas_of_waitlists(class_ids: Collection[int]) -> None:
    """Lock, in id order and at once, every quota that a promotion from the waitlists of these
    classes could count against: those of the waitlisted learners' companies that cover the
    class they wait for. For a waitlist promotion, which may count against several companies'
    quotas one after the other, and for a transaction that may promote in several classes (a
    deactivation, HR decisions on several requests): locked one company or one class at a
    time, two of them could take the same quotas crosswise. The caller holds the classes'
    locks, so their waitlists do not change meanwhile."""
    if not class_ids:
        return
    waiting = (
        select(Enrolment.id)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .where(
            Enrolment.class_id.in_(sorted(class_ids)),
            Enrolment.status == EnrolmentStatus.WAITLISTED,
            Enrolment.company_id == SeatQuota.company_id,
            CourseClass.starts_on >= SeatQuota.starts_on,
            CourseClass.starts_on <= SeatQuota.ends_on,
            SeatQuota.course_id.is_(None) | (SeatQuota.course_id == CourseClass.course_id),
        )
        .correlate(SeatQuota)
    )
    db.session.execute(
        select(SeatQuota.id).where(waiting.exists()).order_by(SeatQuota.id).with_for_update()
    ).all()


def quota_usage(company: PartnerCompany) -> list[QuotaUse]:
    """Every quota of ``company`` with the seats it has used, by period, in one query.

    Counts what :func:`seats_used` counts for each quota: the company's staff's enrolments in
    :data:`~skillsup.services.enrolment.QUOTA_STATUSES` in classes that start within the
    period (and are of the quota's course, if it has one).
    """
    used = seats_used_by_quota()
    rows = db.session.execute(
        select(SeatQuota, used)
        .where(SeatQuota.company_id == company.id)
        .options(joinedload(SeatQuota.course))
        .order_by(SeatQuota.starts_on.desc(), SeatQuota.course_id.is_not(None), SeatQuota.id)
    ).all()
    return [QuotaUse(quota, int(count or 0)) for quota, count in rows]


# ---------------------------------------------------------------------------------------------
# The rule an enrolment obeys


def check_quota(learner: User, course_class: CourseClass) -> None:
    """Raise :class:`QuotaExceeded` when a quota of the learner's company that covers the
    class has no seat left. Locks those quotas' rows: the caller holds the class lock."""
    # Callers check the learner first (check_learner), which refuses one without a company.
    assert learner.company_id is not None
    for use in quota_uses(learner.company_id, course_class, lock=True):
        if use.is_used_up:
            raise QuotaExceeded(
                _l(
                    "Your company has used all %(seats)d seats of its quota for %(period)s "
                    "(%(left)d left).",
                    seats=use.quota.seats,
                    period=use.quota.label,
                    left=use.left,
                )
            )


def quota_allows(learner: User, course_class: CourseClass) -> bool:
    """Whether every quota of the learner's company that covers the class has a seat left
    (locked as in :func:`check_quota`); a learner without a company has none."""
    if learner.company_id is None:
        return False
    return not any(
        use.is_used_up for use in quota_uses(learner.company_id, course_class, lock=True)
    )


# ---------------------------------------------------------------------------------------------
# Administration


def course_choices() -> Select[int, str, str, CourseStatus]:
    """Every course a quota may be limited to: id, code, English title and status, by code."""
    return select(Course.id, Course.code, Course.title_en, Course.status).order_by(Course.code)


def add_quota(actor: User, company: PartnerCompany, data: QuotaData) -> SeatQuota:
    """Give ``company`` a seat quota for a period, across all courses or for one course.

    The label is required; the period ends on or after its first day; the seats are a whole
    number from 0 to :data:`MAX_SEATS` and not fewer than the company's staff already use in
    the period; the course, if any, exists; and the period does not overlap another quota
    of the company with the same scope (all courses, or the same course). A company-wide
    quota and a course's quota may overlap: an enrolment must then fit both.

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks.
    """
    _check_actor(actor)
    _lock(company)
    values = _clean_quota(company, data, None)
    quota = SeatQuota(company_id=company.id, **values)
    db.session.add(quota)
    db.session.flush()
    audit.record(
        actor,
        "company.quota_added",
        company,
        f"added seat quota {quota.label}",
        {"quota_id": quota.id, **_describe_quota(values)},
    )
    return quota


def update_quota(actor: User, quota: SeatQuota, data: QuotaData) -> dict[str, str]:
    """Change a quota's label, period, seats or course.

    The rules of :func:`add_quota` apply to the quota as it would be; in particular its seats
    cannot go below what is already used within the new period and scope. Records the
    changed fields, old and new, on the company (``company.quota_updated``). Returns the
    changes; when nothing changed, nothing is recorded.

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` naming the field of the first rule ``data`` breaks.
    """
    _check_actor(actor)
    company = quota.company
    _lock(company)
    db.session.refresh(quota, with_for_update=True)
    values = _clean_quota(company, data, quota)
    before = _describe_quota(_values_of(quota))
    after = _describe_quota(values)
    changes = {
        name: f"{before[name]} → {after[name]}" for name in after if before[name] != after[name]
    }
    if not changes:
        return {}
    for name, value in values.items():
        setattr(quota, name, value)
    db.session.flush()
    audit.record(
        actor,
        "company.quota_updated",
        company,
        f"updated seat quota {quota.label}: {', '.join(changes)}",
        {"quota_id": quota.id, **changes},
    )
    return changes


def remove_quota(actor: User, quota: SeatQuota) -> None:
    """Remove a quota that nothing has been counted against yet.

    Once a seat has been counted against it, the quota is part of the record of what the
    company used and stays; its seats or period can still change. Records the removal on the
    company (``company.quota_removed``).

    Raises :class:`PermissionDenied` unless ``actor`` is an admin, and
    :class:`ValidationFailed` when seats have been used.
    """
    _check_actor(actor)
    company = quota.company
    _lock(company)
    db.session.refresh(quota, with_for_update=True)
    used = seats_used(quota)
    if used:
        raise ValidationFailed(
            _nl(
                "%(num)d seat has already been counted against %(label)s, so it cannot be "
                "removed. You can still change its seats or dates.",
                "%(num)d seats have already been counted against %(label)s, so it cannot be "
                "removed. You can still change its seats or dates.",
                used,
                label=quota.label,
            )
        )
    details = _describe_quota(_values_of(quota))
    quota_id = quota.id
    if quota in company.quotas:
        company.quotas.remove(quota)
    db.session.delete(quota)
    db.session.flush()
    audit.record(
        actor,
        "company.quota_removed",
        company,
        f"removed seat quota {details['label']}",
        {"quota_id": quota_id, **details},
    )


def _clean_quota(
    company: PartnerCompany, data: QuotaData, quota: SeatQuota | None
) -> dict[str, Any]:
    label = " ".join((data.label or "").split())
    if not label:
        raise ValidationFailed(_l("Name the period, for example 2026/27 Term 2."), field="label")
    if len(label) > LABEL_MAX_LENGTH:
        raise ValidationFailed(
            _l("Use at most %(num)d characters.", num=LABEL_MAX_LENGTH), field="label"
        )
    if not isinstance(data.starts_on, date):
        raise ValidationFailed(_l("Enter the first day of the period."), field="starts_on")
    if not isinstance(data.ends_on, date):
        raise ValidationFailed(_l("Enter the last day of the period."), field="ends_on")
    if data.ends_on < data.starts_on:
        raise ValidationFailed(_l("The period cannot end before it starts."), field="ends_on")
    seats = data.seats
    if not isinstance(seats, int) or isinstance(seats, bool) or not 0 <= seats <= MAX_SEATS:
        raise ValidationFailed(
            _l("Enter a whole number of seats from 0 to %(max)d.", max=MAX_SEATS), field="seats"
        )
    course_id = data.course_id or None
    if course_id is not None:
        if not isinstance(course_id, int) or isinstance(course_id, bool):
            raise ValidationFailed(_l("Choose a course from the list."), field="course_id")
        with db.session.no_autoflush:
            found = db.session.get(Course, course_id)
        if found is None:
            raise ValidationFailed(_l("Choose a course from the list."), field="course_id")
    values: dict[str, Any] = {
        "label": label,
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "seats": seats,
        "course_id": course_id,
    }
    _check_no_overlap(company, values, quota)
    # Counted by the enrolment rules' own function, on a quota as it would be (not saved).
    used = seats_used(SeatQuota(company_id=company.id, **values))
    if seats < used:
        raise ValidationFailed(
            _nl(
                "%(num)d seat is already used in this period: give at least %(num)d.",
                "%(num)d seats are already used in this period: give at least %(num)d.",
                used,
            ),
            field="seats",
        )
    return values


def _check_no_overlap(
    company: PartnerCompany, values: dict[str, Any], quota: SeatQuota | None
) -> None:
    course_id = values["course_id"]
    statement = select(SeatQuota).where(
        SeatQuota.company_id == company.id,
        SeatQuota.course_id.is_(None) if course_id is None else SeatQuota.course_id == course_id,
        and_(SeatQuota.starts_on <= values["ends_on"], SeatQuota.ends_on >= values["starts_on"]),
    )
    if quota is not None:
        statement = statement.where(SeatQuota.id != quota.id)
    with db.session.no_autoflush:
        other = db.session.scalar(statement.order_by(SeatQuota.starts_on).limit(1))
    if other is None:
        return
    from ..i18n import fmt_date

    raise ValidationFailed(
        _l(
            "This period overlaps %(label)s (%(start)s to %(end)s), which covers the same courses.",
            label=other.label,
            start=fmt_date(other.starts_on),
            end=fmt_date(other.ends_on),
        ),
        field="starts_on",
    )


def _values_of(quota: SeatQuota) -> dict[str, Any]:
    return {
        "label": quota.label,
        "starts_on": quota.starts_on,
        "ends_on": quota.ends_on,
        "seats": quota.seats,
        "course_id": quota.course_id,
    }


def _describe_quota(values: dict[str, Any]) -> dict[str, str]:
    course_id = values["course_id"]
    course_code = None
    if course_id is not None:
        with db.session.no_autoflush:
            course_code = db.session.scalar(select(Course.code).where(Course.id == course_id))
    return {
        "label": str(values["label"]),
        "starts_on": values["starts_on"].isoformat(),
        "ends_on": values["ends_on"].isoformat(),
        "seats": str(values["seats"]),
        "course": course_code or "all courses",
    }


def _check_actor(actor: User) -> None:
    # Quotas are part of the institute's administration of its partner companies.
    if not permissions.can_manage_companies(actor):
        raise PermissionDenied()


def _lock(company: PartnerCompany) -> None:
    # One admin change to a company's quotas at a time: the checks for overlapping quotas
    # read before they write (on SQLite, BEGIN IMMEDIATE already serialises writers). The
    # company's row, as for every other admin change to the company.
    db.session.refresh(company, with_for_update=True)
