"""Benchmark data: ``flask --app skillsup seed-bench --scale N``.

A realistic, deterministic data set for load tests, built with bulk inserts (PostgreSQL
``COPY`` for the big tables), not one ORM object per row. At scale 1 it holds 40 partner
companies, 20,000 employees, 400 courses, 3,000 classes, 30,000 sessions, about 100,000
enrolments and about 600,000 attendance marks; scale 0.1 is a tenth of that.

Everything is invented (people, companies, ``.test`` domains) and obeys the rules the services
enforce, so that the pages under load show what they would show in production:

- a class's ``seats_taken`` equals the learners holding a seat (confirmed, and completed or not
  completed once it is closed) and never exceeds its capacity; a
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
the data. ``--reset`` empties only a database that is empty already or marked as a benchmark
database: one whose audit log holds the entry an earlier load wrote (:data:`SEEDED_ACTION`),
in the same transaction as its rows. Any other database, a production one above all, is
refused whole. It all happens in one transaction: a failed run leaves nothing behind.

The modules: :mod:`.shape` (sizes and vocabulary), :mod:`.generator` and :mod:`.enrolments`
(the rows), :mod:`.records` (the generator's working records) and :mod:`.store` (bulk writing).
"""

from __future__ import annotations

import time as clock
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import click
from sqlalchemy import func, insert, select

from ...extensions import db
from ...models import AuditEntry
from ..calendar import hong_kong_today
from .generator import Generator
from .shape import ADMIN_EMAIL, BENCH_PASSWORD, FULL_SIZE, BenchSizes
from .store import analyse, empty_database, reset_sequences

__all__ = [
    "ADMIN_EMAIL",
    "BENCH_PASSWORD",
    "DEFAULT_SEED",
    "FULL_SIZE",
    "SEEDED_ACTION",
    "BenchDataExists",
    "BenchReport",
    "BenchSizes",
    "analyse",
    "empty_database",
    "seed_bench",
]

DEFAULT_SEED = 20_260_301
SEEDED_ACTION = "bench.seeded"


class BenchDataExists(click.ClickException):
    """The database is not empty, or already holds bench data."""


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
    already holds bench data unless ``reset``; refuses to ``reset`` a database with data in it
    that is not marked as a benchmark database. The same ``seed`` and ``today`` give the same
    data. Flushes but never commits: the caller commits once, or rolls back.
    """
    sizes = BenchSizes.for_scale(scale)
    today = today or hong_kong_today()
    started = clock.perf_counter()
    if reset:
        _check_resettable()
        empty_database()
    else:
        _check_empty(force)
    generator = Generator(sizes, seed, today)
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
    reset_sequences()
    db.session.flush()
    report.seconds = clock.perf_counter() - started
    return report


def _bench_mark() -> dict[str, Any] | None:
    """The details of the audit entry an earlier load wrote, if there is one: the mark of a
    benchmark database."""
    return db.session.scalar(
        select(AuditEntry.details).where(AuditEntry.action == SEEDED_ACTION).limit(1)
    )


#: Tables the migrations fill (the funding schemes and their figures): a database that holds
#: nothing else is empty.
REFERENCE_TABLES = frozenset({"funding_schemes", "funding_scheme_versions"})


def _filled_tables() -> str:
    """The tables that hold rows, with their counts, as a message lists them ("" if none)."""
    filled = {
        table.name: count
        for table in db.metadata.sorted_tables
        if table.name not in REFERENCE_TABLES
        and (count := db.session.scalar(select(func.count()).select_from(table)) or 0)
    }
    return ", ".join(f"{name} ({count:,})" for name, count in sorted(filled.items()))


def _check_empty(force: bool) -> None:
    marker = _bench_mark()
    if marker is not None:
        raise BenchDataExists(
            f"This database already holds bench data (scale {marker.get('scale')}, seed "
            f"{marker.get('seed')}). Run with --reset to empty it and build the data again."
        )
    if force:
        return
    listing = _filled_tables()
    if listing:
        raise BenchDataExists(
            f"This database is not empty: {listing}. Run with --reset to empty it first "
            "(all its data is lost) or --force to add the bench data beside it."
        )


def _check_resettable() -> None:
    """Emptying every table is for benchmark databases only: refuse a database that holds
    data but was never loaded by seed-bench (a production or demo database given by mistake)."""
    if _bench_mark() is not None:
        return
    listing = _filled_tables()
    if listing:
        raise BenchDataExists(
            "Refusing --reset: this database is not marked as a benchmark database (seed-bench "
            f"has never loaded it), and it holds data: {listing}. Nothing was deleted. Point "
            "the command at a database of its own for the benchmark, or use --force to add "
            "the bench data beside this data."
        )
