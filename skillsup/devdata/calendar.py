"""Hong Kong days and times, and the institute's terms, as both data sets lay them out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

HONG_KONG = ZoneInfo("Asia/Hong_Kong")

# Public holidays on the same date every year; classes do not meet on them.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (7, 1), (10, 1), (12, 25), (12, 26)})


def hk(day: date, at: time) -> datetime:
    """A Hong Kong wall-clock time as an aware UTC datetime."""
    return datetime.combine(day, at, tzinfo=HONG_KONG).astimezone(UTC)


def hk_date(moment: datetime) -> date:
    return moment.astimezone(HONG_KONG).date()


def hong_kong_today() -> date:
    return datetime.now(HONG_KONG).date()


def is_fixed_holiday(day: date) -> bool:
    return (day.month, day.day) in FIXED_HOLIDAYS


def term(day: date) -> tuple[str, date, date]:
    """The institute's term that ``day`` falls in: label, first and last day."""
    if day.month >= 9:
        first_year, number = day.year, 1
        starts, ends = date(day.year, 9, 1), date(day.year, 12, 31)
    elif day.month <= 4:
        first_year, number = day.year - 1, 2
        starts, ends = date(day.year, 1, 1), date(day.year, 4, 30)
    else:
        first_year, number = day.year - 1, 3
        starts, ends = date(day.year, 5, 1), date(day.year, 8, 31)
    return f"{first_year}/{(first_year + 1) % 100:02d} Term {number}", starts, ends
