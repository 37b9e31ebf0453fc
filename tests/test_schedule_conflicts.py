"""A trainer or a room is never booked for two classes at the same time."""

from __future__ import annotations

import threading
import time as clock
from collections.abc import Iterator
from datetime import date, time, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.i18n import fmt_date
from skillsup.models import ClassSession, ClassStatus, CourseClass, DeliveryMode, User
from skillsup.services import class_sessions
from skillsup.services import classes as class_service
from skillsup.services.class_sessions import SeriesSpec, SessionData
from skillsup.services.classes import ClassData
from skillsup.services.schedule_conflicts import ScheduleConflict, books_room, room_key
from skillsup.timeutil import hk_to_utc, today_hk

from .queries import recorded_statements

DAY = today_hk() + timedelta(days=40)


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    with app.test_request_context("/"):
        yield


def booked_class(
    make: Any,
    *,
    trainers: list[User] | None = None,
    room: str | None = "Room 301",
    start: time = time(10, 0),
    end: time = time(13, 0),
    **fields: Any,
) -> CourseClass:
    """A class on DAY with one session from ``start`` to ``end`` (Hong Kong time)."""
    course_class = make.course_class(
        trainers=trainers or [], starts_on=DAY, ends_on=DAY + timedelta(days=30), **fields
    )
    course_class.sessions.append(
        ClassSession(starts_at=hk_to_utc(DAY, start), ends_at=hk_to_utc(DAY, end), room=room)
    )
    db.session.commit()
    return course_class


def empty_class(make: Any, **fields: Any) -> CourseClass:
    fields.setdefault("trainers", [])
    fields.setdefault("ends_on", DAY + timedelta(days=30))
    return make.course_class(starts_on=DAY, **fields)


def sessions_of(course_class: CourseClass) -> int:
    return (
        db.session.scalar(select(func.count()).where(ClassSession.class_id == course_class.id)) or 0
    )


def test_a_trainer_cannot_teach_two_classes_at_once(admin, make, trainer):
    other = booked_class(make, trainers=[trainer], room="Room 301")
    ours = empty_class(make, trainers=[trainer])
    with pytest.raises(ScheduleConflict) as refused:
        class_sessions.add_session(
            admin, ours, SessionData(DAY, time(12, 0), time(14, 0), "Room 9")
        )
    message = str(refused.value.message)
    assert trainer.name in message and other.code in message
    assert f"{fmt_date(DAY, locale='en')} from 10:00 to 13:00" in message
    assert refused.value.field == "start_time"
    db.session.rollback()
    assert sessions_of(ours) == 0


def test_a_room_cannot_hold_two_classes_at_once(admin, make):
    other = booked_class(make, room="Room 301")
    ours = empty_class(make)
    with pytest.raises(ScheduleConflict) as refused:
        # The same room however it is typed.
        class_sessions.add_session(
            admin, ours, SessionData(DAY, time(9, 0), time(10, 30), "  ROOM 301 ")
        )
    assert refused.value.field == "room"
    assert other.code in str(refused.value.message)
    assert "Room 301" in str(refused.value.message)


def test_online_rooms_and_online_courses_book_no_room(admin, make):
    booked_class(make, room="Online")
    booked_class(make, room="網上")
    online_course = make.course(delivery_mode=DeliveryMode.ONLINE_LIVE)
    booked_class(make, room="Room 500", course=online_course)
    ours = empty_class(make)
    for room in ("online", "網上", None, "Room 500"):
        class_sessions.add_session(admin, ours, SessionData(DAY, time(11, 0), time(12, 0), room))
        db.session.rollback()
    assert books_room(DeliveryMode.ON_CAMPUS, "Room 1")
    assert not books_room(DeliveryMode.ONLINE_LIVE, "Room 1")
    assert room_key("  Online ") is None and room_key("") is None


def test_back_to_back_sessions_share_a_trainer_and_a_room(admin, make, trainer):
    booked_class(make, trainers=[trainer], room="Room 301")
    ours = empty_class(make, trainers=[trainer])
    class_sessions.add_session(admin, ours, SessionData(DAY, time(13, 0), time(15, 0), "Room 301"))
    class_sessions.add_session(admin, ours, SessionData(DAY, time(8, 0), time(10, 0), "Room 301"))
    db.session.commit()
    assert sessions_of(ours) == 2


def test_a_cancelled_class_or_session_books_nothing(admin, make, trainer):
    booked_class(make, trainers=[trainer], status=ClassStatus.CANCELLED)
    other = booked_class(make, trainers=[trainer], start=time(14, 0), end=time(16, 0))
    other.sessions[0].is_cancelled = True
    db.session.commit()
    ours = empty_class(make, trainers=[trainer])
    class_sessions.add_session(admin, ours, SessionData(DAY, time(10, 0), time(16, 0), "Room 301"))
    db.session.commit()
    assert sessions_of(ours) == 1


def test_a_session_moved_onto_a_booked_trainer_is_refused(admin, make, trainer):
    other = booked_class(make, trainers=[trainer], room="Room 301")
    ours = booked_class(make, trainers=[trainer], room="Room 9", start=time(14), end=time(16))
    session = ours.sessions[0]
    with pytest.raises(ScheduleConflict, match=other.code):
        class_sessions.update_session(
            admin, session, SessionData(DAY, time(11, 0), time(12, 0), "Room 9")
        )
    db.session.rollback()
    # Moving within its own free time is fine: the session does not clash with itself.
    class_sessions.update_session(admin, session, SessionData(DAY, time(13), time(17), "Room 9"))
    db.session.commit()


def test_a_series_that_would_double_book_adds_nothing(admin, make):
    other = booked_class(make, room="Lab 2")
    ours = empty_class(make)
    spec = SeriesSpec(
        weekdays=frozenset({DAY.weekday()}),
        start_time=time(12, 0),
        end_time=time(14, 0),
        first_date=DAY - timedelta(days=0),
        weeks=3,
        skip_public_holidays=False,
        room="lab 2",
    )
    with pytest.raises(ScheduleConflict, match=other.code):
        class_sessions.generate_sessions(admin, ours, spec)
    db.session.rollback()
    assert sessions_of(ours) == 0


def _class_data(course_class: CourseClass, **changes: Any) -> ClassData:
    fields: dict[str, Any] = {
        "course_id": course_class.course_id,
        "code": course_class.code,
        "capacity": course_class.capacity,
        "starts_on": course_class.starts_on,
        "ends_on": course_class.ends_on,
        "enrolment_opens_at": course_class.enrolment_opens_at,
        "enrolment_closes_at": course_class.enrolment_closes_at,
        "withdrawal_deadline_at": min(
            course_class.withdrawal_deadline_at, hk_to_utc(course_class.starts_on, time(0))
        ),
        "trainer_ids": [t.id for t in course_class.trainers],
        "venue": course_class.venue,
        "online_url": course_class.online_url,
    }
    fields.update(changes)
    return ClassData(**fields)


def test_a_trainer_assigned_to_a_class_must_be_free_for_its_sessions(admin, make, trainer):
    other = booked_class(make, trainers=[trainer], room="Room 301")
    ours = booked_class(make, room="Room 9", start=time(12), end=time(15))
    with pytest.raises(ScheduleConflict) as refused:
        class_service.update_class(admin, ours, _class_data(ours, trainer_ids=[trainer.id]))
    assert refused.value.field == "trainer_ids"
    assert other.code in str(refused.value.message)
    db.session.rollback()
    free = make.user(role="trainer")
    class_service.update_class(admin, ours, _class_data(ours, trainer_ids=[free.id]))
    db.session.commit()


def test_the_session_page_shows_a_double_booking_on_its_field(client, login_as, admin, make):
    other = booked_class(make, room="Room 301")
    ours = empty_class(make)
    login_as(admin)
    response = client.post(
        f"/admin/classes/{ours.id}/sessions",
        data={
            "session-day": DAY.isoformat(),
            "session-start_time": "11:00",
            "session-end_time": "12:00",
            "session-room": "Room 301",
        },
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert f"is booked for {other.code} on {fmt_date(DAY, locale='en')} from 10:00 to 13:00" in page
    assert sessions_of(ours) == 0


# Two admins at once -------------------------------------------------------------------------


@pytest.mark.parametrize("what", ["trainer", "room"])
def test_two_admins_booking_the_same_trainer_or_room_at_once(app, make, admin, trainer, what):
    """The first admin's session is saved but not yet committed when the second books the
    same trainer (or room) at an overlapping time: the second waits and is refused."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite serialises writers with its write lock from the start")
    trainers = [trainer] if what == "trainer" else []
    first = empty_class(make, trainers=trainers).id
    second = empty_class(make, trainers=trainers).id
    admin_id = admin.id
    db.session.commit()
    first_flushed = threading.Event()
    results: dict[str, str] = {}

    def book(class_id: int, start: time, name: str, hold: bool) -> None:
        with app.app_context(), app.test_request_context("/"):
            try:
                actor = db.session.get(User, admin_id)
                course_class = db.session.get(CourseClass, class_id)
                assert actor is not None and course_class is not None
                if not hold:
                    first_flushed.wait(timeout=30)
                class_sessions.add_session(
                    actor,
                    course_class,
                    SessionData(DAY, start, time(start.hour + 2), "Room 7"),
                )
                if hold:
                    first_flushed.set()
                    clock.sleep(1.0)  # the other admin is waiting meanwhile
                db.session.commit()
                results[name] = "saved"
            except ScheduleConflict:
                db.session.rollback()
                results[name] = "refused"
            except BaseException as error:
                db.session.rollback()
                results[name] = repr(error)
            finally:
                first_flushed.set()
                db.session.remove()

    threads = [
        threading.Thread(target=book, args=(first, time(10), "first", True)),
        threading.Thread(target=book, args=(second, time(11), "second", False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == {"first": "saved", "second": "refused"}
    db.session.expire_all()
    total = db.session.scalar(
        select(func.count()).where(ClassSession.class_id.in_([first, second]))
    )
    assert total == 1


def test_trainer_check_ignores_an_unrelated_day(admin, make, trainer):
    booked_class(make, trainers=[trainer])
    ours = empty_class(make, trainers=[trainer])
    next_week: date = DAY + timedelta(days=7)
    class_sessions.add_session(admin, ours, SessionData(next_week, time(10), time(13), "Room 301"))
    db.session.commit()
    assert sessions_of(ours) == 1


@pytest.mark.parametrize("weeks", [2, 12])
def test_a_series_is_checked_in_one_query_however_long(admin, make, trainer, weeks):
    booked_class(make, trainers=[trainer], room="Lab 2")
    ours = empty_class(make, trainers=[trainer], ends_on=DAY + timedelta(days=7 * weeks))
    spec = SeriesSpec(
        weekdays=frozenset({DAY.weekday()}),
        start_time=time(14, 0),
        end_time=time(16, 0),
        first_date=DAY,
        weeks=weeks,
        skip_public_holidays=False,
        room="Lab 2",
    )
    with recorded_statements() as statements:
        class_sessions.generate_sessions(admin, ours, spec)
    checks = [s for s in statements if "class_trainers" in s and "class_sessions" in s]
    assert len(checks) == 1
    db.session.commit()
    assert sessions_of(ours) == weeks
