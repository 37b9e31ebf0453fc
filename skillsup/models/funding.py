"""Funding schemes (the Continuing Education Fund, NITTP, ...) and the versions of their figures.

A scheme says who is paid (the learner, the company, or no one) and keeps its figures in
versions: each version applies to the classes that start on or after its ``effective_from``
date, until the next version's, so that a change never alters a class that started under the
figures before it (:mod:`skillsup.services.funding_schemes`). A course names its schemes; a
class takes its course's unless it has its own list (``CourseClass.funding_override``).
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model, db
from .types import UTCDateTime, enum_column, utcnow


class FundingPayee(enum.StrEnum):
    """Who a scheme pays."""

    LEARNER = "learner"
    COMPANY = "company"
    NONE = "none"


class SubsidyKind(enum.StrEnum):
    """How a scheme's subsidy is worked out from a course's fee."""

    #: The learner pays a co-payment: a share of the fee that grows once their subsidy passes
    #: a first tier (the Continuing Education Fund).
    CO_PAYMENT_TIERS = "co_payment_tiers"
    #: A fixed share of the fee (NITTP: two thirds).
    SHARE_OF_FEE = "share_of_fee"
    #: No money from the scheme.
    NONE = "none"


class FundingState(enum.StrEnum):
    """Where an enrolment stands against a scheme's conditions (worked out, never stored:
    :mod:`skillsup.services.funding_status`)."""

    MET = "met"
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    LOST = "lost"


course_funding_schemes = sa.Table(
    "course_funding_schemes",
    db.metadata,
    sa.Column("course_id", sa.ForeignKey("courses.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("funding_schemes.id"), primary_key=True, index=True),
)

#: A class's own schemes, used instead of its course's when ``funding_override`` is set.
class_funding_schemes = sa.Table(
    "class_funding_schemes",
    db.metadata,
    sa.Column("class_id", sa.ForeignKey("classes.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("scheme_id", sa.ForeignKey("funding_schemes.id"), primary_key=True, index=True),
)


class FundingScheme(Model):
    __tablename__ = "funding_schemes"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(20), unique=True)
    name_en: Mapped[str] = mapped_column(sa.String(200))
    name_zh: Mapped[str | None] = mapped_column(sa.String(200))
    paid_to: Mapped[FundingPayee] = mapped_column(enum_column(FundingPayee, "funding_payee"))
    is_active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    #: Every version of the figures, oldest first.
    versions: Mapped[list[FundingSchemeVersion]] = relationship(
        back_populates="scheme", order_by="FundingSchemeVersion.effective_from"
    )

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") and self.name_zh else self.name_en

    def __repr__(self) -> str:
        return f"<FundingScheme {self.code}>"


class FundingSchemeVersion(Model):
    """A scheme's figures for the classes starting from ``effective_from`` on."""

    __tablename__ = "funding_scheme_versions"
    __table_args__ = (
        sa.UniqueConstraint("scheme_id", "effective_from"),
        sa.CheckConstraint("min_attendance_pct BETWEEN 0 AND 100", name="min_attendance_range"),
        sa.CheckConstraint(
            "pass_mark_pct IS NULL OR (pass_mark_pct >= 0 AND pass_mark_pct <= 100)",
            name="pass_mark_range",
        ),
        sa.CheckConstraint(
            "first_tier_co_payment_pct IS NULL OR "
            "(first_tier_co_payment_pct >= 0 AND first_tier_co_payment_pct <= 100)",
            name="first_tier_co_payment_range",
        ),
        sa.CheckConstraint(
            "later_co_payment_pct IS NULL OR "
            "(later_co_payment_pct >= 0 AND later_co_payment_pct <= 100)",
            name="later_co_payment_range",
        ),
        sa.CheckConstraint(
            "fee_share_numerator IS NULL OR (fee_share_numerator >= 0 AND "
            "fee_share_denominator > 0 AND fee_share_numerator <= fee_share_denominator)",
            name="fee_share_range",
        ),
        sa.CheckConstraint("year_starts_month BETWEEN 1 AND 12", name="year_starts_month_range"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    scheme_id: Mapped[int] = mapped_column(sa.ForeignKey("funding_schemes.id"))
    effective_from: Mapped[date]
    # Conditions: the attendance minimum, and whether the class's own rules apply too where
    # stricter (its minimum attendance when higher, and its assessment when it has one).
    min_attendance_pct: Mapped[int] = mapped_column(sa.SmallInteger, default=0)
    class_rules_apply: Mapped[bool] = mapped_column(default=True)
    assessment_required: Mapped[bool] = mapped_column(default=False)
    # The score (out of 100) that passes, where a score is recorded; None: the pass or fail
    # the trainer recorded decides.
    pass_mark_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    # The subsidy.
    subsidy_kind: Mapped[SubsidyKind] = mapped_column(
        enum_column(SubsidyKind, "subsidy_kind"), default=SubsidyKind.NONE
    )
    first_tier_limit: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    first_tier_co_payment_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    later_co_payment_pct: Mapped[Decimal | None] = mapped_column(sa.Numeric(5, 2))
    fee_share_numerator: Mapped[int | None]
    fee_share_denominator: Mapped[int | None]
    person_lifetime_cap: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    company_cap_per_year: Mapped[Decimal | None] = mapped_column(sa.Numeric(12, 2))
    # The first month of the financial year the company cap counts in (4: April to March).
    year_starts_month: Mapped[int] = mapped_column(sa.SmallInteger, default=4)
    # What the scheme publishes about when these figures apply, shown beside them.
    note_en: Mapped[str] = mapped_column(sa.Text, default="")
    note_zh: Mapped[str | None] = mapped_column(sa.Text)
    created_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    scheme: Mapped[FundingScheme] = relationship(back_populates="versions")

    def note(self, locale: str) -> str:
        return self.note_zh if locale.startswith("zh") and self.note_zh else self.note_en

    def __repr__(self) -> str:
        return f"<FundingSchemeVersion {self.scheme_id} from {self.effective_from}>"
