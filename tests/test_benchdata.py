"""The benchmark data generator (``flask seed-bench``): its sizes, its rules, its refusals.

Each test runs on SQLite and, where configured, PostgreSQL (where the big tables are written
with COPY), at a tiny scale.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from flask import Flask
from sqlalchemy import func, select

from bench.queries import count_queries
from bench.scenarios import make_burst_class, make_plan
from bench.wsgi import add_reference_routes
from skillsup.cli import seed_bench_command
from skillsup.devdata.bench import (
    BENCH_PASSWORD,
    FULL_SIZE,
    BenchDataExists,
    BenchSizes,
    seed_bench,
)
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
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PartnerCompany,
    Role,
    SeatQuota,
    User,
    course_prerequisites,
)
from skillsup.services import caching
from skillsup.services.accounts import authenticate
from skillsup.services.seat_quotas import seats_used

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
TODAY = date(2026, 3, 10)
NOW = datetime.combine(TODAY, time(9, 0), tzinfo=HONG_KONG).astimezone(UTC)
SCALE = 0.01
PLACES = (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
# Hong Kong wall-clock starts of the generated timetable patterns.
SLOTS = {time(19, 0), time(18, 30), time(9, 30), time(13, 30), time(14, 0)}


def _seed(scale: float = SCALE, **options: object) -> object:
    report = seed_bench(scale, today=TODAY, **options)  # type: ignore[arg-type]
    db.session.commit()
    return report


def _counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
    }


def _learners() -> int:
    return db.session.scalar(select(func.count(User.id)).where(User.role == Role.LEARNER)) or 0


def _hk_date(moment: datetime) -> date:
    return moment.astimezone(HONG_KONG).date()


# Sizes -------------------------------------------------------------------------------------


def test_sizes_follow_the_scale(app: Flask) -> None:
    report = _seed()
    counts = _counts()
    sizes = BenchSizes.for_scale(SCALE)

    assert counts["partner_companies"] == sizes.companies == 2  # the least there can be
    assert _learners() == sizes.employees == 200
    assert counts["courses"] == sizes.courses == 10  # the least there can be
    assert counts["classes"] == sizes.classes == 30
    assert abs(counts["class_sessions"] - sizes.sessions) <= 0.2 * sizes.sessions
    assert abs(counts["enrolments"] - sizes.enrolments) <= 0.03 * sizes.enrolments
    assert abs(counts["attendance"] - sizes.attendance) <= 0.25 * sizes.attendance
    assert counts["enrolment_status_changes"] > counts["enrolments"]
    assert counts["certificates"] > 0
    assert counts["seat_quotas"] > 0
    # The report counts what was written.
    for table, created in report.created.items():  # type: ignore[attr-defined]
        assert counts[table] == created, table
    assert "Bench data loaded at scale 0.01" in report.summary()  # type: ignore[attr-defined]
    assert BENCH_PASSWORD in report.summary()  # type: ignore[attr-defined]


def test_twice_the_scale_gives_about_twice_the_rows(app: Flask) -> None:
    _seed(0.01)
    small = _counts()
    _seed(0.02, reset=True)
    large = _counts()

    assert large["classes"] == 2 * small["classes"]
    for table in ("class_sessions", "enrolments", "attendance"):
        assert 1.6 <= large[table] / small[table] <= 2.4, table
    assert large["users"] > 1.9 * small["users"]


def test_full_size_matches_the_issue() -> None:
    sizes = BenchSizes.for_scale(1)
    assert (sizes.companies, sizes.employees, sizes.courses, sizes.classes) == (
        40,
        20_000,
        400,
        3_000,
    )
    assert (sizes.sessions, sizes.enrolments, sizes.attendance) == (30_000, 100_000, 600_000)
    tenth = BenchSizes.for_scale(0.1)
    assert tenth.employees == FULL_SIZE["employees"] // 10
    assert tenth.enrolments == 10_000


@pytest.mark.parametrize("scale", [0, -1, 11])
def test_a_scale_out_of_range_is_refused(scale: float) -> None:
    with pytest.raises(Exception, match="above 0 and at most 10"):
        BenchSizes.for_scale(scale)


# Rules -------------------------------------------------------------------------------------


def test_classes_seats_and_waitlists_obey_the_rules(app: Flask) -> None:
    _seed()
    classes = list(db.session.scalars(select(CourseClass)))
    enrolments = list(db.session.scalars(select(Enrolment)))
    by_class: dict[int, list[Enrolment]] = defaultdict(list)
    for enrolment in enrolments:
        by_class[enrolment.class_id].append(enrolment)

    statuses = {course_class.status for course_class in classes}
    assert {ClassStatus.COMPLETED, ClassStatus.OPEN} <= statuses
    for course_class in classes:
        mine = by_class[course_class.id]
        holding = sum(
            1
            for e in mine
            if e.status
            in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED, EnrolmentStatus.NOT_COMPLETED)
        )
        assert course_class.seats_taken == holding <= course_class.capacity, course_class.code
        waitlisted = [e for e in mine if e.status is EnrolmentStatus.WAITLISTED]
        if waitlisted:
            assert holding == course_class.capacity, course_class.code
            assert all(e.waitlisted_at is not None for e in waitlisted)
        active = Counter(e.learner_id for e in mine if e.status in ACTIVE_STATUSES)
        assert all(count == 1 for count in active.values()), course_class.code
        assert len({e.learner_id for e in mine}) == len(mine), course_class.code
        if course_class.status is ClassStatus.DRAFT:
            assert not mine
        if course_class.status in (ClassStatus.CANCELLED, ClassStatus.COMPLETED):
            assert not [e for e in mine if e.status in ACTIVE_STATUSES], course_class.code
        if course_class.status is ClassStatus.CANCELLED:
            assert course_class.status_reasons
        assert course_class.enrolment_opens_at < course_class.enrolment_closes_at
        assert course_class.withdrawal_deadline_at < course_class.enrolment_closes_at
        assert course_class.course.status.value != "draft"
        assert course_class.trainers


def test_sessions_are_hong_kong_times_stored_in_utc_within_their_class(app: Flask) -> None:
    _seed()
    sessions: dict[int, list[ClassSession]] = defaultdict(list)
    for session in db.session.scalars(select(ClassSession).order_by(ClassSession.starts_at)):
        sessions[session.class_id].append(session)
    classes = list(db.session.scalars(select(CourseClass)))

    for course_class in classes:
        mine = sessions[course_class.id]
        assert mine, course_class.code
        assert course_class.starts_on == _hk_date(mine[0].starts_at)
        assert course_class.ends_on == _hk_date(mine[-1].starts_at)
        contact = sum(session.hours for session in mine)
        assert contact == float(course_class.course.contact_hours), course_class.code
        for session in mine:
            assert session.starts_at.utcoffset() == timedelta(0)
            local = session.starts_at.astimezone(HONG_KONG)
            assert local.time() in SLOTS, local
            assert local.weekday() != 6  # no class meets on a Sunday
            assert session.ends_at - session.starts_at == timedelta(hours=3)
            assert course_class.starts_on <= local.date() <= course_class.ends_on
            assert session.is_cancelled == (course_class.status is ClassStatus.CANCELLED)
        if course_class.status is ClassStatus.COMPLETED:
            assert mine[-1].ends_at <= NOW
        if course_class.status is ClassStatus.RUNNING:
            assert mine[0].starts_at <= NOW < mine[-1].ends_at
        if course_class.status in (ClassStatus.OPEN, ClassStatus.CLOSED, ClassStatus.DRAFT):
            assert mine[0].starts_at > NOW


def test_attendance_only_for_places_and_sessions_that_are_over(app: Flask) -> None:
    _seed()
    rows = db.session.execute(
        select(
            Attendance.enrolment_id,
            Attendance.session_id,
            Enrolment.status,
            Enrolment.class_id,
            ClassSession.class_id,
            ClassSession.ends_at,
            ClassSession.is_cancelled,
        )
        .join(Enrolment, Attendance.enrolment_id == Enrolment.id)
        .join(ClassSession, Attendance.session_id == ClassSession.id)
    ).all()

    assert rows
    assert len({(row[0], row[1]) for row in rows}) == len(rows)
    for _, _, status, enrolment_class, session_class, ends_at, cancelled in rows:
        assert status in PLACES
        assert enrolment_class == session_class
        assert ends_at <= NOW
        assert not cancelled


def test_enrolment_histories_sources_and_certificates_agree(app: Flask) -> None:
    _seed()
    companies = {c.id: c for c in db.session.scalars(select(PartnerCompany))}
    users = {u.id: u for u in db.session.scalars(select(User))}
    histories: dict[int, list[EnrolmentStatusChange]] = defaultdict(list)
    for change in db.session.scalars(
        select(EnrolmentStatusChange).order_by(EnrolmentStatusChange.id)
    ):
        histories[change.enrolment_id].append(change)
    certified = set(db.session.scalars(select(Certificate.enrolment_id)))
    classes = {c.id: c for c in db.session.scalars(select(CourseClass))}

    enrolments = list(db.session.scalars(select(Enrolment)))
    assert {e.status for e in enrolments} >= {
        EnrolmentStatus.CONFIRMED,
        EnrolmentStatus.COMPLETED,
        EnrolmentStatus.WITHDRAWN,
    }
    for enrolment in enrolments:
        learner = users[enrolment.learner_id]
        company = companies[learner.company_id]  # type: ignore[index]
        history = histories[enrolment.id]
        assert learner.role is Role.LEARNER
        assert enrolment.company_id == learner.company_id
        assert history[0].from_status is None
        assert history[-1].to_status is enrolment.status
        assert all(a.to_status is b.from_status for a, b in pairwise(history))
        if enrolment.status is EnrolmentStatus.PENDING:
            assert company.requires_approval and enrolment.source is EnrolmentSource.SELF
        if enrolment.source is EnrolmentSource.SELF:
            assert enrolment.requested_by_id == learner.id
        else:
            requester = users[enrolment.requested_by_id]  # type: ignore[index]
            assert requester.role is Role.HR and requester.company_id == learner.company_id
        if enrolment.status is EnrolmentStatus.CONFIRMED:
            assert enrolment.confirmed_at is not None
        assert (enrolment.id in certified) == (enrolment.status is EnrolmentStatus.COMPLETED)
        if not learner.is_active:
            course_class = classes[enrolment.class_id]
            assert course_class.status is ClassStatus.COMPLETED
            assert learner.deactivated_at is not None
            assert course_class.ends_on < _hk_date(learner.deactivated_at)


def test_quotas_cover_the_seats_used_and_prerequisites_form_no_cycle(app: Flask) -> None:
    _seed(0.02)
    quotas = list(db.session.scalars(select(SeatQuota)))
    assert quotas
    for quota in quotas:
        assert seats_used(quota) <= quota.seats, quota.label

    levels = dict(db.session.execute(select(Course.id, Course.qf_level)).all())
    for course_id, prerequisite_id in db.session.execute(select(course_prerequisites)).all():
        assert levels[prerequisite_id] < levels[course_id]


def test_people_are_invented_and_share_one_password(app: Flask) -> None:
    _seed()
    users = list(db.session.scalars(select(User)))

    assert all(user.email.endswith(".test") for user in users)
    assert len({user.email for user in users}) == len(users)
    hashes = {user.password_hash for user in users if user.password_hash is not None}
    assert len(hashes) == 1
    roles = Counter(user.role for user in users)
    assert roles[Role.ADMIN] == 1 and roles[Role.TRAINER] >= 2 and roles[Role.HR] >= 2
    invited = [u for u in users if u.password_hash is None]
    assert all(u.invited_at and u.email_confirmed_at is None for u in invited)
    numbers = Counter((u.company_id, u.staff_number) for u in users if u.company_id)
    assert max(numbers.values()) == 1

    hr = next(u for u in users if u.role is Role.HR)
    assert authenticate(hr.email, BENCH_PASSWORD) == hr


def test_the_same_seed_gives_the_same_data(app: Flask) -> None:
    def fingerprint() -> list[tuple[str, str, str, str]]:
        return sorted(
            db.session.execute(
                select(CourseClass.code, User.email, Enrolment.status, Enrolment.source)
                .join(Enrolment, Enrolment.class_id == CourseClass.id)
                .join(User, Enrolment.learner_id == User.id)
            ).all()
        )

    _seed(0.005)
    first, first_counts = fingerprint(), _counts()
    _seed(0.005, reset=True)
    assert fingerprint() == first
    assert _counts() == first_counts
    _seed(0.005, reset=True, seed=7)
    assert fingerprint() != first


# Refusals ----------------------------------------------------------------------------------


def test_a_database_with_data_is_refused_unless_forced(app: Flask, make: object) -> None:
    make.company(name="Existing Partner Ltd", code="EXIST")  # type: ignore[attr-defined]
    before = _counts()

    with pytest.raises(BenchDataExists, match="not empty: company_domains"):
        seed_bench(SCALE, today=TODAY)
    db.session.rollback()
    assert _counts() == before

    _seed(force=True)
    after = _counts()
    assert after["partner_companies"] == before["partner_companies"] + 2
    assert db.session.scalar(select(PartnerCompany).where(PartnerCompany.code == "EXIST"))

    # Bench data is there now: even --force does not add it twice.
    with pytest.raises(BenchDataExists, match="already holds bench data"):
        seed_bench(SCALE, today=TODAY, force=True)
    db.session.rollback()
    assert _counts() == after

    # --reset empties everything and builds the same data again, not twice as much.
    _seed(reset=True)
    rebuilt = _counts()
    assert rebuilt["partner_companies"] == 2
    assert rebuilt["enrolments"] == after["enrolments"]
    assert db.session.scalar(select(func.count(AuditEntry.id))) == 1


def test_reset_refuses_a_database_not_marked_as_a_benchmark_one(app: Flask, make: object) -> None:
    company = make.company(name="Existing Partner Ltd", code="EXIST")  # type: ignore[attr-defined]
    make.user(role="learner", company=company, email="amy@existing.test")  # type: ignore[attr-defined]
    before = _counts()

    with pytest.raises(BenchDataExists, match="not marked as a benchmark database") as refused:
        seed_bench(SCALE, today=TODAY, reset=True)
    assert "users (1)" in str(refused.value.message)
    db.session.rollback()
    assert _counts() == before

    result = app.test_cli_runner().invoke(seed_bench_command, ["--scale", "0.005", "--reset"])
    assert result.exit_code == 1
    assert "Refusing --reset: this database is not marked as a benchmark database" in (
        result.output
    )
    assert "Nothing was deleted" in result.output
    db.session.rollback()
    assert _counts() == before


def test_reset_empties_an_empty_or_a_benchmark_database(app: Flask) -> None:
    # Nothing to lose: an empty database (a new one, just migrated) may be reset.
    _seed(0.005, reset=True)
    first = _counts()
    assert first["enrolments"] > 0
    # The load marked it: it may be reset again, and holds one load, not two.
    _seed(0.005, reset=True)
    assert _counts() == first


def test_a_failed_run_leaves_nothing_behind(app: Flask, monkeypatch: pytest.MonkeyPatch) -> None:
    from skillsup.devdata.bench.generator import Generator

    def broken(self: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(Generator, "make_quotas", broken)
    result = app.test_cli_runner().invoke(seed_bench_command, ["--scale", "0.005"])

    assert result.exit_code == 1
    assert isinstance(result.exception, RuntimeError)
    db.session.rollback()
    assert set(_counts().values()) == {0}


# The command -------------------------------------------------------------------------------


def test_the_command_loads_once_and_refuses_twice(app: Flask) -> None:
    runner = app.test_cli_runner()
    args = ["--scale", "0.005", "--today", TODAY.isoformat()]

    result = runner.invoke(seed_bench_command, args)
    assert result.exit_code == 0, result.output
    assert "Bench data loaded at scale 0.005" in result.output
    assert "skillsup-bench" in result.output
    counts = _counts()
    assert counts["enrolments"] > 0

    again = runner.invoke(seed_bench_command, args)
    assert again.exit_code == 1
    assert "already holds bench data" in again.output
    assert "--reset" in again.output
    assert _counts() == counts

    with app.app_context():
        caching.keep("page:kept-before", "a page of the data before", 60)
    rebuilt = runner.invoke(seed_bench_command, [*args, "--reset"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert _counts() == counts
    # The ids start again: nothing kept from the data before may be served.
    with app.app_context():
        assert caching.cached("page:kept-before") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scale", "0"], "above 0 and at most 10"),
        (["--scale", "many"], "is not a valid float"),
        (["--today", "10/03/2026"], "does not match the format"),
        (["--reset", "--force"], "not both"),
    ],
)
def test_the_command_explains_bad_options(app: Flask, args: list[str], message: str) -> None:
    result = app.test_cli_runner().invoke(seed_bench_command, args)
    assert result.exit_code == 2
    assert message in result.output
    assert _counts()["users"] == 0


# The data in use ---------------------------------------------------------------------------


def test_generated_accounts_sign_in_and_see_their_pages(app: Flask, client: object) -> None:
    _seed()
    learner = db.session.scalar(
        select(User)
        .join(Enrolment, Enrolment.learner_id == User.id)
        .where(User.role == Role.LEARNER, User.is_active.is_(True))
        .order_by(User.id)
        .limit(1)
    )
    assert learner is not None
    email = learner.email
    response = client.post("/login", data={"email": email, "password": BENCH_PASSWORD})  # type: ignore[attr-defined]
    assert response.status_code == 302
    page = client.get("/my-learning")  # type: ignore[attr-defined]
    assert page.status_code == 200
    assert "SB-" in page.get_data(as_text=True)


@pytest.mark.slow
@pytest.mark.own_app
def test_the_benchmark_plan_finds_its_pages_and_counts_their_queries(app: Flask) -> None:
    add_reference_routes(app)
    _seed(0.02)
    plan = make_plan(now=NOW + timedelta(days=1), today=TODAY)
    db.session.commit()

    assert {"learner", "hr", "trainer", "anonymous"} == set(plan.actors)
    assert plan.export_rows > 0
    counts = count_queries(app, plan)  # raises unless every page answers 200

    assert set(counts) == {scenario.key for scenario in plan.scenarios}
    assert counts["plaintext"].queries == 0
    assert counts["primary_key"].queries == 1
    assert counts["layout"].queries == 1  # the signed-in user
    assert counts["layout"].bytes > counts["plaintext"].bytes
    for key in ("catalogue", "my_learning", "hr_dashboard", "trainer_roster", "export_csv"):
        assert counts[key].queries > 1, key
        assert counts[key].bytes > 0, key


@pytest.mark.own_app
def test_the_layout_reference_is_for_signed_in_users_only(app: Flask) -> None:
    add_reference_routes(app)
    response = app.test_client().get("/_bench/layout")

    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


@pytest.mark.slow
def test_the_burst_class_takes_learners_who_may_all_enrol(app: Flask) -> None:
    _seed(0.02)
    first = make_burst_class(requests=40, capacity=5)
    second = make_burst_class(requests=40, capacity=5)

    assert first.class_code == "BENCH-BURST-001" and second.class_code == "BENCH-BURST-002"
    assert len(set(first.learner_ids)) == 40
    burst = db.session.get(CourseClass, first.class_id)
    later = db.session.get(CourseClass, second.class_id)
    assert burst is not None and later is not None
    assert burst.status is ClassStatus.OPEN and burst.capacity == 5 and burst.seats_taken == 0
    assert burst.enrolment_opens_at < datetime.now(UTC) < burst.enrolment_closes_at
    assert later.starts_on > burst.ends_on  # their sessions never clash
    last_quota = db.session.scalar(select(func.max(SeatQuota.ends_on)))
    assert last_quota is not None and burst.starts_on > last_quota
    companies = set(
        db.session.scalars(
            select(PartnerCompany.requires_approval)
            .join(User, User.company_id == PartnerCompany.id)
            .where(User.id.in_(first.learner_ids))
        )
    )
    assert companies == {False}
