"""Seats are never oversold, however many requests arrive at once, on SQLite and PostgreSQL."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import CourseClass, Enrolment, EnrolmentStatus, User
from skillsup.services import enrolment as service

pytestmark = pytest.mark.slow


def _race(app, class_id: int, learner_ids: list[int]) -> tuple[list[str], list[BaseException]]:
    """Send one request per learner id at once, each thread with its own connection."""
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
                barrier.wait(timeout=30)
                outcome = service.request_enrolment(learner, learner, course_class)
                db.session.commit()
                result = outcome.status.value
            except service.AlreadyEnrolled:
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
