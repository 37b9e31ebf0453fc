"""HR officers' view of their company's enrolments: always scoped to one company, to the
enrolments made under it (:mod:`.hr_scope`)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import CourseClass, Enrolment, EnrolmentStatus
from .hr_scope import company_enrolments


def company_enrolment(company_id: int, enrolment_id: int) -> Enrolment | None:
    """The enrolment if it was made under the company, else ``None``: never one its learner
    made under another company, before or after moving here."""
    return db.session.scalar(
        select(Enrolment).where(Enrolment.id == enrolment_id, *company_enrolments(company_id))
    )


def pending_requests(company_id: int) -> list[Enrolment]:
    """The company's requests waiting for approval, oldest first."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .where(*company_enrolments(company_id), Enrolment.status == EnrolmentStatus.PENDING)
            .options(
                joinedload(Enrolment.learner),
                joinedload(Enrolment.course_class).joinedload(CourseClass.course),
            )
            .order_by(Enrolment.requested_at, Enrolment.id)
        )
    )
