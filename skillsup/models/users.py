"""Users: learners and HR officers of partner companies, trainers and admins of the institute."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship, validates

from ..extensions import Model
from .types import UTCDateTime, enum_column, utcnow

if TYPE_CHECKING:
    from .companies import PartnerCompany


class Role(enum.StrEnum):
    LEARNER = "learner"
    HR = "hr"
    TRAINER = "trainer"
    ADMIN = "admin"


COMPANY_ROLES = (Role.LEARNER, Role.HR)


class StaffStatus(enum.StrEnum):
    """An account's state, as lists of people show it (see :attr:`User.staff_status`)."""

    ACTIVE = "active"
    #: Invited, but no password set yet.
    INVITED = "invited"
    DEACTIVATED = "deactivated"


class User(Model):
    __tablename__ = "users"
    __table_args__ = (
        # Addresses are stored lower-case, so the unique constraint ignores case.
        sa.CheckConstraint("email = lower(email)", name="email_lowercase"),
        sa.CheckConstraint("pending_email = lower(pending_email)", name="pending_email_lowercase"),
        sa.CheckConstraint(
            "(role IN ('learner', 'hr') AND company_id IS NOT NULL)"
            " OR (role IN ('trainer', 'admin') AND company_id IS NULL)",
            name="company_matches_role",
        ),
        sa.CheckConstraint("session_version >= 1", name="session_version_positive"),
        sa.UniqueConstraint("company_id", "staff_number"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    role: Mapped[Role] = mapped_column(enum_column(Role, "user_role"), index=True)
    company_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("partner_companies.id"), index=True
    )
    staff_number: Mapped[str | None] = mapped_column(sa.String(50))
    department: Mapped[str | None] = mapped_column(sa.String(120))
    job_title: Mapped[str | None] = mapped_column(sa.String(120))
    is_active: Mapped[bool] = mapped_column(default=True)
    preferred_language: Mapped[str | None] = mapped_column(sa.String(16))
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    # Bumped to end every session of the user: each session records the version it began
    # under, and one begun under an older version finds nobody (services/user_sessions.py).
    session_version: Mapped[int] = mapped_column(default=1)
    email_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A new address an admin has asked for: it replaces ``email`` only once its owner follows
    # the link sent to it (see services/people.py); until then the old address stays in use.
    pending_email: Mapped[str | None] = mapped_column(sa.String(254))
    invited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    invited_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deactivated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The secret in the user's private calendar feed URL; resetting it kills the old URL.
    calendar_token: Mapped[str | None] = mapped_column(sa.String(64), unique=True, index=True)
    # Optional e-mail; decisions (confirmations, rejections, cancellations, resets) always go.
    wants_reminders: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    wants_attendance_warnings: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    # Continuing Education Fund subsidy the learner has had from courses elsewhere, as they
    # entered it (None: not entered); CEF estimates count it as used.
    cef_subsidy_used_elsewhere: Mapped[Decimal | None] = mapped_column(sa.Numeric(10, 2))
    # Two-factor sign-in (skillsup.services.two_factor): the TOTP key, sealed
    # (skillsup.services.sealed); set but not yet confirmed while setting it up.
    totp_key_sealed: Mapped[str | None] = mapped_column(sa.String(255))
    # When two-factor sign-in was turned on (its setup confirmed); None: off.
    two_factor_enabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # The last 30-second time step whose code was accepted: a code of that step or an earlier
    # one is refused, so that a code seen over someone's shoulder cannot be used again.
    totp_last_step: Mapped[int | None] = mapped_column(sa.BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    company: Mapped[PartnerCompany | None] = relationship(
        back_populates="staff", active_history=True
    )
    invited_by: Mapped[User | None] = relationship(remote_side=[id])

    @validates("email")
    def _normalise_email(self, _key: str, value: str) -> str:
        return normalise_email(value)

    @validates("pending_email")
    def _normalise_pending_email(self, _key: str, value: str | None) -> str | None:
        return normalise_email(value) if value is not None else None

    @property
    def two_factor_enabled(self) -> bool:
        """Whether the person is asked for a one-time code after their password."""
        return self.two_factor_enabled_at is not None and self.totp_key_sealed is not None

    @property
    def invitation_pending(self) -> bool:
        """Invited, and the invitation not yet accepted (no password set, and the address not
        confirmed by signing in through the company's identity provider either)."""
        return self.invited_at is not None and self.is_awaiting_first_sign_in

    @property
    def is_awaiting_first_sign_in(self) -> bool:
        """Neither a password nor a confirmed address yet: an invitation not yet accepted.
        Someone who signs in through their company's identity provider has a confirmed
        address and may have no portal password."""
        return self.password_hash is None and self.email_confirmed_at is None

    # Flask-Login's user protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        """The id Flask-Login keeps in the session and remember-me cookies: the secret of the
        session this request is signed in under (:attr:`session_key`), which identifies its
        record (:mod:`skillsup.services.user_sessions`). Raises ``RuntimeError`` when no
        session has been started or found for this user."""
        key = self.session_key
        if key is None:
            raise RuntimeError("no session: start one (user_sessions.start) before login_user")
        return key

    # Kept in the instance's dictionary rather than a column: SQLAlchemy maps annotated
    # attributes, and this one is never stored (only a hash of it is, in user_sessions).
    @property
    def session_key(self) -> str | None:
        """The secret of the session this request is signed in under, if any."""
        key = self.__dict__.get("_session_key")
        return key if isinstance(key, str) else None

    @session_key.setter
    def session_key(self, value: str | None) -> None:
        self.__dict__["_session_key"] = value

    @property
    def can_log_in(self) -> bool:
        return (
            self.is_active
            # A password, or an address the company's identity provider confirmed.
            and self.email_confirmed_at is not None
            and (self.company is None or self.company.is_active)
        )

    def __repr__(self) -> str:
        return f"<User {self.email} {self.role.value}>"


def normalise_email(value: str) -> str:
    return value.strip().lower()
