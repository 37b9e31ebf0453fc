"""The benchmark generator's enrolments: each class's requests, decisions, withdrawals,
waitlist promotions, attendance and closing, replayed in time order as the enrolment service
plays them, and written in bulk with the class; then the companies' quotas."""

from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from ...models import (
    Attendance,
    AttendanceStatus,
    Certificate,
    ClassSession,
    ClassStatus,
    CourseClass,
    DeliveryMode,
    Enrolment,
    EnrolmentSource,
    EnrolmentStatus,
    EnrolmentStatusChange,
    SeatQuota,
    class_trainers,
)
from ...reasons import ASSESSMENT_FAILED, ATTENDANCE_BELOW_MINIMUM, Reason, free_text
from ...reasons import reason as reason_of
from ..calendar import hk, term
from .records import (
    ClassRecord,
    EnrolmentRecord,
    GeneratorState,
    LearnerRecord,
    RequestRecord,
)
from .shape import (
    ACTIVE,
    CANCELLATION_REASONS,
    CLASS_COMPLETED_REASONS,
    PROMOTION_REASONS,
    QUOTA_COUNTED,
    REJECTION_REASONS,
    WITHDRAWAL_REASONS,
)
from .store import (
    ATTENDANCE_COLUMNS,
    CERTIFICATE_COLUMNS,
    CLASS_COLUMNS,
    COPY_BATCH,
    ENROLMENT_COLUMNS,
    HISTORY_COLUMNS,
    SESSION_COLUMNS,
)

#: The enrolments whose learner holds a seat in the class.
SEAT_HOLDERS = (
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


class EnrolmentGeneration(GeneratorState):
    """Enrols learners in the generated classes and writes each class with its enrolments."""

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

    def enrol_class(self, cls: ClassRecord, count: int) -> None:
        rng = self.rng
        ends = min(self.now, cls.cancelled_at or self.now)
        last_end = cls.sessions[-1][2]
        request_until = min(cls.closes_at, ends) - timedelta(hours=1)
        withdraw_until = min(cls.withdrawal_deadline_at, ends) - timedelta(hours=1)
        span = request_until - cls.opens_at
        if span <= timedelta(0):
            return
        picked: list[LearnerRecord] = []
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
            request = RequestRecord(
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
                    request.decide_at = None if taking or cls.cancelled_at else request_until
                else:
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
                        CANCELLATION_REASONS,
                    )
                    enrolment.status_reasons = CANCELLATION_REASONS
                    enrolment.decided_at = enrolment.ended_at = cls.cancelled_at
        marks = self.mark_attendance(cls, enrolments)
        if cls.status is ClassStatus.COMPLETED:
            self.close(cls, enrolments, marks)
        # Closing a class keeps the seats of those who finished it, as the portal's does.
        cls.seats_taken = sum(1 for e in enrolments if e.status in SEAT_HOLDERS)
        if cls.seats_taken > cls.capacity:  # pragma: no cover - the replay prevents it
            raise RuntimeError(f"class {cls.code} is overbooked")
        self.write_enrolments(cls, enrolments)

    def replay(self, cls: ClassRecord, requests: list[RequestRecord]) -> list[EnrolmentRecord]:
        """Requests, decisions and withdrawals in time order, as the enrolment service plays
        them: a seat if one is free, else the waitlist; a freed seat to the first in line."""
        enrolments = [EnrolmentRecord(self.next_id("enrolments"), request) for request in requests]
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
                    reasons = free_text(REJECTION_REASONS[index % len(REJECTION_REASONS)])
                    enrolment.change(EnrolmentStatus.REJECTED, at, hr, reasons)
                    enrolment.status_reasons = reasons
                    enrolment.ended_at = at
            elif kind == 2 and enrolment.status in (
                EnrolmentStatus.CONFIRMED,
                EnrolmentStatus.WAITLISTED,
            ):
                was_confirmed = enrolment.status is EnrolmentStatus.CONFIRMED
                reasons = free_text(WITHDRAWAL_REASONS[index % len(WITHDRAWAL_REASONS)])
                enrolment.change(EnrolmentStatus.WITHDRAWN, at, request.learner.id, reasons)
                enrolment.status_reasons = reasons
                enrolment.decided_at = enrolment.ended_at = at
                if was_confirmed:
                    confirmed -= 1
                    if waitlist:
                        promoted = enrolments[waitlist.pop(0)]
                        promoted.change(EnrolmentStatus.CONFIRMED, at, None, PROMOTION_REASONS)
                        promoted.status_reasons = PROMOTION_REASONS
                        promoted.confirmed_at = promoted.decided_at = at
                        confirmed += 1
                else:
                    waitlist.remove(index)
        return enrolments

    def mark_attendance(
        self, cls: ClassRecord, enrolments: list[EnrolmentRecord]
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
        self, cls: ClassRecord, enrolments: list[EnrolmentRecord], marks: dict[int, tuple[int, int]]
    ) -> None:
        """Completion from attendance and the assessment; certificates for completions."""
        rng = self.rng
        closed_at = hk(cls.ends_on + timedelta(days=2), time(17, 30))
        trainer = cls.trainer_ids[0]
        total = len(cls.sessions)
        for enrolment in enrolments:
            if enrolment.status is EnrolmentStatus.CONFIRMED:
                attended, counted = marks.get(enrolment.id, (0, total))
                excused = total - counted
                rate = attended / (total - excused) if total > excused else 0.0
                reasons: list[Reason] = []
                if rate * 100 < 80:
                    reasons.append(
                        reason_of(ATTENDANCE_BELOW_MINIMUM, rate=round(rate, 4), minimum=0.8)
                    )
                elif cls.course.assessment:
                    failed = rng.random() < 0.07
                    score = rng.uniform(28, 48) if failed else rng.uniform(55, 96)
                    enrolment.result_score = Decimal(f"{score:.1f}")
                    enrolment.result_passed = not failed
                    if failed:
                        reasons.append(reason_of(ASSESSMENT_FAILED))
                outcome = EnrolmentStatus.NOT_COMPLETED if reasons else EnrolmentStatus.COMPLETED
                enrolment.change(outcome, closed_at, trainer, reasons or None)
                enrolment.status_reasons = reasons or None
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
                    EnrolmentStatus.CANCELLED, closed_at, trainer, CLASS_COMPLETED_REASONS
                )
                enrolment.status_reasons = CLASS_COMPLETED_REASONS
                enrolment.decided_at = enrolment.ended_at = closed_at

    def write_enrolments(self, cls: ClassRecord, enrolments: list[EnrolmentRecord]) -> None:
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
                    enrolment.status_reasons,
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
                self.quota_use[(request.learner.company.id, term(cls.starts_on)[0])] += 1

    # Quotas --------------------------------------------------------------------------------

    def make_quotas(self) -> None:
        """A quota per company and term the classes start in, with room to spare."""
        terms: dict[str, tuple[date, date]] = {}
        for cls in self.classes:
            label, starts, ends = term(cls.starts_on)
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
                    hk(starts - timedelta(days=60), time(10)), self.now - timedelta(days=1)
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

    def write_class(self, cls: ClassRecord) -> None:
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
            updated_at = hk(cls.ends_on + timedelta(days=2), time(17, 30))
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
            CANCELLATION_REASONS if cls.status is ClassStatus.CANCELLED else None,
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
