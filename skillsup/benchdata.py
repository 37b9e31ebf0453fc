"""Benchmark data: ``flask --app skillsup seed-bench --scale N``.

A realistic, deterministic data set for load tests, built with bulk inserts (PostgreSQL
``COPY`` for the big tables), not one ORM object per row. At scale 1 it holds 40 partner
companies, 20,000 employees, 400 courses, 3,000 classes, 30,000 sessions, about 100,000
enrolments and about 600,000 attendance marks; scale 0.1 is a tenth of that.

Everything is invented (people, companies, ``.test`` domains) and obeys the rules the services
enforce, so that the pages under load show what they would show in production:

- a class's ``seats_taken`` equals its confirmed enrolments and never exceeds its capacity; a
  waitlist only forms behind a full class and is served first come, first served;
- a learner has at most one active (pending, confirmed, waitlisted) enrolment per class;
- requests of learners at companies that need approval start pending and are approved or
  rejected by their HR officer; nominations come from the learner's own HR officer;
- attendance is marked only for learners holding a place (confirmed, completed, not completed)
  and only for sessions that are over; completion follows from attendance and the assessment;
- sessions fall within their class's dates, are planned in Hong Kong time and stored in UTC;
- every company's term quotas cover the seats its staff use;
- every change of an enrolment is in its history; the load itself is one audit entry.

The run refuses a database that has data unless told ``--reset`` (empty every table first) or
``--force`` (add the bench data beside other data, such as the demo). A database that already
holds bench data is refused with ``--force`` too, so running the command twice never doubles
the data. It all happens in one transaction: a failed run leaves nothing behind.
"""

from __future__ import annotations

import math
import random
import time as clock
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import click
import sqlalchemy as sa
from flask.cli import with_appcontext
from sqlalchemy import func, insert, select, text

from .demo import COURSES, GIVEN_NAMES, SURNAMES
from .extensions import db
from .models import (
    Attendance,
    AttendanceStatus,
    AuditEntry,
    Certificate,
    ClassSession,
    ClassStatus,
    CompanyDomain,
    Course,
    CourseClass,
    CourseStatus,
    DeliveryMode,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    PartnerCompany,
    Role,
    SeatQuota,
    User,
    class_trainers,
    course_prerequisites,
)
from .services import caching
from .services.passwords import hash_password

__all__ = [
    "BENCH_PASSWORD",
    "BenchDataExists",
    "BenchReport",
    "BenchSizes",
    "seed_bench",
    "seed_bench_command",
]

HONG_KONG = ZoneInfo("Asia/Hong_Kong")
# Every generated account signs in with it (documented in bench/README.md).
BENCH_PASSWORD = "skillsup-bench"  # noqa: S105
DEFAULT_SEED = 20_260_301
SEEDED_ACTION = "bench.seeded"
ADMIN_EMAIL = "bench-admin@skillsup.test"

# Rows of each kind at scale 1.
FULL_SIZE = {
    "companies": 40,
    "employees": 20_000,
    "trainers": 120,
    "courses": 400,
    "classes": 3_000,
    "sessions": 30_000,
    "enrolments": 100_000,
    "attendance": 600_000,
}
# The least of each kind, so that a tiny scale still has every kind of company and class.
MINIMUM_SIZE = {"companies": 2, "employees": 20, "trainers": 2, "courses": 10, "classes": 8}

# The history the data covers: first sessions from this many days ago to this many ahead.
HISTORY_DAYS = 1_030
FUTURE_DAYS = 200
SESSION_HOURS = 3
SESSIONS_PER_COURSE = (6, 8, 10, 12, 14)  # ten on average
COPY_BATCH = 50_000
INSERT_BATCH = 2_000


class BenchDataExists(click.ClickException):
    """The database is not empty, or already holds bench data."""


@dataclass(frozen=True)
class BenchSizes:
    """How many rows of each kind a scale asks for (targets; enrolments and attendance follow
    from the simulated requests and come within a few per cent)."""

    scale: float
    companies: int
    employees: int
    trainers: int
    courses: int
    classes: int
    sessions: int
    enrolments: int
    attendance: int

    @classmethod
    def for_scale(cls, scale: float) -> BenchSizes:
        if not 0 < scale <= 10:
            raise click.BadParameter("the scale must be above 0 and at most 10", param_hint="scale")
        counts = {
            key: max(round(value * scale), MINIMUM_SIZE.get(key, 1))
            for key, value in FULL_SIZE.items()
        }
        return cls(scale=scale, **counts)


@dataclass
class BenchReport:
    """What one run created, and how long it took."""

    scale: float
    seed: int
    today: date
    created: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def summary(self) -> str:
        order = [table.name for table in db.metadata.sorted_tables]
        parts = ", ".join(
            f"{self.created[name]:,} {name.replace('_', ' ')}"
            for name in sorted(self.created, key=order.index)
        )
        return (
            f"Bench data loaded at scale {self.scale:g} (seed {self.seed}, today {self.today}) "
            f"in {self.seconds:.1f} s: {parts}.\n"
            f"Every account signs in with the password {BENCH_PASSWORD}; "
            f"the admin is {ADMIN_EMAIL}."
        )


# ---------------------------------------------------------------------------------------------
# The command


@click.command("seed-bench")
@click.option(
    "--scale", type=float, default=1.0, show_default=True, help="1 = 20,000 employees and so on."
)
@click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Random seed.")
@click.option(
    "--today",
    type=click.DateTime(formats=["%Y-%m-%d"]),
    default=None,
    help="The day the history is built around (default: today in Hong Kong).",
)
@click.option("--reset", is_flag=True, help="Empty every table first (all data is lost).")
@click.option("--force", is_flag=True, help="Add the bench data beside the data already there.")
@with_appcontext
def seed_bench_command(
    scale: float, seed: int, today: datetime | None, reset: bool, force: bool
) -> None:
    """Load a large, realistic data set for benchmarks, in bulk."""
    if reset and force:
        raise click.UsageError("Give --reset or --force, not both.")
    try:
        report = seed_bench(
            scale, seed=seed, today=today.date() if today else None, reset=reset, force=force
        )
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()
    caching.forget_everything()
    analyse()
    click.echo(report.summary())


def seed_bench(
    scale: float,
    *,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    reset: bool = False,
    force: bool = False,
) -> BenchReport:
    """Generate the bench data at ``scale`` into the current session's database.

    Refuses (:class:`BenchDataExists`) a database with data in it unless ``reset`` (every
    table is emptied first) or ``force`` (the data is added beside it); refuses one that
    already holds bench data unless ``reset``. The same ``seed`` and ``today`` give the same
    data. Flushes but never commits: the caller commits once, or rolls back.
    """
    sizes = BenchSizes.for_scale(scale)
    today = today or datetime.now(HONG_KONG).date()
    started = clock.perf_counter()
    if reset:
        empty_database()
    else:
        _check_empty(force)
    generator = _Generator(sizes, seed, today)
    generator.run()
    report = BenchReport(scale=scale, seed=seed, today=today, created=generator.created)
    db.session.execute(
        insert(AuditEntry),
        [
            {
                "occurred_at": datetime.now(UTC),
                "actor_id": None,
                "action": SEEDED_ACTION,
                "object_type": "system",
                "object_id": None,
                "summary": f"bench data at scale {scale:g}",
                "details": {
                    "scale": scale,
                    "seed": seed,
                    "today": today.isoformat(),
                    "created": dict(generator.created),
                },
            }
        ],
    )
    _reset_sequences()
    db.session.flush()
    report.seconds = clock.perf_counter() - started
    return report


def _check_empty(force: bool) -> None:
    marker = db.session.scalar(
        select(AuditEntry.details).where(AuditEntry.action == SEEDED_ACTION).limit(1)
    )
    if marker is not None:
        raise BenchDataExists(
            f"This database already holds bench data (scale {marker.get('scale')}, seed "
            f"{marker.get('seed')}). Run with --reset to empty it and build the data again."
        )
    if force:
        return
    filled = {
        table.name: count
        for table in db.metadata.sorted_tables
        if (count := db.session.scalar(select(func.count()).select_from(table)) or 0)
    }
    if filled:
        listing = ", ".join(f"{name} ({count:,})" for name, count in sorted(filled.items()))
        raise BenchDataExists(
            f"This database is not empty: {listing}. Run with --reset to empty it first "
            "(all its data is lost) or --force to add the bench data beside it."
        )


def empty_database() -> None:
    """Delete every row of every table (and restart the ids on PostgreSQL)."""
    tables = db.metadata.sorted_tables
    if _dialect() == "postgresql":
        names = ", ".join(f'"{table.name}"' for table in tables)
        db.session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    else:
        for table in reversed(tables):
            db.session.execute(table.delete())


def analyse() -> None:
    """After a bulk load, do what autovacuum would soon do on PostgreSQL: refresh the
    planner's statistics and the visibility map (which index-only scans rely on)."""
    if _dialect() == "postgresql":
        with db.engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(
                text("VACUUM (ANALYZE)")
            )


def _dialect() -> str:
    return db.session.get_bind().dialect.name


def _reset_sequences() -> None:
    """Explicit ids were written: move each PostgreSQL id sequence past the highest."""
    if _dialect() != "postgresql":
        return
    for table in db.metadata.sorted_tables:
        if "id" not in table.c or not table.c.id.primary_key:
            continue
        db.session.execute(
            text(
                # Table names come from the models, not from input.
                f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), "  # noqa: S608
                f'COALESCE((SELECT max(id) FROM "{table.name}"), 0) + 1, false)'
            )
        )


# ---------------------------------------------------------------------------------------------
# Writing rows in bulk


class _Writer:
    """Writes rows (tuples in a fixed column order) table by table: ``COPY`` on PostgreSQL,
    batched ``INSERT`` elsewhere. Rows wait in a buffer until :meth:`flush`."""

    def __init__(self, created: Counter[str]) -> None:
        self.postgres = _dialect() == "postgresql"
        self.created = created
        self.buffers: dict[str, tuple[sa.Table, tuple[str, ...], list[tuple[Any, ...]]]] = {}

    def add(self, table: sa.Table, columns: tuple[str, ...], row: tuple[Any, ...]) -> None:
        entry = self.buffers.get(table.name)
        if entry is None:
            entry = self.buffers[table.name] = (table, columns, [])
        entry[2].append(row)

    def pending(self, table: sa.Table) -> int:
        entry = self.buffers.get(table.name)
        return len(entry[2]) if entry else 0

    def flush(self) -> None:
        """Write every buffered row, parents before children."""
        for table in db.metadata.sorted_tables:
            entry = self.buffers.get(table.name)
            if entry is None or not entry[2]:
                continue
            _table, columns, rows = entry
            self._write(table, columns, rows)
            self.created[table.name] += len(rows)
            rows.clear()

    def _write(
        self, table: sa.Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        if self.postgres:
            cursor = db.session.connection().connection.driver_connection.cursor()  # type: ignore[union-attr]
            names = ", ".join(f'"{column}"' for column in columns)
            try:
                with cursor.copy(f'COPY "{table.name}" ({names}) FROM STDIN') as copy:
                    for row in rows:
                        copy.write_row(row)
            finally:
                cursor.close()
            return
        statement = insert(table)
        for start in range(0, len(rows), INSERT_BATCH):
            db.session.execute(
                statement,
                [
                    dict(zip(columns, row, strict=True))
                    for row in rows[start : start + INSERT_BATCH]
                ],
            )


def _next_id(table: sa.Table) -> int:
    return int(db.session.scalar(select(func.max(table.c.id))) or 0) + 1


# ---------------------------------------------------------------------------------------------
# What the data is made of

COMPANY_PLACES = (
    "Harbour", "Lion Rock", "Victoria", "Kowloon", "Lantau", "Jade", "Peak", "Tai Mo Shan",
    "Sai Kung", "Pearl River", "Star Ferry", "Tsing Ma", "Golden Bauhinia", "Clearwater",
    "Junk Bay", "Stonecutters", "Cheung Chau", "Lamma", "Tolo", "Shing Mun",
)  # fmt: skip
COMPANY_KINDS = (
    ("IT Services Ltd", "its"),
    ("Financial Technology Ltd", "fin"),
    ("Logistics Systems Ltd", "log"),
    ("Telecom Ltd", "tel"),
    ("Insurance Group Ltd", "ins"),
    ("Retail Holdings Ltd", "ret"),
    ("Health Informatics Ltd", "hea"),
    ("Property Services Ltd", "pro"),
)
DEPARTMENTS = (
    ("Infrastructure", ("Systems Engineer", "Senior Systems Engineer", "Storage Analyst")),
    ("Service Desk", ("Service Desk Analyst", "Senior Service Desk Analyst", "Team Lead")),
    ("Software Delivery", ("Analyst Programmer", "Software Engineer", "QA Engineer")),
    ("Cloud Platform", ("Cloud Engineer", "Platform Engineer", "Site Reliability Engineer")),
    ("Project Office", ("Project Coordinator", "Project Manager", "Scrum Master")),
    ("Information Security", ("Security Analyst", "IT Risk Officer", "Security Engineer")),
    ("Data and Analytics", ("Data Analyst", "BI Developer", "Data Engineer")),
    ("Application Support", ("Application Support Analyst", "Support Team Lead")),
    ("Network Operations", ("Network Engineer", "Senior Network Engineer")),
    ("Digital Transformation", ("Business Analyst", "Automation Specialist", "Product Owner")),
    ("Enterprise Architecture", ("Solution Architect", "Enterprise Architect")),
    ("IT Governance", ("IT Auditor", "Compliance Officer")),
)
COURSE_VARIANTS = (
    "", "Workshop", "Lab Intensive", "for Team Leads", "for Financial Services",
    "for Logistics", "for the Public Sector", "Bootcamp", "Refresher", "in Practice",
    "Weekend Edition", "for Healthcare", "Masterclass", "Case Studies",
)  # fmt: skip
COURSE_VARIANTS_ZH = {
    "": "", "Workshop": "工作坊", "Lab Intensive": "實驗室密集課程",
    "for Team Leads": "（團隊主管）",
    "for Financial Services": "（金融服務業）", "for Logistics": "（物流業）",
    "for the Public Sector": "（公營機構）", "Bootcamp": "訓練營", "Refresher": "重溫課程",
    "in Practice": "實務", "Weekend Edition": "（週末班）", "for Healthcare": "（醫療業）",
    "Masterclass": "大師班", "Case Studies": "個案研習",
}  # fmt: skip
VENUES = (
    "Kowloon Bay centre, Lab 2",
    "Tsing Yi campus, Cyber Range 4.05",
    "Sha Tin campus, Computer Lab 5",
    "Kowloon Bay centre, Network Lab 1",
    "Kowloon Bay centre, Lab 3",
    "Chai Wan campus, Room 612",
    "Tsing Yi campus, Room 3.12",
    "Chai Wan campus, Room 508",
)


@dataclass(frozen=True)
class _Pattern:
    """When a class meets: these weekdays (Monday is 0), these Hong Kong time slots of
    ``SESSION_HOURS`` each. No pattern meets on a Sunday."""

    weekdays: tuple[int, ...]
    slots: tuple[time, ...]


PATTERNS = (
    _Pattern((1, 3), (time(19, 0),)),
    _Pattern((0, 2), (time(19, 0),)),
    _Pattern((2,), (time(18, 30),)),
    _Pattern((5,), (time(9, 30), time(13, 30))),
    _Pattern((0, 1, 2, 3, 4), (time(9, 30), time(14, 0))),
)
# Public holidays on the same date every year; classes do not meet on them.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (7, 1), (10, 1), (12, 25), (12, 26)}

REJECTION_REASONS = (
    "Not part of this year's development plan; please discuss it with your manager first.",
    "The team cannot release you during this period.",
    "Please complete the prerequisite course first.",
)
WITHDRAWAL_REASONS = (
    "Clashes with a project go-live.",
    "Assigned to a client site for the period.",
    "Personal reasons.",
    "I will join a later intake instead.",
)
PROMOTION_REASON = "A seat became free: moved up from the waitlist."
CANCELLATION_REASON = "Cancelled: too few learners for this intake. Places are offered in the next."
CLASS_COMPLETED_REASON = "class completed"

ACTIVE = (EnrolmentStatus.PENDING, EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)
QUOTA_COUNTED = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)

USER_COLUMNS = (
    "id", "email", "name", "role", "company_id", "staff_number", "department", "job_title",
    "is_active", "preferred_language", "password_hash", "session_version", "email_confirmed_at",
    "invited_at", "invited_by_id", "last_login_at", "deactivated_at", "calendar_token",
    "wants_reminders", "wants_attendance_warnings", "created_at",
)  # fmt: skip
CLASS_COLUMNS = (
    "id", "course_id", "code", "venue", "online_url", "capacity", "seats_taken", "starts_on",
    "ends_on", "enrolment_opens_at", "enrolment_closes_at", "withdrawal_deadline_at",
    "min_attendance_pct", "assessment_required", "status", "status_reason", "created_at",
    "updated_at",
)  # fmt: skip
SESSION_COLUMNS = (
    "id", "class_id", "starts_at", "ends_at", "room", "is_cancelled", "sequence", "created_at",
    "updated_at",
)  # fmt: skip
ENROLMENT_COLUMNS = (
    "id", "class_id", "learner_id", "company_id", "status", "source", "requested_by_id",
    "acted_by_id", "status_reason", "requested_at", "waitlisted_at", "confirmed_at",
    "decided_at", "ended_at", "result_score", "result_passed", "updated_at",
)  # fmt: skip
HISTORY_COLUMNS = (
    "id", "enrolment_id", "from_status", "to_status", "actor_id", "reason", "changed_at",
)  # fmt: skip
ATTENDANCE_COLUMNS = ("id", "enrolment_id", "session_id", "status", "marked_by_id", "marked_at")
CERTIFICATE_COLUMNS = (
    "id", "enrolment_id", "serial_number", "verification_code", "issued_at", "revoked_at",
    "revoked_reason", "revoked_by_id",
)  # fmt: skip


def _hk(day: date, at: time) -> datetime:
    """A Hong Kong wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=HONG_KONG).astimezone(UTC)


def _term(day: date) -> tuple[str, date, date]:
    """The institute's term that ``day`` falls in: label, first and last day."""
    if day.month >= 9:
        first_year, number = day.year, 1
        starts, ends = date(day.year, 9, 1), date(day.year, 12, 31)
    elif day.month <= 4:
        first_year, number = day.year - 1, 2
        starts, ends = date(day.year, 1, 1), date(day.year, 4, 30)
    else:
        first_year, number = day.year - 1, 3
        starts, ends = date(day.year, 5, 1), date(day.year, 8, 31)
    return f"{first_year}/{(first_year + 1) % 100:02d} Term {number}", starts, ends


def _spread(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders), each at least
    ``minimum`` where the total allows."""
    floor_total = minimum * len(weights)
    rest = max(total - floor_total, 0)
    scale = sum(weights)
    shares = [rest * w / scale for w in weights]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + minimum for c in counts]


# ---------------------------------------------------------------------------------------------
# The generator


@dataclass(eq=False)
class _Company:
    id: int
    code: str
    domain: str
    requires_approval: bool
    hr_ids: list[int]
    departments: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(eq=False)
class _Learner:
    id: int
    company: _Company
    deactivated_at: datetime | None


@dataclass(eq=False)
class _Course:
    id: int
    code: str
    area: str
    level: int
    sessions: int
    assessment: bool
    status: CourseStatus
    delivery_mode: DeliveryMode
    venue: str
    qf_credits: int


@dataclass(eq=False)
class _Class:
    id: int
    code: str
    course: _Course
    capacity: int
    status: ClassStatus
    opens_at: datetime
    closes_at: datetime
    withdrawal_deadline_at: datetime
    starts_on: date
    ends_on: date
    sessions: list[tuple[int, datetime, datetime]]
    trainer_ids: list[int]
    cancelled_at: datetime | None = None
    seats_taken: int = 0


@dataclass(eq=False)
class _Request:
    learner: _Learner
    at: datetime
    source: EnrolmentSource
    requested_by: int
    needs_approval: bool
    decide_at: datetime | None = None
    approve: bool = True
    withdraw_at: datetime | None = None


@dataclass(eq=False)
class _Enrolment:
    id: int
    request: _Request
    status: EnrolmentStatus | None = None
    acted_by: int | None = None
    status_reason: str | None = None
    waitlisted_at: datetime | None = None
    confirmed_at: datetime | None = None
    decided_at: datetime | None = None
    ended_at: datetime | None = None
    result_score: Decimal | None = None
    result_passed: bool | None = None
    updated_at: datetime | None = None
    history: list[
        tuple[EnrolmentStatus | None, EnrolmentStatus, int | None, str | None, datetime]
    ] = field(default_factory=list)

    def change(
        self, to: EnrolmentStatus, at: datetime, actor: int | None, reason: str | None = None
    ) -> None:
        self.history.append((self.status, to, actor, reason, at))
        self.status = to
        self.updated_at = at
        if actor is not None and actor != self.request.learner.id:
            self.acted_by = actor


class _Generator:
    def __init__(self, sizes: BenchSizes, seed: int, today: date) -> None:
        self.sizes = sizes
        # Deterministic data for a benchmark, not secrets.
        self.rng = random.Random(seed)  # noqa: S311
        self.today = today
        self.now = _hk(today, time(9, 0))
        self.created: Counter[str] = Counter()
        self.writer = _Writer(self.created)
        self.ids = {
            model.__tablename__: _next_id(model.__table__)
            for model in (
                PartnerCompany,
                CompanyDomain,
                User,
                Course,
                CourseClass,
                ClassSession,
                Enrolment,
                EnrolmentStatusChange,
                Attendance,
                Certificate,
                SeatQuota,
            )
        }
        self.companies: list[_Company] = []
        self.learners: list[_Learner] = []
        self.trainer_ids: list[int] = []
        self.admin_id = 0
        self.courses: list[_Course] = []
        self.classes: list[_Class] = []
        self.serial = 0
        self.quota_use: Counter[tuple[int, str]] = Counter()
        self.password_hash = hash_password(BENCH_PASSWORD)

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value

    def run(self) -> None:
        self.make_companies()
        self.make_people()
        self.make_courses()
        self.make_classes()
        self.make_enrolments()
        self.make_quotas()
        self.writer.flush()

    # Companies and people ------------------------------------------------------------------

    def make_companies(self) -> None:
        rng = self.rng
        sizes = self.sizes
        table = PartnerCompany.__table__
        domains = CompanyDomain.__table__
        created_at = self.now - timedelta(days=HISTORY_DAYS + 200)
        for index in range(sizes.companies):
            place = COMPANY_PLACES[index % len(COMPANY_PLACES)]
            kind, short = COMPANY_KINDS[
                (index * 3 + index // len(COMPANY_PLACES)) % len(COMPANY_KINDS)
            ]
            name = f"{place} {kind}"
            if index >= len(COMPANY_PLACES):
                name = f"{place} {kind} ({index // len(COMPANY_PLACES) + 1})"
            slug = place.lower().replace(" ", "")
            code = f"B{index + 1:02d}{short.upper()}"
            domain = f"{slug}-{short}{index + 1:02d}.test"
            company_id = self.next_id("partner_companies")
            # The largest company needs no approval, every third one does.
            requires_approval = index % 3 == 1
            self.writer.add(
                table,
                ("id", "name", "code", "requires_approval", "is_active", "created_at"),
                (company_id, name, code, requires_approval, True, created_at),
            )
            self.writer.add(
                domains,
                ("id", "company_id", "domain"),
                (self.next_id("company_domains"), company_id, domain),
            )
            picked = rng.sample(DEPARTMENTS, rng.randint(4, 8))
            self.companies.append(
                _Company(company_id, code, domain, requires_approval, [], tuple(picked))
            )

    def _user_row(self, **fields: Any) -> tuple[Any, ...]:
        values = {
            "company_id": None,
            "staff_number": None,
            "department": None,
            "job_title": None,
            "is_active": True,
            "preferred_language": None,
            "password_hash": self.password_hash,
            "session_version": 1,
            "invited_at": None,
            "invited_by_id": None,
            "last_login_at": None,
            "deactivated_at": None,
            "calendar_token": None,
            "wants_reminders": True,
            "wants_attendance_warnings": True,
            **fields,
        }
        values["role"] = values["role"].value
        values.setdefault("email_confirmed_at", values["created_at"] + timedelta(minutes=15))
        return tuple(values[column] for column in USER_COLUMNS)

    def _name(self) -> tuple[str, str]:
        rng = self.rng
        surname = rng.choice(SURNAMES)
        given_names, english_names = rng.choice(GIVEN_NAMES)
        given = rng.choice(given_names)
        plain_surname = surname.replace(" ", "").lower()
        if rng.random() < 0.55:
            english = rng.choice(english_names)
            return f"{english} {surname} {given}", f"{english.lower()}.{plain_surname}"
        return f"{surname} {given}", f"{plain_surname}.{given.replace(' ', '').lower()}"

    def make_people(self) -> None:
        rng = self.rng
        sizes = self.sizes
        users = User.__table__
        start = self.now - timedelta(days=HISTORY_DAYS + 150)
        taken: set[str] = set(
            db.session.scalars(select(User.email).where(User.email.like("%.test")))
        )

        def unique(local: str, domain: str) -> str:
            email = f"{local}@{domain}"
            number = 2
            while email in taken:
                email = f"{local}{number}@{domain}"
                number += 1
            taken.add(email)
            return email

        self.admin_id = self.next_id("users")
        self.writer.add(
            users,
            USER_COLUMNS,
            self._user_row(
                id=self.admin_id,
                email=unique("bench-admin", "skillsup.test"),
                name="Bench Admin",
                role=Role.ADMIN,
                department="Lifelong Learning Programme Office",
                job_title="Programme Officer",
                created_at=start,
            ),
        )
        for number in range(1, sizes.trainers + 1):
            name, _local = self._name()
            trainer_id = self.next_id("users")
            self.trainer_ids.append(trainer_id)
            self.writer.add(
                users,
                USER_COLUMNS,
                self._user_row(
                    id=trainer_id,
                    email=unique(f"bench-trainer{number:03d}", "skillsup.test"),
                    name=name,
                    role=Role.TRAINER,
                    department="Department of Information Technology",
                    job_title=rng.choice(("Lecturer", "Senior Lecturer", "Instructor")),
                    preferred_language=rng.choice(("en", "zh_Hant_HK", None)),
                    created_at=start,
                ),
            )

        weights = [1 / (rank + 1) ** 0.9 for rank in range(sizes.companies)]
        staff_counts = _spread(sizes.employees, weights, minimum=5)
        history = timedelta(days=HISTORY_DAYS + 100)
        for company, staff in zip(self.companies, staff_counts, strict=True):
            hr_count = 1 + staff // 1500
            for number in range(1, hr_count + 1):
                hr_id = self.next_id("users")
                company.hr_ids.append(hr_id)
                name, _local = self._name()
                self.writer.add(
                    users,
                    USER_COLUMNS,
                    self._user_row(
                        id=hr_id,
                        email=unique("hr" if number == 1 else f"hr{number}", company.domain),
                        name=name,
                        role=Role.HR,
                        company_id=company.id,
                        staff_number=f"HR{number:04d}",
                        department="Human Resources",
                        job_title="HR Business Partner",
                        preferred_language="en",
                        created_at=start,
                    ),
                )
            for number in range(1, staff + 1):
                learner_id = self.next_id("users")
                name, local = self._name()
                department, titles = rng.choice(company.departments)
                created_at = start + history * rng.random()
                draw = rng.random()
                fields: dict[str, Any] = {}
                if draw < 0.02:
                    # Invited, has not accepted yet: no password, address not confirmed.
                    fields = {
                        "password_hash": None,
                        "email_confirmed_at": None,
                        "invited_at": min(created_at, self.now - timedelta(days=2)),
                        "invited_by_id": company.hr_ids[0],
                    }
                elif draw < 0.05:
                    # Has left: only finished classes that ended before the departure.
                    fields = {
                        "is_active": False,
                        "deactivated_at": self.now - timedelta(days=rng.uniform(20, 400)),
                    }
                elif draw < 0.45:
                    fields = {"last_login_at": self.now - timedelta(hours=rng.uniform(1, 2000))}
                self.writer.add(
                    users,
                    USER_COLUMNS,
                    self._user_row(
                        id=learner_id,
                        email=unique(local, company.domain),
                        name=name,
                        role=Role.LEARNER,
                        company_id=company.id,
                        staff_number=f"{company.code[:3]}{100000 + number}",
                        department=department,
                        job_title=rng.choice(titles),
                        preferred_language=rng.choice(("en", "zh_Hant_HK", "zh_Hant_HK", None)),
                        created_at=created_at,
                        **fields,
                    ),
                )
                if fields.get("password_hash", self.password_hash) is not None:
                    self.learners.append(
                        _Learner(learner_id, company, fields.get("deactivated_at"))
                    )

    # Courses -------------------------------------------------------------------------------

    def make_courses(self) -> None:
        rng = self.rng
        courses = Course.__table__
        numbers: Counter[tuple[str, int]] = Counter()
        created_at = self.now - timedelta(days=HISTORY_DAYS + 120)
        columns: tuple[str, ...] | None = None
        for index in range(self.sizes.courses):
            base = COURSES[index % len(COURSES)]
            variant = COURSE_VARIANTS[(index // len(COURSES)) % len(COURSE_VARIANTS)]
            area = base["code"].split("-")[1]
            level = int(base["qf_level"])
            numbers[(area, level)] += 1
            code = f"SB-{area}-{level}{numbers[(area, level)]:02d}"
            # In turn rather than at random: ten sessions a course on average at any scale.
            sessions = SESSIONS_PER_COURSE[index % len(SESSIONS_PER_COURSE)]
            draw = rng.random()
            status = (
                CourseStatus.DRAFT
                if draw < 0.05
                else CourseStatus.ARCHIVED
                if draw < 0.09
                else CourseStatus.PUBLISHED
            )
            if index < min(len(COURSES), self.sizes.courses // 2 or 1):
                status = CourseStatus.PUBLISHED
            title_en = f"{base['title_en']} {variant}".strip()
            title_zh = f"{base['title_zh']}{COURSE_VARIANTS_ZH[variant]}"
            course_id = self.next_id("courses")
            values = {
                "id": course_id,
                "code": code,
                "title_en": title_en,
                "title_zh": title_zh,
                "summary_en": base["summary_en"],
                "summary_zh": base["summary_zh"],
                "description_en": base["description_en"],
                "description_zh": base["description_zh"],
                "outcomes_en": base["outcomes_en"],
                "outcomes_zh": base["outcomes_zh"],
                "audience_en": base["audience_en"],
                "audience_zh": base["audience_zh"],
                "skills": base["skills"],
                "skill_area": base["skill_area"].value,
                "qf_level": level,
                "qf_credits": max(1, sessions * SESSION_HOURS // 10),
                "contact_hours": Decimal(sessions * SESSION_HOURS),
                "delivery_mode": base["delivery_mode"].value,
                "teaching_language": base["teaching_language"].value,
                "fee": Decimal(base["fee"]) + Decimal(100 * rng.randint(-10, 10)),
                "cef_reimbursable": bool(base.get("cef_reimbursable", False)),
                "status": status.value,
                "created_at": created_at + timedelta(days=index % 90),
                "updated_at": created_at + timedelta(days=index % 90),
            }
            columns = columns or tuple(values)
            self.writer.add(courses, columns, tuple(values.values()))
            self.courses.append(
                _Course(
                    id=course_id,
                    code=code,
                    area=area,
                    level=level,
                    sessions=sessions,
                    assessment=bool(base.get("assessment")),
                    status=status,
                    delivery_mode=base["delivery_mode"],
                    venue=VENUES[list(type(base["skill_area"])).index(base["skill_area"])],
                    qf_credits=values["qf_credits"],
                )
            )
        # Some courses build on an easier one of the same area: no cycles, by level.
        prerequisites = course_prerequisites
        published = [c for c in self.courses if c.status is not CourseStatus.DRAFT]
        for course in published:
            if course.level < 4 or rng.random() >= 0.2:
                continue
            easier = [c for c in published if c.area == course.area and c.level < course.level]
            if easier:
                self.writer.add(
                    prerequisites,
                    ("course_id", "prerequisite_id"),
                    (course.id, rng.choice(easier).id),
                )

    # Classes and sessions ------------------------------------------------------------------

    def _session_times(
        self, first: date, pattern: _Pattern, count: int
    ) -> list[tuple[datetime, datetime]]:
        meetings: list[tuple[datetime, datetime]] = []
        day = first
        while len(meetings) < count:
            if day.weekday() in pattern.weekdays and (day.month, day.day) not in FIXED_HOLIDAYS:
                for slot in pattern.slots:
                    if len(meetings) == count:
                        break
                    start = _hk(day, slot)
                    meetings.append((start, start + timedelta(hours=SESSION_HOURS)))
            day += timedelta(days=1)
        return meetings

    def make_classes(self) -> None:
        rng = self.rng
        offered = [c for c in self.courses if c.status is not CourseStatus.DRAFT]
        popularity = [rng.uniform(0.3, 1.7) for _ in offered]
        counts = _spread(self.sizes.classes, popularity)
        intakes: Counter[str] = Counter()
        plans: list[tuple[_Course, int]] = []
        for course, count in zip(offered, counts, strict=True):
            for _ in range(count):
                if course.status is CourseStatus.ARCHIVED:
                    offset = rng.randint(-HISTORY_DAYS, -120)
                else:
                    offset = rng.randint(-HISTORY_DAYS, FUTURE_DAYS)
                plans.append((course, offset))
        plans.sort(key=lambda plan: (plan[1], plan[0].code))
        for course, offset in plans:
            pattern = PATTERNS[rng.randrange(len(PATTERNS))]
            first = self.today + timedelta(days=offset)
            times = self._session_times(first, pattern, course.sessions)
            starts_on = times[0][0].astimezone(HONG_KONG).date()
            ends_on = times[-1][0].astimezone(HONG_KONG).date()
            intakes[course.code] += 1
            code = f"{course.code}-{starts_on:%y%m}-{intakes[course.code]:02d}"
            opens_at = _hk(starts_on - timedelta(days=60), time(9, 0))
            closes_at = _hk(starts_on - timedelta(days=4), time(23, 59))
            withdrawal_deadline_at = _hk(starts_on - timedelta(days=7), time(23, 59))
            class_start, class_end = times[0][0], times[-1][1]
            cancelled_at = None
            if class_end <= self.now:
                status = ClassStatus.COMPLETED
            elif class_start <= self.now:
                status = ClassStatus.RUNNING
            elif closes_at < self.now:
                status = ClassStatus.CLOSED
            elif opens_at > self.now and rng.random() < 0.3:
                status = ClassStatus.DRAFT
            else:
                status = ClassStatus.OPEN
            if status is not ClassStatus.DRAFT and rng.random() < 0.03:
                cancelled_at = min(
                    self.now - timedelta(hours=1), class_start - timedelta(days=rng.randint(3, 20))
                )
                if cancelled_at > opens_at:
                    status = ClassStatus.CANCELLED
                else:
                    cancelled_at = None
            class_id = self.next_id("classes")
            trainers = rng.sample(self.trainer_ids, 2 if rng.random() < 0.15 else 1)
            sessions = [(self.next_id("class_sessions"), start, end) for start, end in times]
            self.classes.append(
                _Class(
                    id=class_id,
                    code=code,
                    course=course,
                    capacity=rng.randint(16, 32),
                    status=status,
                    opens_at=opens_at,
                    closes_at=closes_at,
                    withdrawal_deadline_at=withdrawal_deadline_at,
                    starts_on=starts_on,
                    ends_on=ends_on,
                    sessions=sessions,
                    trainer_ids=trainers,
                    cancelled_at=cancelled_at,
                )
            )

    def write_class(self, cls: _Class) -> None:
        """The class row (with its final seat count), its sessions and its trainers."""
        course = cls.course
        venue = None if course.delivery_mode is DeliveryMode.ONLINE_LIVE else course.venue
        online_url = (
            None
            if course.delivery_mode is DeliveryMode.ON_CAMPUS
            else f"https://meet.skillsup.test/{cls.code.lower()}"
        )
        created_at = min(cls.opens_at - timedelta(days=14), self.now - timedelta(days=1))
        updated_at = cls.cancelled_at or created_at
        if cls.status is ClassStatus.COMPLETED:
            updated_at = _hk(cls.ends_on + timedelta(days=2), time(17, 30))
        row = (
            cls.id,
            course.id,
            cls.code,
            venue,
            online_url,
            cls.capacity,
            cls.seats_taken,
            cls.starts_on,
            cls.ends_on,
            cls.opens_at,
            cls.closes_at,
            cls.withdrawal_deadline_at,
            80,
            course.assessment,
            cls.status.value,
            CANCELLATION_REASON if cls.status is ClassStatus.CANCELLED else None,
            created_at,
            updated_at,
        )
        self.writer.add(CourseClass.__table__, CLASS_COLUMNS, row)
        room = None if venue is None else venue.split(", ", 1)[1]
        cancelled = cls.status is ClassStatus.CANCELLED
        for session_id, start, end in cls.sessions:
            self.writer.add(
                ClassSession.__table__,
                SESSION_COLUMNS,
                (session_id, cls.id, start, end, room, cancelled, 0, created_at, created_at),
            )
        for trainer_id in cls.trainer_ids:
            self.writer.add(class_trainers, ("class_id", "trainer_id"), (cls.id, trainer_id))

    # Enrolments ----------------------------------------------------------------------------

    def make_enrolments(self) -> None:
        """Requests per class in proportion to its size and state, scaled so that the total
        meets the target; each class's requests are then played in time order."""
        rng = self.rng
        demand: list[float] = []
        for cls in self.classes:
            if cls.status is ClassStatus.DRAFT or cls.opens_at >= self.now:
                demand.append(0.0)
            elif cls.status in (ClassStatus.OPEN,):
                # Still taking requests: fewer so far, the further the start.
                window = (cls.closes_at - cls.opens_at).total_seconds()
                elapsed = (self.now - cls.opens_at).total_seconds()
                demand.append(cls.capacity * rng.uniform(0.5, 1.4) * min(elapsed / window, 1))
            else:
                demand.append(cls.capacity * rng.uniform(0.95, 1.4))
        total = sum(demand) or 1.0
        factor = self.sizes.enrolments / total
        for cls, wanted in zip(self.classes, demand, strict=True):
            exact = wanted * factor
            count = int(exact) + (1 if rng.random() < exact - int(exact) else 0)
            if count:
                self.enrol_class(cls, min(count, len(self.learners)))
            self.write_class(cls)
            if self.writer.pending(Attendance.__table__) >= COPY_BATCH:
                self.writer.flush()
        self.writer.flush()

    def enrol_class(self, cls: _Class, count: int) -> None:
        rng = self.rng
        ends = min(self.now, cls.cancelled_at or self.now)
        last_end = cls.sessions[-1][2]
        request_until = min(cls.closes_at, ends) - timedelta(hours=1)
        withdraw_until = min(cls.withdrawal_deadline_at, ends) - timedelta(hours=1)
        span = request_until - cls.opens_at
        if span <= timedelta(0):
            return
        picked: list[_Learner] = []
        seen: set[int] = set()
        attempts = 0
        while len(picked) < count and attempts < count * 4:
            attempts += 1
            learner = self.learners[rng.randrange(len(self.learners))]
            if learner.id in seen:
                continue
            if learner.deactivated_at is not None and not (
                cls.status is ClassStatus.COMPLETED
                and last_end < learner.deactivated_at - timedelta(days=7)
            ):
                continue
            seen.add(learner.id)
            picked.append(learner)

        taking = cls.status is ClassStatus.OPEN
        requests = []
        for learner in picked:
            at = (cls.opens_at + span * rng.random()).replace(microsecond=0)
            draw = rng.random()
            company = learner.company
            if draw < 0.2:
                source = EnrolmentSource.NOMINATED
            elif draw < 0.25:
                source = EnrolmentSource.CSV
            else:
                source = EnrolmentSource.SELF
            hr = company.hr_ids[learner.id % len(company.hr_ids)]
            request = _Request(
                learner=learner,
                at=at,
                source=source,
                requested_by=learner.id if source is EnrolmentSource.SELF else hr,
                needs_approval=company.requires_approval and source is EnrolmentSource.SELF,
            )
            if request.needs_approval:
                decide_at = at + timedelta(hours=rng.uniform(3, 72))
                request.approve = rng.random() >= 0.12
                if decide_at > request_until:
                    # Still waiting while the class takes requests; decided in time otherwise.
                    decide_at = None if taking or cls.cancelled_at else request_until
                request.decide_at = decide_at
            if rng.random() < 0.1:
                withdraw_at = at + timedelta(days=rng.uniform(1, 20))
                if withdraw_at < withdraw_until:
                    request.withdraw_at = withdraw_at
            requests.append(request)
        enrolments = self.replay(cls, requests)
        if cls.cancelled_at is not None:
            for enrolment in enrolments:
                if enrolment.status in ACTIVE:
                    enrolment.change(
                        EnrolmentStatus.CANCELLED,
                        cls.cancelled_at,
                        self.admin_id,
                        CANCELLATION_REASON,
                    )
                    enrolment.status_reason = CANCELLATION_REASON
                    enrolment.decided_at = enrolment.ended_at = cls.cancelled_at
        marks = self.mark_attendance(cls, enrolments)
        if cls.status is ClassStatus.COMPLETED:
            self.close(cls, enrolments, marks)
        cls.seats_taken = sum(1 for e in enrolments if e.status is EnrolmentStatus.CONFIRMED)
        if cls.seats_taken > cls.capacity:  # pragma: no cover - the replay prevents it
            raise RuntimeError(f"class {cls.code} is overbooked")
        self.write_enrolments(cls, enrolments)

    def replay(self, cls: _Class, requests: list[_Request]) -> list[_Enrolment]:
        """Requests, decisions and withdrawals in time order, as the enrolment service plays
        them: a seat if one is free, else the waitlist; a freed seat to the first in line."""
        enrolments = [_Enrolment(self.next_id("enrolments"), request) for request in requests]
        events: list[tuple[datetime, int, int]] = []
        for index, request in enumerate(requests):
            events.append((request.at, 0, index))
            if request.needs_approval and request.decide_at is not None:
                events.append((request.decide_at, 1, index))
            if request.withdraw_at is not None:
                events.append((request.withdraw_at, 2, index))
        events.sort(key=lambda event: (event[0], event[1], event[2]))
        confirmed = 0
        waitlist: list[int] = []

        def place(index: int, at: datetime, actor: int) -> None:
            nonlocal confirmed
            enrolment = enrolments[index]
            if confirmed < cls.capacity:
                enrolment.change(EnrolmentStatus.CONFIRMED, at, actor)
                enrolment.confirmed_at = at
                confirmed += 1
            else:
                enrolment.change(EnrolmentStatus.WAITLISTED, at, actor)
                enrolment.waitlisted_at = at
                waitlist.append(index)

        for at, kind, index in events:
            request, enrolment = requests[index], enrolments[index]
            hr = request.learner.company.hr_ids[
                request.learner.id % len(request.learner.company.hr_ids)
            ]
            if kind == 0:
                if request.needs_approval:
                    enrolment.change(EnrolmentStatus.PENDING, at, request.requested_by)
                else:
                    place(index, at, request.requested_by)
            elif kind == 1 and enrolment.status is EnrolmentStatus.PENDING:
                enrolment.decided_at = at
                if request.approve:
                    place(index, at, hr)
                else:
                    reason = REJECTION_REASONS[index % len(REJECTION_REASONS)]
                    enrolment.change(EnrolmentStatus.REJECTED, at, hr, reason)
                    enrolment.status_reason = reason
                    enrolment.ended_at = at
            elif kind == 2 and enrolment.status in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                was_confirmed = enrolment.status is EnrolmentStatus.CONFIRMED
                reason = WITHDRAWAL_REASONS[index % len(WITHDRAWAL_REASONS)]
                enrolment.change(EnrolmentStatus.WITHDRAWN, at, request.learner.id, reason)
                enrolment.status_reason = reason
                enrolment.decided_at = enrolment.ended_at = at
                if was_confirmed:
                    confirmed -= 1
                    if waitlist:
                        promoted = enrolments[waitlist.pop(0)]
                        promoted.change(EnrolmentStatus.CONFIRMED, at, None, PROMOTION_REASON)
                        promoted.status_reason = PROMOTION_REASON
                        promoted.confirmed_at = promoted.decided_at = at
                        confirmed += 1
                else:
                    waitlist.remove(index)
        return enrolments

    def mark_attendance(
        self, cls: _Class, enrolments: list[_Enrolment]
    ) -> dict[int, tuple[int, int]]:
        """Marks for confirmed learners at the sessions that are over. Returns per enrolment
        the sessions attended and those counted (excused ones left out)."""
        rng = self.rng
        held = [s for s in cls.sessions if s[2] <= self.now]
        marks: dict[int, tuple[int, int]] = {}
        if not held or cls.status is ClassStatus.CANCELLED:
            return marks
        table = Attendance.__table__
        marker = cls.trainer_ids[0]
        present, late = AttendanceStatus.PRESENT.value, AttendanceStatus.LATE.value
        absent, excused = AttendanceStatus.ABSENT.value, AttendanceStatus.EXCUSED.value
        for enrolment in enrolments:
            if enrolment.status is not EnrolmentStatus.CONFIRMED:
                continue
            draw = rng.random()
            missing = 0.03 if draw < 0.85 else 0.12 if draw < 0.95 else 0.35
            attended = counted = 0
            for session_id, starts_at, _ends_at in held:
                roll = rng.random()
                if roll < missing:
                    status = excused if roll < missing * 0.4 else absent
                elif roll < missing + 0.06:
                    status = late
                else:
                    status = present
                if status != excused:
                    counted += 1
                if status in (present, late):
                    attended += 1
                self.writer.add(
                    table,
                    ATTENDANCE_COLUMNS,
                    (
                        self.next_id("attendance"),
                        enrolment.id,
                        session_id,
                        status,
                        marker,
                        starts_at + timedelta(minutes=5 + int(roll * 35)),
                    ),
                )
            marks[enrolment.id] = (attended, counted)
        return marks

    def close(
        self, cls: _Class, enrolments: list[_Enrolment], marks: dict[int, tuple[int, int]]
    ) -> None:
        """Completion from attendance and the assessment; certificates for completions."""
        rng = self.rng
        closed_at = _hk(cls.ends_on + timedelta(days=2), time(17, 30))
        trainer = cls.trainer_ids[0]
        total = len(cls.sessions)
        for enrolment in enrolments:
            if enrolment.status is EnrolmentStatus.CONFIRMED:
                attended, counted = marks.get(enrolment.id, (0, total))
                excused = total - counted
                rate = attended / (total - excused) if total > excused else 0.0
                reason = None
                if rate * 100 < 80:
                    reason = f"Attendance {round(rate * 100)}% is below the required 80%."
                elif cls.course.assessment:
                    failed = rng.random() < 0.07
                    score = rng.uniform(28, 48) if failed else rng.uniform(55, 96)
                    enrolment.result_score = Decimal(f"{score:.1f}")
                    enrolment.result_passed = not failed
                    if failed:
                        reason = f"Assessment not passed (score {enrolment.result_score})."
                outcome = EnrolmentStatus.NOT_COMPLETED if reason else EnrolmentStatus.COMPLETED
                enrolment.change(outcome, closed_at, trainer, reason)
                enrolment.status_reason = reason
                enrolment.decided_at = enrolment.ended_at = closed_at
                if outcome is EnrolmentStatus.COMPLETED:
                    self.serial += 1
                    self.writer.add(
                        Certificate.__table__,
                        CERTIFICATE_COLUMNS,
                        (
                            self.next_id("certificates"),
                            enrolment.id,
                            f"SB-{closed_at.year}-{self.serial:07d}",
                            f"{rng.getrandbits(192):048x}",
                            closed_at + timedelta(minutes=5),
                            None,
                            None,
                            None,
                        ),
                    )
            elif enrolment.status in (EnrolmentStatus.WAITLISTED, EnrolmentStatus.PENDING):
                enrolment.change(
                    EnrolmentStatus.CANCELLED, closed_at, trainer, CLASS_COMPLETED_REASON
                )
                enrolment.status_reason = CLASS_COMPLETED_REASON
                enrolment.decided_at = enrolment.ended_at = closed_at

    def write_enrolments(self, cls: _Class, enrolments: list[_Enrolment]) -> None:
        table = Enrolment.__table__
        history = EnrolmentStatusChange.__table__
        for enrolment in enrolments:
            request = enrolment.request
            assert enrolment.status is not None
            self.writer.add(
                table,
                ENROLMENT_COLUMNS,
                (
                    enrolment.id,
                    cls.id,
                    request.learner.id,
                    request.learner.company.id,
                    enrolment.status.value,
                    request.source.value,
                    request.requested_by,
                    enrolment.acted_by if enrolment.acted_by is not None else request.requested_by,
                    enrolment.status_reason,
                    request.at,
                    enrolment.waitlisted_at,
                    enrolment.confirmed_at,
                    enrolment.decided_at,
                    enrolment.ended_at,
                    enrolment.result_score,
                    enrolment.result_passed,
                    enrolment.updated_at or request.at,
                ),
            )
            for from_status, to_status, actor, reason, at in enrolment.history:
                self.writer.add(
                    history,
                    HISTORY_COLUMNS,
                    (
                        self.next_id("enrolment_status_changes"),
                        enrolment.id,
                        from_status.value if from_status is not None else None,
                        to_status.value,
                        actor,
                        reason,
                        at,
                    ),
                )
            if request.learner.company is not None and enrolment.status in QUOTA_COUNTED:
                self.quota_use[(request.learner.company.id, _term(cls.starts_on)[0])] += 1

    # Quotas --------------------------------------------------------------------------------

    def make_quotas(self) -> None:
        """A quota per company and term the classes start in, with room to spare."""
        terms: dict[str, tuple[date, date]] = {}
        for cls in self.classes:
            label, starts, ends = _term(cls.starts_on)
            terms[label] = (starts, ends)
        table = SeatQuota.__table__
        columns = (
            "id",
            "company_id",
            "course_id",
            "label",
            "starts_on",
            "ends_on",
            "seats",
            "created_at",
        )
        for company in self.companies:
            for label, (starts, ends) in sorted(terms.items(), key=lambda item: item[1]):
                used = self.quota_use[(company.id, label)]
                seats = math.ceil((used * 1.25 + 10) / 5) * 5
                created_at = min(
                    _hk(starts - timedelta(days=60), time(10)), self.now - timedelta(days=1)
                )
                self.writer.add(
                    table,
                    columns,
                    (
                        self.next_id("seat_quotas"),
                        company.id,
                        None,
                        label,
                        starts,
                        ends,
                        seats,
                        created_at,
                    ),
                )
