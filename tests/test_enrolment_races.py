"""Every enrolment rule holds when requests arrive at once: seat quotas, timetable clashes,
waitlist positions, and a mixed burst free of deadlocks; and parallel guesses at a password
get no more checks than the login limit. On SQLite and PostgreSQL, with real threads, each
with its own connection, started together at a barrier."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from skillsup.extensions import db
from skillsup.models import CourseClass, Enrolment, EnrolmentStatus, User, utcnow
from skillsup.services import (
    approvals,
    enrolment_requests,
    nomination_import,
    passwords,
    staff,
    waitlist,
)
from skillsup.services.approvals import Decision
from skillsup.services.enrolment import lock_learner
from skillsup.services.errors import DomainError
from skillsup.services.imports import NominationRow
from skillsup.services.seat_quotas import QuotaExceeded
from skillsup.timeutil import hk_date
from tests.factories import PASSWORD, Factory

pytestmark = pytest.mark.slow


def _at_once(app: Flask, jobs: list[Callable[[], Any]]) -> tuple[list[Any], list[BaseException]]:
    """Run every job at the same moment, each in a thread with its own app context (and so
    its own connection), committing what it did. A job's result, or the DomainError that
    refused it, goes to the results; anything else is an error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def run(job: Callable[[], Any]) -> None:
        with app.app_context():
            try:
                barrier.wait(timeout=60)
                try:
                    result = job()
                    db.session.commit()
                except DomainError as refusal:
                    db.session.rollback()
                    result = refusal
            except BaseException as error:
                db.session.rollback()
                with lock:
                    errors.append(error)
                return
            finally:
                db.session.remove()
            with lock:
                results.append(result)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=180)
    assert not any(thread.is_alive() for thread in threads)
    return results, errors


def _request(learner_id: int, class_id: int) -> Callable[[], tuple[str, int | None]]:
    """A learner's own request; its result is the status and the waitlist position told."""

    def job() -> tuple[str, int | None]:
        learner = db.session.get(User, learner_id)
        course_class = db.session.get(CourseClass, class_id)
        assert learner is not None and course_class is not None
        outcome = enrolment_requests.request_enrolment(learner, learner, course_class)
        return outcome.status.value, outcome.waitlist_position

    return job


def _request_told(learner_id: int, class_id: int) -> Callable[[], tuple[int, int | None]]:
    """As :func:`_request`, with the learner's id and the position told."""
    request = _request(learner_id, class_id)
    return lambda: (learner_id, request()[1])


def _count(*conditions: Any) -> int:
    return int(db.session.scalar(select(func.count(Enrolment.id)).where(*conditions)) or 0)


def test_sixty_learners_at_once_fill_a_three_seat_quota_across_classes_exactly(
    app: Flask, make: Factory, company: Any
) -> None:
    classes = [make.course_class(capacity=30, sessions=1) for _ in range(4)]
    first = min(c.starts_on for c in classes)
    make.quota(company, 3, first - timedelta(days=10), first + timedelta(days=60))
    learner_ids = [make.user(company=company).id for _ in range(60)]
    class_ids = [c.id for c in classes]
    db.session.commit()

    results, errors = _at_once(
        app,
        [_request(learner_id, class_ids[n % 4]) for n, learner_id in enumerate(learner_ids)],
    )

    assert errors == []
    assert [r for r in results if not isinstance(r, QuotaExceeded)] == [("confirmed", None)] * 3
    assert sum(isinstance(r, QuotaExceeded) for r in results) == 57
    db.session.expire_all()
    counted = (EnrolmentStatus.PENDING, EnrolmentStatus.CONFIRMED)
    assert _count(Enrolment.company_id == company.id, Enrolment.status.in_(counted)) == 3
    assert sum(db.session.get(CourseClass, i).seats_taken for i in class_ids) == 3


def test_one_learner_asking_for_two_clashing_classes_at_once_gets_one(
    app: Flask, make: Factory, company: Any
) -> None:
    start = (utcnow() + timedelta(days=30)).replace(hour=2, minute=0, second=0, microsecond=0)
    first = make.course_class(capacity=30, sessions=2, first_session=start)
    second = make.course_class(capacity=30, sessions=2, first_session=start)
    learner_ids = [make.user(company=company).id for _ in range(6)]
    first_id, second_id = first.id, second.id
    db.session.commit()

    jobs = [_request(i, class_id) for i in learner_ids for class_id in (first_id, second_id)]
    results, errors = _at_once(app, jobs)

    assert errors == []
    assert [r for r in results if isinstance(r, tuple)] == [("confirmed", None)] * 6
    assert sum(isinstance(r, enrolment_requests.TimetableClash) for r in results) == 6
    db.session.expire_all()
    for learner_id in learner_ids:
        places = _count(
            Enrolment.learner_id == learner_id,
            Enrolment.class_id.in_([first_id, second_id]),
            Enrolment.status.in_((EnrolmentStatus.CONFIRMED, EnrolmentStatus.PENDING)),
        )
        assert places == 1


def test_a_burst_into_a_full_class_is_told_distinct_positions_matching_the_line(
    app: Flask, make: Factory, company: Any
) -> None:
    course_class = make.course_class(capacity=1, sessions=1)
    make.enrolment(course_class, make.user(company=company))
    learner_ids = [make.user(company=company).id for _ in range(25)]
    class_id = course_class.id
    db.session.commit()

    results, errors = _at_once(app, [_request_told(i, class_id) for i in learner_ids])

    assert errors == []
    told = dict(results)
    assert sorted(told.values()) == list(range(1, 26))
    db.session.expire_all()
    line = db.session.scalars(
        select(Enrolment)
        .where(Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.WAITLISTED)
        .order_by(Enrolment.waitlisted_at, Enrolment.id)
    ).all()
    assert [e.learner_id for e in line] == sorted(told, key=lambda i: told[i])
    ranks = waitlist.waitlist_positions([e.id for e in line])
    assert {e.learner_id: ranks[e.id] for e in line} == told


def test_withdrawals_promotions_requests_and_approvals_at_once_never_deadlock(
    app: Flask, make: Factory, company: Any
) -> None:
    """Learners on a waitlist ask at the same moment for a class that clashes with it while
    withdrawals promote them; newcomers join the waitlist; HR approves requests for it."""
    start = (utcnow() + timedelta(days=30)).replace(hour=2, minute=0, second=0, microsecond=0)
    waited = make.course_class(capacity=6, sessions=1, first_session=start)
    clashing = make.course_class(capacity=30, sessions=1, first_session=start)
    strict = make.company(requires_approval=True)
    hr = make.user(role="hr", company=strict)
    admin = make.user(role="admin")
    day = hk_date(start)
    for quota_company in (company, strict):
        make.quota(quota_company, 100, day - timedelta(days=60), day + timedelta(days=60))
    seated = [make.enrolment(waited, make.user(company=company)) for _ in range(6)]
    in_line = [
        make.enrolment(waited, make.user(company=c), EnrolmentStatus.WAITLISTED)
        for c in [company] * 4 + [strict] * 2
    ]
    pending = [
        make.enrolment(waited, make.user(company=strict), EnrolmentStatus.PENDING) for _ in range(4)
    ]
    newcomers = [make.user(company=company).id for _ in range(6)]
    ids = {
        "waited": waited.id,
        "clashing": clashing.id,
        "hr": hr.id,
        "admin": admin.id,
    }
    seated_ids = [e.id for e in seated]
    line_learners = [e.learner_id for e in in_line]
    pending_ids = [e.id for e in pending]
    db.session.commit()

    def withdraw(enrolment_id: int) -> Callable[[], None]:
        def job() -> None:
            actor = db.session.get(User, ids["admin"])
            enrolment = db.session.get(Enrolment, enrolment_id)
            assert actor is not None and enrolment is not None
            enrolment_requests.withdraw(actor, enrolment, "Moved to another project")

        return job

    def approve(enrolment_id: int) -> Callable[[], Any]:
        def job() -> Any:
            actor = db.session.get(User, ids["hr"])
            enrolment = db.session.get(Enrolment, enrolment_id)
            assert actor is not None and enrolment is not None
            return enrolment_requests.approve(actor, enrolment)

        return job

    jobs: list[Callable[[], Any]] = [withdraw(i) for i in seated_ids[:4]]
    jobs += [_request(i, ids["clashing"]) for i in line_learners]
    jobs += [_request(i, ids["waited"]) for i in newcomers]
    jobs += [approve(i) for i in pending_ids]

    results, errors = _at_once(app, jobs)

    assert errors == []
    assert len(results) == len(jobs)
    db.session.expire_all()
    confirmed = EnrolmentStatus.CONFIRMED
    for class_id in (ids["waited"], ids["clashing"]):
        course_class = db.session.get(CourseClass, class_id)
        assert course_class is not None
        taken = _count(Enrolment.class_id == class_id, Enrolment.status == confirmed)
        assert course_class.seats_taken == taken <= course_class.capacity
    # Four seats came free: the waited class is full again, from its waitlist and approvals.
    assert _count(Enrolment.class_id == ids["waited"], Enrolment.status == confirmed) == 6
    twice = db.session.scalars(
        select(Enrolment.learner_id)
        .where(
            Enrolment.class_id.in_([ids["waited"], ids["clashing"]]),
            Enrolment.status == confirmed,
        )
        .group_by(Enrolment.learner_id)
        .having(func.count(Enrolment.id) > 1)
    ).all()
    assert twice == []


def test_deactivations_imports_and_batch_decisions_beside_requests_never_deadlock(
    app: Flask, make: Factory, company: Any
) -> None:
    """Transactions that change several learners' or classes' enrolments (an HR officer
    deactivating staff with seats in several classes, a CSV import, a batch of approvals)
    run beside single requests for the same classes, whose waitlists hold staff of two
    companies with quotas."""
    other = make.company(requires_approval=True)
    hr, other_hr = make.user(role="hr", company=company), make.user(role="hr", company=other)
    classes = [make.course_class(capacity=3, sessions=1) for _ in range(4)]
    first = min(c.starts_on for c in classes)
    for quota_company in (company, other):
        for course_class in classes[:2]:
            make.quota(
                quota_company,
                200,
                first - timedelta(days=30),
                first + timedelta(days=90),
                course_id=course_class.course_id,
                label=f"{course_class.code} quota",
            )
        make.quota(quota_company, 400, first - timedelta(days=30), first + timedelta(days=90))
    leaving = [make.user(company=company) for _ in range(3)]
    for course_class in classes:
        for person in leaving:
            make.enrolment(course_class, person)
        for quota_company in (other, company, other):
            make.enrolment(
                course_class, make.user(company=quota_company), EnrolmentStatus.WAITLISTED
            )
    pending = [
        make.enrolment(course_class, make.user(company=other), EnrolmentStatus.PENDING)
        for course_class in classes
        for _ in range(2)
    ]
    nominees = [make.user(company=company) for _ in range(8)]
    rows = [
        NominationRow(n + 2, person.email, "", classes[(n * 3) % 4].code)
        for n, person in enumerate(nominees)
    ]
    requesters = [make.user(company=company).id for _ in range(8)]
    ids = {"hr": hr.id, "other_hr": other_hr.id}
    leaving_ids = [person.id for person in leaving]
    pending_ids = [e.id for e in pending]
    class_ids = [c.id for c in classes]
    db.session.commit()
    with app.test_request_context():
        expected = nomination_import.preview_nominations(hr, rows).expected
        db.session.rollback()

    def deactivate(learner_id: int) -> Callable[[], Any]:
        def job() -> Any:
            actor, employee = db.session.get(User, ids["hr"]), db.session.get(User, learner_id)
            assert actor is not None and employee is not None
            return len(staff.deactivate_employee(actor, employee, "Left the company"))

        return job

    def import_rows() -> Any:
        actor = db.session.get(User, ids["hr"])
        assert actor is not None
        with app.test_request_context():
            return len(nomination_import.import_nominations(actor, rows, expected=expected).rows)

    def decide(enrolment_ids: list[int]) -> Callable[[], Any]:
        def job() -> Any:
            actor = db.session.get(User, ids["other_hr"])
            assert actor is not None
            # The HR approvals queue's batch: every lock first, then each in a savepoint.
            with app.test_request_context():
                outcomes = approvals.decide_requests(actor, enrolment_ids, Decision.APPROVE)
            return [str(o.status) if o.status else "refused" for o in outcomes]

        return job

    jobs: list[Callable[[], Any]] = [deactivate(i) for i in leaving_ids]
    jobs += [import_rows]
    jobs += [decide(pending_ids[::2][::-1]), decide(pending_ids[1::2])]
    jobs += [_request(i, class_ids[n % 4]) for n, i in enumerate(requesters)]

    results, errors = _at_once(app, jobs)

    assert errors == []
    assert len(results) == len(jobs)
    db.session.expire_all()
    for class_id in class_ids:
        course_class = db.session.get(CourseClass, class_id)
        assert course_class is not None
        taken = _count(
            Enrolment.class_id == class_id, Enrolment.status == EnrolmentStatus.CONFIRMED
        )
        assert course_class.seats_taken == taken == course_class.capacity


def test_a_promotion_passes_over_a_learner_whose_row_is_held_rather_than_wait(
    app: Flask, make: Factory, company: Any
) -> None:
    """Waiting for the learner while holding the class could deadlock with a request of
    theirs that holds the learner and waits for the class: the next in line gets the seat,
    and the one passed over keeps the first place."""
    if db.engine.dialect.name != "postgresql":
        pytest.skip("on SQLite one writer at a time holds the whole database")
    course_class = make.course_class(capacity=1, sessions=1)
    seated = make.enrolment(course_class, make.user(company=company))
    busy = make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    after = make.enrolment(course_class, make.user(company=company), EnrolmentStatus.WAITLISTED)
    admin = make.user(role="admin")
    seated_id, busy_id, after_id, admin_id = seated.id, busy.id, after.id, admin.id
    busy_learner_id = busy.learner_id
    db.session.commit()
    held, done = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def hold_the_learner() -> None:
        with app.app_context():
            try:
                lock_learner(busy_learner_id)
                held.set()
                done.wait(timeout=30)
                db.session.rollback()
            except BaseException as error:
                errors.append(error)
            finally:
                db.session.remove()

    holder = threading.Thread(target=hold_the_learner)
    holder.start()
    try:
        assert held.wait(timeout=30)
        with app.app_context():
            actor, enrolment = db.session.get(User, admin_id), db.session.get(Enrolment, seated_id)
            assert actor is not None and enrolment is not None
            enrolment_requests.withdraw(actor, enrolment, "Moved to another project")
            db.session.commit()
            db.session.remove()
    finally:
        done.set()
        holder.join(timeout=30)

    assert errors == []
    db.session.expire_all()
    assert db.session.get(Enrolment, after_id).status == EnrolmentStatus.CONFIRMED
    passed_over = db.session.get(Enrolment, busy_id)
    assert passed_over.status == EnrolmentStatus.WAITLISTED
    assert waitlist.waitlist_position(passed_over) == 1


REDIS_URL = "redis://127.0.0.1:6379/13"


class TestParallelPasswordGuesses:
    @pytest.fixture(params=["memory", "redis"])
    def app_config(self, request: pytest.FixtureRequest) -> Iterator[dict[str, Any]]:
        """The login limits counted in the process's memory, and in Redis (as in production)."""
        if request.param == "memory":
            yield {}
            return
        redis = pytest.importorskip("redis")
        connection = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
        try:
            connection.ping()
        except redis.exceptions.ConnectionError as error:
            connection.close()
            pytest.skip(f"Redis unreachable at {REDIS_URL}: {error}")
        connection.flushdb()
        yield {"RATELIMIT_STORAGE_URI": REDIS_URL}
        connection.flushdb()
        connection.close()

    def test_forty_wrong_passwords_at_once_get_no_more_checks_than_the_limit(
        self, app: Flask, learner: User, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert app.config["LOGIN_LIMIT_PER_ACCOUNT"] == "5 per 15 minutes"
        checks: list[str] = []
        real_verify = passwords.verify_password

        def counted_verify(stored: str, password: str) -> bool:
            checks.append(password)
            return real_verify(stored, password)

        monkeypatch.setattr(passwords, "verify_password", counted_verify)
        email = learner.email
        db.session.commit()
        barrier = threading.Barrier(40)
        statuses: list[int] = []
        lock = threading.Lock()

        def guess(number: int) -> None:
            client = app.test_client()
            client.environ_base["REMOTE_ADDR"] = f"10.0.0.{number + 1}"
            barrier.wait(timeout=60)
            response = client.post("/login", data={"email": email, "password": f"guess {number}"})
            with lock:
                statuses.append(response.status_code)

        threads = [threading.Thread(target=guess, args=(n,)) for n in range(40)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)

        assert len(checks) == 5
        assert Counter(statuses) == {200: 5, 429: 35}
        # The right password is refused too now, without a check.
        response = app.test_client().post("/login", data={"email": email, "password": PASSWORD})
        assert response.status_code == 429
        assert len(checks) == 5
