"""Enrolments of learners in classes, their history, and attendance at sessions."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .certificates import Certificate
    from .classes import ClassSession, CourseClass
    from .users import User


class EnrolmentStatus(enum.StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"
    COMPLETED = "completed"
    NOT_COMPLETED = "not_completed"
    CANCELLED = "cancelled"


ACTIVE_STATUSES = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.WAITLISTED,
)
_ACTIVE_SQL = "status IN ('pending', 'confirmed', 'waitlisted')"


class EnrolmentSource(enum.StrEnum):
    SELF = "self"
    NOMINATED = "nominated"
    CSV = "csv"
    ADMIN = "admin"


class Enrolment(Model):
    __tablename__ = "enrolments"
    __table_args__ = (
        # At most one active enrolment per learner and class, whatever the path.
        sa.Index(
            "uq_enrolments_active_learner_class",
            "class_id",
            "learner_id",
            unique=True,
            sqlite_where=sa.text(_ACTIVE_SQL),
            postgresql_where=sa.text(_ACTIVE_SQL),
        ),
        sa.Index("ix_enrolments_class_status", "class_id", "status"),
        # A company's seats in a set of classes (its quotas) without a visit to every learner.
        sa.Index("ix_enrolments_company_class_status", "company_id", "class_id", "status"),
        # The latest change of a company's enrolments, which keys its HR dashboard's figures.
        sa.Index("ix_enrolments_company_updated", "company_id", "updated_at"),
        sa.CheckConstraint(
            "result_score IS NULL OR (result_score >= 0 AND result_score <= 100)",
            name="result_score_range",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(sa.ForeignKey("classes.id"))
    learner_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # The company the enrolment was made under: a learner who moves to another company leaves
    # their enrolments with the old one (its seats, its reports). Kept here too so that
    # counting a company's seats need not look up every learner: see _fill_in_company below.
    company_id: Mapped[int | None] = mapped_column(sa.ForeignKey("partner_companies.id"))
    status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "enrolment_status")
    )
    source: Mapped[EnrolmentSource] = mapped_column(
        enum_column(EnrolmentSource, "enrolment_source")
    )
    requested_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    acted_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    # Why the enrolment is in its status: a list of reasons (:mod:`skillsup.reasons`).
    status_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # The waitlist is served in this order.
    waitlisted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result_score: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    result_passed: Mapped[bool | None]
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course_class: Mapped[CourseClass] = relationship()
    learner: Mapped[User] = relationship(foreign_keys=[learner_id])
    requested_by: Mapped[User | None] = relationship(foreign_keys=[requested_by_id])
    acted_by: Mapped[User | None] = relationship(foreign_keys=[acted_by_id])
    history: Mapped[list[EnrolmentStatusChange]] = relationship(
        back_populates="enrolment", order_by="EnrolmentStatusChange.id"
    )
    attendance: Mapped[list[Attendance]] = relationship(back_populates="enrolment")
    #: Every certificate issued for the enrolment, withdrawn ones included, oldest first.
    certificates: Mapped[list[Certificate]] = relationship(
        back_populates="enrolment", order_by="Certificate.id"
    )
    #: The certificate in force, if any (one at most: a partial unique index).
    certificate: Mapped[Certificate | None] = relationship(
        primaryjoin="and_(Certificate.enrolment_id == Enrolment.id, "
        "Certificate.revoked_at.is_(None))",
        viewonly=True,
        uselist=False,
    )

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_STATUSES

    # The rule of which company an enrolment belongs to, in Python and in SQL side by side.
    def made_under(self, company_id: int | None) -> bool:
        """Whether the enrolment belongs to the company: the one it was made under, whatever
        the learner's company is now. A company's HR officers see, count and act on exactly
        these (:mod:`skillsup.services.hr_scope`)."""
        return company_id is not None and self.company_id == company_id

    @classmethod
    def made_under_sql(
        cls, company_id: int | sa.BindParameter[int] | None
    ) -> sa.ColumnElement[bool]:
        """SQL: the condition of :meth:`made_under` (the company's id, or a bound parameter
        for a statement built once)."""
        if company_id is None:
            return sa.false()
        return cls.company_id == company_id


@sa.event.listens_for(Enrolment, "before_insert")
def _fill_in_company(
    _mapper: sa.orm.Mapper[Enrolment], connection: sa.Connection, target: Enrolment
) -> None:
    """Every enrolment carries its learner's company, whichever path made it."""
    if target.company_id is not None:
        return
    # The learner as given to the enrolment, if it was; reading the attribute would load it.
    learner = target.__dict__.get("learner")
    if learner is not None and learner.company_id is not None:
        target.company_id = learner.company_id
        return
    users = db.metadata.tables["users"]
    target.company_id = connection.scalar(
        sa.select(users.c.company_id).where(users.c.id == target.learner_id)
    )


class EnrolmentStatusChange(Model):
    """One step in an enrolment's life: from which status to which, by whom, when and why."""

    __tablename__ = "enrolment_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"), index=True)
    from_status: Mapped[EnrolmentStatus | None] = mapped_column(
        enum_column(EnrolmentStatus, "history_from_status")
    )
    to_status: Mapped[EnrolmentStatus] = mapped_column(
        enum_column(EnrolmentStatus, "history_to_status")
    )
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="history")
    actor: Mapped[User | None] = relationship()


class AttendanceStatus(enum.StrEnum):
    PRESENT = "present"
    LATE = "late"
    ABSENT = "absent"
    EXCUSED = "excused"


class Attendance(Model):
    __tablename__ = "attendance"
    __table_args__ = (sa.UniqueConstraint("enrolment_id", "session_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    enrolment_id: Mapped[int] = mapped_column(sa.ForeignKey("enrolments.id"))
    session_id: Mapped[int] = mapped_column(
        sa.ForeignKey("class_sessions.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[AttendanceStatus] = mapped_column(
        enum_column(AttendanceStatus, "attendance_status")
    )
    marked_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    marked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    enrolment: Mapped[Enrolment] = relationship(back_populates="attendance")
    session: Mapped[ClassSession] = relationship()
