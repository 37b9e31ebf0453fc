"""Hong Kong time: what people read and type; UTC: what the database keeps."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

HONG_KONG = ZoneInfo("Asia/Hong_Kong")


def now_utc() -> datetime:
    return datetime.now(UTC)


def today_hk() -> date:
    return datetime.now(HONG_KONG).date()


def hk_to_utc(day: date, at: time) -> datetime:
    """The UTC instant of a Hong Kong wall-clock date and time."""
    return datetime.combine(day, at, tzinfo=HONG_KONG).astimezone(UTC)


def to_hk(value: datetime) -> datetime:
    return value.astimezone(HONG_KONG)


def hk_date(value: datetime) -> date:
    return value.astimezone(HONG_KONG).date()


def start_of_hk_day_utc(day: date) -> datetime:
    return hk_to_utc(day, time(0, 0))


@lru_cache(maxsize=32)
def hong_kong_public_holidays(first_year: int, last_year: int) -> frozenset[date]:
    """Hong Kong's general holidays from ``first_year`` to ``last_year``: worked out once per
    process for each span, since callers ask for them in loops."""
    return frozenset(holidays.HK(years=range(first_year, last_year + 1)))
