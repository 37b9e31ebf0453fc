"""The trainer's part of the demo: attendance at each session that has been held, the results
of an assessment, and the closing of a class that is over, which decides who completed it and
issues their certificates; all through the rosters service
(:mod:`skillsup.services.rosters`), as a trainer's click does it."""

from __future__ import annotations

import math
from datetime import time, timedelta
from decimal import Decimal

from sqlalchemy import select

from ...extensions import db
from ...models import AttendanceStatus, ClassStatus, Enrolment, EnrolmentStatus
from ...services import assessment_results, attendance_sheets, class_closing
from ..calendar import hk
from .catalogue import DemoClass
from .plan import LEARNER_A
from .state import SeedState, Step


class TeachingSeeding(SeedState):
    """Schedules each class's attendance, results and closing."""

    def plan_teaching(self, demo_class: DemoClass) -> None:
        plan = demo_class.plan
        if plan.status in (ClassStatus.DRAFT, ClassStatus.CANCELLED):
            return
        rng = demo_class.rng
        # Sessions over by the reference day: their attendance has been taken.
        held = [index for index, (_, ends) in enumerate(demo_class.times) if ends <= self.day_start]
        missed: dict[int, set[int]] = {}
        for index in held:
            starts_at = demo_class.times[index][0]
            self.schedule(
                starts_at + timedelta(minutes=rng.randint(5, 40)),
                self.attendance_step(demo_class, index, len(held), missed),
            )
        if plan.status is not ClassStatus.COMPLETED:
            return
        assert demo_class.closed_at is not None
        results_at = min(
            hk(demo_class.ends_on + timedelta(days=1), time(10)),
            demo_class.closed_at - timedelta(hours=1),
        )
        self.schedule(results_at, self.results_step(demo_class))
        self.schedule(demo_class.closed_at, self.closing_step(demo_class))

    def attendance_step(
        self, demo_class: DemoClass, index: int, held: int, missed: dict[int, set[int]]
    ) -> Step:
        """The trainer marks everyone confirmed in the class at the session: present, late,
        or for the sessions a learner misses, absent or excused. Who misses which sessions
        is drawn when they are first marked: in a class that is over, a few learners miss
        too much to complete it (the first demo learner never misses one)."""

        def mark() -> None:
            course_class = demo_class.created
            rng = demo_class.rng
            completed = demo_class.plan.status is ClassStatus.COMPLETED
            sessions = len(demo_class.times)
            marks: dict[int, AttendanceStatus] = {}
            for enrolment in self.confirmed(demo_class):
                if enrolment.id not in missed:
                    if completed and enrolment.learner.email == LEARNER_A:
                        misses = 0
                    elif completed and rng.random() < 0.08:
                        misses = math.ceil(0.35 * sessions)
                    else:
                        allowed = math.floor(0.15 * sessions)
                        misses = rng.randint(1, allowed) if allowed and rng.random() < 0.35 else 0
                    missed[enrolment.id] = set(rng.sample(range(held), min(misses, held)))
                if index in missed[enrolment.id]:
                    status = (
                        AttendanceStatus.EXCUSED if rng.random() < 0.4 else AttendanceStatus.ABSENT
                    )
                elif rng.random() < 0.08:
                    status = AttendanceStatus.LATE
                else:
                    status = AttendanceStatus.PRESENT
                marks[enrolment.id] = status
            starts_at = demo_class.times[index][0]
            session = next(s for s in course_class.sessions if s.starts_at == starts_at)
            attendance_sheets.record_attendance(
                course_class.trainers[0], session, marks, now=self.clock.now
            )

        return mark

    def results_step(self, demo_class: DemoClass) -> Step:
        """Where the class requires an assessment, the trainer records everyone's result: a
        few fail (never the first demo learner)."""

        def record() -> None:
            course_class = demo_class.created
            if not course_class.assessment_required:
                return
            rng = demo_class.rng
            results: dict[int, assessment_results.ResultEntry] = {}
            for enrolment in self.confirmed(demo_class):
                failed = enrolment.learner.email != LEARNER_A and rng.random() < 0.07
                score = rng.uniform(28, 48) if failed else rng.uniform(55, 96)
                results[enrolment.id] = assessment_results.ResultEntry(
                    Decimal(f"{score:.1f}"), not failed
                )
            assessment_results.record_results(
                course_class.trainers[0], course_class, results, now=self.clock.now
            )

        return record

    def closing_step(self, demo_class: DemoClass) -> Step:
        """The trainer closes the class: the service decides each outcome from attendance
        and results, and issues the certificates."""

        def close() -> None:
            course_class = demo_class.created
            class_closing.close_class(course_class.trainers[0], course_class, now=self.clock.now)

        return close

    def confirmed(self, demo_class: DemoClass) -> list[Enrolment]:
        return list(
            db.session.scalars(
                select(Enrolment)
                .where(
                    Enrolment.class_id == demo_class.created.id,
                    Enrolment.status == EnrolmentStatus.CONFIRMED,
                )
                .order_by(Enrolment.id)
            )
        )
