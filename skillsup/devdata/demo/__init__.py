"""Demo data: ``flask --app skillsup seed-demo``.

Everything here is invented: the people, the companies and their ``.test`` domains. The
schedule is placed around a reference day so that the demo always has classes that are over,
classes running now and classes open for enrolment over the coming months.

The demo's history is made by the services a user's click goes through, by the person who
would click (the admin, an HR officer, a learner, the trainer), each change at its moment in
the past (the services' ``now``), in time order: the rules hold in the demo because the
services applied them, as they do for everyone. Only the accounts themselves are written
directly, with one shared password.

The modules: :mod:`.people` (staff, companies, employees), :mod:`.plan` (the timetable and
the stories of the demo accounts), :mod:`.catalogue` (the admin's courses, classes and
quotas), :mod:`.enrolments` (the learners' requests and the HR officers' decisions),
:mod:`.teaching` (the trainers' attendance, results and closing), :mod:`.webhooks` (a
company's webhook endpoint and the answers its events got), :mod:`.state` and :mod:`.clock`
(the time the history has reached).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select

from ...extensions import db
from ...models import AuditEntry
from ...services import audit, mail
from ..calendar import hong_kong_today
from .catalogue import CatalogueSeeding
from .enrolments import EnrolmentSeeding
from .people import PeopleSeeding
from .plan import STORIES, Story
from .state import DEMO_PASSWORD
from .teaching import TeachingSeeding
from .webhooks import WebhookSeeding

__all__ = ["DEMO_PASSWORD", "SEEDED_ACTION", "SeedReport", "hong_kong_today", "seed_demo"]

SEEDED_ACTION = "demo.seeded"

# Counted in this order in the summary, each the rows of its table.
REPORT_TABLES = {
    "users": "users",
    "companies": "partner_companies",
    "company_domains": "company_domains",
    "seat_quotas": "seat_quotas",
    "courses": "courses",
    "course_prerequisites": "course_prerequisites",
    "classes": "classes",
    "class_sessions": "class_sessions",
    "enrolments": "enrolments",
    "enrolment_status_changes": "enrolment_status_changes",
    "attendance": "attendance",
    "certificates": "certificates",
}
REPORT_KEYS = tuple(REPORT_TABLES)


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

    No e-mail is queued: the history happened in the past, to invented people, so the
    services run in a dry run for mail (as an import's preview does). Raises
    ``RuntimeError`` if a demo story did not end as told.
    """
    anchor = _stored_anchor() or today or hong_kong_today()
    before = _row_counts()
    session = db.session()
    seeder = _Seeder(anchor)
    with mail.dry_run(session), seeder.clock.stamping(session):
        seeder.run()
    after = _row_counts()
    report = SeedReport({key: after[key] - before[key] for key in REPORT_KEYS})
    if report.total:
        audit.record(
            None,
            SEEDED_ACTION,
            summary=report.summary().splitlines()[0],
            details={"anchor": anchor.isoformat(), "created": report.created},
        )
        db.session.flush()
    return report


def _row_counts() -> dict[str, int]:
    db.session.flush()
    tables = db.metadata.tables
    return {
        key: int(db.session.scalar(select(func.count()).select_from(tables[name])) or 0)
        for key, name in REPORT_TABLES.items()
    }


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


class _Seeder(PeopleSeeding, CatalogueSeeding, EnrolmentSeeding, TeachingSeeding, WebhookSeeding):
    def run(self) -> None:
        """People and courses first; then the history of the classes, the quotas and the
        departures, played in time order."""
        self.seed_people({story.email for story in STORIES})
        self.seed_courses()
        stories: dict[str, list[Story]] = defaultdict(list)
        for story in STORIES:
            stories[story.class_key].append(story)
        planned = self.plan_classes()
        for demo_class in planned:
            self.plan_enrolments(demo_class, stories.get(demo_class.plan.key or "", []), planned)
            self.plan_teaching(demo_class)
        self.plan_quotas()
        self.schedule_departures()
        self.plan_webhooks()
        self.schedule_api_token()
        self.play()
        self.answer_webhooks()
        self.check_stories()
