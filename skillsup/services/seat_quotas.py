"""Seat quotas: how many seats a partner company's staff may fill, and what counts against them.

A quota caps the seats a company's staff fill in classes starting within a period, either
across all classes or for one course; a company without quotas is not limited. Pending,
confirmed and finished enrolments count against it
(:data:`skillsup.services.enrolment.QUOTA_STATUSES`); waitlist places, withdrawals, rejections
and cancellations do not. Every count here comes from one expression (:func:`_seats_counted`),
so the numbers an admin sees always agree with what an enrolment request is told.

An enrolment request checks the quotas under their row locks, taken after the class's (see
the lock order in :mod:`skillsup.services.enrolment`). Nothing here commits.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import ColumnElement, ScalarSelect, Select, bindparam, func, select, true

from ..extensions import db
from ..models import CourseClass, Enrolment, SeatQuota, User
from .enrolment import QUOTA_STATUSES, EnrolmentRefused


class QuotaExceeded(EnrolmentRefused):
    pass


@dataclass(frozen=True)
class QuotaUse:
    quota: SeatQuota
    used: int

    @property
    def left(self) -> int:
        return max(self.quota.seats - self.used, 0)


# ---------------------------------------------------------------------------------------------
# Counting


def _seats_counted(
    company_id: Any, starts_on: Any, ends_on: Any, course: ColumnElement[bool]
) -> Select[tuple[int]]:
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
    """The company's quotas that cover the class, with the seats each has used, in one query."""
    rows = db.session.execute(
        _quota_uses_statement(lock),
        {
            "company_id": company_id,
            "starts_on": course_class.starts_on,
            "course_id": course_class.course_id,
        },
    )
    return [QuotaUse(quota, int(used or 0)) for quota, used in rows]


@functools.cache
def _quota_uses_statement(lock: bool) -> Select[tuple[SeatQuota, int]]:
    # Built once per kind: making the statement anew costs more than running it.
    starts_on = bindparam("starts_on")
    statement = (
        select(SeatQuota, seats_used_by_quota())
        .where(
            SeatQuota.company_id == bindparam("company_id"),
            SeatQuota.starts_on <= starts_on,
            SeatQuota.ends_on >= starts_on,
            (SeatQuota.course_id.is_(None)) | (SeatQuota.course_id == bindparam("course_id")),
        )
        .order_by(SeatQuota.id)
    )
    if lock:
        statement = statement.with_for_update(of=SeatQuota).execution_options(
            populate_existing=True
        )
    return statement


# ---------------------------------------------------------------------------------------------
# The rule an enrolment obeys


def check_quota(learner: User, course_class: CourseClass) -> None:
    """Raise :class:`QuotaExceeded` when a quota of the learner's company that covers the
    class has no seat left. Locks those quotas' rows: the caller holds the class lock."""
    assert learner.company_id is not None
    for use in quota_uses(learner.company_id, course_class, lock=True):
        if use.left < 1:
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
    return all(use.left >= 1 for use in quota_uses(learner.company_id, course_class, lock=True))
