"""The benchmark generator's working records, and the state its steps share."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from ...models import (
    Attendance,
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
    SeatQuota,
    User,
)
from ...services.passwords import hash_password
from ..calendar import hk
from .shape import BENCH_PASSWORD, BenchSizes
from .store import Writer, next_id


@dataclass(eq=False)
class CompanyRecord:
    id: int
    code: str
    domain: str
    requires_approval: bool
    hr_ids: list[int]
    departments: tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(eq=False)
class LearnerRecord:
    id: int
    company: CompanyRecord
    deactivated_at: datetime | None


@dataclass(eq=False)
class CourseRecord:
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
class ClassRecord:
    id: int
    code: str
    course: CourseRecord
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
class RequestRecord:
    learner: LearnerRecord
    at: datetime
    source: EnrolmentSource
    requested_by: int
    needs_approval: bool
    decide_at: datetime | None = None
    approve: bool = True
    withdraw_at: datetime | None = None


@dataclass(eq=False)
class EnrolmentRecord:
    id: int
    request: RequestRecord
    status: EnrolmentStatus | None = None
    acted_by: int | None = None
    status_reasons: list[dict[str, Any]] | None = None
    waitlisted_at: datetime | None = None
    confirmed_at: datetime | None = None
    decided_at: datetime | None = None
    ended_at: datetime | None = None
    result_score: Decimal | None = None
    result_passed: bool | None = None
    updated_at: datetime | None = None
    history: list[
        tuple[
            EnrolmentStatus | None,
            EnrolmentStatus,
            int | None,
            list[dict[str, Any]] | None,
            datetime,
        ]
    ] = field(default_factory=list)

    def change(
        self,
        to: EnrolmentStatus,
        at: datetime,
        actor: int | None,
        reasons: list[dict[str, Any]] | None = None,
    ) -> None:
        self.history.append((self.status, to, actor, reasons, at))
        self.status = to
        self.updated_at = at
        if actor is not None and actor != self.request.learner.id:
            self.acted_by = actor


class GeneratorState:
    """What the generator's steps share: the sizes asked for, the random source, the next id of
    each table, and the records written so far."""

    def __init__(self, sizes: BenchSizes, seed: int, today: date) -> None:
        self.sizes = sizes
        self.rng = random.Random(seed)
        self.today = today
        self.now = hk(today, time(9, 0))
        self.created: Counter[str] = Counter()
        self.writer = Writer(self.created)
        self.ids = {
            model.__tablename__: next_id(model.__table__)
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
        self.companies: list[CompanyRecord] = []
        self.learners: list[LearnerRecord] = []
        self.trainer_ids: list[int] = []
        self.admin_id = 0
        self.courses: list[CourseRecord] = []
        self.classes: list[ClassRecord] = []
        self.serial = 0
        self.quota_use: Counter[tuple[int, str]] = Counter()
        self.password_hash = hash_password(BENCH_PASSWORD)

    def next_id(self, table: str) -> int:
        value = self.ids[table]
        self.ids[table] = value + 1
        return value
