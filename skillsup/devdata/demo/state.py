"""What the demo's seeding steps share: the reference day, the random source, what was
created, and the records found or made so far."""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ...models import Course, PartnerCompany, User
from ..calendar import hk

if TYPE_CHECKING:
    from .people import CompanySpec

# Published in the README: every demo account signs in with it.
DEMO_PASSWORD = "skillsup-demo"  # noqa: S105
SEED = 2026


@dataclass(eq=False)
class DemoLearner:
    """A learner of a demo company, with what the seeding needs to know about them."""

    user: User
    spec: CompanySpec
    hr: User
    active: bool
    deactivated_at: datetime | None
    story: bool
    busy_days: set[date] = field(default_factory=set)


class SeedState:
    """The state the seeding steps (people, catalogue, enrolments) build up in one run."""

    def __init__(self, anchor: date) -> None:
        self.anchor = anchor
        self.day_start = hk(anchor, time(0))
        self.rng = random.Random(SEED)
        self.created: Counter[str] = Counter()
        self._password_hash: str | None = None
        self.users: dict[str, User] = {}
        self.companies: dict[str, PartnerCompany] = {}
        self.learners: list[DemoLearner] = []
        self.courses: dict[str, Course] = {}
        self.trainer_busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        self.next_serial: int | None = None

    def days_ago(self, days: float) -> datetime:
        return self.day_start - timedelta(days=days)
