"""The demo data: its accounts, its size, its idempotence and the rules it must obey.

The demo is seeded once per database backend and reference day, into a database of its own
that the tests only read (what they change is rolled back): seeding goes through the services
and takes a few seconds.
"""

from __future__ import annotations

import itertools
import os
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from skillsup import create_app
from skillsup.devdata.demo import DEMO_PASSWORD, seed_demo
from skillsup.extensions import db
from skillsup.models import (
    ACTIVE_STATUSES,
    ApiToken,
    ApiTokenState,
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    Course,
    CourseClass,
    CourseStatus,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    FundingState,
    OutboxMessage,
    PartnerCompany,
    Role,
    SeatQuota,
    SkillArea,
    User,
    course_prerequisites,
)
from skillsup.services import api_tokens
from skillsup.services.accounts import authenticate
from skillsup.services.enrolment import QUOTA_STATUSES
from skillsup.services.errors import AccountUnavailable
from skillsup.services.funding_figures import CEF, COMPANY, ERB, NITTP
from skillsup.services.funding_schemes import class_funding
from skillsup.services.funding_status import enrolment_statuses
from skillsup.services.subsidy import company_cap_use

from .conftest import BASE_TEST_CONFIG, POSTGRES_URL, REQUIRE_POSTGRES
from .pg import drop_postgres_database, postgres_database_url

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
TODAY = date(2026, 3, 10)

# Reference days that move the weekday alignment, and cross a year and a term boundary.
ANCHORS = [date(2026, 3, 10), date(2026, 8, 29), date(2026, 12, 27), date(2027, 1, 4)]

CONTRACT_ACCOUNTS = {
    "admin@skillsup.test": (Role.ADMIN, None),
    "trainer@skillsup.test": (Role.TRAINER, None),
    "trainer2@skillsup.test": (Role.TRAINER, None),
    "trainer3@skillsup.test": (Role.TRAINER, None),
    "hr@partner-a.test": (Role.HR, "partner-a.test"),
    "hr@partner-b.test": (Role.HR, "partner-b.test"),
    "hr@partner-c.test": (Role.HR, "partner-c.test"),
    "learner@partner-a.test": (Role.LEARNER, "partner-a.test"),
    "learner@partner-b.test": (Role.LEARNER, "partner-b.test"),
}

# The enrolment life cycle of DESIGN.md: where each status may go, and how it may begin.
LIFE_CYCLE: dict[EnrolmentStatus | None, set[EnrolmentStatus]] = {
    None: {EnrolmentStatus.PENDING, EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED},
    EnrolmentStatus.PENDING: {
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.REJECTED,
        EnrolmentStatus.CANCELLED,
    },
    EnrolmentStatus.CONFIRMED: {
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.NOT_COMPLETED,
        EnrolmentStatus.CANCELLED,
    },
    EnrolmentStatus.WAITLISTED: {
        EnrolmentStatus.WITHDRAWN,
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.CANCELLED,
    },
}


# The seeded databases ----------------------------------------------------------------------


@dataclass
class DemoDatabases:
    """Demo databases of one backend: seeded once per reference day, or fresh and empty."""

    backend: str
    make_path: Callable[[], Any]
    apps: dict[date, Flask] = field(default_factory=dict)
    made: list[Flask] = field(default_factory=list)
    postgres_names: list[str] = field(default_factory=list)

    def fresh(self) -> Flask:
        """An app over a new, empty database with the schema."""
        if self.backend == "sqlite":
            url = f"sqlite:///{self.make_path()}/demo.sqlite3"
        else:
            name = f"skillsup_test_demo_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}_"
            name += f"{os.getpid()}_{len(self.postgres_names)}"
            url = postgres_database_url(POSTGRES_URL, name, fresh=True)
            self.postgres_names.append(name)
        app = create_app({**BASE_TEST_CONFIG, "SQLALCHEMY_DATABASE_URI": url})
        with app.app_context():
            db.create_all()
        self.made.append(app)
        return app

    def seeded(self, today: date = TODAY) -> Flask:
        """An app over a database with the demo seeded on ``today``; read it, change nothing."""
        if today not in self.apps:
            app = self.fresh()
            with app.app_context():
                seed_demo(today=today)
                db.session.commit()
            self.apps[today] = app
        return self.apps[today]

    def close(self) -> None:
        for app in self.made:
            with app.app_context():
                db.engine.dispose()
        for name in self.postgres_names:
            drop_postgres_database(POSTGRES_URL, name)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def demo(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[DemoDatabases]:
    if request.param == "postgresql" and not POSTGRES_URL:
        if REQUIRE_POSTGRES:
            pytest.fail("SKILLSUP_TEST_DATABASE_URL is not set")
        pytest.skip("PostgreSQL not configured: set SKILLSUP_TEST_DATABASE_URL to run on it")
    databases = DemoDatabases(request.param, lambda: tmp_path_factory.mktemp("demo"))
    yield databases
    databases.close()


@pytest.fixture
def seeded(demo: DemoDatabases) -> Iterator[Flask]:
    """The demo seeded on :data:`TODAY`, in an app context; anything changed is rolled back."""
    app = demo.seeded(TODAY)
    with app.app_context():
        yield app
        db.session.rollback()


def _row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def _hk_date(moment: datetime) -> date:
    return moment.astimezone(HONG_KONG).date()


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None, email
    return user


# Accounts, companies, sizes ----------------------------------------------------------------


def test_demo_accounts_have_their_roles_and_companies_and_sign_in(seeded: Flask) -> None:
    for email, (role, domain) in CONTRACT_ACCOUNTS.items():
        user = _user(email)
        assert user.role is role, email
        if domain is None:
            assert user.company is None, email
        else:
            assert user.company is not None
            assert user.company.domain_names == [domain], email
        assert authenticate(email, DEMO_PASSWORD) == user

    # Every demo account shares one hash and signs in, except staff who have left.
    users = list(db.session.scalars(select(User)))
    assert len({user.password_hash for user in users}) == 1
    inactive = [user for user in users if not user.is_active]
    assert 1 <= len(inactive) <= 2
    for user in users:
        if user.is_active:
            assert authenticate(user.email, DEMO_PASSWORD) == user
        else:
            assert user.deactivated_at is not None
            with pytest.raises(AccountUnavailable):
                authenticate(user.email, DEMO_PASSWORD)
    assert all(user.email.endswith((".test", ".example")) for user in users), (
        "demo data uses reserved domains only"
    )


def test_companies_and_their_approval_rules(seeded: Flask) -> None:
    companies = {
        company.domain_names[0]: company for company in db.session.scalars(select(PartnerCompany))
    }
    assert set(companies) == {"partner-a.test", "partner-b.test", "partner-c.test"}
    assert not companies["partner-a.test"].requires_approval
    assert companies["partner-b.test"].requires_approval
    assert not companies["partner-c.test"].requires_approval
    for company in companies.values():
        staff = [user for user in company.staff if user.role is Role.LEARNER]
        assert len(staff) >= 11
        numbers = [user.staff_number for user in company.staff]
        assert all(numbers) and len(set(numbers)) == len(numbers)
        assert all(user.department and user.job_title for user in staff)
        assert any(quota.label.endswith(("Term 1", "Term 2", "Term 3")) for quota in company.quotas)


def test_a_second_run_creates_nothing(seeded: Flask) -> None:
    counts = _row_counts()

    second = seed_demo(today=TODAY)
    assert second.created and set(second.created.values()) == {0}
    assert "nothing new" in second.summary()
    assert _row_counts() == counts

    # A later day finds the same classes: the first run's day anchors the schedule.
    third = seed_demo(today=TODAY + timedelta(days=45))
    assert set(third.created.values()) == {0}
    assert _row_counts() == counts


def test_sizes_meet_the_published_minimums(seeded: Flask) -> None:
    assert db.session.scalar(select(func.count(User.id))) >= 40
    courses = list(db.session.scalars(select(Course)))
    assert sum(1 for course in courses if course.title_zh) >= 20
    assert len(courses) >= 22
    assert {course.skill_area for course in courses} == set(SkillArea)
    statuses = Counter(course.status for course in courses)
    assert statuses[CourseStatus.PUBLISHED] >= 20
    assert 1 <= statuses[CourseStatus.DRAFT] <= 2
    assert statuses[CourseStatus.ARCHIVED] == 1
    for course in courses:
        assert course.code.startswith("SU-")
        assert 3 <= course.qf_level <= 6
        assert course.summary_zh and course.description_zh and course.audience_zh
        assert len(course.outcomes_en.splitlines()) == len(course.outcomes_zh.splitlines()) >= 3
        assert course.skills

    with_sessions = db.session.scalar(select(func.count(func.distinct(ClassSession.class_id))))
    assert with_sessions >= 30
    class_statuses = set(db.session.scalars(select(CourseClass.status)))
    assert class_statuses == set(ClassStatus)


def test_prerequisites_form_no_cycle(seeded: Flask) -> None:
    edges: dict[int, set[int]] = defaultdict(set)
    for course_id, prerequisite_id in db.session.execute(select(course_prerequisites)).all():
        edges[course_id].add(prerequisite_id)
    assert edges

    def reaches(start: int, target: int, seen: set[int]) -> bool:
        for nxt in edges[start]:
            if nxt == target or (nxt not in seen and reaches(nxt, target, seen | {nxt})):
                return True
        return False

    assert not any(reaches(course_id, course_id, set()) for course_id in list(edges))


# The rules ---------------------------------------------------------------------------------


@pytest.mark.parametrize("today", ANCHORS, ids=str)
def test_classes_and_enrolments_obey_the_rules(demo: DemoDatabases, today: date) -> None:
    with demo.seeded(today).app_context():
        _check_classes_and_enrolments(today)


def _check_classes_and_enrolments(today: date) -> None:
    start_of_today = datetime.combine(today, datetime.min.time(), tzinfo=HONG_KONG)

    classes = list(
        db.session.scalars(
            select(CourseClass).options(
                selectinload(CourseClass.sessions), selectinload(CourseClass.trainers)
            )
        )
    )
    enrolments = list(
        db.session.scalars(
            select(Enrolment).options(
                selectinload(Enrolment.history).selectinload(EnrolmentStatusChange.actor),
                selectinload(Enrolment.learner).selectinload(User.company),
                selectinload(Enrolment.attendance).selectinload(Attendance.session),
                selectinload(Enrolment.certificate),
            )
        )
    )
    by_class: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        by_class[enrolment.class_id].append(enrolment)
        assert enrolment.company_id == enrolment.learner.company_id is not None

    trainer_sessions: dict[int, list[ClassSession]] = defaultdict(list)
    for course_class in classes:
        mine = by_class[course_class.id]
        confirmed = sum(1 for e in mine if e.status is EnrolmentStatus.CONFIRMED)
        assert confirmed <= course_class.capacity, course_class.code
        # Seats are taken by confirmed learners; closing a class records their outcomes and
        # leaves the seats they held counted.
        holding = (
            (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
            if course_class.status is ClassStatus.COMPLETED
            else (EnrolmentStatus.CONFIRMED,)
        )
        held = sum(1 for e in mine if e.status in holding)
        assert course_class.seats_taken == held, course_class.code
        assert 12 <= course_class.capacity <= 30
        assert course_class.course.status is CourseStatus.PUBLISHED
        assert course_class.code.startswith(course_class.course.code + "-")
        assert course_class.trainers
        assert course_class.venue or course_class.online_url
        assert course_class.enrolment_opens_at < course_class.enrolment_closes_at

        sessions = course_class.sessions
        assert sessions, course_class.code
        assert course_class.starts_on == _hk_date(sessions[0].starts_at)
        assert course_class.ends_on == _hk_date(sessions[-1].starts_at)
        hours = sum(session.hours for session in sessions)
        assert hours == pytest.approx(float(course_class.course.contact_hours))
        for session in sessions:
            assert session.starts_at.utcoffset() == timedelta(0)
            assert _hk_date(session.starts_at) == _hk_date(session.ends_at)
            for trainer in course_class.trainers:
                trainer_sessions[trainer.id].append(session)

        status = course_class.status
        first, last = sessions[0].starts_at, sessions[-1].ends_at
        if status is ClassStatus.COMPLETED:
            assert last < start_of_today
        elif status is ClassStatus.RUNNING:
            assert first < start_of_today < last
        elif status in (ClassStatus.OPEN, ClassStatus.CLOSED, ClassStatus.DRAFT):
            assert first > start_of_today
        if status is ClassStatus.OPEN:
            assert course_class.enrolment_opens_at < start_of_today
            assert course_class.enrolment_closes_at > start_of_today
        if status is ClassStatus.CLOSED:
            assert course_class.enrolment_closes_at < start_of_today
        if status is ClassStatus.CANCELLED:
            assert course_class.status_reasons
            assert all(e.status not in ACTIVE_STATUSES for e in mine)
        if status is ClassStatus.DRAFT:
            assert not mine

        waitlisted = [e for e in mine if e.status is EnrolmentStatus.WAITLISTED]
        if waitlisted:
            assert confirmed == course_class.capacity, course_class.code
            assert all(e.waitlisted_at is not None for e in waitlisted)

        active = Counter(e.learner_id for e in mine if e.status in ACTIVE_STATUSES)
        assert all(count == 1 for count in active.values()), course_class.code

    # No trainer is in two places at once.
    for trainer_id, sessions in trainer_sessions.items():
        ordered = sorted(sessions, key=lambda s: s.starts_at)
        for earlier, later in itertools.pairwise(ordered):
            assert earlier.ends_at <= later.starts_at, trainer_id

    classes_by_id = {course_class.id: course_class for course_class in classes}
    certificates = []
    for enrolment in enrolments:
        course_class = classes_by_id[enrolment.class_id]
        status = enrolment.status
        assert enrolment.learner.role is Role.LEARNER
        if status in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED):
            assert enrolment.confirmed_at is not None
        if status in (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED):
            assert course_class.status is ClassStatus.COMPLETED
            assert enrolment.ended_at is not None
        if status in (
            EnrolmentStatus.WITHDRAWN,
            EnrolmentStatus.REJECTED,
            EnrolmentStatus.CANCELLED,
        ):
            assert enrolment.ended_at is not None
            assert enrolment.status_reasons
        if status is EnrolmentStatus.REJECTED:
            assert enrolment.decided_at is not None
        if status is EnrolmentStatus.NOT_COMPLETED:
            assert enrolment.status_reasons
        if status is EnrolmentStatus.PENDING:
            assert course_class.status is ClassStatus.OPEN
        if course_class.status is ClassStatus.COMPLETED:
            assert status not in ACTIVE_STATUSES
        if status is EnrolmentStatus.COMPLETED:
            assert enrolment.certificate is not None
            certificates.append(enrolment.certificate)
        else:
            assert enrolment.certificate is None
        if course_class.status is ClassStatus.RUNNING and status is EnrolmentStatus.CONFIRMED:
            held = [s for s in course_class.sessions if s.ends_at <= start_of_today]
            assert len(enrolment.attendance) == len(held)

    assert certificates
    assert len({c.serial_number for c in certificates}) == len(certificates)
    assert len({c.verification_code for c in certificates}) == len(certificates)
    assert all(c.serial_number.startswith("SU-20") for c in certificates)
    assert len(certificates) == db.session.scalar(select(func.count()).select_from(Certificate))

    statuses = Counter(enrolment.status for enrolment in enrolments)
    assert all(statuses[status] > 0 for status in EnrolmentStatus), statuses
    # Someone withdrew from a full class, and the first on its waitlist moved up.
    assert any(
        change.from_status is EnrolmentStatus.WAITLISTED
        and change.to_status is EnrolmentStatus.CONFIRMED
        for enrolment in enrolments
        for change in enrolment.history
    )
    assert Counter(e.source for e in enrolments)[EnrolmentSource.NOMINATED] > 0

    _check_life_cycles(enrolments, start_of_today)
    _check_seats_over_time(classes, by_class)
    _check_approvals(enrolments)
    _check_attendance(enrolments, classes_by_id, start_of_today)
    _check_completions(enrolments, classes_by_id)
    _check_quotas(enrolments, classes_by_id)
    _check_audit_log(enrolments, classes, start_of_today)
    _check_stories(classes_by_id)


def _status_at(enrolment: Enrolment, moment: datetime) -> EnrolmentStatus | None:
    """The enrolment's status at ``moment``, from its history (``None`` before it began)."""
    status = None
    for change in enrolment.history:
        if change.changed_at > moment:
            break
        status = change.to_status
    return status


def _check_life_cycles(enrolments: list[Enrolment], start_of_today: datetime) -> None:
    """Every history follows the life cycle of DESIGN.md, in time order, before today, from
    the request to the enrolment's status; one learner never has two active enrolments in a
    class at once."""
    active_spans: dict[tuple[int, int], list[tuple[datetime, datetime]]] = defaultdict(list)
    for enrolment in enrolments:
        history = enrolment.history
        assert history[0].from_status is None
        assert history[-1].to_status is enrolment.status
        assert enrolment.requested_at == history[0].changed_at
        for change in history:
            assert change.to_status in LIFE_CYCLE[change.from_status], (
                enrolment.id,
                change.from_status,
                change.to_status,
            )
            assert change.changed_at < start_of_today
        for before, after in itertools.pairwise(history):
            assert after.from_status is before.to_status
            assert after.changed_at >= before.changed_at
        ended = next(
            (c.changed_at for c in history if c.to_status not in ACTIVE_STATUSES), start_of_today
        )
        active_spans[(enrolment.learner_id, enrolment.class_id)].append(
            (history[0].changed_at, ended)
        )
        if enrolment.source is EnrolmentSource.SELF:
            assert enrolment.requested_by_id == enrolment.learner_id
        else:
            assert enrolment.requested_by is not None
            assert enrolment.requested_by.role is Role.HR
            assert enrolment.requested_by.company_id == enrolment.learner.company_id
    for spans in active_spans.values():
        for (_, first_end), (second_start, _) in itertools.pairwise(sorted(spans)):
            assert first_end <= second_start


def _check_seats_over_time(
    classes: list[CourseClass], by_class: dict[int, list[Enrolment]]
) -> None:
    """Played back in time order, no class ever had more confirmed learners than seats; a
    seat was never taken by a request or an approval while someone waited on the waitlist;
    and the waitlist moved up first come, first served."""
    for course_class in classes:
        changes = sorted(
            (change for e in by_class[course_class.id] for change in e.history),
            key=lambda change: (change.changed_at, change.id),
        )
        confirmed = 0
        waiting: dict[int, tuple[datetime, int]] = {}
        waitlisted_at = {e.id: e.waitlisted_at for e in by_class[course_class.id]}
        for change in changes:
            into = change.to_status is EnrolmentStatus.CONFIRMED
            if change.from_status is EnrolmentStatus.CONFIRMED:
                confirmed -= 1
            if change.from_status is EnrolmentStatus.WAITLISTED:
                promoted = into
                mine = waiting.pop(change.enrolment_id)
                if promoted:
                    # Nobody ahead in line was passed over.
                    assert all(place > mine for place in waiting.values()), course_class.code
            elif into:
                assert not waiting, f"a seat in {course_class.code} went past its waitlist"
            if into:
                confirmed += 1
                assert confirmed <= course_class.capacity, course_class.code
            if change.to_status is EnrolmentStatus.WAITLISTED:
                moment = waitlisted_at[change.enrolment_id]
                assert moment is not None
                waiting[change.enrolment_id] = (moment, change.enrolment_id)


def _check_approvals(enrolments: list[Enrolment]) -> None:
    """A learner's own request at a company that needs approval waits for it, and its HR
    officer decides it; every other request takes a seat or a waitlist place at once."""
    for enrolment in enrolments:
        history = enrolment.history
        company = enrolment.learner.company
        assert company is not None
        if company.requires_approval and enrolment.source is EnrolmentSource.SELF:
            assert history[0].to_status is EnrolmentStatus.PENDING, enrolment.id
            for change in history[1:]:
                if change.from_status is EnrolmentStatus.PENDING and change.to_status in (
                    EnrolmentStatus.CONFIRMED,
                    EnrolmentStatus.WAITLISTED,
                    EnrolmentStatus.REJECTED,
                ):
                    assert change.actor is not None
                    assert change.actor.role is Role.HR
                    assert change.actor.company_id == company.id
        else:
            assert all(c.to_status is not EnrolmentStatus.PENDING for c in history), enrolment.id


def _check_attendance(
    enrolments: list[Enrolment], classes: dict[int, CourseClass], start_of_today: datetime
) -> None:
    """Attendance is marked by the class's trainer, once a session has started and before
    today, for a learner who held a place in the class at that moment."""
    for enrolment in enrolments:
        course_class = classes[enrolment.class_id]
        trainers = {trainer.id for trainer in course_class.trainers}
        sessions = [mark.session_id for mark in enrolment.attendance]
        assert len(sessions) == len(set(sessions))
        for mark in enrolment.attendance:
            assert mark.session.class_id == enrolment.class_id
            assert mark.session.starts_at <= mark.marked_at < start_of_today
            assert mark.session.ends_at <= start_of_today
            assert mark.marked_by_id in trainers
            assert _status_at(enrolment, mark.marked_at) is EnrolmentStatus.CONFIRMED


def _check_completions(enrolments: list[Enrolment], classes: dict[int, CourseClass]) -> None:
    """Whoever held a place in a class when it closed completed it exactly when their
    attendance (in contact hours, excused sessions left out) met its minimum and, where an
    assessment is required, they passed it."""
    for enrolment in enrolments:
        if enrolment.status not in (EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED):
            continue
        course_class = classes[enrolment.class_id]
        sessions = [s for s in course_class.sessions if not s.is_cancelled]
        assert len(enrolment.attendance) == len(sessions)
        hours = {session.id: session.hours for session in sessions}
        attended = sum(
            hours[m.session_id]
            for m in enrolment.attendance
            if m.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
        )
        excused = sum(
            hours[m.session_id]
            for m in enrolment.attendance
            if m.status is AttendanceStatus.EXCUSED
        )
        counted = sum(hours.values()) - excused
        meets = counted > 0 and attended / counted * 100 + 1e-9 >= course_class.min_attendance_pct
        passed = not course_class.assessment_required or enrolment.result_passed is True
        completes = enrolment.status is EnrolmentStatus.COMPLETED
        assert completes == (meets and passed), enrolment.id
        if course_class.assessment_required:
            assert enrolment.result_passed is not None
            assert enrolment.result_score is not None


def _check_quotas(enrolments: list[Enrolment], classes: dict[int, CourseClass]) -> None:
    """No company uses more seats than a quota gives it: pending, confirmed and finished
    enrolments in classes starting in the quota's period (and of its course) count."""
    quotas = list(db.session.scalars(select(SeatQuota)))
    assert quotas
    for quota in quotas:
        used = sum(
            1
            for e in enrolments
            if e.status in QUOTA_STATUSES
            and e.learner.company_id == quota.company_id
            and quota.starts_on <= classes[e.class_id].starts_on <= quota.ends_on
            and (quota.course_id is None or classes[e.class_id].course_id == quota.course_id)
        )
        assert used <= quota.seats, quota.label


def _check_audit_log(
    enrolments: list[Enrolment], classes: list[CourseClass], start_of_today: datetime
) -> None:
    """Every change is in the audit log, dated in the demo's past: each step of every
    enrolment, each attendance mark, each result, each certificate, and each course, class
    and quota."""
    entries = list(db.session.scalars(select(AuditEntry)))
    by_action: dict[str, list[AuditEntry]] = defaultdict(list)
    for entry in entries:
        by_action[entry.action].append(entry)
        if entry.action != "demo.seeded":
            assert entry.occurred_at < start_of_today, entry.action
    steps = Counter(
        (entry.object_id, entry.details["from"], entry.details["to"])
        for action in ("enrolment.created", "enrolment.status_changed")
        for entry in by_action[action]
    )
    expected = Counter(
        (e.id, c.from_status.value if c.from_status else None, c.to_status.value)
        for e in enrolments
        for c in e.history
    )
    assert steps == expected
    marks = {
        (e.details["enrolment_id"], e.details["session_id"]) for e in by_action["attendance.marked"]
    }
    assert marks == {(m.enrolment_id, m.session_id) for e in enrolments for m in e.attendance}
    results = {entry.object_id for entry in by_action["enrolment.result_recorded"]}
    assert results == {e.id for e in enrolments if e.result_passed is not None}
    issued = {entry.object_id for entry in by_action["certificate.issued"]}
    assert issued == {e.certificate.id for e in enrolments if e.certificate is not None}
    assert {e.object_id for e in by_action["class.created"]} == {c.id for c in classes}
    courses = set(db.session.scalars(select(Course.id)))
    assert {e.object_id for e in by_action["course.created"]} == courses
    quotas = {entry.details["quota_id"] for entry in by_action["company.quota_added"]}
    assert quotas == set(db.session.scalars(select(SeatQuota.id)))


def _check_stories(classes: dict[int, CourseClass]) -> None:
    def story(email: str) -> Counter[tuple[EnrolmentStatus, ClassStatus]]:
        return Counter(
            (e.status, classes[e.class_id].status)
            for e in db.session.scalars(
                select(Enrolment)
                .join(User, Enrolment.learner_id == User.id)
                .where(User.email == email)
            )
        )

    assert story("learner@partner-a.test") == Counter(
        {
            (EnrolmentStatus.CONFIRMED, ClassStatus.OPEN): 2,
            (EnrolmentStatus.CONFIRMED, ClassStatus.RUNNING): 1,
            (EnrolmentStatus.COMPLETED, ClassStatus.COMPLETED): 1,
            (EnrolmentStatus.WAITLISTED, ClassStatus.OPEN): 1,
            (EnrolmentStatus.WITHDRAWN, ClassStatus.OPEN): 1,
        }
    )
    assert story("learner@partner-b.test") == Counter(
        {
            (EnrolmentStatus.PENDING, ClassStatus.OPEN): 1,
            (EnrolmentStatus.CONFIRMED, ClassStatus.OPEN): 1,
            (EnrolmentStatus.REJECTED, ClassStatus.OPEN): 1,
        }
    )


# Determinism, the audit entry, the command -------------------------------------------------


def _fingerprint() -> list[tuple[str, ...]]:
    users = db.session.execute(select(User.email, User.name, User.staff_number)).all()
    enrolments = db.session.execute(
        select(CourseClass.code, User.email, Enrolment.status, Enrolment.requested_at)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
    ).all()
    return sorted(tuple(str(value) for value in row) for row in [*users, *enrolments])


def test_the_seed_is_deterministic(demo: DemoDatabases) -> None:
    with demo.seeded(TODAY).app_context():
        first = _fingerprint()
        codes = set(db.session.scalars(select(CourseClass.code)))
        assert "SU-CLD-101-2511" in codes  # four months before the reference day

    with demo.fresh().app_context():
        seed_demo(today=TODAY)
        db.session.commit()
        assert _fingerprint() == first


def test_the_seed_records_one_audit_entry(seeded: Flask) -> None:
    seed_demo(today=TODAY)
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "demo.seeded")))
    assert len(entries) == 1
    assert entries[0].details["anchor"] == TODAY.isoformat()


def test_the_cli_command_loads_the_demo_and_sends_no_mail(demo: DemoDatabases) -> None:
    app = demo.fresh()
    runner = app.test_cli_runner()

    with app.app_context():
        result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output
    # The demo's API token was shown to nobody: its secret is printed nowhere.
    assert api_tokens.SECRET_PREFIX not in result.output

    with app.app_context():
        again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output

    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(CourseClass)) >= 30
        # The history is in the past, of invented people: none of its e-mail is written.
        assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) == 0


# Funding ---------------------------------------------------------------------------------------


def test_the_demo_has_classes_under_every_scheme_with_learners_in_every_state(
    seeded: Flask,
) -> None:
    class_ids = list(db.session.scalars(select(CourseClass.id)))
    funding = class_funding(class_ids)
    classes_under: dict[str, set[int]] = defaultdict(set)
    for class_id, items in funding.items():
        for item in items:
            classes_under[item.scheme.code].add(class_id)
    for code in (CEF, NITTP, ERB, COMPANY):
        assert classes_under[code], f"no demo class under {code}"
    # A class with its own schemes, instead of its course's.
    assert db.session.scalar(
        select(func.count()).select_from(CourseClass).where(CourseClass.funding_override)
    )

    enrolments = list(db.session.scalars(select(Enrolment)))
    statuses = enrolment_statuses([e.id for e in enrolments])
    states: dict[str, Counter[FundingState]] = defaultdict(Counter)
    for items in statuses.values():
        for status in items:
            states[status.scheme.code][status.state] += 1
    every = sum(states.values(), Counter())
    assert set(every) == set(FundingState), every
    for code in (CEF, NITTP, ERB, COMPANY):
        assert states[code], f"no enrolment with a status under {code}"
    # Learners at risk and lost under the schemes that pay money, not only under CEF.
    assert states[ERB][FundingState.AT_RISK] or states[NITTP][FundingState.AT_RISK]

    # The demo learners have statuses: A in a running class, B in a NITTP class.
    by_learner = {e.id: e.learner.email for e in enrolments}
    learners = {by_learner[i]: items for i, items in statuses.items() if items}
    assert "learner@partner-a.test" in learners
    b_codes = {
        s.scheme.code
        for i, items in statuses.items()
        for s in items
        if by_learner[i] == "learner@partner-b.test"
    }
    assert NITTP in b_codes

    # Several of Lion Rock's (partner-b) staff under NITTP: its yearly cap is in use.
    company = db.session.scalar(select(PartnerCompany).where(PartnerCompany.code == "LRFT"))
    assert company is not None
    nittp = next(iter(s for items in funding.values() for s in items if s.scheme.code == NITTP))
    use = company_cap_use(company.id, nittp.scheme, TODAY)
    assert use.used + use.expected > 0


# The HR system's API token -----------------------------------------------------------------------


def test_an_hr_officer_connected_their_companys_hr_system_a_month_ago(seeded: Flask) -> None:
    tokens = list(db.session.scalars(select(ApiToken)))
    assert len(tokens) == 1
    token = tokens[0]
    assert token.name == "Nightly HR sync"
    assert token.created_by.email == "hr@partner-b.test"
    assert token.company is not None and token.company.code == "LRFT"
    assert token.scopes == ["read", "staff:write"]
    assert _hk_date(token.created_at) == TODAY - timedelta(days=30)
    assert token.expires_at is not None and token.revoked_at is None
    assert api_tokens.token_state(token, datetime.now(HONG_KONG)) == ApiTokenState.ACTIVE
    created = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "api_token.created")
    ).one()
    assert created.object_id == token.id and created.occurred_at == token.created_at
