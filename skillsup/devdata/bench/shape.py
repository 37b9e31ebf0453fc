"""What the benchmark data is made of: its sizes at each scale, the span of time it covers,
and the names, departments, venues and timetables it draws on."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import time

import click

from ...models import EnrolmentStatus
from ...reasons import CLASS_COMPLETED, PROMOTED_FROM_WAITLIST, free_text, reason

# Every generated account signs in with it (documented in bench/README.md).
BENCH_PASSWORD = "skillsup-bench"  # noqa: S105
ADMIN_EMAIL = "bench-admin@skillsup.test"

# Rows of each kind at scale 1.
FULL_SIZE = {
    "companies": 40,
    "employees": 20_000,
    "trainers": 120,
    "courses": 400,
    "classes": 3_000,
    "sessions": 30_000,
    "enrolments": 100_000,
    "attendance": 600_000,
}
# The least of each kind, so that a tiny scale still has every kind of company and class.
MINIMUM_SIZE = {"companies": 2, "employees": 20, "trainers": 2, "courses": 10, "classes": 8}

# The history the data covers: first sessions from this many days ago to this many ahead.
HISTORY_DAYS = 1_030
FUTURE_DAYS = 200
SESSION_HOURS = 3
SESSIONS_PER_COURSE = (6, 8, 10, 12, 14)  # ten on average


@dataclass(frozen=True)
class BenchSizes:
    """How many rows of each kind a scale asks for (targets; enrolments and attendance follow
    from the simulated requests and come within a few per cent)."""

    scale: float
    companies: int
    employees: int
    trainers: int
    courses: int
    classes: int
    sessions: int
    enrolments: int
    attendance: int

    @classmethod
    def for_scale(cls, scale: float) -> BenchSizes:
        if not 0 < scale <= 10:
            raise click.BadParameter("the scale must be above 0 and at most 10", param_hint="scale")
        counts = {
            key: max(round(value * scale), MINIMUM_SIZE.get(key, 1))
            for key, value in FULL_SIZE.items()
        }
        return cls(scale=scale, **counts)


COMPANY_PLACES = (
    "Harbour", "Lion Rock", "Victoria", "Kowloon", "Lantau", "Jade", "Peak", "Tai Mo Shan",
    "Sai Kung", "Pearl River", "Star Ferry", "Tsing Ma", "Golden Bauhinia", "Clearwater",
    "Junk Bay", "Stonecutters", "Cheung Chau", "Lamma", "Tolo", "Shing Mun",
)  # fmt: skip
COMPANY_KINDS = (
    ("IT Services Ltd", "its"),
    ("Financial Technology Ltd", "fin"),
    ("Logistics Systems Ltd", "log"),
    ("Telecom Ltd", "tel"),
    ("Insurance Group Ltd", "ins"),
    ("Retail Holdings Ltd", "ret"),
    ("Health Informatics Ltd", "hea"),
    ("Property Services Ltd", "pro"),
)
DEPARTMENTS = (
    ("Infrastructure", ("Systems Engineer", "Senior Systems Engineer", "Storage Analyst")),
    ("Service Desk", ("Service Desk Analyst", "Senior Service Desk Analyst", "Team Lead")),
    ("Software Delivery", ("Analyst Programmer", "Software Engineer", "QA Engineer")),
    ("Cloud Platform", ("Cloud Engineer", "Platform Engineer", "Site Reliability Engineer")),
    ("Project Office", ("Project Coordinator", "Project Manager", "Scrum Master")),
    ("Information Security", ("Security Analyst", "IT Risk Officer", "Security Engineer")),
    ("Data and Analytics", ("Data Analyst", "BI Developer", "Data Engineer")),
    ("Application Support", ("Application Support Analyst", "Support Team Lead")),
    ("Network Operations", ("Network Engineer", "Senior Network Engineer")),
    ("Digital Transformation", ("Business Analyst", "Automation Specialist", "Product Owner")),
    ("Enterprise Architecture", ("Solution Architect", "Enterprise Architect")),
    ("IT Governance", ("IT Auditor", "Compliance Officer")),
)
COURSE_VARIANTS = (
    "", "Workshop", "Lab Intensive", "for Team Leads", "for Financial Services",
    "for Logistics", "for the Public Sector", "Bootcamp", "Refresher", "in Practice",
    "Weekend Edition", "for Healthcare", "Masterclass", "Case Studies",
)  # fmt: skip
COURSE_VARIANTS_ZH = {
    "": "", "Workshop": "工作坊", "Lab Intensive": "實驗室密集課程",
    "for Team Leads": "（團隊主管）",
    "for Financial Services": "（金融服務業）", "for Logistics": "（物流業）",
    "for the Public Sector": "（公營機構）", "Bootcamp": "訓練營", "Refresher": "重溫課程",
    "in Practice": "實務", "Weekend Edition": "（週末班）", "for Healthcare": "（醫療業）",
    "Masterclass": "大師班", "Case Studies": "個案研習",
}  # fmt: skip
VENUES = (
    "Kowloon Bay centre, Lab 2",
    "Tsing Yi campus, Cyber Range 4.05",
    "Sha Tin campus, Computer Lab 5",
    "Kowloon Bay centre, Network Lab 1",
    "Kowloon Bay centre, Lab 3",
    "Chai Wan campus, Room 612",
    "Tsing Yi campus, Room 3.12",
    "Chai Wan campus, Room 508",
)


@dataclass(frozen=True)
class Pattern:
    """When a class meets: these weekdays (Monday is 0), these Hong Kong time slots of
    ``SESSION_HOURS`` each. No pattern meets on a Sunday."""

    weekdays: tuple[int, ...]
    slots: tuple[time, ...]


PATTERNS = (
    Pattern((1, 3), (time(19, 0),)),
    Pattern((0, 2), (time(19, 0),)),
    Pattern((2,), (time(18, 30),)),
    Pattern((5,), (time(9, 30), time(13, 30))),
    Pattern((0, 1, 2, 3, 4), (time(9, 30), time(14, 0))),
)

REJECTION_REASONS = (
    "Not part of this year's development plan; please discuss it with your manager first.",
    "The team cannot release you during this period.",
    "Please complete the prerequisite course first.",
)
WITHDRAWAL_REASONS = (
    "Clashes with a project go-live.",
    "Assigned to a client site for the period.",
    "Personal reasons.",
    "I will join a later intake instead.",
)
# Reasons as the portal keeps them: codes with their figures (skillsup.reasons).
PROMOTION_REASONS = [reason(PROMOTED_FROM_WAITLIST)]
CANCELLATION_REASONS = free_text(
    "Cancelled: too few learners for this intake. Places are offered in the next."
)
CLASS_COMPLETED_REASONS = [reason(CLASS_COMPLETED)]

ACTIVE = (EnrolmentStatus.PENDING, EnrolmentStatus.CONFIRMED, EnrolmentStatus.WAITLISTED)
QUOTA_COUNTED = (
    EnrolmentStatus.PENDING,
    EnrolmentStatus.CONFIRMED,
    EnrolmentStatus.COMPLETED,
    EnrolmentStatus.NOT_COMPLETED,
)


def spread(total: int, weights: Sequence[float], minimum: int = 0) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders), each at least
    ``minimum`` where the total allows."""
    floor_total = minimum * len(weights)
    rest = max(total - floor_total, 0)
    scale = sum(weights)
    shares = [rest * w / scale for w in weights]
    counts = [math.floor(s) for s in shares]
    order = sorted(range(len(weights)), key=lambda i: counts[i] - shares[i])
    for i in order[: rest - sum(counts)]:
        counts[i] += 1
    return [c + minimum for c in counts]


# ---------------------------------------------------------------------------------------------
# The generator
