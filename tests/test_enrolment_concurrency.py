"""Seats are never oversold, however many requests arrive at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from skillsup.extensions import db
from skillsup.models import CourseClass, Enrolment, EnrolmentStatus, User
from skillsup.services import eligibility, enrolment_requests

pytestmark = pytest.mark.slow


def _race(
    app, class_id: int, learner_ids: list[int], prepare: Callable[[CourseClass], None] | None = None
) -> tuple[list[str], list[BaseException]]:
    """Send one request per learner id at once, each thread with its own connection;
    ``prepare`` sees each thread's class just before."""
    barrier = threading.Barrier(len(learner_ids))
    outcomes: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def attempt(learner_id: int) -> None:
        with app.app_context():
            try:
                learner = db.session.get(User, learner_id)
                course_class = db.session.get(CourseClass, class_id)
                # End the read transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE).
                db.session.commit()
                if prepare is not None:
                    prepare(course_class)
                barrier.wait(timeout=30)
                outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
                db.session.commit()
                result = outcome.status.value
            except eligibility.AlreadyEnrolled:
                db.session.rollback()
                result = "duplicate"
            except BaseException as error:
                db.session.rollback()
                with lock:
                    errors.append(error)
                return
            finally:
                db.session.remove()
            with lock:
                outcomes.append(result)

    threads = [threading.Thread(target=attempt, args=(i,)) for i in learner_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return outcomes, errors


def test_fifty_simultaneous_requests_for_five_seats(app, make, company):
    course_class = make.course_class(capacity=5, sessions=1)
    learner_ids = [make.user(company=company).id for _ in range(50)]
    class_id = course_class.id
    db.session.commit()

    outcomes, errors = _race(app, class_id, learner_ids)

    assert errors == []
    assert sorted(outcomes).count("confirmed") == 5
    assert sorted(outcomes).count("waitlisted") == 45
    db.session.expire_all()
    assert db.session.get(CourseClass, class_id).seats_taken == 5
    confirmed = db.session.scalar(
        select(func.count(Enrolment.id)).where(
            Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.CONFIRMED
        )
    )
    assert confirmed == 5
    rows = db.session.scalar(
        select(func.count(func.distinct(Enrolment.learner_id))).where(
            Enrolment.class_id == class_id
        )
    )
    assert rows == 50


def test_two_simultaneous_requests_from_one_learner_give_one_enrolment(app, make, learner):
    course_class = make.course_class(capacity=5, sessions=1)
    class_id, learner_id = course_class.id, learner.id
    db.session.commit()

    outcomes, errors = _race(app, class_id, [learner_id, learner_id])

    assert errors == []
    assert sorted(outcomes) == ["confirmed", "duplicate"]
    db.session.expire_all()
    assert (
        db.session.scalar(select(func.count(Enrolment.id)).where(Enrolment.class_id == class_id))
        == 1
    )
    assert db.session.get(CourseClass, class_id).seats_taken == 1


def test_a_rush_for_a_full_class_all_join_its_waitlist(app, make, company):
    course_class = make.course_class(capacity=2, sessions=1)
    for _ in range(2):
        make.enrolment(course_class, make.user(company=company))
    learner_ids = [make.user(company=company).id for _ in range(30)]
    class_id = course_class.id
    db.session.commit()

    outcomes, errors = _race(app, class_id, learner_ids)

    assert errors == []
    assert outcomes == ["waitlisted"] * 30
    db.session.expire_all()
    assert db.session.get(CourseClass, class_id).seats_taken == 2
    waitlisted = db.session.scalars(
        select(Enrolment.learner_id).where(
            Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED
        )
    ).all()
    assert sorted(waitlisted) == sorted(learner_ids)


def test_a_rush_from_one_learner_for_a_full_class_gives_one_place_on_its_waitlist(
    app, make, company, learner
):
    course_class = make.course_class(capacity=1, sessions=1)
    make.enrolment(course_class, make.user(company=company))
    class_id, learner_id = course_class.id, learner.id
    db.session.commit()

    outcomes, errors = _race(app, class_id, [learner_id] * 3)

    assert errors == []
    assert sorted(outcomes) == ["duplicate", "duplicate", "waitlisted"]
    assert (
        db.session.scalar(
            select(func.count(Enrolment.id)).where(
                Enrolment.class_id == class_id, Enrolment.learner_id == learner_id
            )
        )
        == 1
    )


def test_a_rush_that_read_the_class_as_full_while_seats_came_free_takes_them(app, make, company):
    """Requests that read the class as full still take its sole lock (joining the waitlist
    takes it too), and under it find the free seats and take them."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one writer at a time holds the whole database")
    # Each thread keeps its connection from the read on: fewer than the pool holds.
    course_class = make.course_class(capacity=12, sessions=1)
    learner_ids = [make.user(company=company).id for _ in range(12)]
    class_id = course_class.id
    db.session.commit()

    def read_as_full(stale: CourseClass) -> None:
        set_committed_value(stale, "seats_taken", stale.capacity)

    outcomes, errors = _race(app, class_id, learner_ids, prepare=read_as_full)

    assert errors == []
    assert outcomes == ["confirmed"] * 12
    db.session.expire_all()
    assert db.session.get(CourseClass, class_id).seats_taken == 12


def test_a_seat_freed_while_joining_the_waitlist_goes_to_the_one_joining(
    app, make, company, learner
):
    """A withdrawal waits for a request that holds the class lock to join its waitlist, then
    promotes it: the seat never stays free beside a waitlist."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one writer at a time holds the whole database")
    course_class = make.course_class(capacity=1, sessions=1)
    seated = make.enrolment(course_class, make.user(company=company))
    class_id, seated_id, learner_id = course_class.id, seated.id, learner.id
    db.session.commit()
    joined, withdrawn = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def join_waitlist() -> None:
        with app.app_context():
            try:
                me = db.session.get(User, learner_id)
                outcome = enrolment_requests.request_enrolment(
                    me, me, db.session.get(CourseClass, class_id)
                )
                assert outcome.status == EnrolmentStatus.WAITLISTED
                joined.set()
                # Hold the class lock until the withdrawal is seen waiting for it.
                assert not withdrawn.wait(timeout=1)
                db.session.commit()
            except BaseException as error:
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    def withdraw() -> None:
        with app.app_context():
            try:
                assert joined.wait(timeout=30)
                enrolment = db.session.get(Enrolment, seated_id)
                enrolment_requests.withdraw(make_admin(), enrolment, "Moved to another team")
                db.session.commit()
                withdrawn.set()
            except BaseException as error:
                errors.append(error)
                db.session.rollback()
            finally:
                db.session.remove()

    def make_admin() -> User:
        admin = db.session.scalar(select(User).where(User.role == "admin"))
        assert admin is not None
        return admin

    make.user(role="admin")
    db.session.commit()
    threads = [threading.Thread(target=join_waitlist), threading.Thread(target=withdraw)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    db.session.expire_all()
    mine = db.session.scalar(
        select(Enrolment).where(Enrolment.class_id == class_id, Enrolment.learner_id == learner_id)
    )
    assert mine.status == EnrolmentStatus.CONFIRMED
    assert db.session.get(Enrolment, seated_id).status == EnrolmentStatus.WITHDRAWN
    assert db.session.get(CourseClass, class_id).seats_taken == 1
