"""The demo's timetable and stories: which classes run when, and what happens to them.

The schedule is placed around a reference day so that the demo always has classes that are
over, classes running now and classes open for enrolment over the coming months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from ...models import ClassStatus, EnrolmentSource, EnrolmentStatus
from ...services.funding_figures import CEF, COMPANY, ERB, NITTP
from ..calendar import hk, is_fixed_holiday
from .people import TRAINERS


@dataclass(frozen=True)
class Pattern:
    """When a class meets: on these weekdays (Monday is 0), in these Hong Kong time slots."""

    weekdays: tuple[int, ...]
    slots: tuple[tuple[time, time], ...]


PATTERNS = {
    "tue_thu_evening": Pattern((1, 3), ((time(19, 0), time(22, 0)),)),
    "mon_wed_evening": Pattern((0, 2), ((time(19, 0), time(22, 0)),)),
    "wed_evening": Pattern((2,), ((time(18, 30), time(21, 30)),)),
    "saturday": Pattern((5,), ((time(9, 30), time(12, 30)), (time(13, 30), time(17, 30)))),
    "weekdays": Pattern((0, 1, 2, 3, 4), ((time(9, 0), time(12, 30)), (time(13, 30), time(17, 0)))),
}


@dataclass(frozen=True)
class ClassPlan:
    course: str
    offset: int  # days from the reference day to the earliest possible first session
    pattern: str
    status: ClassStatus
    capacity: int
    trainers: tuple[str, ...]
    fill: float = 0.5  # share of the capacity that asks for a seat
    waitlist: int = 0  # requests beyond the capacity
    promote: bool = False  # someone withdraws late, so the first on the waitlist moves up
    key: str | None = None
    status_reason: str | None = None
    # The class's own funding schemes (by code) instead of its course's; None: its course's.
    schemes: tuple[str, ...] | None = None


T1, T2, T3, T4 = (spec.email for spec in TRAINERS)
_C, _R, _O = ClassStatus.COMPLETED, ClassStatus.RUNNING, ClassStatus.OPEN

CLASS_PLAN = (
    # Over, with results and certificates.
    ClassPlan("SU-CLD-101", -120, "tue_thu_evening", _C, 24, (T1,), 0.85, key="cld101-past"),
    ClassPlan("SU-SEC-101", -95, "mon_wed_evening", _C, 30, (T2,), 0.8),
    ClassPlan("SU-DAT-110", -84, "saturday", _C, 20, (T3,), 0.9),
    ClassPlan("SU-ITS-101", -70, "tue_thu_evening", _C, 24, (T4,), 0.75),
    ClassPlan("SU-NET-101", -63, "weekdays", _C, 16, (T2,), 0.9),
    ClassPlan("SU-SEC-201", -60, "saturday", _C, 18, (T2, T1), 0.85),
    ClassPlan("SU-PMG-201", -56, "saturday", _C, 24, (T4,), 0.7),
    ClassPlan("SU-DWP-101", -49, "wed_evening", _C, 30, (T3,), 0.6),
    ClassPlan("SU-CLD-210", -45, "tue_thu_evening", _C, 20, (T1,), 0.8),
    # Running now.
    ClassPlan("SU-CLD-101", -12, "tue_thu_evening", _R, 24, (T1,), 0.75),
    ClassPlan("SU-DAT-110", -21, "saturday", _R, 20, (T3,), 0.8),
    # Sponsored by the companies themselves this time, besides the course's CEF.
    ClassPlan(
        "SU-SWE-110",
        -14,
        "mon_wed_evening",
        _R,
        20,
        (T1,),
        0.7,
        key="swe110-now",
        schemes=(CEF, COMPANY),
    ),
    ClassPlan("SU-PMG-210", -7, "saturday", _R, 24, (T4,), 0.6),
    ClassPlan("SU-ITS-201", -12, "tue_thu_evening", _R, 18, (T4,), 0.6),
    # Enrolment closed, starting in a few days; full, with a waitlist.
    ClassPlan(
        "SU-SEC-101", 3, "mon_wed_evening", ClassStatus.CLOSED, 20, (T2,), 1.0, 2, promote=True
    ),
    # Cancelled before it started.
    ClassPlan(
        "SU-NET-201",
        20,
        "saturday",
        ClassStatus.CANCELLED,
        16,
        (T2,),
        0.35,
        status_reason="Cancelled: the network lab is closed for refurbishment this term. "
        "Enrolled learners have been offered a place in the next intake.",
    ),
    # Being prepared.
    ClassPlan("SU-CLD-301", 150, "tue_thu_evening", ClassStatus.DRAFT, 20, (T1,), 0.0),
    # Open for enrolment.
    ClassPlan("SU-ITS-101", 14, "tue_thu_evening", _O, 24, (T4,), 0.4, key="its101-next"),
    ClassPlan("SU-DAT-120", 16, "wed_evening", _O, 20, (T3,), 1.0, 3),
    ClassPlan("SU-CLD-210", 18, "tue_thu_evening", _O, 12, (T1,), 1.0, 2, key="cld210-full"),
    ClassPlan("SU-DWP-101", 22, "wed_evening", _O, 30, (T3,), 0.45, key="dwp101-next"),
    ClassPlan("SU-NET-101", 28, "weekdays", _O, 16, (T2,), 0.5),
    ClassPlan("SU-CLD-201", 30, "saturday", _O, 20, (T1,), 0.5, key="cld201-next"),
    ClassPlan("SU-SEC-201", 35, "saturday", _O, 18, (T2,), 0.45),
    ClassPlan("SU-DWP-110", 35, "mon_wed_evening", _O, 24, (T4,), 0.35),
    ClassPlan("SU-CLD-101", 40, "tue_thu_evening", _O, 24, (T3,), 0.3),
    ClassPlan("SU-DAT-110", 45, "tue_thu_evening", _O, 20, (T3,), 0.4),
    ClassPlan("SU-PMG-201", 45, "saturday", _O, 24, (T4,), 0.4, key="pmg201-next"),
    ClassPlan("SU-SEC-220", 50, "mon_wed_evening", _O, 20, (T2,), 0.35),
    ClassPlan("SU-DAT-220", 50, "tue_thu_evening", _O, 30, (T3,), 0.5, key="dat220-next"),
    ClassPlan("SU-SWE-210", 55, "mon_wed_evening", _O, 20, (T1,), 0.3),
    ClassPlan("SU-DAT-210", 60, "saturday", _O, 18, (T3,), 0.35),
    ClassPlan("SU-SEC-101", 60, "mon_wed_evening", _O, 30, (T2,), 0.25),
    ClassPlan("SU-SWE-220", 65, "tue_thu_evening", _O, 20, (T1, T4), 0.3),
    ClassPlan("SU-SEC-301", 75, "weekdays", _O, 16, (T2,), 0.3),
    ClassPlan("SU-ITS-201", 80, "tue_thu_evening", _O, 18, (T4,), 0.2),
    ClassPlan("SU-PMG-210", 95, "saturday", _O, 24, (T4,), 0.15),
    ClassPlan("SU-CLD-101", 100, "tue_thu_evening", _O, 24, (T1,), 0.1),
    ClassPlan("SU-DAT-220", 110, "mon_wed_evening", _O, 30, (T3,), 0.1),
)

#: The funding schemes each course is offered under besides the Continuing Education Fund (the
#: courses' ``cef_reimbursable``), so that the demo has classes, over and running, under every
#: scheme: NITTP for courses that Lion Rock (partner-b) sends several of its staff to.
COURSE_SCHEMES: dict[str, tuple[str, ...]] = {
    "SU-DAT-110": (NITTP,),
    "SU-DWP-101": (NITTP,),
    "SU-SEC-201": (NITTP,),
    "SU-ITS-101": (ERB,),
    "SU-ITS-201": (ERB,),
    "SU-PMG-210": (ERB,),
    "SU-NET-101": (COMPANY,),
    "SU-CLD-210": (COMPANY,),
    "SU-PMG-201": (COMPANY,),
}


@dataclass(frozen=True)
class Story:
    """One enrolment told on purpose, so that the demo accounts have a known history.

    ``at`` places the request in the class's enrolment window (0 its opening, 1 its end) and
    ``withdraw_at``, for a withdrawal, the learner's withdrawal the same way. A request at a
    company that needs approval is decided by its HR officer a day later, unless the story
    ends pending.
    """

    email: str
    class_key: str
    outcome: EnrolmentStatus
    at: float
    source: EnrolmentSource = EnrolmentSource.SELF
    reason: str | None = None
    withdraw_at: float | None = None


LEARNER_A = "learner@partner-a.test"
LEARNER_B = "learner@partner-b.test"

STORIES = (
    Story(LEARNER_A, "cld101-past", EnrolmentStatus.COMPLETED, 0.2),
    Story(LEARNER_A, "swe110-now", EnrolmentStatus.CONFIRMED, 0.3),
    Story(LEARNER_A, "cld201-next", EnrolmentStatus.CONFIRMED, 0.4, EnrolmentSource.NOMINATED),
    Story(LEARNER_A, "dat220-next", EnrolmentStatus.CONFIRMED, 0.5),
    Story(LEARNER_A, "cld210-full", EnrolmentStatus.WAITLISTED, 0.9),
    # Withdrawn before HR nominates them for SU-CLD-201, whose Saturdays it would clash with.
    Story(
        LEARNER_A,
        "pmg201-next",
        EnrolmentStatus.WITHDRAWN,
        0.05,
        reason="Clashes with my Saturday classes in SU-CLD-201.",
        withdraw_at=0.1,
    ),
    Story(LEARNER_B, "its101-next", EnrolmentStatus.PENDING, 0.97),
    Story(LEARNER_B, "dwp101-next", EnrolmentStatus.CONFIRMED, 0.3),
    Story(
        LEARNER_B,
        "dat220-next",
        EnrolmentStatus.REJECTED,
        0.4,
        reason="The team cannot release you during the core banking cut-over in this period; "
        "please ask again for the next intake.",
    ),
)

REJECTION_REASONS = (
    "Not part of this year's development plan; please discuss it with your manager first.",
    "The team cannot release you during the core banking cut-over in this period.",
    "Your team's training budget for this term is already committed.",
    "Seats this term are reserved for the Information Security team.",
)
WITHDRAWAL_REASONS = (
    "Clashes with a project go-live.",
    "Assigned to a client site in Shenzhen for the period.",
    "Personal reasons.",
    "I will join a later intake instead.",
    "My manager asked me to postpone to next term.",
)
# What an HR officer says when a request they would approve clashes with a class the learner
# has been confirmed in since asking.
CLASH_REASON = "You are now confirmed in another class at the same times."


def session_times(
    first_day: date, pattern_name: str, hours: Decimal | int
) -> list[tuple[datetime, datetime]]:
    """Meetings from ``first_day`` on the pattern's days until the contact hours are reached.

    The last meeting is shortened when the hours do not divide evenly.
    """
    pattern = PATTERNS[pattern_name]
    remaining = int(Decimal(hours) * 60)
    meetings: list[tuple[datetime, datetime]] = []
    day = first_day
    while remaining > 0:
        if day.weekday() in pattern.weekdays and not is_fixed_holiday(day):
            for begins, ends in pattern.slots:
                if remaining <= 0:
                    break
                start = hk(day, begins)
                length = min(int((hk(day, ends) - start).total_seconds() // 60), remaining)
                meetings.append((start, start + timedelta(minutes=length)))
                remaining -= length
        day += timedelta(days=1)
    return meetings


def first_meeting_day(earliest: date, pattern_name: str) -> date:
    """The first day on or after ``earliest`` that the pattern meets on."""
    pattern = PATTERNS[pattern_name]
    day = earliest
    while day.weekday() not in pattern.weekdays or is_fixed_holiday(day):
        day += timedelta(days=1)
    return day
