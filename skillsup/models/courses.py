"""Courses: the entries of the catalogue."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .funding import course_funding_schemes
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .classes import CourseClass
    from .funding import FundingScheme


class SkillArea(enum.StrEnum):
    CLOUD = "cloud"
    CYBERSECURITY = "cybersecurity"
    DATA_AI = "data_ai"
    NETWORKING = "networking"
    SOFTWARE_ENGINEERING = "software_engineering"
    DIGITAL_WORKPLACE = "digital_workplace"
    PROJECT_MANAGEMENT = "project_management"
    IT_SERVICE_MANAGEMENT = "it_service_management"


class DeliveryMode(enum.StrEnum):
    ON_CAMPUS = "on_campus"
    ONLINE_LIVE = "online_live"
    HYBRID = "hybrid"


class TeachingLanguage(enum.StrEnum):
    ENGLISH = "english"
    CANTONESE = "cantonese"
    PUTONGHUA = "putonghua"


class CourseStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


course_prerequisites = sa.Table(
    "course_prerequisites",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("prerequisite_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.CheckConstraint("course_id <> prerequisite_id", name="not_own_prerequisite"),
)


class Course(Model):
    __tablename__ = "courses"
    __table_args__ = (
        sa.CheckConstraint("qf_level BETWEEN 1 AND 7", name="qf_level_range"),
        sa.CheckConstraint("qf_credits >= 0", name="qf_credits_not_negative"),
        sa.CheckConstraint("contact_hours > 0", name="contact_hours_positive"),
        sa.CheckConstraint("fee >= 0", name="fee_not_negative"),
        sa.CheckConstraint(
            "certificate_valid_months BETWEEN 1 AND 120", name="certificate_valid_months_range"
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(30), unique=True)
    title_en: Mapped[str] = mapped_column(sa.String(200))
    title_zh: Mapped[str | None] = mapped_column(sa.String(200))
    summary_en: Mapped[str] = mapped_column(sa.Text, default="")
    summary_zh: Mapped[str | None] = mapped_column(sa.Text)
    description_en: Mapped[str] = mapped_column(sa.Text, default="")
    description_zh: Mapped[str | None] = mapped_column(sa.Text)
    # One outcome per line.
    outcomes_en: Mapped[str] = mapped_column(sa.Text, default="")
    outcomes_zh: Mapped[str | None] = mapped_column(sa.Text)
    audience_en: Mapped[str] = mapped_column(sa.Text, default="")
    audience_zh: Mapped[str | None] = mapped_column(sa.Text)
    # Comma-separated keywords that search also looks at.
    skills: Mapped[str] = mapped_column(sa.Text, default="")
    skill_area: Mapped[SkillArea] = mapped_column(enum_column(SkillArea, "skill_area"), index=True)
    qf_level: Mapped[int] = mapped_column(sa.SmallInteger)
    qf_credits: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    contact_hours: Mapped[Decimal] = mapped_column(sa.Numeric(6, 1))
    delivery_mode: Mapped[DeliveryMode] = mapped_column(enum_column(DeliveryMode, "delivery_mode"))
    teaching_language: Mapped[TeachingLanguage] = mapped_column(
        enum_column(TeachingLanguage, "teaching_language")
    )
    fee: Mapped[Decimal] = mapped_column(sa.Numeric(10, 2), default=Decimal("0"))
    # How long the certificates of the course stay valid (compliance training); None: they
    # never expire. Each certificate keeps the expiry date it was issued with.
    certificate_valid_months: Mapped[int | None] = mapped_column(sa.SmallInteger)
    status: Mapped[CourseStatus] = mapped_column(
        enum_column(CourseStatus, "course_status"), default=CourseStatus.DRAFT, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Indexed: the latest change of the catalogue's courses and classes is read on every
    # catalogue page, to know whether a cached page is still current.
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow, index=True
    )

    prerequisites: Mapped[list[Course]] = relationship(
        secondary=course_prerequisites,
        primaryjoin=lambda: Course.id == course_prerequisites.c.course_id,
        secondaryjoin=lambda: Course.id == course_prerequisites.c.prerequisite_id,
        order_by=lambda: Course.code,
    )
    classes: Mapped[list[CourseClass]] = relationship(back_populates="course")
    #: The funding schemes the course is offered under (its classes' unless one has its own).
    funding_schemes: Mapped[list[FundingScheme]] = relationship(
        secondary=course_funding_schemes, order_by="FundingScheme.code"
    )

    def title(self, locale: str) -> str:
        return self.title_zh if locale.startswith("zh") and self.title_zh else self.title_en

    def __repr__(self) -> str:
        return f"<Course {self.code}>"
