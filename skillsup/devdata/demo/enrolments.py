"""The learners' and HR officers' part of the demo: requests, nominations, approvals,
rejections and withdrawals, each made at its moment through the enrolment service
(:mod:`skillsup.services.enrolment`), as a click makes it.

The service decides what each step leads to (a seat, a waitlist place, a request waiting for
approval, a promotion from the waitlist) and refuses what the rules refuse: a learner it
turns away (no quota left, a timetable clash, a prerequisite missing) is simply not enrolled,
and the next learner of the class's pool asks instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ...extensions import db
from ...models import ClassStatus, CourseClass, Enrolment, EnrolmentSource, EnrolmentStatus
from ...services import eligibility, enrolment_requests, seat_quotas
from ...services.errors import DomainError
from .catalogue import DemoClass
from .plan import CLASH_REASON, REJECTION_REASONS, WITHDRAWAL_REASONS, Story
from .state import DemoLearner, SeedState, Step

# Refusals that are about the learner, not the class: another learner may still ask.
LEARNER_REFUSALS = (
    seat_quotas.QuotaExceeded,
    eligibility.TimetableClash,
    eligibility.PrerequisitesMissing,
    eligibility.AccountInactive,
    eligibility.AlreadyEnrolled,
)


@dataclass(eq=False)
class _Request:
    """A request the demo makes in a class: a story's, or one by the first learner of the
    class's pool whom the rules let in."""

    at: datetime
    story: Story | None = None
    # The seat is taken at once: the learner asks where no approval is needed, or their HR
    # officer nominates them.
    at_once: bool = False
    # Decided in advance (approved, for a place on a waitlist); otherwise drawn.
    approve: bool | None = None
    may_withdraw: bool = False
    withdraw_at: datetime | None = None
    withdraw_reason: str | None = None


@dataclass(frozen=True)
class _Window:
    """When a class's requests, decisions and withdrawals happen."""

    starts: datetime  # the first request
    ends: datetime  # the last request (the last withdrawal, when someone withdraws late)
    last_request: datetime
    last_decision: datetime
    last_withdrawal: datetime

    def moment(self, fraction: float) -> datetime:
        return (self.starts + (self.ends - self.starts) * fraction).replace(second=0, microsecond=0)


class EnrolmentSeeding(SeedState):
    """Schedules each new class's requests, decisions and withdrawals."""

    def plan_enrolments(
        self, demo_class: DemoClass, stories: Sequence[Story], planned: Sequence[DemoClass]
    ) -> None:
        plan = demo_class.plan
        if plan.status is ClassStatus.DRAFT:
            return
        rng = demo_class.rng
        window = self.request_window(demo_class, planned)
        requests = [
            _Request(
                at=window.moment(story.at),
                story=story,
                withdraw_at=None if story.withdraw_at is None else window.moment(story.withdraw_at),
                withdraw_reason=story.reason if story.withdraw_at is not None else None,
            )
            for story in stories
        ]
        last_end = demo_class.times[-1][1]

        def available(learner: DemoLearner) -> bool:
            if learner.story:
                return False
            if learner.leaves_at is not None:
                # Staff who have left may only have finished a class before leaving.
                return (
                    plan.status is ClassStatus.COMPLETED
                    and last_end < learner.leaves_at - timedelta(days=7)
                )
            return True

        pool = [learner for learner in self.learners if available(learner)]
        rng.shuffle(pool)
        is_open = plan.status is ClassStatus.OPEN
        if plan.waitlist:
            # A full class: the seats go to early requests that take them at once, then a
            # waitlist forms behind them.
            confirmed_stories = sum(
                1
                for story in stories
                if story.outcome in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED)
            )
            main = [
                _Request(at=window.moment(rng.uniform(0, 0.7)), at_once=True)
                for _ in range(max(plan.capacity - confirmed_stories, 0))
            ]
            # Behind them, requests that will wait: approved (if asked) onto the waitlist.
            extras = [
                _Request(
                    at=window.moment(rng.uniform(0.72, 0.8)), at_once=not is_open, approve=True
                )
                for _ in range(plan.waitlist + (1 if plan.promote else 0))
            ]
            if plan.promote and main:
                main[0].withdraw_at = window.moment(0.9)
                main[0].withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
            requests += main + extras
        else:
            wanted = max(round(plan.capacity * plan.fill) - len(requests), 0)
            requests += [
                _Request(at=window.moment(rng.random()), may_withdraw=True) for _ in range(wanted)
            ]
        for request in requests:
            self.schedule(request.at, self.request_step(demo_class, window, request, pool))

    def request_window(self, demo_class: DemoClass, planned: Sequence[DemoClass]) -> _Window:
        """Requests come while enrolment is open and before the class is cancelled; for a
        course with prerequisites, once a class of a prerequisite has closed (so that its
        learners have completed it), when one closes in time."""
        ends = min(self.day_start, demo_class.cancelled_at or self.day_start)
        last_request = min(demo_class.closes_at, ends) - timedelta(hours=1)
        last_withdrawal = min(demo_class.withdrawal_deadline_at, ends) - timedelta(hours=1)
        span_end = last_withdrawal if demo_class.plan.promote else last_request
        starts = demo_class.opens_at
        needed = {course.code for course in demo_class.course.prerequisites}
        ready = [
            other.closed_at
            for other in planned
            if other.course.code in needed
            and other.closed_at is not None
            and starts < other.closed_at < span_end - timedelta(days=3)
        ]
        if ready:
            starts = max(ready) + timedelta(hours=1)
        is_open = demo_class.plan.status is ClassStatus.OPEN
        return _Window(
            starts=starts,
            ends=span_end,
            last_request=last_request,
            last_decision=last_request if is_open else last_request - timedelta(minutes=30),
            last_withdrawal=last_withdrawal,
        )

    def request_step(
        self,
        demo_class: DemoClass,
        window: _Window,
        request: _Request,
        pool: list[DemoLearner],
    ) -> Step:
        def ask() -> None:
            story = request.story
            if story is not None:
                learner = next(lr for lr in self.learners if lr.user.email == story.email)
                try:
                    enrolment = self.enrol(demo_class, learner, story.source)
                except DomainError as error:
                    raise RuntimeError(
                        f"demo story of {story.email} in {demo_class.code} was refused: "
                        f"{error.message}"
                    ) from error
                self.story_enrolments.append((story, demo_class, enrolment))
                self.follow_up(demo_class, window, request, learner, enrolment)
                return
            rng = demo_class.rng
            prepared = self.prepared_learners(demo_class)
            for learner in list(pool):
                if prepared is not None and learner.user.id not in prepared:
                    # A learner asks for a course once they have completed its prerequisites,
                    # as its page tells them; they may have done so by a later request.
                    continue
                pool.remove(learner)
                draw = rng.random()
                source = EnrolmentSource.SELF
                if draw < 0.18 or (request.at_once and learner.spec.requires_approval):
                    source = EnrolmentSource.NOMINATED
                elif draw < 0.24 and learner.spec.code == "PDLS":
                    source = EnrolmentSource.CSV
                try:
                    enrolment = self.enrol(demo_class, learner, source)
                except LEARNER_REFUSALS:
                    continue
                self.follow_up(demo_class, window, request, learner, enrolment)
                return

        return ask

    def prepared_learners(self, demo_class: DemoClass) -> set[int] | None:
        """The learners who have completed every prerequisite of the class's course by now, in
        one query; ``None`` for a course without prerequisites."""
        needed = [course.id for course in demo_class.course.prerequisites]
        if not needed:
            return None
        return set(
            db.session.scalars(
                select(Enrolment.learner_id)
                .join(CourseClass, Enrolment.class_id == CourseClass.id)
                .where(
                    Enrolment.status == EnrolmentStatus.COMPLETED,
                    CourseClass.course_id.in_(needed),
                )
                .group_by(Enrolment.learner_id)
                .having(func.count(func.distinct(CourseClass.course_id)) == len(needed))
            )
        )

    def enrol(
        self, demo_class: DemoClass, learner: DemoLearner, source: EnrolmentSource
    ) -> Enrolment:
        """The learner asks for a place, or their HR officer nominates them."""
        actor = learner.user if source is EnrolmentSource.SELF else learner.hr
        outcome = enrolment_requests.request_enrolment(
            actor, learner.user, demo_class.created, source, now=self.clock.now
        )
        return outcome.enrolment

    def follow_up(
        self,
        demo_class: DemoClass,
        window: _Window,
        request: _Request,
        learner: DemoLearner,
        enrolment: Enrolment,
    ) -> None:
        """Schedule the HR officer's decision on a pending request, and the learner's
        withdrawal if they withdraw."""
        rng = demo_class.rng
        now = self.clock.now
        assert now is not None
        story = request.story
        if enrolment.status is EnrolmentStatus.PENDING:
            if story is not None:
                decide_at = (
                    None if story.outcome is EnrolmentStatus.PENDING else now + timedelta(hours=26)
                )
                approve = story.outcome is not EnrolmentStatus.REJECTED
                reason = story.reason
            else:
                decide_at = now + timedelta(hours=rng.uniform(3, 60))
                approve = request.approve if request.approve is not None else rng.random() >= 0.12
                reason = None if approve else rng.choice(REJECTION_REASONS)
                if demo_class.plan.status is ClassStatus.OPEN and rng.random() < 0.25:
                    decide_at = None
                if decide_at is not None and decide_at > window.last_decision:
                    if demo_class.plan.status is ClassStatus.OPEN or demo_class.cancelled_at:
                        # Still waiting for HR; a cancelled class cancels the request.
                        decide_at = None
                    else:
                        decide_at = max(
                            now + timedelta(minutes=10),
                            window.last_decision - timedelta(minutes=rng.randint(0, 60)),
                        )
            if decide_at is not None:
                self.schedule(
                    decide_at, self.decision_step(learner, enrolment, approve, reason, story)
                )
        withdraw_at, withdraw_reason = request.withdraw_at, request.withdraw_reason
        if withdraw_at is None and request.may_withdraw and rng.random() < 0.08:
            withdraw_at = now + timedelta(days=rng.uniform(1, 20))
            withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
        if withdraw_at is not None and withdraw_at <= window.last_withdrawal:
            self.schedule(
                max(withdraw_at, now + timedelta(hours=1)),
                self.withdrawal_step(learner, enrolment, withdraw_reason or ""),
            )

    def decision_step(
        self,
        learner: DemoLearner,
        enrolment: Enrolment,
        approve: bool,
        reason: str | None,
        story: Story | None,
    ) -> Step:
        def decide() -> None:
            if enrolment.status is not EnrolmentStatus.PENDING:
                return
            if approve:
                try:
                    enrolment_requests.approve(learner.hr, enrolment, now=self.clock.now)
                    return
                except (eligibility.TimetableClash, eligibility.AccountInactive):
                    if story is not None:
                        raise
                    # Confirmed elsewhere at the same times since asking: HR says so.
            enrolment_requests.reject(
                learner.hr, enrolment, reason or CLASH_REASON, now=self.clock.now
            )

        return decide

    def withdrawal_step(self, learner: DemoLearner, enrolment: Enrolment, reason: str) -> Step:
        def withdraw() -> None:
            # A waiting request is decided, not withdrawn: the demo's learners withdraw from a
            # place or a waitlist.
            if enrolment.status in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED):
                enrolment_requests.withdraw(learner.user, enrolment, reason, now=self.clock.now)

        return withdraw

    def check_stories(self) -> None:
        """Every story ended as told: the rules the services apply did not turn it."""
        for story, demo_class, enrolment in self.story_enrolments:
            if enrolment.status is not story.outcome:
                raise RuntimeError(
                    f"demo story of {story.email} in {demo_class.code} ended "
                    f"{enrolment.status.value}, not {story.outcome.value}"
                )
