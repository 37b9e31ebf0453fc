"""Demo data: ``flask --app skillsup seed-demo``.

Everything here is invented: the people, the companies and their ``.test`` domains. The
schedule is placed around a reference day so that the demo always has classes that are over,
classes running now and classes open for enrolment over the coming months.

The modules: :mod:`.people` (staff, companies, employees), :mod:`.plan` (the timetable and
the stories of the demo accounts), :mod:`.catalogue` (courses, classes, quotas) and
:mod:`.enrolments` (what happened in each class).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select

from ...extensions import db
from ...models import AuditEntry
from ...services import audit
from ..calendar import hong_kong_today
from .catalogue import CatalogueSeeding
from .enrolments import EnrolmentSeeding
from .people import PeopleSeeding
from .plan import STORIES
from .state import DEMO_PASSWORD

__all__ = ["DEMO_PASSWORD", "SEEDED_ACTION", "SeedReport", "hong_kong_today", "seed_demo"]

SEEDED_ACTION = "demo.seeded"

# Counted in this order in the summary.
REPORT_KEYS = (
    "users",
    "companies",
    "company_domains",
    "seat_quotas",
    "courses",
    "course_prerequisites",
    "classes",
    "class_sessions",
    "enrolments",
    "enrolment_status_changes",
    "attendance",
    "certificates",
)


@dataclass
class SeedReport:
    """What one run of :func:`seed_demo` created."""

    created: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.created.values())

    def summary(self) -> str:
        if self.total == 0:
            return "Demo data already loaded: nothing new was created."
        parts = [
            f"{self.created[key]:,} {key.replace('_', ' ')}"
            for key in REPORT_KEYS
            if self.created.get(key)
        ]
        return (
            f"Demo data loaded: {', '.join(parts)}.\n"
            "Sign in as admin@skillsup.test, trainer@skillsup.test, hr@partner-a.test, "
            f"learner@partner-a.test and others with the password {DEMO_PASSWORD}."
        )


def seed_demo(today: date | None = None) -> SeedReport:
    """Load the demo data; idempotent: records found by their natural keys are kept as they are.

    Users are found by e-mail, companies by code, courses and classes by code, quotas by
    company, label and course. Sessions, enrolments, attendance and certificates are created
    with their class only, so a second run creates nothing. ``today`` (default: today in
    Hong Kong) anchors the schedule on the first run; later runs reuse that first anchor so
    that they find the same class codes. Adds and flushes, never commits.
    """
    anchor = _stored_anchor() or today or hong_kong_today()
    seeder = _Seeder(anchor)
    seeder.run()
    report = SeedReport({key: seeder.created.get(key, 0) for key in REPORT_KEYS})
    if report.total:
        audit.record(
            None,
            SEEDED_ACTION,
            summary=report.summary().splitlines()[0],
            details={"anchor": anchor.isoformat(), "created": report.created},
        )
        db.session.flush()
    return report


def _stored_anchor() -> date | None:
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == SEEDED_ACTION)
        .order_by(AuditEntry.id)
        .limit(1)
    )
    if entry is None:
        return None
    try:
        return date.fromisoformat(str((entry.details or {}).get("anchor")))
    except ValueError:
        return None


class _Seeder(PeopleSeeding, CatalogueSeeding, EnrolmentSeeding):
    def run(self) -> None:
        self.seed_people({story.email for story in STORIES})
        self.seed_courses()
        self.seed_classes()
        self.seed_quotas()
