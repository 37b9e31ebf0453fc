"""Where people are signed in: one record per session a sign-in starts."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import Model
from .types import UTCDateTime, utcnow

if TYPE_CHECKING:
    from .users import User


class SignInMethod(enum.StrEnum):
    """How a session began. Stored as a short string, so that new ways of signing in need no
    change to the table."""

    PASSWORD = "password"  # noqa: S105 (a way of signing in, not a password)
    INVITATION = "invitation"
    SSO = "sso"
    TWO_FACTOR = "two_factor"


class UserSession(Model):
    """One signed-in session of a person: a browser on a device, from sign-in until it ends.

    The id Flask-Login keeps in the session and remember-me cookies is the session's secret,
    of which only a hash is kept here: an ended record makes both cookies worthless. A
    session also ends when its holder's ``session_version`` moves past the one it began
    under (every session ended at once), and counts as ended once idle for longer than its
    cookies live (:mod:`skillsup.services.user_sessions`).
    """

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    # SHA-256 of the secret (a random 256-bit value, so a slow hash adds nothing).
    secret_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    # The holder's session_version when it began: bumping that ends it.
    session_version: Mapped[int]
    # How the person signed in: a SignInMethod value.
    method: Mapped[str] = mapped_column(sa.String(20))
    # Whether the person ticked "Remember me": the session outlives the browser's.
    remember: Mapped[bool] = mapped_column(default=False)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Written at most once a minute, with the address and browser seen then.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip_address: Mapped[str | None] = mapped_column(sa.String(45))
    user_agent: Mapped[str | None] = mapped_column(sa.String(255))
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<UserSession {self.id} of user {self.user_id}>"
