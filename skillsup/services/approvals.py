"""HR officers' view of their company's enrolments: always scoped to one company."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import CourseClass, Enrolment, EnrolmentStatus, User


def company_enrolment(company_id: int, enrolment_id: int) -> Enrolment | None:
    """The enrolment if it belongs to a learner of the company, else ``None``."""
    return db.session.scalar(
        select(Enrolment)
        .join(User, Enrolment.learner_id == User.id)
        .where(Enrolment.id == enrolment_id, User.company_id == company_id)
    )


def pending_requests(company_id: int) -> list[Enrolment]:
    """The company's requests waiting for approval, oldest first."""
    return list(
        db.session.scalars(
            select(Enrolment)
            .join(User, Enrolment.learner_id == User.id)
            .where(User.company_id == company_id, Enrolment.status == EnrolmentStatus.PENDING)
            .options(
                joinedload(Enrolment.learner),
                joinedload(Enrolment.course_class).joinedload(CourseClass.course),
            )
            .order_by(Enrolment.requested_at, Enrolment.id)
        )
    )
