"""iCalendar feeds: a person's confirmed sessions, and one class's sessions.

Times are written in Asia/Hong_Kong with its VTIMEZONE. Each session keeps the same UID for
life, and its SEQUENCE grows with every change, so a calendar updates the entry in place;
a cancelled session stays in the feed marked CANCELLED so that calendars remove it.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import Iterable

from flask import current_app
from icalendar import Calendar, Event, Timezone
from sqlalchemy import select
from sqlalchemy.orm import Session, joinedload

from ..extensions import db
from ..models import (
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    Role,
    User,
    class_trainers,
    utcnow,
)
from ..timeutil import HONG_KONG, to_hk
from . import audit

PRODUCT_ID = "-//SkillsUp//Portal//EN"


def reset_token(user: User) -> str:
    """Give the user a new feed URL; the old one stops working at once."""
    user.calendar_token = secrets.token_urlsafe(32)
    audit.record(user, "calendar.token_reset", user, "reset the calendar feed address")
    return user.calendar_token


def user_for_token(token: str) -> User | None:
    if not token or len(token) > 64:
        return None
    user = db.session.scalar(select(User).where(User.calendar_token == token))
    if user is None or not user.is_active:
        return None
    return user


def _domain() -> str:
    return str(current_app.config.get("CALENDAR_UID_DOMAIN") or "skillsup.portal")


def session_uid(session: ClassSession) -> str:
    return f"session-{session.id}@{_domain()}"


def _calendar(name: str) -> Calendar:
    calendar = Calendar()
    calendar.add("prodid", PRODUCT_ID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", "Asia/Hong_Kong")
    return calendar


def _event(session: ClassSession, course_class: CourseClass, cancelled: bool) -> Event:
    course = course_class.course
    event = Event()
    event.add("uid", session_uid(session))
    event.add("dtstamp", utcnow())
    event.add("last-modified", session.updated_at)
    event.add("sequence", session.sequence)
    event.add("dtstart", to_hk(session.starts_at))
    event.add("dtend", to_hk(session.ends_at))
    event.add("summary", f"{course.title_en} ({course_class.code})")
    location = session.room or course_class.venue or course_class.online_url or ""
    if location:
        event.add("location", location)
    details = [course.code, course.title_en]
    if course.title_zh:
        details.append(course.title_zh)
    if course_class.online_url:
        details.append(course_class.online_url)
        event.add("url", course_class.online_url)
    event.add("description", "\n".join(details))
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


@functools.cache
def _hong_kong_timezone() -> Timezone:
    """Hong Kong's VTIMEZONE, worked out once per process: it costs ten times the rest of a
    class's calendar, and every event's times are in this zone."""
    return Timezone.from_tzid(HONG_KONG.key)


def _build(name: str, rows: Iterable[tuple[ClassSession, CourseClass]]) -> bytes:
    calendar = _calendar(name)
    for session, course_class in rows:
        cancelled = session.is_cancelled or course_class.status == ClassStatus.CANCELLED
        calendar.add_component(_event(session, course_class, cancelled))
    if calendar.get_missing_tzids():
        calendar.subcomponents.insert(0, _hong_kong_timezone())
    calendar.add_missing_timezones()  # any other zone, should an event ever use one
    return bytes(calendar.to_ical())


def feed_for(user: User) -> bytes:
    """Every session of the classes the user is confirmed in (learners) or teaches
    (trainers), in one query."""
    statement = (
        select(ClassSession, CourseClass)
        .join(CourseClass, ClassSession.class_id == CourseClass.id)
        .options(joinedload(CourseClass.course))
        .order_by(ClassSession.starts_at)
    )
    if user.role == Role.TRAINER:
        statement = statement.join(
            class_trainers, class_trainers.c.class_id == CourseClass.id
        ).where(class_trainers.c.trainer_id == user.id)
    else:
        statement = statement.join(Enrolment, Enrolment.class_id == CourseClass.id).where(
            Enrolment.learner_id == user.id,
            Enrolment.status.in_((EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED)),
        )
    rows = db.session.execute(statement).all()
    return _build(f"SkillsUp: {user.name}", [(s, c) for s, c in rows])


def class_calendar(course_class: CourseClass, session: Session | None = None) -> bytes:
    """The sessions of one class, for a download or an e-mail attachment (read through
    ``session``, by default the request's)."""
    rows = (
        (session or db.session())
        .scalars(
            select(ClassSession)
            .where(ClassSession.class_id == course_class.id)
            .order_by(ClassSession.starts_at)
        )
        .all()
    )
    return _build(f"SkillsUp: {course_class.code}", [(s, course_class) for s in rows])
