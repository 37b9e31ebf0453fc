"""Programme administration of classes and sessions: the service rules and the admin pages.

Service tests call :mod:`skillsup.services.classes`, `class_status` and `class_sessions` inside a
request, as the views do, and read the database back; page tests go through the client as an
admin.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import pytest
import time_machine
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.labels import label
from skillsup.models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    ClassSession,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentStatus,
    SkillArea,
)
from skillsup.reasons import render
from skillsup.services import audit, class_sessions, class_status
from skillsup.services import classes as service
from skillsup.services.class_sessions import (
    SeriesSpec,
    SessionData,
    SessionHasAttendance,
    series_dates,
)
from skillsup.services.class_status import ClassNotReady, InvalidTransition, StatusAction
from skillsup.services.classes import ClassData, ClassLocked
from skillsup.services.errors import PermissionDenied, ValidationFailed
from skillsup.timeutil import to_hk
from tests.factories import hk_datetime

from .queries import page_queries

# Before the 2027 classes of these tests: their enrolment windows are still ahead or open.
NOW = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def in_request(app: Any) -> Iterator[None]:
    """Run each test in a request, as the views call the services."""
    with app.test_request_context("/"):
        yield


@pytest.fixture
def frozen() -> Iterator[Any]:
    with time_machine.travel(NOW, tick=True) as traveller:
        yield traveller


def class_count() -> int:
    return db.session.scalar(select(func.count()).select_from(CourseClass)) or 0


def session_count(course_class: CourseClass | None = None) -> int:
    statement = select(func.count()).select_from(ClassSession)
    if course_class is not None:
        statement = statement.where(ClassSession.class_id == course_class.id)
    return db.session.scalar(statement) or 0


def actions_for(course_class: CourseClass) -> list[str]:
    return [entry.action for entry in audit.entries_for("classes", course_class.id)]


def class_data(course: Any, **overrides: Any) -> ClassData:
    fields: dict[str, Any] = {
        "course_id": course.id,
        "code": "su-cld-2027a",
        "capacity": 20,
        "starts_on": date(2027, 1, 4),
        "ends_on": date(2027, 3, 31),
        "enrolment_opens_at": hk_datetime(2026, 11, 1, 9),
        "enrolment_closes_at": hk_datetime(2026, 12, 20, 23, 59),
        "withdrawal_deadline_at": hk_datetime(2026, 12, 28, 18),
        "trainer_ids": [],
        "venue": "Tsing Yi campus, room 301",
        "online_url": None,
        "min_attendance_pct": 80,
        "assessment_required": False,
    }
    fields.update(overrides)
    return ClassData(**fields)


def winter_class(make: Any, **fields: Any) -> CourseClass:
    """A class from 2027-01-04 to 2027-03-31 with weekly Monday sessions 09:00-12:00 HK."""
    fields.setdefault("first_session", hk_datetime(2027, 1, 4, 9))
    fields.setdefault("starts_on", date(2027, 1, 4))
    fields.setdefault("ends_on", date(2027, 3, 31))
    fields.setdefault("enrolment_opens_at", hk_datetime(2026, 11, 1, 9))
    fields.setdefault("enrolment_closes_at", hk_datetime(2026, 12, 20, 23, 59))
    fields.setdefault("withdrawal_deadline_at", hk_datetime(2026, 12, 28, 18))
    return make.course_class(**fields)


# Creating a class --------------------------------------------------------------------------


def test_admin_creates_a_draft_class_with_an_upper_case_code_and_trainers(admin, make):
    course = make.course(code="SU-CLD-101")
    ada = make.user(role="trainer", name="Ada Lau")
    ben = make.user(role="trainer", name="Ben Ho")

    course_class = service.create_class(
        admin,
        class_data(
            course,
            code="  su-cld-101-2027a ",
            trainer_ids=[ben.id, ada.id],
            online_url="https://meet.example.test/abc",
            assessment_required=True,
        ),
    )
    db.session.commit()

    saved = db.session.get(CourseClass, course_class.id)
    assert saved.code == "SU-CLD-101-2027A"
    assert saved.status == ClassStatus.DRAFT
    assert [t.name for t in saved.trainers] == ["Ada Lau", "Ben Ho"]
    assert saved.seats_taken == 0
    assert saved.min_attendance_pct == 80
    assert saved.assessment_required is True
    assert saved.enrolment_opens_at == hk_datetime(2026, 11, 1, 9)
    [entry] = audit.entries_for("classes", saved.id)
    assert entry.action == "class.created"
    assert entry.actor_id == admin.id
    assert entry.details["code"] == "SU-CLD-101-2027A"
    assert entry.details["course"] == "SU-CLD-101"


@pytest.mark.parametrize("role", ["trainer", "hr_officer", "learner"])
def test_only_admins_may_create_or_change_classes(request, make, role):
    actor = request.getfixturevalue(role)
    course = make.course()
    course_class = winter_class(make, sessions=1)
    with pytest.raises(PermissionDenied):
        service.create_class(actor, class_data(course))
    with pytest.raises(PermissionDenied):
        service.update_class(actor, course_class, class_data(course, code=course_class.code))
    with pytest.raises(PermissionDenied):
        class_sessions.add_session(
            actor, course_class, SessionData(date(2027, 1, 5), time(9), time(12))
        )
    with pytest.raises(PermissionDenied):
        class_sessions.update_session(
            actor, course_class.sessions[0], SessionData(date(2027, 1, 5), time(9), time(12))
        )
    with pytest.raises(PermissionDenied):
        class_sessions.remove_session(actor, course_class.sessions[0])
    with pytest.raises(PermissionDenied):
        class_sessions.generate_sessions(
            actor,
            course_class,
            SeriesSpec(frozenset({1}), time(9), time(12), date(2027, 1, 5), 2),
        )
    with pytest.raises(PermissionDenied):
        class_status.change_status(actor, course_class, StatusAction.CLOSE_ENROLMENT)
    with pytest.raises(PermissionDenied):
        service.create_class(None, class_data(course))  # type: ignore[arg-type]


BAD_CLASS_INPUT = [
    pytest.param({"code": "SU-TAKEN-1"}, "code", "already has the code", id="duplicate-code"),
    pytest.param({"code": "su-taken-1"}, "code", "already has the code", id="duplicate-any-case"),
    pytest.param({"code": "   "}, "code", "Enter a class code", id="blank-code"),
    pytest.param(
        {"enrolment_closes_at": hk_datetime(2026, 10, 31, 9)},
        "enrolment_closes_at",
        "close after it opens",
        id="closes-before-opens",
    ),
    pytest.param(
        {"enrolment_closes_at": hk_datetime(2026, 11, 1, 9)},
        "enrolment_closes_at",
        "close after it opens",
        id="closes-when-opens",
    ),
    pytest.param(
        {"withdrawal_deadline_at": hk_datetime(2027, 1, 4, 0, 1)},
        "withdrawal_deadline_at",
        "withdrawal deadline",
        id="withdrawal-after-start",
    ),
    pytest.param({"ends_on": date(2027, 1, 3)}, "ends_on", "cannot end before", id="end-first"),
    pytest.param({"capacity": -1}, "capacity", "cannot be negative", id="negative-capacity"),
    pytest.param({"venue": " ", "online_url": ""}, "venue", "venue", id="no-place"),
    pytest.param(
        {"online_url": "ftp://files.example.test/x"}, "online_url", "https://", id="ftp-link"
    ),
    pytest.param({"online_url": "javascript:alert(1)"}, "online_url", "https://", id="script-link"),
    pytest.param({"online_url": "https://"}, "online_url", "https://", id="link-without-host"),
    pytest.param(
        {"min_attendance_pct": 101}, "min_attendance_pct", "0 to 100", id="attendance-over-100"
    ),
    pytest.param(
        {"min_attendance_pct": -1}, "min_attendance_pct", "0 to 100", id="attendance-negative"
    ),
    pytest.param({"trainer_ids": [987654]}, "trainer_ids", "no user #987654", id="unknown-trainer"),
    pytest.param({"course_id": 987654}, "course_id", "Choose the course", id="unknown-course"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_CLASS_INPUT)
def test_bad_class_input_is_refused_on_its_field_and_nothing_is_saved(
    admin, make, overrides, field, message
):
    course = make.course()
    winter_class(make, course=course, code="SU-TAKEN-1")
    before = class_count()

    with pytest.raises(ValidationFailed) as caught:
        service.create_class(admin, class_data(course, **overrides))
    db.session.rollback()

    assert caught.value.field == field
    assert message in str(caught.value.message)
    assert class_count() == before
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


@pytest.mark.parametrize("role", ["learner", "hr", "admin"])
def test_only_active_trainers_can_be_assigned(admin, make, role):
    course = make.course()
    person = make.user(role=role, name="Not A Trainer")
    with pytest.raises(ValidationFailed) as caught:
        service.create_class(admin, class_data(course, trainer_ids=[person.id]))
    assert caught.value.field == "trainer_ids"
    assert "Not A Trainer is not a trainer" in str(caught.value.message)

    gone = make.user(role="trainer", name="Gone Trainer", is_active=False)
    with pytest.raises(ValidationFailed) as caught:
        service.create_class(admin, class_data(course, trainer_ids=[gone.id]))
    assert caught.value.field == "trainer_ids"


def test_a_trainer_deactivated_after_assignment_may_stay_on_the_class(admin, make):
    trainer = make.user(role="trainer", name="Leaving Trainer")
    course_class = winter_class(make, trainers=[trainer])
    trainer.is_active = False
    db.session.commit()
    data = class_data(
        course_class.course,
        code=course_class.code,
        venue="Sha Tin",
        trainer_ids=[trainer.id],
    )
    update = service.update_class(admin, course_class, data)
    assert [t.id for t in course_class.trainers] == [trainer.id]
    assert "trainers" not in update.changes


def test_the_withdrawal_deadline_may_be_the_start_of_the_first_day(admin, make):
    course_class = service.create_class(
        admin,
        class_data(make.course(), withdrawal_deadline_at=hk_datetime(2027, 1, 4, 0, 0)),
    )
    assert course_class.withdrawal_deadline_at == hk_datetime(2027, 1, 4)


def test_a_class_may_be_online_only_or_have_no_seats_yet(admin, make):
    course_class = service.create_class(
        admin,
        class_data(
            make.course(), venue=None, online_url="http://zoom.example.test/j/1", capacity=0
        ),
    )
    assert course_class.venue is None
    assert course_class.capacity == 0


# Changing a class --------------------------------------------------------------------------


def test_update_records_old_and_new_values(admin, make):
    course_class = winter_class(make, code="SU-OLD-1", capacity=10)
    trainer = make.user(role="trainer", name="Carmen Yip")
    data = class_data(
        course_class.course,
        code="su-new-1",
        capacity=12,
        trainer_ids=[trainer.id],
        venue=course_class.venue,
    )
    update = service.update_class(admin, course_class, data)
    db.session.commit()

    assert set(update.changes) >= {"code", "capacity", "trainers"}
    assert update.changes["capacity"] == (10, 12)
    assert course_class.code == "SU-NEW-1"
    entry = audit.entries_for("classes", course_class.id)[0]
    assert entry.action == "class.updated"
    assert entry.details["capacity"] == {"old": 10, "new": 12}
    assert entry.details["code"] == {"old": "SU-OLD-1", "new": "SU-NEW-1"}
    assert entry.details["trainers"] == {"old": [], "new": ["Carmen Yip"]}


def test_an_update_that_changes_nothing_records_nothing(admin, make):
    course_class = winter_class(make, code="SU-SAME-1")
    data = class_data(
        course_class.course,
        code="SU-SAME-1",
        capacity=course_class.capacity,
        venue=course_class.venue,
    )
    update = service.update_class(admin, course_class, data)
    assert update.changes == {}
    assert actions_for(course_class) == []


def test_a_class_keeps_its_own_code_and_another_class_code_is_refused(admin, make):
    winter_class(make, code="SU-OTHER-1")
    course_class = winter_class(make, code="SU-MINE-1")
    base = class_data(course_class.course, venue=course_class.venue)
    service.update_class(admin, course_class, replace(base, code="su-mine-1"))
    with pytest.raises(ValidationFailed) as caught:
        service.update_class(admin, course_class, replace(base, code="SU-OTHER-1"))
    assert caught.value.field == "code"


def test_capacity_never_goes_below_the_confirmed_learners(admin, make):
    course_class = winter_class(make, capacity=3)
    for _ in range(2):
        make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    data = class_data(
        course_class.course, code=course_class.code, venue=course_class.venue, capacity=1
    )

    with pytest.raises(ValidationFailed) as caught:
        service.update_class(admin, course_class, data)
    db.session.rollback()
    assert caught.value.field == "capacity"
    assert "2 learners are already confirmed" in str(caught.value.message)
    assert db.session.get(CourseClass, course_class.id).capacity == 3

    service.update_class(admin, course_class, replace(data, capacity=2))
    db.session.commit()
    assert db.session.get(CourseClass, course_class.id).capacity == 2


def test_raising_capacity_promotes_the_waitlist_first_come_first_served(admin, make):
    course_class = winter_class(make, capacity=1)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    first = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    second = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    first.waitlisted_at = hk_datetime(2026, 11, 1, 10)
    second.waitlisted_at = hk_datetime(2026, 11, 1, 11)
    db.session.commit()

    update = service.update_class(
        admin,
        course_class,
        class_data(
            course_class.course, code=course_class.code, venue=course_class.venue, capacity=2
        ),
    )
    db.session.commit()

    assert [e.id for e in update.promoted] == [first.id]
    assert db.session.get(Enrolment, first.id).status == EnrolmentStatus.CONFIRMED
    assert db.session.get(Enrolment, second.id).status == EnrolmentStatus.WAITLISTED
    assert db.session.get(CourseClass, course_class.id).seats_taken == 2


def test_lowering_capacity_promotes_no_one(admin, make):
    course_class = winter_class(make, capacity=5)
    waiting = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    update = service.update_class(
        admin,
        course_class,
        class_data(
            course_class.course, code=course_class.code, venue=course_class.venue, capacity=4
        ),
    )
    assert update.promoted == []
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.WAITLISTED


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"starts_on": date(2027, 1, 5)}, "starts_on"),
        ({"ends_on": date(2027, 1, 10)}, "ends_on"),
    ],
)
def test_class_dates_must_keep_holding_its_sessions(admin, make, overrides, field):
    course_class = winter_class(make, sessions=2)  # 2027-01-04 and 2027-01-11
    data = class_data(
        course_class.course, code=course_class.code, venue=course_class.venue, **overrides
    )
    with pytest.raises(ValidationFailed) as caught:
        service.update_class(admin, course_class, data)
    assert caught.value.field == field


def test_the_course_cannot_change_once_learners_enrolled(admin, make):
    course_class = winter_class(make)
    other = make.course()
    data = class_data(other, code=course_class.code, venue=course_class.venue)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.PENDING)
    with pytest.raises(ValidationFailed) as caught:
        service.update_class(admin, course_class, data)
    assert caught.value.field == "course_id"


def test_an_empty_class_may_move_to_another_course(admin, make):
    course_class = winter_class(make)
    other = make.course()
    service.update_class(
        admin, course_class, class_data(other, code=course_class.code, venue=course_class.venue)
    )
    assert course_class.course_id == other.id


@pytest.mark.parametrize("status", [ClassStatus.COMPLETED, ClassStatus.CANCELLED])
def test_completed_or_cancelled_classes_are_frozen(admin, make, status):
    course_class = winter_class(make, status=status, sessions=1)
    data = class_data(course_class.course, code=course_class.code, venue="Elsewhere")
    with pytest.raises(ClassLocked):
        service.update_class(admin, course_class, data)
    with pytest.raises(ClassLocked):
        class_sessions.add_session(
            admin, course_class, SessionData(date(2027, 1, 5), time(9), time(12))
        )
    with pytest.raises(ClassLocked):
        class_sessions.remove_session(admin, course_class.sessions[0])


# Sessions ----------------------------------------------------------------------------------


def test_a_session_is_entered_in_hong_kong_time_and_stored_in_utc(admin, make):
    course_class = winter_class(make)
    change = class_sessions.add_session(
        admin, course_class, SessionData(date(2027, 1, 5), time(19), time(22), " Room 5 ")
    )
    db.session.commit()

    [session] = db.session.get(CourseClass, course_class.id).sessions
    assert session.starts_at == datetime(2027, 1, 5, 11, 0, tzinfo=UTC)
    assert session.ends_at == datetime(2027, 1, 5, 14, 0, tzinfo=UTC)
    assert session.room == "Room 5"
    assert change.after[0].session_id == session.id
    assert change.needs_announcement is False
    [entry] = audit.entries_for("classes", course_class.id)
    assert entry.action == "session.added"
    assert entry.details["new"]["starts_at"] == "2027-01-05T19:00+08:00"


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (SessionData(date(2027, 1, 5), time(12), time(9)), "end_time", "end after it starts"),
        (SessionData(date(2027, 1, 5), time(9), time(9)), "end_time", "end after it starts"),
        (SessionData(date(2027, 1, 3), time(9), time(12)), "day", "4 Jan 2027 to 31 Mar 2027"),
        (SessionData(date(2027, 4, 1), time(9), time(12)), "day", "4 Jan 2027 to 31 Mar 2027"),
        (
            SessionData(date(2027, 1, 4), time(11), time(13)),
            "start_time",
            "4 Jan 2027 from 09:00 to 12:00",
        ),
        (
            SessionData(date(2027, 1, 4), time(8), time(13)),
            "start_time",
            "4 Jan 2027 from 09:00 to 12:00",
        ),
    ],
    ids=["end-before-start", "no-length", "before-class", "after-class", "overlap", "around"],
)
def test_bad_sessions_are_refused_on_their_field(admin, make, data, field, message):
    course_class = winter_class(make, sessions=1)  # 2027-01-04 09:00-12:00
    with pytest.raises(ValidationFailed) as caught:
        class_sessions.add_session(admin, course_class, data)
    db.session.rollback()
    assert caught.value.field == field
    assert message in str(caught.value.message)
    assert session_count(course_class) == 1
    assert actions_for(course_class) == []


def test_back_to_back_sessions_do_not_overlap(admin, make):
    course_class = winter_class(make, sessions=1)  # 2027-01-04 09:00-12:00
    class_sessions.add_session(
        admin, course_class, SessionData(date(2027, 1, 4), time(12), time(14))
    )
    class_sessions.add_session(admin, course_class, SessionData(date(2027, 1, 4), time(7), time(9)))
    assert session_count(course_class) == 3


def test_a_cancelled_session_does_not_block_its_time(admin, make):
    course_class = winter_class(make, sessions=1)
    course_class.sessions[0].is_cancelled = True
    db.session.commit()
    class_sessions.add_session(
        admin, course_class, SessionData(date(2027, 1, 4), time(9), time(12))
    )
    assert session_count(course_class) == 2


def test_editing_a_session_bumps_its_sequence_and_records_old_and_new_times(admin, make):
    course_class = winter_class(make, sessions=2)
    learner = make.user(role="learner")
    make.enrolment(course_class, learner, EnrolmentStatus.CONFIRMED)
    session = course_class.sessions[0]

    change = class_sessions.update_session(
        admin, session, SessionData(date(2027, 1, 6), time(14), time(17), "Lab 2")
    )
    db.session.commit()

    session = db.session.get(ClassSession, session.id)
    assert session.sequence == 1
    assert session.starts_at == hk_datetime(2027, 1, 6, 14)
    assert change.needs_announcement is True
    assert change.confirmed_learners == 1
    assert change.before[0].starts_at == hk_datetime(2027, 1, 4, 9)
    entry = audit.entries_for("classes", course_class.id)[0]
    assert entry.action == "session.updated"
    assert entry.details["old"] == {
        "starts_at": "2027-01-04T09:00+08:00",
        "ends_at": "2027-01-04T12:00+08:00",
        "room": None,
    }
    assert entry.details["new"]["starts_at"] == "2027-01-06T14:00+08:00"
    assert entry.details["confirmed_learners"] == 1
    assert "2027-01-04 09:00-12:00" in entry.summary
    assert "2027-01-06 14:00-17:00 in Lab 2" in entry.summary


def test_a_session_may_be_shortened_within_its_own_time_but_not_moved_onto_another(admin, make):
    course_class = winter_class(make, sessions=2)  # 2027-01-04 and 2027-01-11, 09:00-12:00
    first = course_class.sessions[0]
    class_sessions.update_session(admin, first, SessionData(date(2027, 1, 4), time(10), time(12)))
    with pytest.raises(ValidationFailed) as caught:
        class_sessions.update_session(
            admin, first, SessionData(date(2027, 1, 11), time(11), time(13))
        )
    assert caught.value.field == "start_time"
    assert "11 Jan 2027 from 09:00 to 12:00" in str(caught.value.message)


def test_saving_a_session_unchanged_changes_nothing(admin, make):
    course_class = winter_class(make, sessions=1)
    session = course_class.sessions[0]
    change = class_sessions.update_session(
        admin, session, SessionData(date(2027, 1, 4), time(9), time(12))
    )
    assert change.needs_announcement is False
    assert session.sequence == 0
    assert actions_for(course_class) == []


def test_removing_a_session_is_audited(admin, make):
    course_class = winter_class(make, sessions=2)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    session = course_class.sessions[1]
    change = class_sessions.remove_session(admin, session)
    db.session.commit()
    assert session_count(course_class) == 1
    assert change.needs_announcement is True
    assert change.after == ()
    entry = audit.entries_for("classes", course_class.id)[0]
    assert entry.action == "session.removed"
    assert entry.details["old"]["starts_at"] == "2027-01-11T09:00+08:00"


def test_a_session_with_attendance_cannot_be_removed(admin, make):
    course_class = winter_class(make, sessions=1)
    enrolment = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    session = course_class.sessions[0]
    db.session.add(
        Attendance(enrolment=enrolment, session=session, status=AttendanceStatus.PRESENT)
    )
    db.session.commit()

    with pytest.raises(SessionHasAttendance) as caught:
        class_sessions.remove_session(admin, session)
    db.session.rollback()
    assert "Edit its date or time instead" in str(caught.value.message)
    assert session_count(course_class) == 1


# Series ------------------------------------------------------------------------------------


def test_series_dates_on_chosen_weekdays_for_a_number_of_weeks():
    # 2027-01-04 is a Monday; Mondays and Wednesdays for two weeks.
    assert series_dates(date(2027, 1, 4), {0, 2}, 2, set(), False) == [
        date(2027, 1, 4),
        date(2027, 1, 6),
        date(2027, 1, 11),
        date(2027, 1, 13),
    ]


def test_series_dates_start_at_the_first_chosen_weekday_on_or_after_the_first_date():
    # From a Thursday, Tuesdays for two weeks: the window is 14 days from the first date.
    assert series_dates(date(2027, 1, 7), {1}, 2, set(), False) == [
        date(2027, 1, 12),
        date(2027, 1, 19),
    ]


def test_series_dates_leave_out_listed_days_without_making_them_up():
    assert series_dates(date(2027, 1, 4), {0}, 3, {date(2027, 1, 11)}, False) == [
        date(2027, 1, 4),
        date(2027, 1, 18),
    ]


def test_series_dates_leave_out_hong_kong_public_holidays_when_asked():
    # Fridays across New Year: 2027-01-01 is a public holiday in Hong Kong.
    fridays = [date(2026, 12, 25), date(2027, 1, 1), date(2027, 1, 8)]
    assert series_dates(date(2026, 12, 21), {4}, 3, set(), False) == fridays
    assert series_dates(date(2026, 12, 21), {4}, 3, set(), True) == [date(2027, 1, 8)]


def test_series_dates_with_no_weekdays_or_weeks_are_empty():
    assert series_dates(date(2027, 1, 4), set(), 4, set(), True) == []
    assert series_dates(date(2027, 1, 4), {0}, 0, set(), True) == []


def test_generating_a_series_adds_every_session_and_one_audit_entry(admin, make):
    course_class = winter_class(make)
    change = class_sessions.generate_sessions(
        admin,
        course_class,
        SeriesSpec(
            weekdays=frozenset({0, 4}),
            start_time=time(19),
            end_time=time(22),
            first_date=date(2027, 1, 4),
            weeks=3,
            skip_dates=frozenset({date(2027, 1, 11)}),
            skip_public_holidays=True,
            room="Room 7",
        ),
    )
    db.session.commit()

    sessions = db.session.get(CourseClass, course_class.id).sessions
    assert [to_hk(s.starts_at).date() for s in sessions] == [
        date(2027, 1, 4),
        date(2027, 1, 8),
        date(2027, 1, 15),
        date(2027, 1, 18),
        date(2027, 1, 22),
    ]
    assert all(s.room == "Room 7" for s in sessions)
    assert sessions[0].starts_at == hk_datetime(2027, 1, 4, 19)
    assert len(change.after) == 5
    [entry] = audit.entries_for("classes", course_class.id)
    assert entry.action == "sessions.generated"
    assert entry.details["skipped"] == ["2027-01-11"]
    assert len(entry.details["new"]) == 5


def test_a_series_skips_new_year_when_asked(admin, make):
    course_class = winter_class(make, starts_on=date(2026, 12, 28))
    class_sessions.generate_sessions(
        admin,
        course_class,
        SeriesSpec(frozenset({4}), time(9), time(12), date(2026, 12, 28), 2),
    )
    assert [to_hk(s.starts_at).date() for s in course_class.sessions] == [date(2027, 1, 8)]


@pytest.mark.parametrize(
    ("spec", "field", "message"),
    [
        (
            SeriesSpec(frozenset(), time(9), time(12), date(2027, 1, 4), 2),
            "weekdays",
            "at least one day",
        ),
        (SeriesSpec(frozenset({0}), time(9), time(12), date(2027, 1, 4), 0), "weeks", "1 to 52"),
        (SeriesSpec(frozenset({0}), time(9), time(12), date(2027, 1, 4), 53), "weeks", "1 to 52"),
        (
            SeriesSpec(frozenset({0}), time(12), time(9), date(2027, 1, 4), 2),
            "end_time",
            "end after they start",
        ),
        (
            SeriesSpec(frozenset({0}), time(9), time(12), date(2026, 12, 28), 2),
            "first_date",
            "4 Jan 2027",
        ),
        (
            SeriesSpec(frozenset({2}), time(9), time(12), date(2027, 3, 1), 6),
            "weeks",
            "7 Apr 2027",
        ),
        (
            # Wednesdays 10:00-11:00 clash with the session already on 2027-01-13.
            SeriesSpec(frozenset({2}), time(10), time(11), date(2027, 1, 4), 3),
            "start_time",
            "13 Jan 2027 from 09:00 to 12:00",
        ),
        (
            SeriesSpec(
                frozenset({2}),
                time(13),
                time(14),
                date(2027, 1, 4),
                1,
                skip_dates=frozenset({date(2027, 1, 6)}),
            ),
            "first_date",
            "No day is left",
        ),
    ],
    ids=[
        "no-weekdays",
        "no-weeks",
        "over-52-weeks",
        "end-before-start",
        "before-class",
        "after-class",
        "overlap",
        "nothing-left",
    ],
)
def test_bad_series_are_refused_whole(admin, make, spec, field, message):
    course_class = winter_class(make)
    class_sessions.add_session(
        admin, course_class, SessionData(date(2027, 1, 13), time(9), time(12))
    )
    db.session.commit()

    with pytest.raises(ValidationFailed) as caught:
        class_sessions.generate_sessions(admin, course_class, spec)
    db.session.rollback()

    assert caught.value.field == field
    assert message in str(caught.value.message)
    assert session_count(course_class) == 1


# Status ------------------------------------------------------------------------------------

LEGAL = {
    StatusAction.OPEN_ENROLMENT: {ClassStatus.DRAFT, ClassStatus.CLOSED},
    StatusAction.CLOSE_ENROLMENT: {ClassStatus.OPEN},
    StatusAction.START: {ClassStatus.OPEN, ClassStatus.CLOSED},
    StatusAction.COMPLETE: {ClassStatus.RUNNING},
    StatusAction.CANCEL: {
        ClassStatus.DRAFT,
        ClassStatus.OPEN,
        ClassStatus.CLOSED,
        ClassStatus.RUNNING,
    },
}
TARGET = {
    StatusAction.OPEN_ENROLMENT: ClassStatus.OPEN,
    StatusAction.CLOSE_ENROLMENT: ClassStatus.CLOSED,
    StatusAction.START: ClassStatus.RUNNING,
    StatusAction.COMPLETE: ClassStatus.COMPLETED,
    StatusAction.CANCEL: ClassStatus.CANCELLED,
}


@pytest.mark.parametrize("action", list(StatusAction))
@pytest.mark.parametrize("status", list(ClassStatus))
def test_status_transitions(admin, trainer, make, frozen, action, status):
    course_class = winter_class(make, status=status, sessions=1, trainers=[trainer])
    if status not in LEGAL[action]:
        with pytest.raises(InvalidTransition) as caught:
            class_status.change_status(admin, course_class, action, reason="Trainer unavailable")
        db.session.rollback()
        assert db.session.get(CourseClass, course_class.id).status == status
        assert str(label(status)) in str(caught.value.message)
        assert actions_for(course_class) == []
        return
    change = class_status.change_status(admin, course_class, action, reason="Trainer unavailable")
    db.session.commit()
    assert db.session.get(CourseClass, course_class.id).status == TARGET[action]
    assert (change.old, change.new) == (status, TARGET[action])
    [entry] = audit.entries_for("classes", course_class.id)
    assert entry.action == "class.status_changed"
    assert entry.details["from"] == status.value
    assert entry.details["to"] == TARGET[action].value


def test_allowed_actions_follow_the_transitions(make):
    for status in ClassStatus:
        course_class = winter_class(make, status=status)
        expected = [action for action in StatusAction if status in LEGAL[action]]
        assert class_status.allowed_actions(course_class) == expected


@pytest.mark.parametrize(
    ("sessions", "with_trainer", "message"),
    [(0, True, "at least one session"), (1, False, "Assign a trainer")],
)
def test_opening_enrolment_needs_a_session_and_a_trainer(
    admin, trainer, make, frozen, sessions, with_trainer, message
):
    course_class = winter_class(
        make,
        status=ClassStatus.DRAFT,
        sessions=sessions,
        trainers=[trainer] if with_trainer else [],
    )
    with pytest.raises(ClassNotReady) as caught:
        class_status.change_status(admin, course_class, StatusAction.OPEN_ENROLMENT)
    db.session.rollback()
    assert message in str(caught.value.message)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.DRAFT


def test_enrolment_cannot_open_once_its_closing_time_has_passed(admin, trainer, make):
    course_class = winter_class(make, status=ClassStatus.DRAFT, sessions=1, trainers=[trainer])
    with (
        time_machine.travel(hk_datetime(2026, 12, 21, 9), tick=True),
        pytest.raises(ClassNotReady) as caught,
    ):
        class_status.change_status(admin, course_class, StatusAction.OPEN_ENROLMENT)
    assert "closing time has passed" in str(caught.value.message)
    with time_machine.travel(hk_datetime(2026, 12, 20, 9), tick=True):
        class_status.change_status(admin, course_class, StatusAction.OPEN_ENROLMENT)
    assert course_class.status == ClassStatus.OPEN


def test_cancelling_needs_a_reason(admin, make):
    course_class = winter_class(make)
    for reason in (None, "", "   "):
        with pytest.raises(ValidationFailed) as caught:
            class_status.change_status(admin, course_class, StatusAction.CANCEL, reason)
        assert caught.value.field == "reason"
    db.session.rollback()
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.OPEN


def test_cancelling_cancels_every_active_enrolment_and_keeps_the_reason(admin, make):
    course_class = winter_class(make, capacity=2)
    confirmed = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    pending = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.PENDING)
    withdrawn = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WITHDRAWN)

    change = class_status.change_status(
        admin, course_class, StatusAction.CANCEL, "  The trainer is unavailable.  "
    )
    db.session.commit()

    saved = db.session.get(CourseClass, course_class.id)
    assert saved.status == ClassStatus.CANCELLED
    assert saved.status_reasons == [
        {"code": "free_text", "args": {"text": "The trainer is unavailable."}}
    ]
    assert saved.seats_taken == 0
    assert {e.id for e in change.cancelled_enrolments} == {confirmed.id, waiting.id, pending.id}
    for enrolment in (confirmed, waiting, pending):
        assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.CANCELLED
    assert db.session.get(Enrolment, withdrawn.id).status == EnrolmentStatus.WITHDRAWN
    entry = audit.entries_for("classes", course_class.id, limit=50)
    status_entry = next(e for e in entry if e.action == "class.status_changed")
    assert status_entry.details["reason"] == "The trainer is unavailable."


def test_cancelling_at_a_given_moment_records_it_on_every_cancelled_enrolment(admin, make):
    course_class = winter_class(make, capacity=2)
    confirmed = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    moment = hk_datetime(2026, 12, 1, 10)

    class_status.change_status(
        admin, course_class, StatusAction.CANCEL, "The lab is closed.", now=moment
    )
    db.session.commit()

    for enrolment in (confirmed, waiting):
        saved = db.session.get(Enrolment, enrolment.id)
        assert saved.ended_at == moment
        assert saved.history[-1].to_status == EnrolmentStatus.CANCELLED
        assert saved.history[-1].changed_at == moment


# The list query ----------------------------------------------------------------------------


def test_class_list_counts_enrolments_by_status_and_filters(make):
    cloud = make.course(code="SU-CLD-201", title_en="Cloud architecture")
    security = make.course(
        code="SU-SEC-101", title_en="Security basics", skill_area=SkillArea.CYBERSECURITY
    )
    jan = winter_class(make, course=cloud, code="SU-CLD-201-A")
    mar = winter_class(
        make,
        course=security,
        code="SU-SEC-101-A",
        status=ClassStatus.DRAFT,
        first_session=hk_datetime(2027, 3, 1, 9),
        starts_on=date(2027, 3, 1),
    )
    for status, n in (
        (EnrolmentStatus.CONFIRMED, 2),
        (EnrolmentStatus.WAITLISTED, 1),
        (EnrolmentStatus.PENDING, 3),
        (EnrolmentStatus.WITHDRAWN, 1),
    ):
        for _ in range(n):
            make.enrolment(jan, make.user(role="learner"), status)

    def codes(**filters: Any) -> list[str]:
        rows = db.session.execute(service.class_list(service.ClassFilters(**filters))).all()
        return [row[0].code for row in rows]

    rows = {
        row[0].code: row[1:]
        for row in db.session.execute(service.class_list(service.ClassFilters()))
    }
    assert rows == {"SU-CLD-201-A": (2, 1, 3), "SU-SEC-101-A": (0, 0, 0)}
    assert codes() == ["SU-SEC-101-A", "SU-CLD-201-A"]
    assert codes(query="cld-201-a") == ["SU-CLD-201-A"]
    assert codes(query="SU-SEC") == ["SU-SEC-101-A"]
    assert codes(query="architecture") == ["SU-CLD-201-A"]
    assert codes(query="100%") == []
    assert codes(status=ClassStatus.DRAFT) == ["SU-SEC-101-A"]
    assert codes(skill_area=SkillArea.CLOUD) == ["SU-CLD-201-A"]
    assert codes(start_month=date(2027, 3, 1)) == ["SU-SEC-101-A"]
    assert codes(start_month=date(2027, 2, 1)) == []
    assert mar.id != jan.id


# Pages -------------------------------------------------------------------------------------


def text(response: Any) -> str:
    return response.get_data(as_text=True)


def field_error(body: str, field_id: str) -> str | None:
    match = re.search(rf'<p class="field-error" id="{re.escape(field_id)}-error">([^<]*)</p>', body)
    return match.group(1) if match else None


def post_and_follow(client: Any, url: str, **kwargs: Any) -> Any:
    """POST, expect a redirect, and return the page it leads to."""
    response = client.post(url, **kwargs)
    assert response.status_code == 302, text(response)
    return client.get(urlsplit(response.location).path)


def class_form(course: Any, **overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "course_id": str(course.id),
        "code": "su-web-2027a",
        "trainer_ids": [],
        "venue": "Tsing Yi campus, room 301",
        "online_url": "",
        "capacity": "20",
        "starts_on": "2027-01-04",
        "ends_on": "2027-03-31",
        "enrolment_opens_at": "2026-11-01T09:00",
        "enrolment_closes_at": "2026-12-20T23:59",
        "withdrawal_deadline_at": "2026-12-28T18:00",
        "min_attendance_pct": "80",
    }
    form.update(overrides)
    return form


def test_class_list_page_shows_counts_filters_and_total(admin, make, login_as):
    course = make.course(code="SU-NET-301", title_en="Network automation")
    course_class = winter_class(make, course=course, code="SU-NET-301-A", capacity=12)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    winter_class(make, code="SU-OTHER-9")
    client = login_as(admin)

    body = text(client.get("/admin/classes"))
    assert "2 classes" in body
    assert "SU-NET-301-A" in body
    assert "Network automation" in body
    assert "1 / 12" in body

    body = text(client.get("/admin/classes?q=automation&status=open&month=2027-01"))
    assert "1 class" in body
    assert "SU-OTHER-9" not in body

    response = client.get("/admin/classes?status=nonsense&month=2027-13&skill_area=x")
    assert response.status_code == 200
    assert "2 classes" in text(response)


def test_class_list_is_paginated(admin, make, login_as):
    course = make.course()
    for n in range(27):
        winter_class(make, course=course, code=f"SU-PAGE-{n:03d}")
    client = login_as(admin)
    first = text(client.get("/admin/classes"))
    assert "27 classes" in first
    assert 'rel="next"' in first
    second = text(client.get("/admin/classes?page=2"))
    assert second.count('<th scope="row">') == 2


def _query_count(client: Any, url: str) -> int:
    response, statements = page_queries(client, url)
    assert response.status_code == 200
    return len(statements)


def test_the_class_list_runs_the_same_queries_for_3_and_30_classes(admin, make, login_as):
    client = login_as(admin)
    course = make.course()
    trainers = [make.user(role="trainer") for _ in range(2)]

    def add_classes(n: int) -> None:
        for _ in range(n):
            course_class = winter_class(make, course=course, trainers=trainers)
            make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
            make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.PENDING)

    add_classes(3)
    with_3 = _query_count(client, "/admin/classes")
    add_classes(27)
    with_30 = _query_count(client, "/admin/classes")
    assert with_3 == with_30


def test_admin_creates_a_class_through_the_form(admin, trainer, make, login_as):
    course = make.course(code="SU-WEB-101")
    client = login_as(admin)
    page = text(client.get(f"/admin/classes/new?course_id={course.id}"))
    assert f'<option selected value="{course.id}">' in page
    assert trainer.name in page

    response = client.post(
        "/admin/classes/new", data=class_form(course, trainer_ids=[str(trainer.id)])
    )
    assert response.status_code == 302
    course_class = db.session.scalar(select(CourseClass).where(CourseClass.code == "SU-WEB-2027A"))
    assert course_class is not None
    assert urlsplit(response.location).path == f"/admin/classes/{course_class.id}"
    assert course_class.enrolment_opens_at == hk_datetime(2026, 11, 1, 9)
    assert course_class.withdrawal_deadline_at == hk_datetime(2026, 12, 28, 18)
    assert [t.id for t in course_class.trainers] == [trainer.id]
    assert course_class.min_attendance_pct == 80
    assert course_class.status == ClassStatus.DRAFT


BAD_FORMS = [
    ({"code": "su-taken-1"}, "code", "already has the code"),
    ({"enrolment_closes_at": "2026-10-01T09:00"}, "enrolment_closes_at", "close after it opens"),
    ({"withdrawal_deadline_at": "2027-01-04T10:00"}, "withdrawal_deadline_at", "withdrawal"),
    ({"ends_on": "2027-01-01"}, "ends_on", "cannot end before"),
    ({"capacity": "-5"}, "capacity", "cannot be negative"),
    ({"venue": "", "online_url": ""}, "venue", "online link"),
    ({"online_url": "ftp://example.test/x"}, "online_url", "https://"),
    ({"min_attendance_pct": "120"}, "min_attendance_pct", "0 to 100"),
    ({"trainer_ids": ["987654"]}, "trainer_ids", "no user #987654"),
    ({"trainer_ids": ["abc"]}, "trainer_ids", "Invalid choice"),
    ({"capacity": ""}, "capacity", "This field is required"),
    ({"starts_on": "04/01/2027"}, "starts_on", "Not a valid date"),
]


@pytest.mark.parametrize(("overrides", "field", "message"), BAD_FORMS)
def test_bad_class_forms_show_the_error_on_the_field_and_save_nothing(
    admin, make, login_as, overrides, field, message
):
    course = make.course()
    winter_class(make, code="SU-TAKEN-1")
    before = class_count()
    client = login_as(admin)
    response = client.post("/admin/classes/new", data=class_form(course, **overrides))
    assert response.status_code == 200
    error = field_error(text(response), field)
    assert error is not None and message in error, text(response)
    assert class_count() == before


def test_a_non_trainer_in_the_form_is_refused(admin, learner, make, login_as):
    course = make.course()
    client = login_as(admin)
    response = client.post(
        "/admin/classes/new", data=class_form(course, trainer_ids=[str(learner.id)])
    )
    assert "is not a trainer" in (field_error(text(response), "trainer_ids") or "")
    assert class_count() == 0


def test_edit_form_shows_hong_kong_times_and_refuses_capacity_below_confirmed(
    admin, make, login_as
):
    course_class = winter_class(make, capacity=2, code="SU-EDIT-1")
    for _ in range(2):
        make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    client = login_as(admin)

    page = text(client.get(f"/admin/classes/{course_class.id}/edit"))
    assert 'value="2026-12-28T18:00"' in page
    assert 'value="SU-EDIT-1"' in page

    response = client.post(
        f"/admin/classes/{course_class.id}/edit",
        data=class_form(course_class.course, code="SU-EDIT-1", capacity="1"),
    )
    assert "2 learners are already confirmed" in (field_error(text(response), "capacity") or "")
    assert db.session.get(CourseClass, course_class.id).capacity == 2

    response = client.post(
        f"/admin/classes/{course_class.id}/edit",
        data=class_form(course_class.course, code="SU-EDIT-1", capacity="5", venue="Sha Tin"),
    )
    assert response.status_code == 302
    saved = db.session.get(CourseClass, course_class.id)
    assert (saved.capacity, saved.venue) == (5, "Sha Tin")
    assert "class.updated" in actions_for(saved)


def test_edit_through_the_form_promotes_the_waitlist(admin, make, login_as):
    course_class = winter_class(make, capacity=1, code="SU-PROMO-1")
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    client = login_as(admin)
    response = post_and_follow(
        client,
        f"/admin/classes/{course_class.id}/edit",
        data=class_form(course_class.course, code="SU-PROMO-1", capacity="2"),
    )
    assert "1 learner has moved from the waitlist into the class." in text(response)
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.CONFIRMED


def test_class_page_shows_details_counts_sessions_in_hong_kong_time_and_history(
    admin, trainer, make, login_as
):
    course_class = winter_class(make, code="SU-PAGE-1", sessions=2, trainers=[trainer])
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    class_sessions.add_session(
        admin, course_class, SessionData(date(2027, 1, 5), time(19), time(22))
    )
    db.session.commit()
    client = login_as(admin)

    body = text(client.get(f"/admin/classes/{course_class.id}"))
    assert "SU-PAGE-1" in body
    assert trainer.name in body
    assert "9:00" in body and "12:00" in body  # 01:00 UTC shown as 09:00 Hong Kong time
    assert "19:00" in body and "22:00" in body
    assert "Change history" in body
    assert "Added a session" in body and "session.added" not in body
    assert 'name="series-weekdays"' in body
    assert 'name="session-day"' in body
    assert f"/admin/classes/{course_class.id}/status/close-enrolment" in body
    assert f"/admin/classes/{course_class.id}/status/open-enrolment" not in body
    assert f"/admin/classes/{course_class.id}/status/cancel" in body


def test_unknown_class_or_session_is_404(admin, make, login_as):
    course_class = winter_class(make, sessions=1)
    other = winter_class(make, sessions=1)
    client = login_as(admin)
    assert client.get("/admin/classes/987654").status_code == 404
    assert client.get("/admin/classes/987654/edit").status_code == 404
    foreign = other.sessions[0].id
    assert (
        client.get(f"/admin/classes/{course_class.id}/sessions/{foreign}/edit").status_code == 404
    )
    assert (
        client.post(f"/admin/classes/{course_class.id}/sessions/{foreign}/delete").status_code
        == 404
    )
    assert client.post(f"/admin/classes/{course_class.id}/status/explode").status_code == 404


def session_form(**overrides: str) -> dict[str, str]:
    form = {
        "session-day": "2027-01-05",
        "session-start_time": "19:00",
        "session-end_time": "22:00",
        "session-room": "Room 12",
    }
    form.update(overrides)
    return form


def test_admin_adds_a_session_through_the_form(admin, make, login_as):
    course_class = winter_class(make)
    client = login_as(admin)
    response = client.post(f"/admin/classes/{course_class.id}/sessions", data=session_form())
    assert response.status_code == 302
    [session] = db.session.get(CourseClass, course_class.id).sessions
    assert session.starts_at == hk_datetime(2027, 1, 5, 19)
    assert session.room == "Room 12"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"session-day": "2027-04-01"}, "session-day", "4 Jan 2027 to 31 Mar 2027"),
        ({"session-start_time": "22:00", "session-end_time": "19:00"}, "session-end_time", "end"),
        (
            {"session-day": "2027-01-04", "session-start_time": "10:00"},
            "session-start_time",
            "4 Jan 2027 from 09:00 to 12:00",
        ),
        ({"session-start_time": "7pm"}, "session-start_time", "Not a valid time"),
    ],
)
def test_bad_sessions_through_the_form(admin, make, login_as, overrides, field, message):
    course_class = winter_class(make, sessions=1)
    client = login_as(admin)
    response = client.post(
        f"/admin/classes/{course_class.id}/sessions", data=session_form(**overrides)
    )
    assert response.status_code == 200
    assert message in (field_error(text(response), field) or ""), text(response)
    assert session_count(course_class) == 1


def test_admin_edits_a_session_through_the_form(admin, make, login_as):
    course_class = winter_class(make, sessions=1)
    make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    session = course_class.sessions[0]
    url = f"/admin/classes/{course_class.id}/sessions/{session.id}/edit"
    client = login_as(admin)

    page = text(client.get(url))
    assert 'value="2027-01-04"' in page
    assert 'value="09:00"' in page

    response = post_and_follow(
        client,
        url,
        data=session_form(**{"session-day": "2027-01-04", "session-start_time": "14:00"}),
    )
    assert "The session has been changed." in text(response)
    assert "1 confirmed learner has been told of the change by e-mail." in text(response)
    session = db.session.get(ClassSession, session.id)
    assert session.starts_at == hk_datetime(2027, 1, 4, 14)
    assert session.sequence == 1

    response = client.post(url, data=session_form(**{"session-end_time": "18:00"}))
    assert response.status_code == 200
    assert "end after it starts" in (field_error(text(response), "session-end_time") or "")


def test_admin_removes_a_session_unless_it_has_attendance(admin, make, login_as):
    course_class = winter_class(make, sessions=2)
    enrolment = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    marked, unmarked = course_class.sessions
    db.session.add(Attendance(enrolment=enrolment, session=marked, status=AttendanceStatus.LATE))
    db.session.commit()
    client = login_as(admin)

    response = post_and_follow(
        client, f"/admin/classes/{course_class.id}/sessions/{marked.id}/delete"
    )
    assert "Edit its date or time instead" in text(response)
    assert session_count(course_class) == 2

    response = post_and_follow(
        client, f"/admin/classes/{course_class.id}/sessions/{unmarked.id}/delete"
    )
    assert "The session has been removed." in text(response)
    assert session_count(course_class) == 1
    assert "session.removed" in actions_for(course_class)


def series_form(**overrides: Any) -> dict[str, Any]:
    form: dict[str, Any] = {
        "series-weekdays": ["0", "4"],
        "series-start_time": "09:00",
        "series-end_time": "12:00",
        "series-first_date": "2027-01-04",
        "series-weeks": "2",
        "series-skip_dates": "",
        "series-skip_public_holidays": "y",
        "series-room": "",
    }
    form.update(overrides)
    return form


def test_admin_generates_a_series_through_the_form(admin, make, login_as):
    course_class = winter_class(make, starts_on=date(2026, 12, 28))
    client = login_as(admin)
    response = post_and_follow(
        client,
        f"/admin/classes/{course_class.id}/sessions/generate",
        data=series_form(
            **{
                "series-first_date": "2026-12-28",
                "series-weeks": "3",
                "series-skip_dates": "2027-01-04\r\n\r\n2027-01-08 ",
            }
        ),
    )
    # Mondays and Fridays: 2026-12-28, (2027-01-01 holiday), (01-04, 01-08 skipped), 01-11, 01-15
    assert "3 sessions have been added." in text(response)
    days = [
        to_hk(s.starts_at).date() for s in db.session.get(CourseClass, course_class.id).sessions
    ]
    assert days == [date(2026, 12, 28), date(2027, 1, 11), date(2027, 1, 15)]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"series-weekdays": []}, "series-weekdays", "at least one day"),
        ({"series-weeks": "0"}, "series-weeks", "1 to 52"),
        ({"series-weeks": "53"}, "series-weeks", "1 to 52"),
        ({"series-skip_dates": "2027-01-04\nnext monday"}, "series-skip_dates", "YYYY-MM-DD"),
        ({"series-weekdays": ["0"], "series-weeks": "1"}, "series-start_time", "09:00 to 12:00"),
        ({"series-weeks": "20"}, "series-weeks", "after the class ends"),
    ],
)
def test_bad_series_through_the_form(admin, make, login_as, overrides, field, message):
    course_class = winter_class(make, sessions=1)
    client = login_as(admin)
    response = client.post(
        f"/admin/classes/{course_class.id}/sessions/generate", data=series_form(**overrides)
    )
    assert response.status_code == 200
    assert message in (field_error(text(response), field) or ""), text(response)
    assert session_count(course_class) == 1


def test_status_buttons_change_the_status_or_explain_why_not(
    admin, trainer, make, login_as, frozen
):
    course_class = winter_class(make, status=ClassStatus.DRAFT, trainers=[trainer])
    base = f"/admin/classes/{course_class.id}/status"
    client = login_as(admin)

    response = post_and_follow(client, f"{base}/open-enrolment")
    assert "Add at least one session before opening enrolment." in text(response)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.DRAFT

    response = post_and_follow(client, f"{base}/complete")
    assert "Only a class that is running, or open or closed for enrolment" in text(response)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.DRAFT

    client.post(f"/admin/classes/{course_class.id}/sessions", data=session_form())
    for action, status in (
        ("open-enrolment", ClassStatus.OPEN),
        ("close-enrolment", ClassStatus.CLOSED),
        ("start", ClassStatus.RUNNING),
    ):
        response = client.post(f"{base}/{action}")
        assert response.status_code == 302
        assert db.session.get(CourseClass, course_class.id).status == status
    # Completing is closing, on its confirmation page; its session is still ahead, so the
    # admin must say why.
    detail = text(client.get(f"/admin/classes/{course_class.id}"))
    assert f'href="/trainer/classes/{course_class.code}/close"' in detail
    response = post_and_follow(client, f"{base}/complete")
    assert "As an admin you may still close it" in text(response)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.RUNNING
    response = client.post(f"/trainer/classes/{course_class.code}/close", data={"reason": ""})
    assert "Say why the class is closed before its last session has ended." in text(response)
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.RUNNING
    response = client.post(
        f"/trainer/classes/{course_class.code}/close", data={"reason": "Trainer left."}
    )
    assert response.status_code == 302
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.COMPLETED
    assert actions_for(course_class).count("class.status_changed") == 4


def test_cancelling_through_the_page_needs_a_reason(admin, make, login_as):
    course_class = winter_class(make, capacity=3)
    enrolment = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    url = f"/admin/classes/{course_class.id}/status/cancel"
    client = login_as(admin)

    response = client.post(url, data={"cancel-reason": ""})
    assert response.status_code == 400  # the confirmation page again, asking why
    assert field_error(text(response), "cancel-reason")
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.OPEN

    response = post_and_follow(client, url, data={"cancel-reason": "Too few learners."})
    body = text(response)
    assert "has been cancelled" in body
    assert "Too few learners." in body
    saved = db.session.get(CourseClass, course_class.id)
    assert (saved.status, render(saved.status_reasons)) == (
        ClassStatus.CANCELLED,
        "Too few learners.",
    )
    assert db.session.get(Enrolment, enrolment.id).status == EnrolmentStatus.CANCELLED

    response = post_and_follow(client, url, data={"cancel-reason": "Again"})
    assert "cannot be cancelled" in text(response)


# Who may use these pages -------------------------------------------------------------------

ROUTES = [
    ("get", "/admin/classes"),
    ("get", "/admin/classes/new"),
    ("post", "/admin/classes/new"),
    ("get", "/admin/classes/{class_id}"),
    ("get", "/admin/classes/{class_id}/edit"),
    ("post", "/admin/classes/{class_id}/edit"),
    ("post", "/admin/classes/{class_id}/sessions"),
    ("get", "/admin/classes/{class_id}/sessions/{session_id}/edit"),
    ("post", "/admin/classes/{class_id}/sessions/{session_id}/edit"),
    ("post", "/admin/classes/{class_id}/sessions/{session_id}/delete"),
    ("post", "/admin/classes/{class_id}/sessions/generate"),
    *[("post", f"/admin/classes/{{class_id}}/status/{action.value}") for action in StatusAction],
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
@pytest.mark.parametrize("role", ["learner", "hr_officer", "trainer"])
def test_class_admin_pages_are_forbidden_to_other_roles(
    request, make, login_as, method, path, role
):
    user = request.getfixturevalue(role)
    course_class = winter_class(make, sessions=1, trainers=[user] if role == "trainer" else [])
    url = path.format(class_id=course_class.id, session_id=course_class.sessions[0].id)
    client = login_as(user)
    response = getattr(client, method)(url, data={"cancel-reason": "x"})
    assert response.status_code == 403
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.OPEN
    assert session_count(course_class) == 1


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_class_admin_pages_send_anonymous_visitors_to_log_in(client, make, method, path):
    course_class = winter_class(make, sessions=1)
    url = path.format(class_id=course_class.id, session_id=course_class.sessions[0].id)
    response = getattr(client, method)(url)
    assert response.status_code == 302
    assert urlsplit(response.location).path == "/login"
    assert session_count(course_class) == 1


def test_completing_a_class_closes_it_with_every_learners_outcome(admin, trainer, make, frozen):
    course_class = winter_class(
        make, status=ClassStatus.RUNNING, sessions=1, trainers=[trainer], capacity=1
    )
    confirmed = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.CONFIRMED)
    waiting = make.enrolment(course_class, make.user(role="learner"), EnrolmentStatus.WAITLISTED)
    # Its session is still ahead: an admin closes it early, saying why.
    with pytest.raises(ValidationFailed):
        class_status.change_status(admin, course_class, StatusAction.COMPLETE)
    db.session.rollback()
    class_status.change_status(admin, course_class, StatusAction.COMPLETE, "Venue closed")
    db.session.commit()
    assert db.session.get(CourseClass, course_class.id).status == ClassStatus.COMPLETED
    assert render(db.session.get(CourseClass, course_class.id).status_reasons) == "Venue closed"
    # No attendance was marked: the confirmed learner did not complete; nobody stays waiting.
    assert db.session.get(Enrolment, confirmed.id).status == EnrolmentStatus.NOT_COMPLETED
    assert db.session.get(Enrolment, waiting.id).status == EnrolmentStatus.CANCELLED


def test_a_refused_session_leaves_the_series_form_as_new(admin, make, login_as):
    course_class = winter_class(make)
    response = login_as(admin).post(
        f"/admin/classes/{course_class.id}/sessions", data=session_form(**{"session-day": ""})
    )
    [holidays] = re.findall(r'<input[^>]*name="series-skip_public_holidays"[^>]*>', text(response))
    assert "checked" in holidays


@pytest.mark.parametrize("status", list(ClassStatus))
def test_a_class_is_finished_once_completed_or_cancelled(status):
    assert CourseClass(status=status).is_finished is (
        status in (ClassStatus.COMPLETED, ClassStatus.CANCELLED)
    )
