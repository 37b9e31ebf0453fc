"""Partner companies, the e-mail domains their staff use, and their seat quotas."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .courses import Course
    from .users import User


class CompanyStatus(enum.StrEnum):
    """Whether a partner company takes part (see :attr:`PartnerCompany.status`)."""

    ACTIVE = "active"
    INACTIVE = "inactive"


class PartnerCompany(Model):
    __tablename__ = "partner_companies"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    requires_approval: Mapped[bool] = mapped_column(default=False)
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    domains: Mapped[list[CompanyDomain]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="CompanyDomain.domain"
    )
    quotas: Mapped[list[SeatQuota]] = relationship(
        back_populates="company", cascade="all, delete-orphan", order_by="SeatQuota.starts_on"
    )
    staff: Mapped[list[User]] = relationship(back_populates="company", viewonly=True)

    @property
    def status(self) -> CompanyStatus:
        return CompanyStatus.ACTIVE if self.is_active else CompanyStatus.INACTIVE

    @property
    def domain_names(self) -> list[str]:
        return [d.domain for d in self.domains]

    def __repr__(self) -> str:
        return f"<PartnerCompany {self.code}>"


class CompanyDomain(Model):
    """An e-mail domain whose addresses belong to one partner company."""

    __tablename__ = "company_domains"
    __table_args__ = (sa.CheckConstraint("domain = lower(domain)", name="domain_lowercase"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        sa.ForeignKey("partner_companies.id", ondelete="CASCADE"), index=True
    )
    domain: Mapped[str] = mapped_column(sa.String(253), unique=True)

    company: Mapped[PartnerCompany] = relationship(back_populates="domains")

    @validates("domain")
    def _normalise(self, _key: str, value: str) -> str:
        return value.strip().lower()


class SeatQuota(Model):
    """How many seats a company may fill in classes that start within a period.

    A quota without a course covers all classes; one with a course covers that course only.
    """

    __tablename__ = "seat_quotas"
    __table_args__ = (
        sa.CheckConstraint("seats >= 0", name="seats_not_negative"),
        sa.CheckConstraint("ends_on >= starts_on", name="period_in_order"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    company_id: Mapped[int] = mapped_column(
        sa.ForeignKey("partner_companies.id", ondelete="CASCADE"), index=True
    )
    course_id: Mapped[int | None] = mapped_column(sa.ForeignKey("courses.id"), index=True)
    label: Mapped[str] = mapped_column(sa.String(100))
    starts_on: Mapped[date]
    ends_on: Mapped[date]
    seats: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[PartnerCompany] = relationship(back_populates="quotas")
    course: Mapped[Course | None] = relationship()
