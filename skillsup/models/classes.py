"""Classes (intakes of a course) and their sessions."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .funding import class_funding_schemes
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .courses import Course
    from .funding import FundingScheme
    from .users import User


class ClassStatus(enum.StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    RUNNING = "running"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


#: A class in one of these is over: its roster, results and timetable are settled.
FINISHED_STATUSES = (ClassStatus.COMPLETED, ClassStatus.CANCELLED)


class_trainers = sa.Table(
    "class_trainers",
    db.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("trainer_id", sa.ForeignKey("users.id"), primary_key=True, index=True),
)


class CourseClass(Model):
    __tablename__ = "classes"
    __table_args__ = (
        sa.CheckConstraint("capacity >= 0", name="capacity_not_negative"),
        sa.CheckConstraint(
            "seats_taken >= 0 AND seats_taken <= capacity", name="seats_within_capacity"
        ),
        sa.CheckConstraint("min_attendance_pct BETWEEN 0 AND 100", name="min_attendance_range"),
        sa.CheckConstraint("ends_on >= starts_on", name="dates_in_order"),
        sa.CheckConstraint(
            "enrolment_closes_at > enrolment_opens_at", name="enrolment_window_in_order"
        ),
        # The catalogue orders courses by their next upcoming class: one probe per course.
        # Its first column serves every lookup of a course's classes.
        sa.Index("ix_classes_course_status_starts_on", "course_id", "status", "starts_on"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    course_id: Mapped[int] = mapped_column(sa.ForeignKey("courses.id"))
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    venue: Mapped[str | None] = mapped_column(sa.String(200))
    online_url: Mapped[str | None] = mapped_column(sa.String(500))
    capacity: Mapped[int]
    # Learners holding a seat: confirmed, and once the class is closed those who completed it
    # or did not (closing keeps their seats). Changed only by the enrolment service's
    # conditional UPDATE.
    seats_taken: Mapped[int] = mapped_column(default=0)
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    enrolment_opens_at: Mapped[datetime] = mapped_column(UTCDateTime)
    enrolment_closes_at: Mapped[datetime] = mapped_column(UTCDateTime)
    withdrawal_deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    min_attendance_pct: Mapped[int] = mapped_column(sa.SmallInteger, default=80)
    assessment_required: Mapped[bool] = mapped_column(default=False)
    # Whether the class has its own funding schemes (``funding_schemes``, possibly none)
    # instead of its course's.
    funding_override: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    status: Mapped[ClassStatus] = mapped_column(
        enum_column(ClassStatus, "class_status"), default=ClassStatus.DRAFT, index=True
    )
    # Why the class was cancelled or closed early: a list of reasons (:mod:`skillsup.reasons`).
    status_reasons: Mapped[list[dict[str, Any]] | None] = mapped_column(sa.JSON(none_as_null=True))
    # When the class was closed (completed): an admin may reopen it for a while after.
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the latest change of the catalogue's courses and classes is read on every
    # catalogue page, to know whether a cached page is still current.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )

    course: Mapped[Course] = relationship(back_populates="classes")
    trainers: Mapped[list[User]] = relationship(secondary=class_trainers, order_by="User.name")
    #: The class's own schemes; they apply only when ``funding_override`` is set.
    funding_schemes: Mapped[list[FundingScheme]] = relationship(
        secondary=class_funding_schemes, order_by="FundingScheme.code"
    )
    sessions: Mapped[list[ClassSession]] = relationship(
        back_populates="course_class",
        order_by="ClassSession.starts_at",
        cascade="all, delete-orphan",
    )

    @property
    def seats_left(self) -> int:
        return max(self.capacity - self.seats_taken, 0)

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    def __repr__(self) -> str:
        return f"<CourseClass {self.code}>"


class ClassSession(Model):
    __tablename__ = "class_sessions"
    __table_args__ = (sa.CheckConstraint("ends_at > starts_at", name="times_in_order"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    class_id: Mapped[int] = mapped_column(
        sa.ForeignKey("classes.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    room: Mapped[str | None] = mapped_column(sa.String(120))
    is_cancelled: Mapped[bool] = mapped_column(default=False)
    # Bumped on every change so that calendar entries update in place.
    sequence: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    course_class: Mapped[CourseClass] = relationship(back_populates="sessions")

    @property
    def hours(self) -> float:
        return (self.ends_at - self.starts_at).total_seconds() / 3600
