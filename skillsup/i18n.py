"""Choosing the language of a request, and formatting in Hong Kong time."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

from babel import dates as babel_dates
from flask import current_app, has_request_context, request, session
from flask_babel import format_currency, format_decimal, format_percent, get_locale
from flask_login import current_user

from .timeutil import HONG_KONG

#: Locales the portal is written in, with the name each is offered under.
LANGUAGE_NAMES = {"en": "English", "zh_Hant_HK": "繁體中文"}

# Browser language tags that mean Traditional Chinese as read in Hong Kong.
_TRADITIONAL_CHINESE_TAGS = ("zh-hk", "zh-tw", "zh-mo", "zh-hant")


def locale_from_accept_language(header_values: list[tuple[str, float]]) -> str | None:
    for tag, _quality in header_values:
        tag = tag.lower().replace("_", "-")
        if tag.startswith(_TRADITIONAL_CHINESE_TAGS):
            return "zh_Hant_HK"
        if tag == "en" or tag.startswith("en-"):
            return "en"
    return None


def select_locale() -> str:
    """The user's saved preference, else the session's choice, else the browser's, else English."""
    available = current_app.config["LANGUAGES"]
    if not has_request_context():
        return str(current_app.config["BABEL_DEFAULT_LOCALE"])
    preferred = getattr(current_user, "preferred_language", None)
    if getattr(current_user, "is_authenticated", False) and preferred in available:
        return str(preferred)
    chosen = session.get("lang")
    if chosen in available:
        return str(chosen)
    from_browser = locale_from_accept_language(list(request.accept_languages))
    return from_browser or current_app.config["BABEL_DEFAULT_LOCALE"]


def html_lang(locale: str) -> str:
    return "zh-Hant-HK" if locale.startswith("zh") else "en"


# The one home of the portal's date and time formats, as read in Hong Kong: the day before
# the month in English ("7 Dec 2026", "07/12/2026"), the Chinese forms ("2026年12月7日"), and
# one 24-hour clock everywhere ("19:00", never "7:00 PM" or "下午7:00"). Babel's own styles
# follow US English and switch clocks between locales, so each style is an explicit pattern.
TIME_PATTERN = "HH:mm"
DATE_PATTERNS: dict[str, dict[str, str]] = {
    "en": {
        "short": "dd/MM/y",
        "medium": "d MMM y",
        "long": "d MMMM y",
        "full": "EEEE, d MMMM y",
        "month": "MMM y",
        "long_month": "MMMM y",
    },
    "zh": {
        "short": "y年M月d日",
        "medium": "y年M月d日",
        "long": "y年M月d日",
        "full": "y年M月d日EEEE",
        "month": "y年M月",
        "long_month": "y年M月",
    },
}


def _locale_name(locale: object | None = None) -> str:
    return str(locale or get_locale() or "en")


def _patterns(locale: str) -> dict[str, str]:
    return DATE_PATTERNS["zh" if locale.startswith("zh") else "en"]


def _in_hong_kong(value: datetime) -> datetime:
    """A stored instant (UTC, naive meaning UTC) as Hong Kong's wall clock shows it."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(HONG_KONG)


def fmt_date(
    value: date | datetime | None, style: str = "medium", locale: object | None = None
) -> str:
    """A date (or an instant's Hong Kong date) in one of the styles of ``DATE_PATTERNS``:
    "07/12/2026", "7 Dec 2026", "7 December 2026", "Monday, 7 December 2026"; in Chinese
    "2026年12月7日" (and "2026年12月7日星期一" in full)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_hong_kong(value).date()
    name = _locale_name(locale)
    return babel_dates.format_date(value, _patterns(name)[style], locale=name)


def fmt_time(value: datetime | time | None, locale: object | None = None) -> str:
    """A time of day on the 24-hour clock, as timetables in Hong Kong show it: "19:00"."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = _in_hong_kong(value).time()
    return babel_dates.format_time(value, TIME_PATTERN, locale=_locale_name(locale))


def fmt_datetime(
    value: datetime | None, style: str = "medium", locale: object | None = None
) -> str:
    """An instant in Hong Kong: its date in ``style`` then its time, "07/12/2026 19:00",
    "7 Dec 2026 19:00", "2026年12月7日 19:00"."""
    if value is None:
        return ""
    return f"{fmt_date(value, style, locale)} {fmt_time(value, locale)}"


def fmt_timespan(
    starts_at: datetime, ends_at: datetime, style: str = "full", locale: object | None = None
) -> str:
    """A session's day and hours in Hong Kong: "Tuesday, 4 March 2031, 19:00–22:00";
    in Chinese "2031年3月4日星期二，19:00–22:00"."""
    hours = f"{fmt_time(starts_at, locale)}–{fmt_time(ends_at, locale)}"
    return f"{fmt_date(starts_at, style, locale)}{comma(locale)}{hours}"


def comma(locale: object | None = None) -> str:
    """What separates the parts of a phrase: ", " in English, "，" in Chinese."""
    return "，" if _locale_name(locale).startswith("zh") else ", "


def colon(locale: object | None = None) -> str:
    """What follows a label before its value: ": " in English, "：" in Chinese."""
    return "：" if _locale_name(locale).startswith("zh") else ": "


def fmt_month(value: date, style: str = "month", locale: object | None = None) -> str:
    """A month of a year, each language ordering it its own way: "Mar 2025", "2025年3月"
    (``long_month``: "March 2025")."""
    name = _locale_name(locale)
    return babel_dates.format_date(value, _patterns(name)[style], locale=name)


def fmt_money(value: Decimal | float | None, currency: str = "HKD") -> str:
    return "" if value is None else format_currency(value, currency)


def fmt_number(value: Any) -> str:
    return "" if value is None else format_decimal(value)


def fmt_hours(value: float) -> str:
    """Hours to one decimal place at most, in the reader's language: "1,115.5", "12"."""
    return format_decimal(round(value, 1), format="#,##0.#")


def ordinal(number: int) -> str:
    """'3rd' in English, '第3位' in Chinese: a place in a queue."""
    locale = str(get_locale() or "en")
    if locale.startswith("zh"):
        return f"第{number}位"
    if 10 <= number % 100 <= 20:
        suffix = "th"
    else:
        suffix = {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def percent(value: float | None) -> str:
    return "" if value is None else format_percent(value)
