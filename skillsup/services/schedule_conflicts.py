"""Double bookings: a trainer or a room in two classes at the same time.

A session may not overlap a session of another class that shares one of its class's trainers,
or that is held in the same room. Intervals are half-open: a session ending at 12:00 and
another starting at 12:00 do not overlap. Cancelled sessions and the sessions of cancelled
classes book nothing. A room counts only when it is a place: a session of an online live
course, or one whose room is empty or named as online (:data:`ONLINE_ROOM_NAMES`), books no
room (:func:`books_room`, the one home of that rule). Rooms are compared without case and
surrounding spaces.

The check runs in one query however many sessions are booked (:func:`check_bookings`). On
PostgreSQL two admins booking the same trainer or room at once are serialised by a
transaction-level advisory lock per trainer and per room, taken in a fixed order before the
check and held until the commit (:func:`lock_resources`); on SQLite every write transaction
holds the database's write lock from its start, which serialises them already.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import and_, func, or_, select, text

from ..extensions import db
from ..i18n import fmt_date, fmt_time
from ..models import (
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    DeliveryMode,
    User,
    class_trainers,
)
from .errors import ValidationFailed

#: Room names that mean the session is held online (compared without case or surrounding
#: spaces): such a session books no room.
ONLINE_ROOM_NAMES = frozenset({"online", "網上", "网上"})


class ScheduleConflict(ValidationFailed):
    """A session would double-book a trainer or a room; the message names the other class
    and its time."""


@dataclass(frozen=True)
class Booking:
    """A session to be booked: its UTC start and end, and its room as entered."""

    starts_at: datetime
    ends_at: datetime
    room: str | None = None


def room_key(room: str | None) -> str | None:
    """The room as compared between sessions (lower case, without surrounding spaces), or
    ``None`` for an empty room or one named as online."""
    key = (room or "").strip().lower()
    if not key or key in ONLINE_ROOM_NAMES:
        return None
    return key


def books_room(delivery_mode: DeliveryMode, room: str | None) -> bool:
    """Whether a session in ``room`` of a course taught in ``delivery_mode`` takes up a
    room: not when the course is online live, the room is empty or it is named as online."""
    return delivery_mode is not DeliveryMode.ONLINE_LIVE and room_key(room) is not None


def lock_resources(trainer_ids: Iterable[int], room_keys: Iterable[str]) -> None:
    """On PostgreSQL, take a transaction-level advisory lock on each trainer and room, in one
    fixed order (sorted by name) so that two transactions never wait on each other in a
    circle. Held until the commit or rollback. Nothing to do on SQLite (see the module)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    names = sorted(
        {f"trainer:{trainer_id}" for trainer_id in trainer_ids}
        | {f"room:{key}" for key in room_keys}
    )
    for name in names:
        db.session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def check_bookings(
    course_class: CourseClass,
    bookings: Sequence[Booking],
    *,
    trainer_ids: Iterable[int] | None = None,
    check_rooms: bool = True,
    delivery_mode: DeliveryMode | None = None,
    exclude_session_ids: Iterable[int] = (),
    trainer_field: str = "start_time",
) -> None:
    """Refuse ``bookings`` (new or moved sessions of ``course_class``) that overlap a session
    of another, not cancelled, class with one of the trainers in ``trainer_ids`` (the class's
    own by default) or, with ``check_rooms``, in the same room (unless the sessions book no
    room, see :func:`books_room`; ``delivery_mode`` is the class's course's unless given).
    Locks the trainers and rooms first (:func:`lock_resources`), then
    checks in one query; the sessions in ``exclude_session_ids`` are left out.

    Raises :class:`ScheduleConflict` naming the other class and its time: on the field
    ``trainer_field`` for a trainer, on ``room`` for a room.
    """
    if not bookings:
        return
    if trainer_ids is None:
        trainer_ids = [trainer.id for trainer in course_class.trainers]
    trainers = sorted(set(trainer_ids))
    mode = delivery_mode or course_class.course.delivery_mode
    rooms = sorted(
        {key for b in bookings if books_room(mode, b.room) and (key := room_key(b.room))}
        if check_rooms
        else set()
    )
    if not trainers and not rooms:
        return
    lock_resources(trainers, rooms)

    other_room = func.lower(func.trim(ClassSession.room))
    statement = (
        select(
            CourseClass.code,
            ClassSession.starts_at,
            ClassSession.ends_at,
            ClassSession.room,
            Course.delivery_mode,
            User.name,
        )
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .join(Course, CourseClass.course_id == Course.id)
        .outerjoin(
            class_trainers,
            and_(
                class_trainers.c.class_id == CourseClass.id,
                class_trainers.c.trainer_id.in_(trainers),
            ),
        )
        .outerjoin(User, User.id == class_trainers.c.trainer_id)
        .where(
            CourseClass.status != ClassStatus.CANCELLED,
            ClassSession.is_cancelled.is_(False),
            # The whole span first, which the index on starts_at serves; then each session.
            ClassSession.starts_at < max(b.ends_at for b in bookings),
            ClassSession.ends_at > min(b.starts_at for b in bookings),
            or_(
                *(
                    and_(ClassSession.starts_at < b.ends_at, ClassSession.ends_at > b.starts_at)
                    for b in bookings
                )
            ),
            or_(
                class_trainers.c.trainer_id.is_not(None),
                and_(Course.delivery_mode != DeliveryMode.ONLINE_LIVE, other_room.in_(rooms)),
            ),
        )
        .order_by(ClassSession.starts_at, CourseClass.code, User.name)
    )
    if course_class.id is not None:
        statement = statement.where(CourseClass.id != course_class.id)
    excluded = list(exclude_session_ids)
    if excluded:
        statement = statement.where(ClassSession.id.not_in(excluded))
    for code, starts_at, ends_at, room, other_mode, trainer_name in db.session.execute(statement):
        for booking in bookings:
            if not (starts_at < booking.ends_at and booking.starts_at < ends_at):
                continue
            if trainer_name is not None:
                raise ScheduleConflict(
                    _l(
                        "%(trainer)s already teaches %(code)s on %(day)s from %(start)s to "
                        "%(end)s.",
                        trainer=trainer_name,
                        **_when(code, starts_at, ends_at),
                    ),
                    field=trainer_field,
                )
            key = room_key(booking.room)
            if key in rooms and books_room(other_mode, room) and room_key(room) == key:
                raise ScheduleConflict(
                    _l(
                        "%(room)s is booked for %(code)s on %(day)s from %(start)s to %(end)s.",
                        room=(room or "").strip(),
                        **_when(code, starts_at, ends_at),
                    ),
                    field="room",
                )


def _when(code: str, starts_at: datetime, ends_at: datetime) -> dict[str, Any]:
    return {
        "code": code,
        "day": fmt_date(starts_at),
        "start": fmt_time(starts_at),
        "end": fmt_time(ends_at),
    }
