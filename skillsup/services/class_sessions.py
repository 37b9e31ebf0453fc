"""A class's timetable: adding, moving and removing sessions, and weekly series of them.

A session falls on a day within the class's dates, ends after it starts, overlaps no other
session of the class and double-books no trainer or room (:mod:`.schedule_conflicts`); a
session with attendance taken is never removed; a completed or cancelled class's timetable no
longer changes. No session is added or moved into the past (it would start before ``now``)
unless the admin gives a reason (``late_reason``), which is kept in the audit log, the class's
change history. A real change is audited with the old and new times, and the class's confirmed
learners are told by e-mail (written to the outbox in the same transaction). Every function
takes the acting admin and flushes but never commits.

Seeding (the demo) passes the moment its history has reached as ``now``, as it does to the
enrolment services, so that the classes it sets in the past get their sessions as they would
have then.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from ..extensions import db
from ..i18n import fmt_date, fmt_time
from ..models import Attendance, ClassSession, CourseClass, User
from ..timeutil import hk_to_utc, hong_kong_public_holidays, now_utc, to_hk
from . import audit, notify
from .attendance_rate import session_counts_sql, session_hours
from .classes import ClassLocked, check_not_finished, lock_for_change, require_admin
from .errors import DomainError, ValidationFailed
from .schedule_conflicts import Booking, check_bookings

MAX_SERIES_WEEKS = 52


class SessionHasAttendance(DomainError):
    """The session already has attendance records, so removing it would lose them."""

    default_message = _l(
        "Attendance has already been taken for this session, so it cannot be removed. "
        "Edit its date or time instead."
    )


@dataclass(frozen=True)
class SessionData:
    """One session as entered: a Hong Kong day, start and end wall-clock times, a room."""

    day: date
    start_time: time
    end_time: time
    room: str | None = None


@dataclass(frozen=True)
class SeriesSpec:
    """A weekly series of sessions: on ``weekdays`` (0 = Monday) for ``weeks`` weeks from
    ``first_date``, leaving out ``skip_dates`` and, if asked, Hong Kong public holidays."""

    weekdays: frozenset[int]
    start_time: time
    end_time: time
    first_date: date
    weeks: int
    skip_dates: frozenset[date] = frozenset()
    skip_public_holidays: bool = True
    room: str | None = None


@dataclass(frozen=True)
class SessionTimes:
    """A session's place in the timetable, as it was or became."""

    session_id: int
    starts_at: datetime
    ends_at: datetime
    room: str | None

    @classmethod
    def of(cls, session: ClassSession) -> SessionTimes:
        return cls(session.id, session.starts_at, session.ends_at, session.room)

    def describe(self) -> str:
        start, end = to_hk(self.starts_at), to_hk(self.ends_at)
        room = f" in {self.room}" if self.room else ""
        return f"{start:%Y-%m-%d %H:%M}-{end:%H:%M}{room}"


@dataclass(frozen=True)
class ScheduleChange:
    """A change to a class's timetable; its confirmed learners are told by e-mail."""

    action: str
    course_class: CourseClass
    before: tuple[SessionTimes, ...]
    after: tuple[SessionTimes, ...]
    confirmed_learners: int

    @property
    def needs_announcement(self) -> bool:
        return self.confirmed_learners > 0 and self.before != self.after


def hours_run(class_id: int, *, until: datetime) -> Decimal:
    """The contact hours the class ran by ``until``: the sum of the durations of its held
    sessions (not cancelled, and over by then), to one decimal. What a certificate states,
    rather than the course's nominal hours; one query."""
    held = db.session.execute(
        select(ClassSession.starts_at, ClassSession.ends_at).where(
            ClassSession.class_id == class_id,
            session_counts_sql(),
            ClassSession.ends_at <= until,
        )
    ).all()
    total = sum(session_hours(starts_at, ends_at) for starts_at, ends_at in held)
    return Decimal(str(round(total, 1)))


def _announced_change(*args: Any) -> ScheduleChange:
    """The change, after telling the class's confirmed learners about it by e-mail (written to
    the outbox in the same transaction)."""
    change = ScheduleChange(*args)
    if change.needs_announcement:
        notify.schedule_changed(change)
    return change


def _confirmed(course_class: CourseClass) -> int:
    return course_class.seats_taken


def add_session(
    actor: User,
    course_class: CourseClass,
    data: SessionData,
    *,
    late_reason: str | None = None,
    now: datetime | None = None,
) -> ScheduleChange:
    """Add one session to a class.

    It ends after it starts, falls on a day within the class's dates, overlaps no other
    session of the class, double-books none of the class's trainers and not its room
    (:func:`.schedule_conflicts.check_bookings`), and starts after ``now`` unless a
    ``late_reason`` is given. The change is audited with its times (and the reason); the
    returned change tells whether confirmed learners need to hear about it.

    Raises :class:`PermissionDenied`, :class:`ClassLocked`, :class:`ScheduleConflict` and
    :class:`ValidationFailed` (fields ``end_time``, ``day``, ``start_time``, ``room``,
    ``late_reason``).
    """
    require_admin(actor)
    lock_for_change(course_class)
    check_not_finished(course_class)
    starts_at, ends_at = _session_times(course_class, data, exclude=None)
    room = _clean_room(data.room)
    late = _late_reason([(starts_at, ends_at)], late_reason, now)
    check_bookings(course_class, [Booking(starts_at, ends_at, room)])
    session = ClassSession(starts_at=starts_at, ends_at=ends_at, room=room)
    course_class.sessions.append(session)
    db.session.flush()
    after = SessionTimes.of(session)
    audit.record(
        actor,
        "session.added",
        course_class,
        _with_late_reason(f"added session {after.describe()}", late),
        {
            "session_id": session.id,
            "new": _times_detail(after),
            "confirmed_learners": _confirmed(course_class),
            **({"late_reason": late} if late else {}),
        },
    )
    return _announced_change("session.added", course_class, (), (after,), _confirmed(course_class))


def update_session(
    actor: User,
    session: ClassSession,
    data: SessionData,
    *,
    late_reason: str | None = None,
    now: datetime | None = None,
) -> ScheduleChange:
    """Move a session or change its room; the rules of :func:`add_session` apply to its new
    times and room. Moving a session to a time that starts before ``now``, or changing the
    room of one that has started, needs a ``late_reason``.

    A real change bumps the session's ``sequence`` (so calendar entries update in place)
    and is audited with the old and new times; no change records nothing.

    Raises :class:`PermissionDenied`, :class:`ClassLocked`, :class:`ScheduleConflict` and
    :class:`ValidationFailed`.
    """
    require_admin(actor)
    course_class = session.course_class
    lock_for_change(course_class)
    check_not_finished(course_class)
    starts_at, ends_at = _session_times(course_class, data, exclude=session)
    before = SessionTimes.of(session)
    room = _clean_room(data.room)
    if (starts_at, ends_at, room) == (session.starts_at, session.ends_at, session.room):
        return _announced_change(
            "session.updated", course_class, (before,), (before,), _confirmed(course_class)
        )
    late = _late_reason([(starts_at, ends_at)], late_reason, now)
    check_bookings(
        course_class, [Booking(starts_at, ends_at, room)], exclude_session_ids=[session.id]
    )
    session.starts_at, session.ends_at, session.room = starts_at, ends_at, room
    session.sequence = (session.sequence or 0) + 1
    db.session.flush()
    after = SessionTimes.of(session)
    audit.record(
        actor,
        "session.updated",
        course_class,
        _with_late_reason(f"moved session {before.describe()} to {after.describe()}", late),
        {
            "session_id": session.id,
            "old": _times_detail(before),
            "new": _times_detail(after),
            "confirmed_learners": _confirmed(course_class),
            **({"late_reason": late} if late else {}),
        },
    )
    return _announced_change(
        "session.updated", course_class, (before,), (after,), _confirmed(course_class)
    )


def removal_refusal(session: ClassSession) -> DomainError | None:
    """Why ``session`` cannot be removed (its class is finished, or attendance is recorded
    for it: edit it instead), or ``None``."""
    try:
        check_not_finished(session.course_class)
    except ClassLocked as locked:
        return locked
    if db.session.scalar(select(exists().where(Attendance.session_id == session.id))):
        return SessionHasAttendance()
    return None


@dataclass
class RemovalPreview:
    """What :func:`remove_session` would do now: whether it may, and how many confirmed
    learners it tells of the change by e-mail."""

    session: ClassSession
    refusal: DomainError | None
    learners_told: int


def removal_preview(session: ClassSession) -> RemovalPreview:
    """What removing ``session`` now would do, for its confirmation page. Changes nothing."""
    return RemovalPreview(session, removal_refusal(session), _confirmed(session.course_class))


def remove_session(actor: User, session: ClassSession) -> ScheduleChange:
    """Remove a session that has no attendance records yet; the class's confirmed learners
    are told of the change by e-mail.

    Raises :class:`PermissionDenied`, :class:`ClassLocked` and
    :class:`SessionHasAttendance` (edit the session instead).
    """
    require_admin(actor)
    course_class = session.course_class
    lock_for_change(course_class)
    refusal = removal_refusal(session)
    if refusal is not None:
        raise refusal
    before = SessionTimes.of(session)
    course_class.sessions.remove(session)
    db.session.flush()
    audit.record(
        actor,
        "session.removed",
        course_class,
        f"removed session {before.describe()}",
        {
            "session_id": before.session_id,
            "old": _times_detail(before),
            "confirmed_learners": _confirmed(course_class),
        },
    )
    return _announced_change(
        "session.removed", course_class, (before,), (), _confirmed(course_class)
    )


def series_dates(
    first_date: date,
    weekdays: Iterable[int],
    weeks: int,
    skip: set[date] | frozenset[date] = frozenset(),
    skip_public_holidays: bool = False,
) -> list[date]:
    """The days of a weekly series: each day from ``first_date`` for ``weeks`` weeks (that
    is, up to ``first_date + 7 * weeks - 1``) whose weekday (0 = Monday) is in ``weekdays``,
    leaving out the days in ``skip`` and, if asked, Hong Kong public holidays. Skipped days
    are left out, not made up at the end."""
    wanted = set(weekdays)
    days = [first_date + timedelta(days=offset) for offset in range(7 * max(weeks, 0))]
    days = [day for day in days if day.weekday() in wanted and day not in skip]
    if skip_public_holidays and days:
        public_holidays = hong_kong_public_holidays(days[0].year, days[-1].year)
        days = [day for day in days if day not in public_holidays]
    return days


def generate_sessions(
    actor: User,
    course_class: CourseClass,
    spec: SeriesSpec,
    *,
    late_reason: str | None = None,
    now: datetime | None = None,
) -> ScheduleChange:
    """Add a weekly series of sessions (see :func:`series_dates`).

    At least one weekday; 1 to 52 weeks; each session ends after it starts, falls within
    the class's dates, overlaps no existing session, double-books no trainer or room (all
    checked in one query) and starts after ``now`` unless a ``late_reason`` is given. Either
    every session of the series is added or none.

    Raises :class:`PermissionDenied`, :class:`ClassLocked`, :class:`ScheduleConflict` and
    :class:`ValidationFailed` (fields ``weekdays``, ``weeks``, ``end_time``, ``first_date``,
    ``start_time``, ``room``, ``late_reason``).
    """
    require_admin(actor)
    lock_for_change(course_class)
    check_not_finished(course_class)
    weekdays = set(spec.weekdays)
    if not weekdays:
        raise ValidationFailed(_l("Choose at least one day of the week."), field="weekdays")
    if not weekdays <= set(range(7)):
        raise ValidationFailed(_l("Choose days of the week from the list."), field="weekdays")
    if not 1 <= spec.weeks <= MAX_SERIES_WEEKS:
        raise ValidationFailed(
            _l("The number of weeks is from 1 to %(max)s.", max=MAX_SERIES_WEEKS), field="weeks"
        )
    if spec.end_time <= spec.start_time:
        raise ValidationFailed(_l("The sessions must end after they start."), field="end_time")
    days = series_dates(
        spec.first_date, weekdays, spec.weeks, set(spec.skip_dates), spec.skip_public_holidays
    )
    if not days:
        raise ValidationFailed(
            _l("No day is left in this series once the skipped days are left out."),
            field="first_date",
        )
    if days[0] < course_class.starts_on:
        raise ValidationFailed(
            _l(
                "The class starts on %(day)s: the series cannot begin before that.",
                day=fmt_date(course_class.starts_on),
            ),
            field="first_date",
        )
    if days[-1] > course_class.ends_on:
        raise ValidationFailed(
            _l(
                "The series would run to %(last)s, after the class ends on %(end)s: "
                "use fewer weeks or change the class's end date.",
                last=fmt_date(days[-1]),
                end=fmt_date(course_class.ends_on),
            ),
            field="weeks",
        )
    room = _clean_room(spec.room)
    new_sessions = []
    for day in days:
        starts_at, ends_at = _session_times(
            course_class, SessionData(day, spec.start_time, spec.end_time), exclude=None
        )
        new_sessions.append(ClassSession(starts_at=starts_at, ends_at=ends_at, room=room))
    late = _late_reason([(s.starts_at, s.ends_at) for s in new_sessions], late_reason, now)
    check_bookings(course_class, [Booking(s.starts_at, s.ends_at, room) for s in new_sessions])
    course_class.sessions.extend(new_sessions)
    db.session.flush()
    after = tuple(SessionTimes.of(s) for s in new_sessions)
    audit.record(
        actor,
        "sessions.generated",
        course_class,
        _with_late_reason(
            f"added {len(after)} sessions from {days[0].isoformat()} to {days[-1].isoformat()}",
            late,
        ),
        {
            "session_ids": [t.session_id for t in after],
            "new": [_times_detail(t) for t in after],
            "weekdays": sorted(weekdays),
            "weeks": spec.weeks,
            "skipped": sorted(d.isoformat() for d in spec.skip_dates),
            "skip_public_holidays": spec.skip_public_holidays,
            "confirmed_learners": _confirmed(course_class),
            **({"late_reason": late} if late else {}),
        },
    )
    return _announced_change(
        "sessions.generated", course_class, (), after, _confirmed(course_class)
    )


def _late_reason(
    times: Sequence[tuple[datetime, datetime]], reason: str | None, now: datetime | None
) -> str | None:
    """The admin's reason, cleaned, when a session would start before ``now``; ``None`` when
    none does. :class:`ValidationFailed` (field ``late_reason``) when one does and no reason
    is given."""
    now = now or now_utc()
    past = [starts_at for starts_at, _ in times if starts_at < now]
    if not past:
        return None
    cleaned = (reason or "").strip()
    if not cleaned:
        first = min(past)
        raise ValidationFailed(
            _l(
                "The session on %(day)s at %(time)s would be in the past. Give a reason to "
                "change the timetable afterwards; it is kept in the class's history.",
                day=fmt_date(first),
                time=fmt_time(first),
            ),
            field="late_reason",
        )
    if len(cleaned) > 500:
        raise ValidationFailed(_l("A reason has at most 500 characters."), field="late_reason")
    return cleaned


def _with_late_reason(summary: str, late_reason: str | None) -> str:
    return f"{summary} (in the past: {late_reason})" if late_reason else summary


def _clean_room(room: str | None) -> str | None:
    cleaned = (room or "").strip() or None
    if cleaned is not None and len(cleaned) > 120:
        raise ValidationFailed(_l("A room has at most 120 characters."), field="room")
    return cleaned


def _session_times(
    course_class: CourseClass, data: SessionData, exclude: ClassSession | None
) -> tuple[datetime, datetime]:
    """The UTC start and end of a session as entered, checked against the class."""
    if data.end_time <= data.start_time:
        raise ValidationFailed(_l("The session must end after it starts."), field="end_time")
    if not course_class.starts_on <= data.day <= course_class.ends_on:
        raise ValidationFailed(
            _l(
                "The class runs from %(start)s to %(end)s: choose a day in that range.",
                start=fmt_date(course_class.starts_on),
                end=fmt_date(course_class.ends_on),
            ),
            field="day",
        )
    starts_at = hk_to_utc(data.day, data.start_time)
    ends_at = hk_to_utc(data.day, data.end_time)
    for other in course_class.sessions:
        if other is exclude or other.is_cancelled:
            continue
        if starts_at < other.ends_at and other.starts_at < ends_at:
            raise ValidationFailed(
                _l(
                    "This overlaps the session on %(day)s from %(start)s to %(end)s.",
                    day=fmt_date(other.starts_at),
                    start=fmt_time(other.starts_at),
                    end=fmt_time(other.ends_at),
                ),
                field="start_time",
            )
    return starts_at, ends_at


def _times_detail(times: SessionTimes) -> dict[str, Any]:
    return {
        "starts_at": to_hk(times.starts_at).isoformat(timespec="minutes"),
        "ends_at": to_hk(times.ends_at).isoformat(timespec="minutes"),
        "room": times.room,
    }
