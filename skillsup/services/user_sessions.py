"""Where people are signed in: a record per session, which its holder can see and end.

A sign-in starts a session (:func:`start`): a record with a random secret, of which only a
hash is kept, and the secret goes into the session and remember-me cookies as the id
Flask-Login keeps. Each request finds its session by that secret (:func:`find_alive`): a
session that has ended, one begun under an older ``session_version`` of its holder, one idle
for longer than its cookies live, or one whose holder may no longer sign in, finds nobody.

A session is alive while it has not ended and its holder's ``session_version`` is still the
one it began under, and until the later of: its last request plus the session lifetime
(``PERMANENT_SESSION_LIFETIME``, the session cookie's life since the last request), and,
for a remembered session, its start plus ``REMEMBER_COOKIE_DURATION`` (the remember-me
cookie's life, not renewed by use). Ending every session of a person at once
(:func:`end_all`) bumps the version and marks every record ended.

Functions flush but never commit; the caller's unit of work commits, except the time a
session was last seen (:func:`touch`), which the web layer commits at once, before the
request's change, as it does the time an API token was last used.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import ColumnElement, and_, bindparam, delete, or_, select, update
from sqlalchemy.orm import joinedload

from ..extensions import db
from ..models import User, UserSession, utcnow
from . import audit
from .errors import NotFound

#: How often the time, address and browser a session was last seen with are written.
LAST_SEEN_PRECISION = timedelta(minutes=1)
#: How long the record of a session is kept once it has ended.
KEEP_ENDED = timedelta(days=90)
#: The longest User-Agent kept (the column's length).
USER_AGENT_LENGTH = 255
ADDRESS_LENGTH = 45
METHOD_LENGTH = 20


@dataclass(frozen=True)
class NewSession:
    """A session just started, with its secret: the id for Flask-Login to keep."""

    record: UserSession
    secret: str


@dataclass(frozen=True)
class Lifetimes:
    """How long a session lives without a request, and how long a remembered one lives."""

    idle: timedelta
    remembered: timedelta

    @classmethod
    def configured(cls) -> Lifetimes:
        """The application's: its cookies' lives (a session is as alive as its cookies),
        plus the precision of the last-seen time, so that no record counts as ended before
        its cookie expires."""
        config = current_app.config
        return cls(
            idle=config["PERMANENT_SESSION_LIFETIME"] + LAST_SEEN_PRECISION,
            remembered=config["REMEMBER_COOKIE_DURATION"],
        )


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _clip(value: str | None, length: int) -> str | None:
    return value[:length] if value else None


def start(
    user: User,
    *,
    method: str = "password",
    remember: bool = False,
    ip_address: str | None = None,
    user_agent: str | None = None,
    now: datetime | None = None,
) -> NewSession:
    """Start a session of ``user`` under their current ``session_version``, signed in by
    ``method`` (a :class:`~skillsup.models.SignInMethod` value, or another short name for a
    new way of signing in), from ``ip_address`` with ``user_agent`` (cut to its first 255
    characters). Returns the record and its secret, which only the caller ever sees.

    The person's records that ended more than :data:`KEEP_ENDED` ago are deleted on the way
    (:func:`prune`). Raises ``ValueError`` for an empty or overlong method (a mistake in
    the code, not in anyone's input).
    """
    if not method or len(method) > METHOD_LENGTH:
        raise ValueError(f"a sign-in method is a short name, not {method!r}")
    now = now or utcnow()
    prune(user, now=now)
    secret = secrets.token_urlsafe(32)
    record = UserSession(
        user=user,
        secret_hash=hash_secret(secret),
        session_version=user.session_version,
        method=method,
        remember=remember,
        started_at=now,
        last_seen_at=now,
        ip_address=_clip(ip_address, ADDRESS_LENGTH),
        user_agent=_clip(user_agent, USER_AGENT_LENGTH),
    )
    db.session.add(record)
    db.session.flush()
    return NewSession(record, secret)


def _alive_condition(now: datetime, lifetimes: Lifetimes) -> ColumnElement[bool]:
    """The condition of :func:`is_alive` in SQL (joined with the holder's row)."""
    return and_(
        UserSession.ended_at.is_(None),
        UserSession.session_version == User.session_version,
        or_(
            UserSession.last_seen_at > now - lifetimes.idle,
            and_(UserSession.remember, UserSession.started_at > now - lifetimes.remembered),
        ),
    )


def expires_at(record: UserSession, lifetimes: Lifetimes | None = None) -> datetime:
    """When the session counts as ended if no request comes meanwhile."""
    lifetimes = lifetimes or Lifetimes.configured()
    idle_end = record.last_seen_at + lifetimes.idle
    if record.remember:
        return max(idle_end, record.started_at + lifetimes.remembered)
    return idle_end


def is_alive(record: UserSession, now: datetime | None = None) -> bool:
    """Whether the session may still be used: not ended, begun under its holder's current
    ``session_version``, and not idle past its cookies' lives."""
    now = now or utcnow()
    return (
        record.ended_at is None
        and record.session_version == record.user.session_version
        and now < expires_at(record)
    )


#: The loader's one query: the session, its holder and the holder's company (which
#: ``can_log_in`` and most pages read), built once as every signed-in request runs it.
_BY_HASH = (
    select(UserSession)
    .options(joinedload(UserSession.user).joinedload(User.company))
    .where(UserSession.secret_hash == bindparam("secret_hash"))
)


def find_alive(secret: str | None, *, now: datetime | None = None) -> UserSession | None:
    """The live session whose secret this is, with its holder, if the holder may still sign
    in; otherwise ``None`` (no session, ended, idle too long, begun under an older
    ``session_version``, or a holder deactivated, unconfirmed or of an inactive company)."""
    if not secret or len(secret) > 100:
        return None
    record = db.session.scalar(_BY_HASH, {"secret_hash": hash_secret(secret)})
    if record is None or not is_alive(record, now) or not record.user.can_log_in:
        return None
    return record


def touch(
    record: UserSession,
    *,
    ip_address: str | None,
    user_agent: str | None,
    now: datetime | None = None,
) -> bool:
    """Note that ``record`` was used now, from ``ip_address`` with ``user_agent``: written at
    most once per :data:`LAST_SEEN_PRECISION`, so that most requests write nothing. Returns
    whether it wrote (the caller then commits at once: a read has no unit of work to join)."""
    now = now or utcnow()
    if now - record.last_seen_at < LAST_SEEN_PRECISION:
        return False
    db.session.execute(
        update(UserSession)
        .where(UserSession.id == record.id)
        .values(
            last_seen_at=now,
            ip_address=_clip(ip_address, ADDRESS_LENGTH),
            user_agent=_clip(user_agent, USER_AGENT_LENGTH),
        )
    )
    return True


def active_sessions(user: User, *, now: datetime | None = None) -> list[UserSession]:
    """The person's live sessions, the one seen most recently first."""
    now = now or utcnow()
    return list(
        db.session.scalars(
            select(UserSession)
            .join(User, User.id == UserSession.user_id)
            .where(UserSession.user_id == user.id, _alive_condition(now, Lifetimes.configured()))
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def find_own(actor: User, session_id: int) -> UserSession:
    """The actor's own session with this id, alive or not. Raises :class:`NotFound` for
    anyone else's and for none such: another person's sessions are not there."""
    record = db.session.get(UserSession, session_id)
    if record is None or record.user_id != actor.id:
        raise NotFound()
    return record


def end(
    actor: User,
    record: UserSession,
    *,
    current: UserSession | None = None,
    now: datetime | None = None,
) -> bool:
    """End one of the actor's own sessions (the one of another device, or ``current``, which
    is signing out): its cookies find nobody from now on. Returns ``False``, changing
    nothing, when it had ended already (or counts as ended). Raises :class:`NotFound` for a
    session of someone else."""
    if record.user_id != actor.id:
        raise NotFound()
    now = now or utcnow()
    if not is_alive(record, now):
        return False
    record.ended_at = now
    if record is not current:
        audit.record(
            actor,
            "auth.session_ended",
            actor,
            "ended a session on another device",
            {"session": record.id, "started_at": record.started_at.isoformat()},
        )
    db.session.flush()
    return True


def end_others(actor: User, current: UserSession, *, now: datetime | None = None) -> int:
    """End every live session of the actor but ``current`` (this device's), and return how
    many ended (recorded in the audit log when there were any). Raises :class:`NotFound`
    when ``current`` is not the actor's."""
    if current.user_id != actor.id:
        raise NotFound()
    now = now or utcnow()
    others = [record for record in active_sessions(actor, now=now) if record.id != current.id]
    for record in others:
        record.ended_at = now
    if others:
        audit.record(
            actor,
            "auth.other_sessions_ended",
            actor,
            f"ended {len(others)} other session(s)",
            {"sessions": len(others)},
        )
    db.session.flush()
    return len(others)


def end_all(user: User, *, now: datetime | None = None) -> None:
    """End every session of ``user`` on every device: the ``session_version`` moves on (so
    that no cookie of an older session finds anyone, whatever its record says) and every
    record still open is marked ended, so that none shows as active. A new session started
    afterwards (:func:`start`) carries on under the new version."""
    now = now or utcnow()
    user.session_version = (user.session_version or 1) + 1
    db.session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.ended_at.is_(None))
        .values(ended_at=now)
        .execution_options(synchronize_session="fetch")
    )


def prune(user: User, *, now: datetime | None = None) -> int:
    """Delete the person's session records that ended, or stopped being usable by their
    cookies' lives, more than :data:`KEEP_ENDED` ago. Returns how many were deleted."""
    now = now or utcnow()
    cutoff = now - KEEP_ENDED
    lifetimes = Lifetimes.configured()
    idle_before_cutoff = and_(
        UserSession.ended_at.is_(None),
        UserSession.last_seen_at < cutoff - lifetimes.idle,
        or_(~UserSession.remember, UserSession.started_at < cutoff - lifetimes.remembered),
    )
    result = db.session.execute(
        delete(UserSession)
        .where(
            UserSession.user_id == user.id,
            or_(UserSession.ended_at < cutoff, idle_before_cutoff),
        )
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)
