"""What the demo's seeding steps share: the reference day, the random source, the clock and the
steps waiting for their moment, and the records found or made so far."""

from __future__ import annotations

import heapq
import itertools
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from ...extensions import db
from ...models import Course, PartnerCompany, User
from ..calendar import hk
from .clock import DemoClock

if TYPE_CHECKING:
    from ...models import Enrolment
    from .catalogue import DemoClass
    from .people import CompanySpec
    from .plan import Story

# Published in the README: every demo account signs in with it.
DEMO_PASSWORD = "skillsup-demo"  # noqa: S105
SEED = 2026

#: Something the demo does at a moment of its history (what it returns is not used).
Step = Callable[[], object]


@dataclass(eq=False)
class DemoLearner:
    """A learner of a demo company, with what the seeding needs to know about them."""

    user: User
    spec: CompanySpec
    hr: User
    # When they leave (or left) the company, if they do.
    leaves_at: datetime | None
    # Their enrolments are told as stories; the classes filled at random leave them out.
    story: bool


class SeedState:
    """The state the seeding steps (people, catalogue, history) build up in one run.

    The history is played in time order: each step is scheduled at its moment
    (:meth:`schedule`) and :meth:`play` runs them all, earliest first, with the clock set to
    each step's moment. Steps at the same moment run in the order they were scheduled.
    """

    def __init__(self, anchor: date) -> None:
        self.anchor = anchor
        self.day_start = hk(anchor, time(0))
        self.rng = random.Random(SEED)
        self.clock = DemoClock()
        self._steps: list[tuple[datetime, int, Step]] = []
        self._order = itertools.count()
        self._password_hash: str | None = None
        self.users: dict[str, User] = {}
        self.companies: dict[str, PartnerCompany] = {}
        self.learners: list[DemoLearner] = []
        # When each leaver created by this run leaves, by e-mail.
        self.departures: dict[str, datetime] = {}
        self.courses: dict[str, Course] = {}
        self.trainer_busy: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
        # The enrolment each story made, to check that it ended as told.
        self.story_enrolments: list[tuple[Story, DemoClass, Enrolment]] = []

    def days_ago(self, days: float) -> datetime:
        return self.day_start - timedelta(days=days)

    def schedule(self, at: datetime, step: Step) -> None:
        """Run ``step`` when the history reaches ``at``, which must be before today."""
        if at >= self.day_start:
            raise RuntimeError(f"a demo step is due at {at}, not before the reference day")
        heapq.heappush(self._steps, (at, next(self._order), step))

    def play(self) -> None:
        """Run the scheduled steps in time order; a step may schedule later ones."""
        while self._steps:
            at, _order, step = heapq.heappop(self._steps)
            if self.clock.now is not None and at < self.clock.now:
                raise RuntimeError(f"a demo step is due at {at}, after {self.clock.now} passed")
            self.clock.now = at
            step()
        db.session.flush()
