"""The demo data: its accounts, its size, its idempotence and the rules it must obey."""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from skillsup.devdata.demo import DEMO_PASSWORD, seed_demo
from skillsup.extensions import db
from skillsup.models import (
    ACTIVE_STATUSES,
    Attendance,
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
    PartnerCompany,
    Role,
    SeatQuota,
    SkillArea,
    User,
    course_prerequisites,
)
from skillsup.services.accounts import authenticate
from skillsup.services.errors import AccountUnavailable

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


def _seed(today: date = TODAY) -> None:
    seed_demo(today=today)
    db.session.commit()


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


def test_demo_accounts_have_their_roles_and_companies_and_sign_in(app: Flask) -> None:
    _seed()

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


def test_companies_and_their_approval_rules(app: Flask) -> None:
    _seed()

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


def test_a_second_run_creates_nothing(app: Flask) -> None:
    first = seed_demo(today=TODAY)
    db.session.commit()
    assert first.created["users"] >= 40
    assert "Demo data loaded" in first.summary()
    counts = _row_counts()

    second = seed_demo(today=TODAY)
    db.session.commit()
    assert second.created and set(second.created.values()) == {0}
    assert "nothing new" in second.summary()
    assert _row_counts() == counts

    # A later day finds the same classes: the first run's day anchors the schedule.
    third = seed_demo(today=TODAY + timedelta(days=45))
    db.session.commit()
    assert set(third.created.values()) == {0}
    assert _row_counts() == counts


def test_sizes_meet_the_published_minimums(app: Flask) -> None:
    _seed()

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


def test_prerequisites_form_no_cycle(app: Flask) -> None:
    _seed()

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


@pytest.mark.parametrize("today", ANCHORS, ids=str)
def test_classes_and_enrolments_obey_the_rules(app: Flask, today: date) -> None:
    _seed(today)
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
                selectinload(Enrolment.history),
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
        assert course_class.seats_taken == confirmed <= course_class.capacity, course_class.code
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
            assert course_class.status_reason
            assert all(e.status not in ACTIVE_STATUSES for e in mine)
        if status is ClassStatus.DRAFT:
            assert not mine

        waitlisted = sorted(
            (e for e in mine if e.status is EnrolmentStatus.WAITLISTED),
            key=lambda e: (e.waitlisted_at, e.id),
        )
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

    approval_company = db.session.scalar(
        select(PartnerCompany).where(PartnerCompany.requires_approval.is_(True))
    )
    assert approval_company is not None
    classes_by_id = {course_class.id: course_class for course_class in classes}
    certificates = []
    for enrolment in enrolments:
        course_class = classes_by_id[enrolment.class_id]
        learner = enrolment.learner
        status = enrolment.status
        assert learner.role is Role.LEARNER
        history = enrolment.history
        assert history[0].from_status is None
        assert history[-1].to_status is status
        for before, after in itertools.pairwise(history):
            assert after.from_status is before.to_status
            assert after.changed_at >= before.changed_at
        assert all(change.changed_at < start_of_today for change in history)
        assert enrolment.requested_at == history[0].changed_at
        if enrolment.source is EnrolmentSource.SELF:
            assert enrolment.requested_by_id == learner.id
        else:
            assert enrolment.requested_by is not None
            assert enrolment.requested_by.role is Role.HR
            assert enrolment.requested_by.company_id == learner.company_id

        if status is EnrolmentStatus.PENDING or any(
            change.to_status is EnrolmentStatus.PENDING for change in history
        ):
            assert learner.company_id == approval_company.id
            assert enrolment.source is EnrolmentSource.SELF
        if status is EnrolmentStatus.PENDING:
            assert course_class.status is ClassStatus.OPEN
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
            assert enrolment.status_reason
        if status is EnrolmentStatus.REJECTED:
            assert enrolment.decided_at is not None
        if status is EnrolmentStatus.NOT_COMPLETED:
            assert enrolment.status_reason
        if course_class.status is ClassStatus.COMPLETED:
            assert status not in ACTIVE_STATUSES

        for mark in enrolment.attendance:
            assert mark.session.class_id == enrolment.class_id
            assert mark.session.ends_at <= start_of_today
        if enrolment.attendance:
            assert status in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.COMPLETED,
                EnrolmentStatus.NOT_COMPLETED,
            )
        if status is EnrolmentStatus.COMPLETED:
            held = len(course_class.sessions)
            assert len(enrolment.attendance) == held
            assert enrolment.certificate is not None
            certificates.append(enrolment.certificate)
            if course_class.assessment_required:
                assert enrolment.result_passed is True
                assert enrolment.result_score is not None
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
    assert Counter(e.source for e in enrolments)[EnrolmentSource.NOMINATED] > 0

    _check_quotas(enrolments, classes_by_id)
    _check_stories(classes_by_id)


def _check_quotas(enrolments: list[Enrolment], classes: dict[int, CourseClass]) -> None:
    counted = (
        EnrolmentStatus.PENDING,
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.WAITLISTED,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.NOT_COMPLETED,
    )
    quotas = list(db.session.scalars(select(SeatQuota)))
    assert quotas
    for quota in quotas:
        used = sum(
            1
            for e in enrolments
            if e.status in counted
            and e.learner.company_id == quota.company_id
            and quota.starts_on <= classes[e.class_id].starts_on <= quota.ends_on
            and (quota.course_id is None or classes[e.class_id].course_id == quota.course_id)
        )
        assert used <= quota.seats, quota.label


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


def _fingerprint() -> list[tuple[str, ...]]:
    users = db.session.execute(select(User.email, User.name, User.staff_number)).all()
    enrolments = db.session.execute(
        select(CourseClass.code, User.email, Enrolment.status, Enrolment.requested_at)
        .join(CourseClass, Enrolment.class_id == CourseClass.id)
        .join(User, Enrolment.learner_id == User.id)
    ).all()
    return sorted(tuple(str(value) for value in row) for row in [*users, *enrolments])


def test_the_seed_is_deterministic(app: Flask) -> None:
    _seed()
    first = _fingerprint()
    codes = set(db.session.scalars(select(CourseClass.code)))
    assert "SU-CLD-101-2511" in codes  # four months before the reference day

    db.session.remove()
    db.drop_all()
    db.create_all()
    _seed()
    assert _fingerprint() == first


def test_the_seed_records_one_audit_entry(app: Flask) -> None:
    _seed()
    _seed()
    entries = list(db.session.scalars(select(AuditEntry).where(AuditEntry.action == "demo.seeded")))
    assert len(entries) == 1
    assert entries[0].details["anchor"] == TODAY.isoformat()


def test_the_cli_command_loads_the_demo(app: Flask) -> None:
    runner = app.test_cli_runner()

    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "Demo data loaded" in result.output

    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0, again.output
    assert "nothing new" in again.output

    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(CourseClass)) >= 30
