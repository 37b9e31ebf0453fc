"""The demo's enrolments: each new class's requests, decisions, withdrawals, waitlist
promotions, attendance and closing.

Enrolments are made directly (not through the enrolment service) by replaying each class's
requests, approvals, withdrawals and waitlist promotions in time order, so that the result
obeys the same rules the service enforces: never more confirmed learners than seats, one
active enrolment per learner and class, a first-come-first-served waitlist, approval only for
companies that require it.
"""

from __future__ import annotations

import math
import random
import secrets
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ...extensions import db
from ...models import (
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassStatus,
    CourseClass,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    User,
)
from ...services.enrolment import QUOTA_STATUSES
from ..calendar import hk, hk_date
from .people import ADMINS
from .plan import (
    LEARNER_A,
    PROMOTION_REASON,
    REJECTION_REASONS,
    WITHDRAWAL_REASONS,
    ClassPlan,
    Story,
)
from .state import DemoLearner, SeedState


@dataclass
class _Request:
    learner: DemoLearner
    at: datetime
    source: EnrolmentSource
    requested_by: User
    needs_approval: bool
    decide_at: datetime | None = None
    approve: bool = True
    decision_reason: str | None = None
    withdraw_at: datetime | None = None
    withdraw_reason: str | None = None
    story: Story | None = None


class EnrolmentSeeding(SeedState):
    """Fills each new class with its enrolments and what followed them."""

    def enrol(
        self, plan: ClassPlan, course_class: CourseClass, rng: random.Random, stories: list[Story]
    ) -> None:
        if plan.status is ClassStatus.DRAFT:
            return
        class_days = {hk_date(s.starts_at) for s in course_class.sessions}
        last_end = course_class.sessions[-1].ends_at
        cancel_at: datetime | None = None
        if plan.status is ClassStatus.CANCELLED:
            cancel_at = self.days_ago(2) + timedelta(hours=10)
        ends = min(self.day_start, cancel_at or self.day_start)
        limit = min(course_class.enrolment_closes_at, ends) - timedelta(hours=1)
        withdraw_limit = min(course_class.withdrawal_deadline_at, ends) - timedelta(hours=1)
        lo = course_class.enrolment_opens_at
        span_end = withdraw_limit if plan.promote else limit
        span = span_end - lo

        def moment(fraction: float) -> datetime:
            return (lo + span * fraction).replace(second=0, microsecond=0)

        requests: list[_Request] = []
        for story in stories:
            learner = next(lr for lr in self.learners if lr.user.email == story.email)
            requests.append(self.story_request(story, learner, moment(story.at), course_class))

        def available(learner: DemoLearner) -> bool:
            if learner.story or learner.busy_days & class_days:
                return False
            if not learner.active:
                # Staff who have left may only have finished a class before leaving.
                return (
                    plan.status is ClassStatus.COMPLETED
                    and learner.deactivated_at is not None
                    and last_end < learner.deactivated_at - timedelta(days=7)
                )
            return True

        pool = [learner for learner in self.learners if available(learner)]
        rng.shuffle(pool)
        is_open = plan.status is ClassStatus.OPEN
        if plan.waitlist:
            # A full class: the seats go to early requests that need no approval, then a
            # waitlist forms behind them.
            confirmed_stories = sum(
                1
                for r in requests
                if r.story
                and r.story.outcome in (EnrolmentStatus.CONFIRMED, EnrolmentStatus.COMPLETED)
            )
            quick = [lr for lr in pool if not lr.spec.requires_approval]
            main = quick[: max(plan.capacity - confirmed_stories, 0)]
            rest = [lr for lr in pool if all(lr is not m for m in main)]
            if not is_open:
                rest = [lr for lr in rest if not lr.spec.requires_approval]
            extras = rest[: plan.waitlist + (1 if plan.promote else 0)]
            for learner in main:
                requests.append(
                    self.generic_request(learner, moment(rng.uniform(0, 0.7)), rng, plan, False)
                )
            for learner in extras:
                requests.append(
                    self.generic_request(
                        learner, moment(rng.uniform(0.72, 0.8)), rng, plan, False, approve=True
                    )
                )
            if plan.promote:
                leaver = next(r for r in requests if any(r.learner is m for m in main))
                leaver.withdraw_at = moment(0.9)
                leaver.withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
        else:
            wanted = max(round(plan.capacity * plan.fill) - len(requests), 0)
            for learner in pool[:wanted]:
                requests.append(
                    self.generic_request(learner, moment(rng.random()), rng, plan, True)
                )

        decide_limit = limit if is_open else limit - timedelta(minutes=30)
        for request in requests:
            if request.decide_at is not None and request.decide_at > decide_limit:
                if is_open or cancel_at is not None:
                    # Still waiting for HR; a cancelled class cancels the request.
                    request.decide_at = None
                else:
                    request.decide_at = max(
                        request.at + timedelta(minutes=10),
                        decide_limit - timedelta(minutes=rng.randint(0, 60)),
                    )
            if request.withdraw_at is not None and request.withdraw_at > withdraw_limit:
                request.withdraw_at = None

        enrolments = self.replay(course_class, requests)
        if cancel_at is not None:
            self.cancel(course_class, enrolments, cancel_at)
        self.record_attendance(course_class, enrolments, rng)
        if plan.status is ClassStatus.COMPLETED:
            self.close(course_class, enrolments, rng)
        course_class.seats_taken = sum(
            1 for e in enrolments if e.status is EnrolmentStatus.CONFIRMED
        )
        if course_class.seats_taken > course_class.capacity:
            raise RuntimeError(f"demo class {course_class.code} is overbooked")
        for request, enrolment in zip(requests, enrolments, strict=True):
            if enrolment.status in QUOTA_STATUSES:
                request.learner.busy_days |= class_days
            if request.story and enrolment.status is not request.story.outcome:
                raise RuntimeError(
                    f"demo story of {request.story.email} in {course_class.code} ended "
                    f"{enrolment.status.value}, not {request.story.outcome.value}"
                )
            enrolment.updated_at = max(change.changed_at for change in enrolment.history)
            db.session.add(enrolment)
        self.created["enrolments"] += len(enrolments)
        self.created["enrolment_status_changes"] += sum(len(e.history) for e in enrolments)

    def story_request(
        self, story: Story, learner: DemoLearner, at: datetime, course_class: CourseClass
    ) -> _Request:
        nominated = story.source is not EnrolmentSource.SELF
        request = _Request(
            learner=learner,
            at=at,
            source=story.source,
            requested_by=learner.hr if nominated else learner.user,
            needs_approval=learner.spec.requires_approval and not nominated,
            story=story,
        )
        if request.needs_approval and story.outcome is not EnrolmentStatus.PENDING:
            request.decide_at = at + timedelta(hours=26)
            request.approve = story.outcome is not EnrolmentStatus.REJECTED
            if not request.approve:
                request.decision_reason = story.reason
        if story.outcome is EnrolmentStatus.WITHDRAWN:
            request.withdraw_at = at + (course_class.withdrawal_deadline_at - at) / 3
            request.withdraw_at = min(request.withdraw_at, self.days_ago(3))
            request.withdraw_reason = story.reason
        return request

    def generic_request(
        self,
        learner: DemoLearner,
        at: datetime,
        rng: random.Random,
        plan: ClassPlan,
        may_withdraw: bool,
        *,
        approve: bool | None = None,
    ) -> _Request:
        source = EnrolmentSource.SELF
        draw = rng.random()
        if draw < 0.18:
            source = EnrolmentSource.NOMINATED
        elif draw < 0.24 and learner.spec.code == "PDLS":
            source = EnrolmentSource.CSV
        request = _Request(
            learner=learner,
            at=at,
            source=source,
            requested_by=learner.user if source is EnrolmentSource.SELF else learner.hr,
            needs_approval=learner.spec.requires_approval and source is EnrolmentSource.SELF,
        )
        if request.needs_approval:
            request.decide_at = at + timedelta(hours=rng.uniform(3, 60))
            request.approve = approve if approve is not None else rng.random() >= 0.12
            if not request.approve:
                request.decision_reason = rng.choice(REJECTION_REASONS)
            if plan.status is ClassStatus.OPEN and rng.random() < 0.25:
                request.decide_at = None
        if may_withdraw and rng.random() < 0.08:
            request.withdraw_at = at + timedelta(days=rng.uniform(1, 20))
            request.withdraw_reason = rng.choice(WITHDRAWAL_REASONS)
        return request

    def replay(self, course_class: CourseClass, requests: list[_Request]) -> list[Enrolment]:
        """Play the requests, decisions and withdrawals in time order, as the service would."""
        enrolments = [
            Enrolment(
                course_class=course_class,
                learner=request.learner.user,
                source=request.source,
                requested_by=request.requested_by,
                requested_at=request.at,
            )
            for request in requests
        ]
        events: list[tuple[datetime, int, str, int]] = []
        for index, request in enumerate(requests):
            events.append((request.at, 0, "request", index))
            if request.needs_approval and request.decide_at is not None:
                events.append((request.decide_at, 1, "decide", index))
            if request.withdraw_at is not None:
                events.append((request.withdraw_at, 2, "withdraw", index))
        events.sort()
        confirmed = 0
        waitlist: list[int] = []

        def change(
            enrolment: Enrolment,
            status: EnrolmentStatus,
            at: datetime,
            actor: User | None,
            reason: str | None = None,
        ) -> None:
            enrolment.history.append(
                EnrolmentStatusChange(
                    from_status=enrolment.status,
                    to_status=status,
                    actor=actor,
                    reason=reason,
                    changed_at=at,
                )
            )
            enrolment.status = status
            if actor is not None and actor is not enrolment.learner:
                enrolment.acted_by = actor

        def place(index: int, at: datetime, actor: User) -> None:
            nonlocal confirmed
            enrolment = enrolments[index]
            if confirmed < course_class.capacity:
                change(enrolment, EnrolmentStatus.CONFIRMED, at, actor)
                enrolment.confirmed_at = at
                confirmed += 1
            else:
                change(enrolment, EnrolmentStatus.WAITLISTED, at, actor)
                enrolment.waitlisted_at = at
                waitlist.append(index)

        for at, _order, kind, index in events:
            request, enrolment = requests[index], enrolments[index]
            if kind == "request":
                if request.needs_approval:
                    change(enrolment, EnrolmentStatus.PENDING, at, request.requested_by)
                else:
                    place(index, at, request.requested_by)
            elif kind == "decide" and enrolment.status is EnrolmentStatus.PENDING:
                enrolment.decided_at = at
                if request.approve:
                    place(index, at, request.learner.hr)
                else:
                    change(
                        enrolment,
                        EnrolmentStatus.REJECTED,
                        at,
                        request.learner.hr,
                        request.decision_reason,
                    )
                    enrolment.status_reason = request.decision_reason
                    enrolment.ended_at = at
            elif kind == "withdraw" and enrolment.status in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                was_confirmed = enrolment.status is EnrolmentStatus.CONFIRMED
                change(
                    enrolment,
                    EnrolmentStatus.WITHDRAWN,
                    at,
                    request.learner.user,
                    request.withdraw_reason,
                )
                enrolment.status_reason = request.withdraw_reason
                enrolment.ended_at = at
                if was_confirmed:
                    confirmed -= 1
                    if waitlist:
                        promoted = enrolments[waitlist.pop(0)]
                        change(promoted, EnrolmentStatus.CONFIRMED, at, None, PROMOTION_REASON)
                        promoted.confirmed_at = at
                        confirmed += 1
                else:
                    waitlist.remove(index)
        return enrolments

    def cancel(
        self, course_class: CourseClass, enrolments: list[Enrolment], cancel_at: datetime
    ) -> None:
        admin = self.users[ADMINS[0].email]
        course_class.updated_at = cancel_at
        for enrolment in enrolments:
            if enrolment.status in (
                EnrolmentStatus.PENDING,
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                enrolment.history.append(
                    EnrolmentStatusChange(
                        from_status=enrolment.status,
                        to_status=EnrolmentStatus.CANCELLED,
                        actor=admin,
                        reason=course_class.status_reason,
                        changed_at=cancel_at,
                    )
                )
                enrolment.status = EnrolmentStatus.CANCELLED
                enrolment.status_reason = course_class.status_reason
                enrolment.acted_by = admin
                enrolment.ended_at = cancel_at

    def record_attendance(
        self, course_class: CourseClass, enrolments: list[Enrolment], rng: random.Random
    ) -> None:
        held = [s for s in course_class.sessions if s.ends_at <= self.day_start]
        if not held or course_class.status is ClassStatus.CANCELLED:
            return
        marker = course_class.trainers[0] if course_class.trainers else None
        completed = course_class.status is ClassStatus.COMPLETED
        for enrolment in enrolments:
            if enrolment.status is not EnrolmentStatus.CONFIRMED:
                continue
            n = len(held)
            if completed and enrolment.learner.email == LEARNER_A:
                misses = 0
            elif completed and rng.random() < 0.08:
                # Missed too much to complete.
                misses = math.ceil(0.35 * len(course_class.sessions))
            else:
                allowed = math.floor(0.15 * len(course_class.sessions))
                misses = rng.randint(1, allowed) if allowed and rng.random() < 0.35 else 0
            missed = set(rng.sample(range(n), min(misses, n)))
            for index, session in enumerate(held):
                if index in missed:
                    status = (
                        AttendanceStatus.EXCUSED if rng.random() < 0.4 else AttendanceStatus.ABSENT
                    )
                elif rng.random() < 0.08:
                    status = AttendanceStatus.LATE
                else:
                    status = AttendanceStatus.PRESENT
                enrolment.attendance.append(
                    Attendance(
                        session=session,
                        status=status,
                        marked_by_id=marker.id if marker else None,
                        marked_at=session.starts_at + timedelta(minutes=rng.randint(5, 40)),
                    )
                )
                self.created["attendance"] += 1

    def close(
        self, course_class: CourseClass, enrolments: list[Enrolment], rng: random.Random
    ) -> None:
        """Decide completion from attendance and result, and issue the certificates."""
        closed_at = hk(course_class.ends_on + timedelta(days=2), time(17, 30))
        trainer = course_class.trainers[0]
        course_class.updated_at = closed_at
        total_minutes = sum(s.hours * 60 for s in course_class.sessions)
        for enrolment in enrolments:
            if enrolment.status is not EnrolmentStatus.CONFIRMED:
                continue
            attended = sum(
                a.session.hours * 60
                for a in enrolment.attendance
                if a.status in (AttendanceStatus.PRESENT, AttendanceStatus.LATE)
            )
            attendance_pct = round(100 * attended / total_minutes)
            reason = None
            if attendance_pct < course_class.min_attendance_pct:
                reason = (
                    f"Attendance {attendance_pct}% is below the required "
                    f"{course_class.min_attendance_pct}%."
                )
            elif course_class.assessment_required:
                failed = enrolment.learner.email != LEARNER_A and rng.random() < 0.07
                score = rng.uniform(28, 48) if failed else rng.uniform(55, 96)
                enrolment.result_score = Decimal(f"{score:.1f}")
                enrolment.result_passed = not failed
                if failed:
                    reason = f"Assessment not passed (score {enrolment.result_score})."
            outcome = EnrolmentStatus.NOT_COMPLETED if reason else EnrolmentStatus.COMPLETED
            enrolment.history.append(
                EnrolmentStatusChange(
                    from_status=EnrolmentStatus.CONFIRMED,
                    to_status=outcome,
                    actor=trainer,
                    reason=reason,
                    changed_at=closed_at,
                )
            )
            enrolment.status = outcome
            enrolment.status_reason = reason
            enrolment.decided_at = closed_at
            enrolment.ended_at = closed_at
            enrolment.acted_by = trainer
            if outcome is EnrolmentStatus.COMPLETED:
                enrolment.certificate = Certificate(
                    serial_number=self.serial_number(closed_at),
                    verification_code=secrets.token_urlsafe(24),
                    issued_at=closed_at + timedelta(minutes=5),
                )
                self.created["certificates"] += 1

    def serial_number(self, issued_at: datetime) -> str:
        if self.next_serial is None:
            highest = 100
            for serial in db.session.scalars(select(Certificate.serial_number)):
                tail = serial.rsplit("-", 1)[-1]
                if tail.isdigit():
                    highest = max(highest, int(tail))
            self.next_serial = highest + 1
        number = self.next_serial
        self.next_serial += 1
        return f"SU-{hk_date(issued_at).year}-{number:06d}"
